package sim_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

const secretsScenario = `
secrets:
  - {name: b-oldest, value: '{"username":"u","accessToken":"t"}', createdAgo: 30d, changedAgo: 2d}
  - {name: a-middle, value: '{"username":"u","accessToken":"t"}', createdAgo: 20d, changedAgo: 10d, accessedAgo: 3d}
  - {name: c-newest, value: '{"username":"u","accessToken":"t"}', createdAgo: 10d, changedAgo: 5d, accessedAgo: 1d}
  - {name: quay-creds, value: '{"username":"u","accessToken":"t"}', createdAgo: 5d}
  - {name: scheduled, value: '{"username":"u","accessToken":"t"}', deleted: scheduled, deletedAgo: 2d}
  - {name: forced, value: '{"username":"u","accessToken":"t"}', deleted: forced}
upstreams:
  - host: quay.io
    accounts: [{username: u, token: t}]
    repositories: [{name: org/app, tags: [{tag: v1}]}]
rules:
  - {prefix: quay, upstream: quay, credential: quay-creds}
  - {prefix: sched, upstream: quay, credential: scheduled}
  - {prefix: gone, upstream: quay, credential: forced}
`

// ListSecrets as the API model says: SecretVersionsToStages (DescribeSecret's field is
// VersionIdsToStages; the SDK drops a field under the other's name), listed by
// CreatedDate unless SortBy says otherwise, in SortOrder.
func TestListSecretsFieldsAndOrder(t *testing.T) {
	s := startYAML(t, secretsScenario)
	c := ctx(t)
	list := func(in *secretsmanager.ListSecretsInput) []smtypes.SecretListEntry {
		out := must[*secretsmanager.ListSecretsOutput](t)(s.sm.ListSecrets(c, in))
		return out.SecretList
	}
	names := func(l []smtypes.SecretListEntry) string {
		var out []string
		for _, e := range l {
			out = append(out, *e.Name)
		}
		return strings.Join(out, " ")
	}
	all := list(&secretsmanager.ListSecretsInput{})
	if got := names(all); got != "b-oldest a-middle c-newest quay-creds" {
		t.Fatalf("default order (CreatedDate): %s", got)
	}
	for _, e := range all {
		if len(e.SecretVersionsToStages) != 1 {
			t.Fatalf("%s: SecretVersionsToStages %v", *e.Name, e.SecretVersionsToStages)
		}
	}
	for _, tc := range []struct {
		by    smtypes.SortByType
		order smtypes.SortOrderType
		want  string
	}{
		{smtypes.SortByTypeName, smtypes.SortOrderTypeAsc, "a-middle b-oldest c-newest quay-creds"},
		{smtypes.SortByTypeName, smtypes.SortOrderTypeDesc, "quay-creds c-newest b-oldest a-middle"},
		{smtypes.SortByTypeCreatedDate, smtypes.SortOrderTypeDesc, "quay-creds c-newest a-middle b-oldest"},
		{smtypes.SortByTypeLastChangedDate, smtypes.SortOrderTypeAsc, "a-middle c-newest b-oldest quay-creds"},
		{smtypes.SortByTypeLastAccessedDate, smtypes.SortOrderTypeDesc, "c-newest a-middle quay-creds b-oldest"},
	} {
		if got := names(list(&secretsmanager.ListSecretsInput{SortBy: tc.by, SortOrder: tc.order})); got != tc.want {
			t.Errorf("SortBy %s %s: %s, want %s", tc.by, tc.order, got, tc.want)
		}
	}
	_, err := s.sm.ListSecrets(c, &secretsmanager.ListSecretsInput{SortBy: "size"})
	wantCode(t, err, "ValidationException", "SortBy")

	d := must[*secretsmanager.DescribeSecretOutput](t)(s.sm.DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String("a-middle")}))
	if len(d.VersionIdsToStages) != 1 || d.LastAccessedDate == nil {
		t.Fatalf("describe: %+v", d)
	}
	// LastAccessedDate is a date: midnight UTC.
	if !d.LastAccessedDate.Equal(d.LastAccessedDate.UTC().Truncate(24*time.Hour)) || time.Since(*d.LastAccessedDate) < 3*24*time.Hour {
		t.Fatalf("LastAccessedDate %v: want the date of three days ago", d.LastAccessedDate)
	}
}

