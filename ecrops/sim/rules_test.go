package sim_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
)

func TestCreatePullThroughCacheRule(t *testing.T) {
	s := startScenario(t, "empty")
	c := ctx(t)
	arn := must[*secretsmanager.CreateSecretOutput](t)(s.sm.CreateSecret(c, &secretsmanager.CreateSecretInput{
		Name:         aws.String("ecr-pullthroughcache/docker-hub"),
		SecretString: aws.String(`{"username":"ptcdemo","accessToken":"dckr_pat_ptcdemo_valid_token"}`),
	})).ARN

	out, err := s.ecr.CreatePullThroughCacheRule(c, &ecr.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("docker-hub/"), UpstreamRegistryUrl: aws.String("registry-1.docker.io"),
		CredentialArn: arn,
	})
	if err != nil {
		t.Fatal(err)
	}
	if *out.EcrRepositoryPrefix != "docker-hub" || out.UpstreamRegistry != types.UpstreamRegistryDockerHub ||
		out.CreatedAt == nil || *out.RegistryId != "111122223333" {
		t.Fatalf("unexpected answer: %+v", out)
	}

	cases := []struct {
		name       string
		in         ecr.CreatePullThroughCacheRuleInput
		code, want string
	}{
		{"duplicate", ecr.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("docker-hub"),
			UpstreamRegistryUrl: aws.String("registry-1.docker.io"), CredentialArn: arn},
			"PullThroughCacheRuleAlreadyExistsException", "already exists"},
		{"docker hub needs credentials", ecr.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("hub"),
			UpstreamRegistryUrl: aws.String("registry-1.docker.io")},
			"UnsupportedUpstreamRegistryException", "requires authentication"},
		{"ghcr needs credentials", ecr.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("github"),
			UpstreamRegistryUrl: aws.String("ghcr.io")},
			"UnsupportedUpstreamRegistryException", "requires authentication"},
		{"unsupported upstream", ecr.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("gcr"),
			UpstreamRegistryUrl: aws.String("gcr.io")},
			"UnsupportedUpstreamRegistryException", "isn't supported"},
		{"enum disagrees with URL", ecr.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("qq"),
			UpstreamRegistryUrl: aws.String("quay.io"), UpstreamRegistry: types.UpstreamRegistryK8s},
			"UnsupportedUpstreamRegistryException", "isn't supported"},
		{"upper-case prefix", ecr.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("Quay"),
			UpstreamRegistryUrl: aws.String("quay.io")}, "ValidationException", "regular expression"},
		{"prefix too short", ecr.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("q"),
			UpstreamRegistryUrl: aws.String("quay.io")}, "ValidationException", "length greater than or equal to 2"},
		{"prefix too long", ecr.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String(strings.Repeat("a", 31)),
			UpstreamRegistryUrl: aws.String("quay.io")}, "ValidationException", "length less than or equal to 30"},
		{"secret without the ecr-pullthroughcache/ prefix", ecr.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("gh"),
			UpstreamRegistryUrl: aws.String("ghcr.io"),
			CredentialArn:       aws.String("arn:aws:secretsmanager:us-east-1:111122223333:secret:github-token-AbCdEf")},
			"ValidationException", "credentialArn"},
		{"secret that does not exist", ecr.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("gh"),
			UpstreamRegistryUrl: aws.String("ghcr.io"),
			CredentialArn:       aws.String("arn:aws:secretsmanager:us-east-1:111122223333:secret:ecr-pullthroughcache/nope-AbCdEf")},
			"SecretNotFoundException", "not found"},
		{"cross-account ECR without a role", ecr.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("central"),
			UpstreamRegistryUrl: aws.String("444455556666.dkr.ecr.us-west-2.amazonaws.com")},
			"InvalidParameterException", "customRoleArn"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.ecr.CreatePullThroughCacheRule(c, &tc.in)
			wantCode(t, err, tc.code, tc.want)
		})
	}

	// Anonymous upstreams need no secret; ROOT and an upstream prefix are accepted for ECR.
	for _, in := range []ecr.CreatePullThroughCacheRuleInput{
		{EcrRepositoryPrefix: aws.String("ecr-public"), UpstreamRegistryUrl: aws.String("public.ecr.aws")},
		{EcrRepositoryPrefix: aws.String("k8s"), UpstreamRegistryUrl: aws.String("registry.k8s.io"), UpstreamRegistry: types.UpstreamRegistryK8s},
		{EcrRepositoryPrefix: aws.String("mirror"), UpstreamRegistryUrl: aws.String("111122223333.dkr.ecr.us-west-2.amazonaws.com"),
			UpstreamRepositoryPrefix: aws.String("team-a")},
	} {
		if _, err := s.ecr.CreatePullThroughCacheRule(c, &in); err != nil {
			t.Fatalf("%s: %v", *in.EcrRepositoryPrefix, err)
		}
	}
	d := must[*ecr.DescribePullThroughCacheRulesOutput](t)(s.ecr.DescribePullThroughCacheRules(c,
		&ecr.DescribePullThroughCacheRulesInput{EcrRepositoryPrefixes: []string{"mirror"}}))
	if got := *d.PullThroughCacheRules[0].UpstreamRepositoryPrefix; got != "team-a" {
		t.Fatalf("upstreamRepositoryPrefix = %q", got)
	}
}

