package diagnose_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// fixOf finds the fix of a check's finding whose title has the words.
func fixOf(t *testing.T, findings []model.Finding, check, words string) model.Fix {
	t.Helper()
	for _, f := range findings {
		for _, x := range f.Fixes {
			if f.Check == check && strings.Contains(x.Title, words) {
				return x
			}
		}
	}
	t.Fatalf("no %s fix %q", check, words)
	return model.Fix{}
}

// The deletions of an orphan and of an unused template rest on "no rule covers it":
// a rule created between the diagnosis and the fix stops them, with nothing written.
func TestDeletionsStopWhenARuleNowCoversTheirSubject(t *testing.T) {
	ctx := context.Background()
	_, acc := account(t, "demo")
	_, findings := diagnoseWith(t, acc, nil)
	orphans := fixOf(t, findings, "orphan-repository", "Delete the repositories")
	unused := fixOf(t, findings, "creation-template", "Delete the unused template")
	covered := map[string]bool{}
	for _, fix := range []model.Fix{orphans, unused} {
		prefix, _, _ := strings.Cut(fix.Plan.Steps[0].Target, "/")
		if !covered[prefix] {
			// Meanwhile someone recreates the rule the leftovers belonged to.
			covered[prefix] = true
			create := model.Step{Kind: model.StepCreateRule, Operation: "ecr:CreatePullThroughCacheRule", Target: prefix,
				Params: map[string]string{"upstreamRegistryUrl": "public.ecr.aws", "upstreamRegistry": "ecr-public"},
				Expect: map[string]string{"exists": "false"}}
			if _, err := acc.Apply(ctx, model.Plan{Title: "someone else", Steps: []model.Step{create}}, ecrops.ApplyOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		results, err := acc.Apply(ctx, fix.Plan, ecrops.ApplyOptions{})
		var pe *ecrops.PreconditionError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "the pull through cache rule "+prefix+"/ now covers") || !strings.Contains(err.Error(), "nothing was written") {
			t.Fatalf("%s: %v", fix.Plan.Title, err)
		}
		for _, r := range results {
			if r.Status != "not-run" {
				t.Fatalf("%s: step %d %s", fix.Plan.Title, r.Index+1, r.Status)
			}
		}
	}
	snap, _ := diagnoseWith(t, acc, nil)
	if snap.Repository(orphans.Plan.Steps[0].Target) == nil {
		t.Fatal("the repository was deleted")
	}
}
