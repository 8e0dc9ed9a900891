package diagnose_test

import (
	"context"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
)

// no-lifecycle and template-drift follow one rule: a cache repository whose creation
// template has a lifecycle policy gets that policy. Applying the no-lifecycle fix leaves
// neither finding on the repository (it used to leave template-drift, the two checks
// recommending different policies); one no template covers gets the default.
func TestNoLifecycleFixWritesTheTemplatesPolicy(t *testing.T) {
	ctx := context.Background()
	_, acc := account(t, `
upstreams:
  - host: quay.io
    repositories: [{name: org/app, tags: [{tag: v1}]}, {name: org/tool, tags: [{tag: v1}]}]
rules:
  - {prefix: quay, upstream: quay}
templates:
  - prefix: quay
    lifecyclePolicy: '{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":90},"action":{"type":"transition","targetStorageClass":"archive"}}]}'
repositories:
  - name: quay/org/app
    images: [{tags: [v1], source: "quay.io/org/app:v1#0", pulledAgo: 1h, validatedAgo: 1h}]
`)
	_, before := diagnoseWith(t, acc, nil)
	checks := map[string]bool{}
	for _, f := range before {
		if f.Subject.Name == "quay/org/app" || f.Subject.Name == "quay" {
			checks[f.Check] = true
		}
	}
	if !checks["no-lifecycle"] || !checks["template-drift"] {
		t.Fatalf("before: %v", checks)
	}
	fix := fixOf(t, before, "no-lifecycle", "")
	if _, err := acc.Apply(ctx, fix.Plan, ecrops.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	_, after := diagnoseWith(t, acc, nil)
	for _, f := range after {
		if (f.Check == "no-lifecycle" || f.Check == "template-drift") && (f.Subject.Name == "quay/org/app" || f.Subject.Name == "quay") {
			t.Errorf("after the no-lifecycle fix (%s): %s %s", fix.Title, f.Check, f.Title)
		}
	}
}