func TestCreateRuleRefusesSecretsECRCannotRead(t *testing.T) {
	s := startScenario(t, "demo")
	c := ctx(t)
	gitlab := must[*secretsmanager.DescribeSecretOutput](t)(s.sm.DescribeSecret(c,
		&secretsmanager.DescribeSecretInput{SecretId: aws.String("ecr-pullthroughcache/gitlab")}))
	_, err := s.ecr.CreatePullThroughCacheRule(c, &ecr.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("gitlab-2"), UpstreamRegistryUrl: aws.String("registry.gitlab.com"), CredentialArn: gitlab.ARN})
	wantCode(t, err, "UnableToDecryptSecretValueException", "customer managed KMS key")

	other := startYAML(t, `
secrets:
  - {name: ecr-pullthroughcache/hub, value: '{"username":"u","accessToken":"t"}', region: eu-west-1}
`)
	_, err = other.ecr.CreatePullThroughCacheRule(c, &ecr.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("hub"), UpstreamRegistryUrl: aws.String("registry-1.docker.io"),
		CredentialArn: aws.String(otherRegionARN(t, other))})
	wantCode(t, err, "UnableToAccessSecretException", "eu-west-1")
}

// otherRegionARN gives the ARN of the eu-west-1 secret. It is invisible through this
// region's Secrets Manager, as in AWS, so the test asks the stand-in's state for it.
func otherRegionARN(t *testing.T, s *stand) string {
	_, err := s.sm.DescribeSecret(ctx(t), &secretsmanager.DescribeSecretInput{SecretId: aws.String("ecr-pullthroughcache/hub")})
	wantCode(t, err, "ResourceNotFoundException", "can't find")
	return sim.SecretARN(s.srv, "ecr-pullthroughcache/hub")
}

func TestDescribeRulesPaginates(t *testing.T) {
	s := startScenario(t, "demo")
	c := ctx(t)
	var prefixes []string
	p := ecr.NewDescribePullThroughCacheRulesPaginator(s.ecr, &ecr.DescribePullThroughCacheRulesInput{MaxResults: aws.Int32(4)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(c)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range out.PullThroughCacheRules {
			prefixes = append(prefixes, *r.EcrRepositoryPrefix)
		}
	}
	if pages != 2 || strings.Join(prefixes, ",") != "docker-hub,ecr-public,github,gitlab,kubernetes,quay" {
		t.Fatalf("%d pages: %v", pages, prefixes)
	}
	_, err := s.ecr.DescribePullThroughCacheRules(c, &ecr.DescribePullThroughCacheRulesInput{EcrRepositoryPrefixes: []string{"nope"}})
	wantCode(t, err, "PullThroughCacheRuleNotFoundException", "'nope'")
	_, err = s.ecr.DescribePullThroughCacheRules(c, &ecr.DescribePullThroughCacheRulesInput{NextToken: aws.String("garbage")})
	wantCode(t, err, "InvalidParameterException", "nextToken")
	_, err = s.ecr.DescribePullThroughCacheRules(c, &ecr.DescribePullThroughCacheRulesInput{MaxResults: aws.Int32(1001)})
	wantCode(t, err, "ValidationException", "less than or equal to 1000")
}

func TestRuleQuotaIsFifty(t *testing.T) {
	s := startScenario(t, "empty")
	c := ctx(t)
	for i := range 50 {
		_, err := s.ecr.CreatePullThroughCacheRule(c, &ecr.CreatePullThroughCacheRuleInput{
			EcrRepositoryPrefix: aws.String(fmt.Sprintf("quay-%02d", i)), UpstreamRegistryUrl: aws.String("quay.io")})
		if err != nil {
			t.Fatalf("rule %d: %v", i, err)
		}
	}
	_, err := s.ecr.CreatePullThroughCacheRule(c, &ecr.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("one-too-many"), UpstreamRegistryUrl: aws.String("quay.io")})
	wantCode(t, err, "LimitExceededException", "limit")
}

