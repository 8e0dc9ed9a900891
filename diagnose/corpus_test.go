package diagnose_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
)

// corpusEntry is one real error line of testdata/errors/corpus.yaml.
type corpusEntry struct {
	ID        string `yaml:"id"`
	Tool      string `yaml:"tool"`
	Source    string `yaml:"source"`
	Line      string `yaml:"line"`
	Cause     string `yaml:"cause"`
	Check     string `yaml:"check"`
	Scenario  string `yaml:"scenario"`
	Principal string `yaml:"principal"`
	Miss      string `yaml:"miss"`
	Says      string `yaml:"says"`
	Variant   bool   `yaml:"variant"`
	// Constructed says where a line no user published comes from (a trial, a review);
	// it stands in for source.
	Constructed string `yaml:"constructed"`
}

// The causes an entry may expect that name no cause of diagnose.Causes.
const (
	notSettled       = "not-settled"       // the line allows several causes and names no reference
	invalidReference = "invalid-reference" // the line's image is not a reference
)

func loadCorpus(t *testing.T) []corpusEntry {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "errors", "corpus.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Entries []corpusEntry `yaml:"entries"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc.Entries
}

// lineRegistry is the account and region of the cache URI a line names; a masked account
// is the stand-in's default one.
var lineRegistryRE = regexp.MustCompile(`([0-9]{12}|<[^>\s]+>|[A-Za-z_*]+)\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com`)

func lineRegistry(line string) (account, region string) {
	account, region = "111122223333", "us-east-1"
	if m := lineRegistryRE.FindStringSubmatch(line); m != nil {
		if len(m[1]) == 12 && strings.Trim(m[1], "0123456789") == "" {
			account = m[1]
		}
		region = m[2]
	}
	return account, region
}

// TestTheCorpusOfRealErrorLines runs explain --error on every line of the corpus: against
// the stand-in shaped as the line's thread describes where the line needs an account, and
// from the line alone otherwise.
func TestTheCorpusOfRealErrorLines(t *testing.T) {
	entries := loadCorpus(t)
	accounts := map[string]*diagnose.Account{}
	account := func(e corpusEntry) *diagnose.Account {
		acct, region := lineRegistry(e.Line)
		key := e.Scenario + "|" + acct + "|" + region + "|" + e.Principal
		if a, ok := accounts[key]; ok {
			return a
		}
		raw, err := os.ReadFile(filepath.Join("..", "testdata", "errors", "scenarios", e.Scenario+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		doc := strings.NewReplacer("ACCOUNT_ID", acct, "REGION", region).Replace(string(raw))
		srv := simtest.Start(t, doc)
		acc := open(t, srv, 3, 0)
		snap, err := acc.Scan(context.Background(), ecrops.Scope{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var principals []string
		if e.Principal != "" {
			principals = []string{snap.Identity.ARN, fmt.Sprintf("arn:aws:iam::%s:role/%s", acct, e.Principal)}
		}
		a := &diagnose.Account{Snap: snap, Prober: acc, Opts: diagnose.Options{Principals: principals}}
		accounts[key] = a
		return a
	}

	lines, hits, misses := 0, 0, 0
	seen := map[string]bool{}
	for _, e := range entries {
		if seen[e.ID] {
			t.Errorf("%s: the id is used twice", e.ID)
		}
		seen[e.ID] = true
		if !e.Variant {
			lines++
		}
		if (!strings.HasPrefix(e.Source, "https://") && e.Constructed == "") || e.Line == "" || e.Tool == "" {
			t.Errorf("%s: an entry needs a line, its tool and the https address it came from (or why it was constructed)", e.ID)
		}
		cause, ok := diagnose.CauseByID(e.Cause)
		if e.Cause == notSettled || e.Cause == invalidReference {
			ok = true
		}
		if !ok {
			t.Errorf("%s: no cause %q in diagnose.Causes", e.ID, e.Cause)
			continue
		}
		if want := orNone(cause.Check); e.Check != want {
			t.Errorf("%s: the cause %s is found by check %s, not %s", e.ID, e.Cause, want, e.Check)
		}
		var acct *diagnose.Account
		if e.Scenario != "" {
			acct = account(e)
		}
		v, ok := diagnose.ExplainError(context.Background(), acct, e.Line)
		got := v.Cause.ID
		switch {
		case !ok:
			got = "(not recognised)"
		case got == "" && v.Reading.InvalidReference != "":
			got = invalidReference
		case got == "" && e.Cause == notSettled && len(v.Reading.Candidates) > 1:
			got = notSettled
		case got == "":
			got = "(not settled: " + strings.Join(v.Reading.Candidates, ", ") + ")"
		}
		if e.Miss != "" {
			misses++
			if got == e.Cause {
				t.Errorf("%s: listed as a miss, but explain --error now names %s: take the miss out of the corpus", e.ID, got)
			}
			continue
		}
		if got != e.Cause {
			t.Errorf("%s (%s): explain --error named %s, want %s\n  line: %s\n  verdict: %s\n  needs: %v", e.ID, e.Source, got, e.Cause, e.Line, v.Verdict, v.Needs)
			continue
		}
		hits++
		if e.Cause == notSettled || e.Cause == invalidReference {
			if v.Cause.ID != "" || len(v.Needs) == 0 {
				t.Errorf("%s: %s, yet the verdict names %q and asks for nothing: %s", e.ID, e.Cause, v.Cause.ID, v.Verdict)
			}
			continue
		}
		if orNone(v.Cause.Check) != e.Check {
			t.Errorf("%s: check %s, want %s", e.ID, orNone(v.Cause.Check), e.Check)
		}
		if e.Says != "" && !strings.Contains(v.Verdict+" "+v.Fix, e.Says) {
			t.Errorf("%s: the verdict does not say %q:\n  %s\n  fix: %s", e.ID, e.Says, v.Verdict, v.Fix)
		}
		if v.Verdict == "" || v.Fix == "" {
			t.Errorf("%s: a verdict without words or fix: %+v", e.ID, v)
		}
		// No verdict blames the account for what its own chain does not show failing.
		if ex := v.Explanation; ex != nil && v.Cause.Check != "" {
			failed := false
			for _, s := range ex.Steps {
				failed = failed || s.Status == "failed"
			}
			if !failed {
				t.Errorf("%s: the verdict blames %s, but the chain shows nothing failing: %s", e.ID, v.Cause.ID, ex.Verdict)
			}
		}
	}
	t.Logf("%d entries (%d distinct lines): %d named as the corpus says, %d listed misses", len(entries), lines, hits, misses)
	if lines < 60 {
		t.Errorf("the corpus has %d distinct lines; it needs at least 60", lines)
	}
	if hits*10 < len(entries)*9 {
		t.Errorf("%d of %d entries named right: under 90%%", hits, len(entries))
	}
}

func orNone(check string) string {
	if check == "" {
		return "none"
	}
	return check
}