// ECR's reads of a rule's secret, for a pull through and for a validation, set the
// secret's LastAccessedDate (on a real account it shows whether ECR ever read it).
func TestECRReadingASecretSetsLastAccessedDate(t *testing.T) {
	s := startYAML(t, secretsScenario)
	c := ctx(t)
	accessed := func(name string) *time.Time {
		d := must[*secretsmanager.DescribeSecretOutput](t)(s.sm.DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)}))
		return d.LastAccessedDate
	}
	if a := accessed("quay-creds"); a != nil {
		t.Fatalf("a secret never read has LastAccessedDate %v", a)
	}
	v := must[*ecr.ValidatePullThroughCacheRuleOutput](t)(s.ecr.ValidatePullThroughCacheRule(c, &ecr.ValidatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("quay")}))
	if !v.IsValid {
		t.Fatalf("validation: %s", aws.ToString(v.Failure))
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	if a := accessed("quay-creds"); a == nil || !a.Equal(today) {
		t.Fatalf("after ECR validated the rule, LastAccessedDate is %v, want %v", a, today)
	}

	// A pull through a rule whose secret ECR last read days ago brings the date forward.
	s2 := startYAML(t, strings.Replace(secretsScenario, "name: quay-creds, value: '{\"username\":\"u\",\"accessToken\":\"t\"}', createdAgo: 5d",
		"name: quay-creds, value: '{\"username\":\"u\",\"accessToken\":\"t\"}', createdAgo: 5d, accessedAgo: 4d", 1))
	before := must[*secretsmanager.DescribeSecretOutput](t)(s2.sm.DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String("quay-creds")}))
	if before.LastAccessedDate == nil || before.LastAccessedDate.Equal(today) {
		t.Fatalf("the scenario's accessedAgo: %v", before.LastAccessedDate)
	}
	must[*ecr.BatchGetImageOutput](t)(s2.ecr.BatchGetImage(c, &ecr.BatchGetImageInput{RepositoryName: aws.String("quay/org/app"),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("v1")}}}))
	after := must[*secretsmanager.DescribeSecretOutput](t)(s2.sm.DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String("quay-creds")}))
	if after.LastAccessedDate == nil || !after.LastAccessedDate.Equal(today) {
		t.Fatalf("after a pull through, LastAccessedDate is %v, want %v", after.LastAccessedDate, today)
	}
}

// A rule whose secret was deleted: scheduled for deletion (still there, marked) or
// deleted without recovery (gone). Either way ECR cannot read it.
func TestARuleWhoseSecretWasDeleted(t *testing.T) {
	s := startYAML(t, secretsScenario)
	c := ctx(t)
	// ECR says of each what Secrets Manager says: one is marked for deletion, the other
	// does not exist (not "does not exist" for a secret DescribeSecret still shows).
	for prefix, why := range map[string]string{"sched": "marked for deletion", "gone": "does not exist"} {
		v := must[*ecr.ValidatePullThroughCacheRuleOutput](t)(s.ecr.ValidatePullThroughCacheRule(c, &ecr.ValidatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String(prefix)}))
		if v.IsValid || !strings.Contains(aws.ToString(v.Failure), why) {
			t.Fatalf("%s: valid %v, failure %q", prefix, v.IsValid, aws.ToString(v.Failure))
		}
		if !strings.Contains(aws.ToString(v.CredentialArn), ":secret:") {
			t.Fatalf("%s: the rule lost its secret's ARN: %v", prefix, v.CredentialArn)
		}
	}
	d := must[*secretsmanager.DescribeSecretOutput](t)(s.sm.DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String("scheduled")}))
	if d.DeletedDate == nil {
		t.Fatal("a secret scheduled for deletion has no DeletedDate")
	}
	_, err := s.sm.GetSecretValue(c, &secretsmanager.GetSecretValueInput{SecretId: aws.String("scheduled")})
	wantCode(t, err, "InvalidRequestException", "marked for deletion")
	_, err = s.sm.DescribeSecret(c, &secretsmanager.DescribeSecretInput{SecretId: aws.String("forced")})
	wantCode(t, err, "ResourceNotFoundException", "can't find")
	if n := len(must[*secretsmanager.ListSecretsOutput](t)(s.sm.ListSecrets(c, &secretsmanager.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true)})).SecretList); n != 5 {
		t.Fatalf("with planned deletions, %d secrets listed, want 5", n)
	}
}
