package diagnose_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The generated account of ecrops/sim/README.md, with failure shapes in given numbers:
// the diagnosis finds each shape as many times as the scenario asks, and nothing at
// error severity beside them.
func TestGeneratedFailureShapes(t *testing.T) {
	raw, err := os.ReadFile("../ecrops/sim/README.md")
	if err != nil {
		t.Fatal(err)
	}
	var doc string
	for _, b := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(raw), -1) {
		if strings.Contains(b[1], "name: large-and-broken") {
			doc = b[1]
		}
	}
	if doc == "" {
		t.Fatal("the README lost its generated example (name: large-and-broken)")
	}
	_, acc := account(t, doc)
	snap, findings := diagnoseWith(t, acc, nil)
	if len(snap.Errors) > 0 {
		t.Fatalf("parts of the scan failed: %v", snap.Errors)
	}
	count := map[string]int{}
	for _, f := range findings {
		count[f.Check+" "+f.Subject.Kind]++
	}
	want := map[string]int{
		"orphan-repository repository": 3, // 25 orphans, ten to each deleted rule
		"name-mismatch repository":     8,
		"stale-tag image":              12,
		"creation-template rule":       3,
		"no-lifecycle rule":            3,
		"credentials rule":             4, // 2 bad credentials, 2 deleted secrets
	}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%s: %d findings, want %d", k, count[k], n)
		}
	}
	for _, f := range findings {
		if f.Severity == "error" && want[f.Check+" "+f.Subject.Kind] == 0 {
			t.Errorf("an error the scenario did not ask for: [%s] %s %s: %s", f.Check, f.Subject.Kind, f.Subject.Name, f.Title)
		}
	}
	if t.Failed() {
		t.Logf("findings by check and subject: %v", count)
	}
}
