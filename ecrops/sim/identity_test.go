package sim_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestSecrets(t *testing.T) {
	s := startScenario(t, "demo")
	c := ctx(t)
	created, err := s.sm.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String("ecr-pullthroughcache/quay"),
		SecretString: aws.String(`{"username":"u","accessToken":"t1"}`), Description: aws.String("Quay robot")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(*created.ARN, "arn:aws:secretsmanager:us-east-1:111122223333:secret:ecr-pullthroughcache/quay-") ||
		len(*created.ARN) != len("arn:aws:secretsmanager:us-east-1:111122223333:secret:ecr-pullthroughcache/quay-")+6 || created.VersionId == nil {
		t.Fatalf("create: %+v", created)
	}
	_, err = s.sm.CreateSecret(c, &secretsmanager.CreateSecretInput{Name: aws.String("ecr-pullthroughcache/quay"), SecretString: aws.String("x")})
	wantCode(t, err, "ResourceExistsException", "already exists")

	// By name, by full ARN and by ARN without the random suffix.
	for _, id := range []string{"ecr-pullthroughcache/quay", *created.ARN, (*created.ARN)[:len(*created.ARN)-7]} {
		v, err := s.sm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if *v.SecretString != `{"username":"u","accessToken":"t1"}` {
			t.Fatalf("value %q", *v.SecretString)
		}
	}
	put := must[*secretsmanager.PutSecretValueOutput](t)(s.sm.PutSecretValue(c, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String("ecr-pullthroughcache/quay"), SecretString: aws.String(`{"username":"u","accessToken":"t2"}`)}))
	if *put.VersionId == *created.VersionId {
		t.Fatal("PutSecretValue kept the version id")
	}
	d := must[*secretsmanager.DescribeSecretOutput](t)(s.sm.DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String("ecr-pullthroughcache/quay")}))
	if d.KmsKeyId != nil || *d.Description != "Quay robot" || d.LastChangedDate == nil || len(d.VersionIdsToStages) != 1 {
		t.Fatalf("describe: %+v", d)
	}
	cmk := must[*secretsmanager.DescribeSecretOutput](t)(s.sm.DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String("ecr-pullthroughcache/gitlab")}))
	if cmk.KmsKeyId == nil || !strings.Contains(*cmk.KmsKeyId, ":key/") {
		t.Fatalf("the customer key is not reported: %+v", cmk.KmsKeyId)
	}
	_, err = s.sm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("ecr-pullthroughcache/absent")})
	wantCode(t, err, "ResourceNotFoundException", "can't find the specified secret")

	list := func(filters ...smtypes.Filter) []string {
		var names []string
		p := secretsmanager.NewListSecretsPaginator(s.sm, &secretsmanager.ListSecretsInput{Filters: filters, MaxResults: aws.Int32(2)})
		for p.HasMorePages() {
			for _, x := range must[*secretsmanager.ListSecretsOutput](t)(p.NextPage(c)).SecretList {
				names = append(names, *x.Name)
			}
		}
		return names
	}
	if got := list(); len(got) != 4 {
		t.Fatalf("all: %v", got)
	}
	if got := list(smtypes.Filter{Key: smtypes.FilterNameStringTypeName, Values: []string{"ecr-pullthroughcache/g"}}); strings.Join(got, ",") != "ecr-pullthroughcache/github,ecr-pullthroughcache/gitlab" {
		t.Fatalf("name filter: %v", got)
	}
	if got := list(smtypes.Filter{Key: smtypes.FilterNameStringTypeName, Values: []string{"!ecr-pullthroughcache/g"}}); len(got) != 2 {
		t.Fatalf("negated filter: %v", got)
	}
	if got := list(smtypes.Filter{Key: smtypes.FilterNameStringTypeDescription, Values: []string{"quay"}}); len(got) != 1 {
		t.Fatalf("description filter: %v", got)
	}

	del := must[*secretsmanager.DeleteSecretOutput](t)(s.sm.DeleteSecret(c, &secretsmanager.DeleteSecretInput{SecretId: aws.String("ecr-pullthroughcache/quay"), RecoveryWindowInDays: aws.Int64(7)}))
	if d := time.Until(*del.DeletionDate); d < 6*24*time.Hour || d > 8*24*time.Hour {
		t.Fatalf("deletion in %v", d)
	}
	_, err = s.sm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("ecr-pullthroughcache/quay")})
	wantCode(t, err, "InvalidRequestException", "marked for deletion")
	if got := list(); len(got) != 3 {
		t.Fatalf("a deleted secret is listed: %v", got)
	}
	if _, err := s.sm.DeleteSecret(c, &secretsmanager.DeleteSecretInput{SecretId: aws.String("ecr-pullthroughcache/github"), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	_, err = s.sm.DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String("ecr-pullthroughcache/github")})
	wantCode(t, err, "ResourceNotFoundException", "can't find")
}

