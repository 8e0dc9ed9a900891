package diagnose_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// A principal that may read the cache but not import into it: what is cached pulls
// now; the verdict says so, and that first pulls and refreshes will fail, instead of
// "the pull fails at permissions" while the cache step is ✓.
func TestExplainOfACachedImageAPrincipalCannotImport(t *testing.T) {
	_, acc := account(t, "demo")
	snap, err := acc.Scan(context.Background(), ecrops.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const node = "arn:aws:iam::111122223333:role/eks-node"
	seen := false
	for _, repo := range snap.Repositories {
		for _, img := range repo.Images {
			if len(img.Tags) == 0 || repo.RulePrefix == "" {
				continue
			}
			ref, err := model.ParseRef(repo.Name+":"+img.Tags[0], snap.AccountID, snap.Region, snap.Rules)
			if err != nil {
				continue
			}
			ex := diagnose.Explain(context.Background(), snap, acc, ref, diagnose.Options{Principals: []string{node}})
			var cached, lacksImport bool
			failed := 0
			for _, s := range ex.Steps {
				switch {
				case s.Name == diagnose.StepCached && s.Status == "ok":
					cached = true
				case s.Name == "permissions of "+node && s.Status == "failed" && strings.Contains(s.Detail, "BatchImportUpstreamImage") && !strings.Contains(s.Detail, "BatchGetImage,"):
					lacksImport = true
				}
				if s.Status == "failed" {
					failed++
				}
			}
			if !cached || !lacksImport || failed != 1 {
				continue
			}
			seen = true
			if strings.Contains(ex.Verdict, "The pull fails") || !strings.Contains(ex.Verdict, "cached work now") ||
				!strings.Contains(ex.Verdict, "first pulls and refreshes will fail") {
				t.Errorf("%s: cached, the principal lacks only the import: verdict %q", ref.Input, ex.Verdict)
			}
		}
	}
	if !seen {
		t.Fatal("the demo has no cached image the node role cannot import: the test judges nothing")
	}
}

// The README's list of explain's links names the link as the JSON does (trial 16: it
// said "cached, every platform").
func TestTheREADMENamesTheCachedLinkAsTheJSONDoes(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "`"+diagnose.StepCached+"`") || strings.Contains(string(raw), "cached, every platform") {
		t.Errorf("diagnose/README.md does not name the link %q as the JSON does", diagnose.StepCached)
	}
}