func TestUpdateAndDeleteRule(t *testing.T) {
	s := startScenario(t, "demo")
	c := ctx(t)
	hub := must[*secretsmanager.DescribeSecretOutput](t)(s.sm.DescribeSecret(c,
		&secretsmanager.DescribeSecretInput{SecretId: aws.String("ecr-pullthroughcache/docker-hub")}))
	up, err := s.ecr.UpdatePullThroughCacheRule(c, &ecr.UpdatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("github"), CredentialArn: hub.ARN})
	if err != nil {
		t.Fatal(err)
	}
	if *up.CredentialArn != *hub.ARN || up.UpdatedAt == nil {
		t.Fatalf("update answered %+v", up)
	}
	_, err = s.ecr.UpdatePullThroughCacheRule(c, &ecr.UpdatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("nope"), CredentialArn: hub.ARN})
	wantCode(t, err, "PullThroughCacheRuleNotFoundException", "nope")
	_, err = s.ecr.UpdatePullThroughCacheRule(c, &ecr.UpdatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("github"), CredentialArn: aws.String("arn:aws:secretsmanager:us-east-1:111122223333:secret:ecr-pullthroughcache/gone-AbCdEf")})
	wantCode(t, err, "SecretNotFoundException", "gone")

	del, err := s.ecr.DeletePullThroughCacheRule(c, &ecr.DeletePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("quay")})
	if err != nil {
		t.Fatal(err)
	}
	if *del.UpstreamRegistryUrl != "quay.io" {
		t.Fatalf("delete answered %+v", del)
	}
	_, err = s.ecr.DeletePullThroughCacheRule(c, &ecr.DeletePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("quay")})
	wantCode(t, err, "PullThroughCacheRuleNotFoundException", "quay")
}

func TestValidatePullThroughCacheRule(t *testing.T) {
	s := startScenario(t, "demo")
	c := ctx(t)
	for prefix, want := range map[string]string{
		"docker-hub": "",
		"ecr-public": "",
		"github":     "expired",
		"gitlab":     "customer managed KMS key",
	} {
		out, err := s.ecr.ValidatePullThroughCacheRule(c, &ecr.ValidatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String(prefix)})
		if err != nil {
			t.Fatal(err)
		}
		if out.IsValid != (want == "") || !strings.Contains(aws.ToString(out.Failure), want) {
			t.Errorf("%s: isValid=%v failure=%q, want failure containing %q", prefix, out.IsValid, aws.ToString(out.Failure), want)
		}
	}

	// A secret whose value is not {"username", "accessToken"} is caught by its syntax.
	_, err := s.sm.PutSecretValue(c, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String("ecr-pullthroughcache/docker-hub"), SecretString: aws.String(`{"user":"x","token":"y"}`)})
	if err != nil {
		t.Fatal(err)
	}
	out := must[*ecr.ValidatePullThroughCacheRuleOutput](t)(s.ecr.ValidatePullThroughCacheRule(c,
		&ecr.ValidatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("docker-hub")}))
	if out.IsValid || !strings.Contains(*out.Failure, "username") {
		t.Fatalf("malformed secret: %v %q", out.IsValid, aws.ToString(out.Failure))
	}
	// A wrong token is refused by the upstream.
	s.sm.PutSecretValue(c, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String("ecr-pullthroughcache/docker-hub"), SecretString: aws.String(`{"username":"ptcdemo","accessToken":"wrong"}`)})
	out = must[*ecr.ValidatePullThroughCacheRuleOutput](t)(s.ecr.ValidatePullThroughCacheRule(c,
		&ecr.ValidatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("docker-hub")}))
	if out.IsValid || !strings.Contains(*out.Failure, "incorrect username or access token") {
		t.Fatalf("wrong token: %v %q", out.IsValid, aws.ToString(out.Failure))
	}
	// A secret deleted with a recovery window: marked for deletion, as Secrets Manager says.
	s.sm.DeleteSecret(c, &secretsmanager.DeleteSecretInput{SecretId: aws.String("ecr-pullthroughcache/docker-hub")})
	out = must[*ecr.ValidatePullThroughCacheRuleOutput](t)(s.ecr.ValidatePullThroughCacheRule(c,
		&ecr.ValidatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("docker-hub")}))
	if out.IsValid || !strings.Contains(*out.Failure, "marked for deletion") {
		t.Fatalf("deleted secret: %v %q", out.IsValid, aws.ToString(out.Failure))
	}
	_, err = s.ecr.ValidatePullThroughCacheRule(c, &ecr.ValidatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("nope")})
	wantCode(t, err, "PullThroughCacheRuleNotFoundException", "nope")
}
