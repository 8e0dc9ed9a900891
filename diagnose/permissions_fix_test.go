package diagnose_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// A principal that may only log in: the permissions fix grants, in one registry policy
// statement, every pull action a registry policy can grant, on every rule's repositories;
// applied, the principal can pull through every rule. A principal that may not even log
// in gets the same statement, a plan that promises no pull, and the identity policy for
// GetAuthorizationToken (which no registry policy grants).
const permissionsScenario = `
name: permissions-fix
account: {id: "444455556666", region: eu-west-1}
principals:
  - {name: ops, accessKeyId: AKIAPERMSOPS00000000, secretAccessKey: ops-secret-access-key, allow: ["*"]}
  - name: reader
    kind: role
    accessKeyId: AKIAPERMSREADER00000
    secretAccessKey: reader-secret-access-key
    statements:
      - {effect: Allow, actions: [ecr:GetAuthorizationToken], resources: ["*"]}
  - name: nobody
    kind: role
    accessKeyId: AKIAPERMSNOBODY00000
    secretAccessKey: nobody-secret-access-key
    statements:
      - {effect: Allow, actions: [ecr:DescribeRepositories], resources: ["*"]}
rules:
  - {prefix: quay, upstream: quay}
  - {prefix: k8s, upstream: k8s}
  - {prefix: ecr-public, upstream: ecr-public}
`

func TestPermissionsFixGrantsWhatARegistryPolicyCan(t *testing.T) {
	ctx := context.Background()
	_, acc := account(t, permissionsScenario)
	reader, nobody := "arn:aws:iam::444455556666:role/reader", "arn:aws:iam::444455556666:role/nobody"
	_, findings := diagnoseWith(t, acc, nil, reader, nobody)
	byPrincipal := map[string]model.Finding{}
	for _, f := range findings {
		if f.Check == "permissions" {
			byPrincipal[f.Subject.Name] = f
		}
	}
	r, n := byPrincipal[reader], byPrincipal[nobody]
	if len(r.Fixes) == 0 || len(n.Fixes) == 0 {
		t.Fatalf("permissions findings: %+v", byPrincipal)
	}
	fix := r.Fixes[0]
	if len(fix.Plan.Steps) != 1 || !strings.Contains(fix.Plan.Title, "pull through") {
		t.Fatalf("reader's fix: one statement for three rules, promising the pull: %+v", fix.Plan)
	}
	stmt := fix.Plan.Steps[0].Params["statement"]
	for _, want := range []string{"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability", "ecr:BatchImportUpstreamImage",
		"ecr:CreateRepository", "repository/quay/*", "repository/k8s/*", "repository/ecr-public/*"} {
		if !strings.Contains(stmt, want) {
			t.Errorf("the statement lacks %s: %s", want, stmt)
		}
	}
	nfix := n.Fixes[0]
	if strings.Contains(nfix.Plan.Title, "pull through") || !strings.Contains(nfix.Plan.Title, "not enough to pull") ||
		strings.Contains(nfix.Plan.Steps[0].Params["statement"], "GetAuthorizationToken") ||
		!strings.Contains(nfix.Manual, `"ecr:GetAuthorizationToken"`) || !strings.Contains(nfix.Manual, `"Resource": "*"`) {
		t.Fatalf("nobody's fix must say the registry policy is not enough, and give the IAM policy: %q\n%s", nfix.Plan.Title, nfix.Manual)
	}
	if _, err := acc.Apply(ctx, fix.Plan, ecrops.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	_, after := diagnoseWith(t, acc, nil, reader)
	for _, f := range after {
		if f.Check == "permissions" && f.Subject.Name == reader {
			t.Fatalf("after the registry policy fix, reader still: %s", f.Title)
		}
	}
}
