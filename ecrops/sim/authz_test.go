package sim_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
)

// A principal's permissions can be scoped to resources, with wildcards in the ARNs: an
// allow on some repositories grants nothing on others, a deny on a secret's ARN pattern
// wins over an allow on every secret, and SimulatePrincipalPolicy answers per resource.
func TestResourceScopedPermissions(t *testing.T) {
	s := startYAML(t, `
secrets:
  - {name: ecr-pullthroughcache/hub, value: '{"username":"u","accessToken":"t"}'}
  - {name: ecr-pullthroughcache/quay, value: '{"username":"u","accessToken":"t"}'}
repositories:
  - {name: docker-hub/library/nginx}
  - {name: quay/org/app}
principals:
  - {name: admin, accessKeyId: AKIAPTCDOCTORSIMADMIN, secretAccessKey: ptcdoctor-sim-admin-secret-access-key, allow: ["*"]}
  - name: team
    kind: role
    accessKeyId: AKIAPTCDOCTORSIMTEAM0
    secretAccessKey: ptcdoctor-sim-team-secret-access-key
    allow: ["ecr:DescribeRepositories"]
    statements:
      - effect: Allow
        actions: ["ecr:Describe*", "ecr:DeleteRepository"]
        resources: ["arn:aws:ecr:us-east-1:111122223333:repository/docker-hub/*"]
      - effect: Allow
        actions: ["secretsmanager:*"]
        resources: ["*"]
      - effect: Deny
        actions: ["secretsmanager:GetSecretValue"]
        resources: ["arn:aws:secretsmanager:*:111122223333:secret:ecr-pullthroughcache/quay-??????"]
`)
	c := ctx(t)
	team := startWith(t, s.srv).as("AKIAPTCDOCTORSIMTEAM0", "ptcdoctor-sim-team-secret-access-key")

	if _, err := team.ecr.DescribeImages(c, &ecr.DescribeImagesInput{RepositoryName: aws.String("docker-hub/library/nginx")}); err != nil {
		t.Fatalf("allowed on docker-hub/*: %v", err)
	}
	_, err := team.ecr.DescribeImages(c, &ecr.DescribeImagesInput{RepositoryName: aws.String("quay/org/app")})
	wantCode(t, err, "AccessDeniedException", "repository/quay/org/app because no identity-based policy allows")
	_, err = team.ecr.DeleteRepository(c, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("quay/org/app")})
	wantCode(t, err, "AccessDeniedException", "ecr:DeleteRepository")

	if _, err := team.sm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("ecr-pullthroughcache/hub")}); err != nil {
		t.Fatalf("allowed on every secret: %v", err)
	}
	_, err = team.sm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("ecr-pullthroughcache/quay")})
	wantCode(t, err, "AccessDeniedException", "explicit deny")
	if _, err := team.sm.ListSecrets(c, &secretsmanager.ListSecretsInput{}); err != nil {
		t.Fatalf("ListSecrets on *: %v", err)
	}

	res := must[*iam.SimulatePrincipalPolicyOutput](t)(s.iam.SimulatePrincipalPolicy(c, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String("arn:aws:iam::111122223333:role/team"),
		ActionNames:     []string{"ecr:DeleteRepository"},
		ResourceArns: []string{"arn:aws:ecr:us-east-1:111122223333:repository/docker-hub/library/nginx",
			"arn:aws:ecr:us-east-1:111122223333:repository/quay/org/app"}}))
	got := map[string]string{}
	for _, r := range res.EvaluationResults {
		got[aws.ToString(r.EvalResourceName)] = string(r.EvalDecision)
	}
	if got["arn:aws:ecr:us-east-1:111122223333:repository/docker-hub/library/nginx"] != "allowed" ||
		got["arn:aws:ecr:us-east-1:111122223333:repository/quay/org/app"] != "implicitDeny" {
		t.Fatalf("SimulatePrincipalPolicy per resource: %v", got)
	}
}

func TestScopedStatementsAreChecked(t *testing.T) {
	for _, bad := range []string{
		`{effect: Permit, actions: ["ecr:*"], resources: ["*"]}`,
		`{effect: Allow, actions: ["ecr:*"]}`,
		`{effect: Allow, actions: ["ecr:*"], resources: ["repository/x"]}`,
		`{effect: Allow, actions: ["BatchGetImage"], resources: ["*"]}`,
	} {
		_, err := sim.ParseScenario([]byte("principals: [{name: p, accessKeyId: AKIAPTCDOCTORSIMXXXX, secretAccessKey: ptcdoctor-sim-x-secret, statements: [" + bad + "]}]\n"))
		if err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

// DescribeRepositories with names is authorized on each named repository's ARN, as ECR
// does; without names, on repository/*.
func TestDescribeRepositoriesAuthorizesEachNamedRepository(t *testing.T) {
	s := startYAML(t, `
repositories:
  - {name: team-a/app}
  - {name: team-b/app}
principals:
  - {name: admin, accessKeyId: AKIAPTCDOCTORSIMADMIN, secretAccessKey: ptcdoctor-sim-admin-secret-access-key, allow: ["*"]}
  - name: team-a
    kind: role
    accessKeyId: AKIAPTCDOCTORSIMTEAMA
    secretAccessKey: ptcdoctor-sim-team-a-secret-access-key
    statements:
      - {effect: Allow, actions: ["ecr:*"], resources: ["arn:aws:ecr:us-east-1:111122223333:repository/team-a/*"]}
`)
	c := ctx(t)
	team := startWith(t, s.srv).as("AKIAPTCDOCTORSIMTEAMA", "ptcdoctor-sim-team-a-secret-access-key")
	out, err := team.ecr.DescribeRepositories(c, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"team-a/app"}})
	if err != nil || len(out.Repositories) != 1 {
		t.Fatalf("team-a/app, allowed on team-a/*: %v", err)
	}
	_, err = team.ecr.DescribeRepositories(c, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"team-a/app", "team-b/app"}})
	wantCode(t, err, "AccessDeniedException", "on resource: arn:aws:ecr:us-east-1:111122223333:repository/team-b/app because")
	_, err = team.ecr.DescribeRepositories(c, &ecr.DescribeRepositoriesInput{})
	wantCode(t, err, "AccessDeniedException", "repository/*")
}