func TestCallerIdentityAndPolicySimulation(t *testing.T) {
	s := startScenario(t, "demo")
	c := ctx(t)
	id := must[*sts.GetCallerIdentityOutput](t)(s.sts.GetCallerIdentity(c, &sts.GetCallerIdentityInput{}))
	if *id.Arn != "arn:aws:iam::111122223333:user/admin" || *id.Account != "111122223333" || !strings.HasPrefix(*id.UserId, "AIDA") {
		t.Fatalf("identity: %s %s %s", *id.Arn, *id.Account, *id.UserId)
	}
	node := *s
	node.as("AKIAPTCDOCTORSIMNODE0", "ptcdoctor-sim-node-secret-access-key")
	nid := must[*sts.GetCallerIdentityOutput](t)(node.sts.GetCallerIdentity(c, &sts.GetCallerIdentityInput{}))
	if *nid.Arn != "arn:aws:sts::111122223333:assumed-role/eks-node/ptcdoctor" || !strings.HasPrefix(*nid.UserId, "AROA") {
		t.Fatalf("role identity: %s %s", *nid.Arn, *nid.UserId)
	}

	sim := must[*iam.SimulatePrincipalPolicyOutput](t)(s.iam.SimulatePrincipalPolicy(c, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String("arn:aws:iam::111122223333:role/eks-node"),
		ActionNames:     []string{"ecr:BatchGetImage", "ecr:BatchImportUpstreamImage", "ecr:CreateRepository"},
		ResourceArns:    []string{"arn:aws:ecr:us-east-1:111122223333:repository/docker-hub/library/nginx"},
	}))
	got := map[string]iamtypes.PolicyEvaluationDecisionType{}
	for _, r := range sim.EvaluationResults {
		got[*r.EvalActionName] = r.EvalDecision
	}
	if got["ecr:BatchGetImage"] != iamtypes.PolicyEvaluationDecisionTypeAllowed ||
		got["ecr:BatchImportUpstreamImage"] != iamtypes.PolicyEvaluationDecisionTypeImplicitDeny ||
		got["ecr:CreateRepository"] != iamtypes.PolicyEvaluationDecisionTypeAllowed {
		t.Fatalf("decisions: %v", got)
	}
	_, err := s.iam.SimulatePrincipalPolicy(c, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String("arn:aws:iam::111122223333:role/nobody"), ActionNames: []string{"ecr:BatchGetImage"}})
	wantCode(t, err, "NoSuchEntity", "role with name nobody")
	_, err = s.iam.SimulatePrincipalPolicy(c, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String("arn:aws:sts::111122223333:assumed-role/eks-node/x"), ActionNames: []string{"ecr:BatchGetImage"}})
	wantCode(t, err, "InvalidInput", "Invalid ARN")
	_, err = node.iam.SimulatePrincipalPolicy(c, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String("arn:aws:iam::111122223333:role/eks-node"), ActionNames: []string{"ecr:BatchGetImage"}})
	wantCode(t, err, "AccessDenied", "iam:SimulatePrincipalPolicy")
}

