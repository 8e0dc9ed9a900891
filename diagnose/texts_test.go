package diagnose_test

import (
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
)

// One repository, one image: the texts say so in the singular ("1 repository ... was",
// "holds"), not "1 repositories ... were", "hold".
func TestFindingTextsAgreeWithOne(t *testing.T) {
	_, acc := account(t, `
upstreams:
  - host: quay.io
    repositories: [{name: org/app, tags: [{tag: v1}]}]
rules:
  - {prefix: quay, upstream: quay}
templates:
  - {prefix: quay}
repositories:
  - name: quay/org/app
    images: [{tags: [v1], source: "quay.io/org/app:v1#0", pulledAgo: 1h, validatedAgo: 1h}]
  - name: retired-01/library/app
    images: [{tags: [v1], source: "quay.io/org/app:v1#0", pushedAgo: 100d}]
`)
	_, findings := diagnoseWith(t, acc, nil)
	seen := map[string]bool{}
	for _, f := range findings {
		text := f.Title + " " + f.Explanation
		for _, e := range f.Evidence {
			text += " " + e.Answer
		}
		for _, wrong := range []string{"1 repositories", "1 images", "1 rules", "1 bytes", "app hold ", "app are never"} {
			if strings.Contains(text, wrong) {
				t.Errorf("%s: %q in %q", f.Check, wrong, text)
			}
		}
		seen[f.Check] = true
		if f.Check == "orphan-repository" && !strings.HasPrefix(f.Title, "1 repository under retired-01/ was cached") {
			t.Errorf("orphan title: %s", f.Title)
		}
		if f.Check == "no-lifecycle" && !strings.Contains(f.Explanation, "quay/org/app holds ") {
			t.Errorf("no-lifecycle explanation: %s", f.Explanation)
		}
	}
	if !seen["orphan-repository"] || !seen["no-lifecycle"] {
		t.Fatalf("findings: %v", seen)
	}
}

// With ValidatePullThroughCacheRule failing, a credentials finding that rests on what
// DescribeSecret read (the secret is gone) stands, and the not-checked entry for that rule
// says that only its validation was not made; a rule with no finding is plainly not checked.
func TestNotCheckedBesideAFindingNamesThePartNotMade(t *testing.T) {
	_, acc := account(t, `
secrets:
  - {name: ecr-pullthroughcache/gh, value: '{"username":"u","accessToken":"t"}', deleted: forced}
  - {name: ecr-pullthroughcache/gl, value: '{"username":"u","accessToken":"t"}'}
rules:
  - {prefix: gh, upstream: github-container-registry, credential: ecr-pullthroughcache/gh}
  - {prefix: gl, upstream: gitlab-container-registry, credential: ecr-pullthroughcache/gl}
faults:
  - {operation: ValidatePullThroughCacheRule, errorRate: 1}
`)
	snap, res := diagnoseResult(t, acc, nil)
	r := diagnose.NewReport(snap, res, false)
	var gh string
	for _, f := range r.Findings {
		if f.Check == "credentials" && f.Subject.Name == "gh" {
			gh = f.ID
		}
	}
	if gh == "" {
		t.Fatalf("the finding on gh's deleted secret is gone: %+v", r.Findings)
	}
	var names []string
	for _, g := range r.NotCheckedGroups() {
		if strings.Contains(g.Check, "credentials") {
			names = append(names, g.Names...)
		}
	}
	all := strings.Join(names, "\n")
	if !strings.Contains(all, "rule gh (only its ValidatePullThroughCacheRule; finding "+gh) || !strings.Contains(all, "rule gl") || strings.Contains(all, "rule gl (") {
		t.Fatalf("not checked: %q", all)
	}
}