func TestSignaturesAreChecked(t *testing.T) {
	s := startScenario(t, "demo")
	c := ctx(t)
	bad := *s
	bad.as("AKIAPTCDOCTORSIMADMIN", "not-the-secret-access-key")
	_, err := bad.ecr.DescribeRepositories(c, &ecr.DescribeRepositoriesInput{})
	wantCode(t, err, "InvalidSignatureException", "signature we calculated does not match")
	_, err = bad.sts.GetCallerIdentity(c, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "SignatureDoesNotMatch", "does not match")

	unknown := *s
	unknown.as("AKIAUNKNOWNKEY000000", "whatever-secret-key-0000")
	_, err = unknown.ecr.DescribeRepositories(c, &ecr.DescribeRepositoriesInput{})
	wantCode(t, err, "UnrecognizedClientException", "security token included in the request is invalid")
	_, err = unknown.sts.GetCallerIdentity(c, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "InvalidClientTokenId", "security token")

	wrongRegion := *s
	wrongRegion.as("AKIAPTCDOCTORSIMADMIN", "ptcdoctor-sim-admin-secret-access-key")
	wrongRegion.ecr = ecr.NewFromConfig(wrongRegion.cfg, func(o *ecr.Options) { o.Region = "eu-west-1" })
	_, err = wrongRegion.ecr.DescribeRepositories(c, &ecr.DescribeRepositoriesInput{})
	wantCode(t, err, "IncompleteSignatureException", "valid region")

	resp, err := http.Post(s.srv.Info().Endpoint, "application/x-amz-json-1.1", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusForbidden {
		t.Fatalf("unsigned request answered %d", resp.StatusCode)
	}
}

func TestPrincipalsAreHeldToTheirActions(t *testing.T) {
	s := startYAML(t, `
principals:
  - {name: admin, accessKeyId: AKIAADMIN00000000000, secretAccessKey: admin-secret-key-0000, allow: ["*"]}
  - name: reader
    kind: role
    accessKeyId: AKIAREADER0000000000
    secretAccessKey: reader-secret-key-000
    allow: ["ecr:Describe*", "secretsmanager:*"]
    deny: ["secretsmanager:GetSecretValue"]
secrets:
  - {name: ecr-pullthroughcache/hub, value: '{"username":"u","accessToken":"t"}'}
`)
	c := ctx(t)
	r := *s
	r.as("AKIAREADER0000000000", "reader-secret-key-000")
	if _, err := r.ecr.DescribeRepositories(c, &ecr.DescribeRepositoriesInput{}); err != nil {
		t.Fatal(err)
	}
	_, err := r.ecr.CreateRepository(c, &ecr.CreateRepositoryInput{RepositoryName: aws.String("x1")})
	wantCode(t, err, "AccessDeniedException",
		"User: arn:aws:sts::111122223333:assumed-role/reader/ptcdoctor is not authorized to perform: ecr:CreateRepository on resource: arn:aws:ecr:us-east-1:111122223333:repository/x1 because no identity-based policy allows the ecr:CreateRepository action")
	_, err = r.sm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("ecr-pullthroughcache/hub")})
	wantCode(t, err, "AccessDeniedException", "explicit deny")
	if _, err := r.sm.DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String("ecr-pullthroughcache/hub")}); err != nil {
		t.Fatal(err)
	}
	// A refused call is logged with who made it, and wrote nothing.
	var denied int
	for _, e := range s.srv.Events(0) {
		if e.Outcome == "AccessDeniedException" && e.Principal == "arn:aws:sts::111122223333:assumed-role/reader/ptcdoctor" {
			denied++
		}
	}
	if denied != 2 || s.writes() != 0 {
		t.Fatalf("denied %d, writes %d", denied, s.writes())
	}
}
