package sim_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
)

const crossAccountFleet = "../../testdata/fleet/cross-account.yaml"

// fleetConfig is an SDK configuration for the fleet's endpoint, signed with a key.
func fleetConfig(f *sim.Fleet, region string, creds aws.CredentialsProvider) aws.Config {
	return aws.Config{Region: region, Credentials: creds, BaseEndpoint: aws.String(f.Info().Endpoint)}
}

// assumed is a configuration whose credentials come from the SDK's AssumeRole provider,
// called with the management account's admin key.
func assumed(f *sim.Fleet, region, roleARN string) aws.Config {
	info := f.Info()
	base := fleetConfig(f, region, credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, ""))
	provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), roleARN)
	return fleetConfig(f, region, aws.NewCredentialsCache(provider))
}

func rulesIn(t *testing.T, cfg aws.Config) (int, error) {
	t.Helper()
	out, err := ecr.NewFromConfig(cfg).DescribePullThroughCacheRules(ctx(t), &ecr.DescribePullThroughCacheRulesInput{})
	if err != nil {
		return 0, err
	}
	return len(out.PullThroughCacheRules), nil
}

func TestFleetRoutesByKeyAndRegion(t *testing.T) {
	f := simtest.StartFleet(t, crossAccountFleet)
	info := f.Info()
	if info.AccountID != "111111111111" || info.Region != "us-east-1" || len(info.Accounts) != 4 || info.Organization == "" {
		t.Fatalf("info: %+v", info)
	}
	admin := credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, "")
	if n := must[int](t)(rulesIn(t, fleetConfig(f, "us-east-1", admin))); n != 2 {
		t.Fatalf("central us-east-1: %d rules, want 2", n)
	}
	if n := must[int](t)(rulesIn(t, fleetConfig(f, "eu-west-1", admin))); n != 0 {
		t.Fatalf("central eu-west-1: %d rules, want 0", n)
	}
	// An opt-in region the account does not list answers as one not enabled does; a region
	// every account has enabled that it does not list is there, empty.
	_, err := rulesIn(t, fleetConfig(f, "ap-southeast-3", admin))
	wantCode(t, err, "UnrecognizedClientException", "security token")
	if n := must[int](t)(rulesIn(t, fleetConfig(f, "ap-southeast-2", admin))); n != 0 {
		t.Fatalf("central ap-southeast-2 (not listed, enabled by default): %d rules, want 0", n)
	}

	// Each account-region has its own registry endpoint.
	seen := map[string]bool{}
	for _, a := range info.Accounts {
		for _, r := range a.Regions {
			if r.Registry == "" || seen[r.Registry] {
				t.Fatalf("%s %s: registry %q", a.ID, r.Region, r.Registry)
			}
			seen[r.Registry] = true
		}
	}
}

func TestFleetAssumeRoleThroughTheSDK(t *testing.T) {
	f := simtest.StartFleet(t, crossAccountFleet)
	teamA := assumed(f, "us-east-1", "arn:aws:iam::222222222222:role/ptcdoctor-audit")
	if n := must[int](t)(rulesIn(t, teamA)); n != 2 {
		t.Fatalf("team-a: %d rules, want 2", n)
	}
	id := must[*sts.GetCallerIdentityOutput](t)(sts.NewFromConfig(teamA).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{}))
	if aws.ToString(id.Account) != "222222222222" || aws.ToString(id.Arn) != "arn:aws:sts::222222222222:assumed-role/ptcdoctor-audit/"+sessionOf(aws.ToString(id.Arn)) {
		t.Fatalf("identity: %s %s", aws.ToString(id.Account), aws.ToString(id.Arn))
	}
	// The role's trust names another account: refused, as AWS refuses it.
	_, err := rulesIn(t, assumed(f, "us-east-1", "arn:aws:iam::444444444444:role/ptcdoctor-audit"))
	wantCode(t, err, "AccessDenied", "is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::444444444444:role/ptcdoctor-audit")
	// A role that does not exist gets the same answer.
	_, err = rulesIn(t, assumed(f, "us-east-1", "arn:aws:iam::333333333333:role/no-such-role"))
	wantCode(t, err, "AccessDenied", "sts:AssumeRole")
	// An assumed key works in every region of its account (a default region the scenario
	// does not list among them, empty), and not in an opt-in region it has not enabled.
	if n := must[int](t)(rulesIn(t, assumed(f, "eu-west-1", "arn:aws:iam::222222222222:role/ptcdoctor-audit"))); n != 0 {
		t.Fatalf("team-a eu-west-1: %d rules, want 0", n)
	}
	// A session assumed once that region exists is known there too.
	if n := must[int](t)(rulesIn(t, assumed(f, "eu-west-1", "arn:aws:iam::222222222222:role/ptcdoctor-audit"))); n != 0 {
		t.Fatalf("team-a eu-west-1, a later session: %d rules, want 0", n)
	}
	_, err = rulesIn(t, assumed(f, "ap-east-1", "arn:aws:iam::222222222222:role/ptcdoctor-audit"))
	wantCode(t, err, "UnrecognizedClientException", "security token")
}

func sessionOf(arn string) string {
	for i := len(arn) - 1; i >= 0; i-- {
		if arn[i] == '/' {
			return arn[i+1:]
		}
	}
	return ""
}

func TestFleetOrganizationsListAccounts(t *testing.T) {
	f := simtest.StartFleet(t, crossAccountFleet)
	info := f.Info()
	cfg := fleetConfig(f, "us-east-1", credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, ""))
	p := organizations.NewListAccountsPaginator(organizations.NewFromConfig(cfg), &organizations.ListAccountsInput{MaxResults: aws.Int32(3)})
	var ids []string
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, a := range out.Accounts {
			ids = append(ids, aws.ToString(a.Id))
		}
	}
	if pages != 2 || len(ids) != 4 || ids[0] != "111111111111" || ids[3] != "444444444444" {
		t.Fatalf("%d pages, accounts %v", pages, ids)
	}
	// A member account is not the management account.
	teamA := assumed(f, "us-east-1", "arn:aws:iam::222222222222:role/ptcdoctor-audit")
	_, err := organizations.NewFromConfig(teamA).ListAccounts(context.Background(), &organizations.ListAccountsInput{})
	wantCode(t, err, "AccessDeniedException", "permissions")
}

func TestFleetGenerated(t *testing.T) {
	f := simtest.StartFleet(t, `
name: generated-fleet
generate: {accounts: 3, regions: [us-east-1, eu-west-1], rules: 2, repositoriesPerRule: 3, imagesPerRepository: 2}
`)
	info := f.Info()
	if len(info.Accounts) != 3 || len(info.Accounts[2].Regions) != 2 || info.AccessKeyID != sim.DefaultAccessKeyID {
		t.Fatalf("info: %+v", info)
	}
	role := "arn:aws:iam::" + info.Accounts[2].ID + ":role/" + sim.GeneratedAuditRole
	cfg := assumed(f, "eu-west-1", role)
	repos := must[*ecr.DescribeRepositoriesOutput](t)(ecr.NewFromConfig(cfg).DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{}))
	if len(repos.Repositories) != 6 {
		t.Fatalf("%d repositories, want 6", len(repos.Repositories))
	}
}

func TestFleetScenarioErrors(t *testing.T) {
	for name, doc := range map[string]string{
		"top-level rules":   "accounts: [{id: '111111111111', regions: [{region: us-east-1}]}]\nrules: [{prefix: hub, upstream: docker-hub}]\n",
		"no regions":        "accounts: [{id: '111111111111'}]\n",
		"region twice":      "accounts: [{id: '111111111111', regions: [{region: us-east-1}, {region: us-east-1}]}]\n",
		"account twice":     "accounts: [{id: '111111111111', regions: [{region: us-east-1}]}, {id: '111111111111', regions: [{region: us-east-1}]}]\n",
		"bad member":        "accounts: [{id: '111111111111', regions: [{region: us-east-1, rules: [{prefix: 'Bad!', upstream: quay}]}]}]\n",
		"management absent": "organization: {managementAccount: '999999999999'}\naccounts: [{id: '111111111111', regions: [{region: us-east-1}]}]\n",
		"key shared": "accounts:\n- {id: '111111111111', regions: [{region: us-east-1}], principals: [{name: a, accessKeyId: AKIAAAAAAAAAAAAAAAAA, secretAccessKey: aaaaaaaaaaaaaaaaaaaa}]}\n" +
			"- {id: '222222222222', regions: [{region: us-east-1}], principals: [{name: b, accessKeyId: AKIAAAAAAAAAAAAAAAAA, secretAccessKey: aaaaaaaaaaaaaaaaaaaa}]}\n",
		"too many images":      "generate: {accounts: 500, regions: [us-east-1, eu-west-1], rules: 50, repositoriesPerRule: 100, imagesPerRepository: 10}\n",
		"no regions generated": "generate: {accounts: 2, rules: 1}\n",
	} {
		if _, err := sim.ParseScenario([]byte(doc)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

// The fleet example of README.md serves and behaves as the README says.
func TestReadmeFleetExample(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(raw), "A fleet of three accounts")
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindStringSubmatch(rest)
	if !ok || m == nil {
		t.Fatal("README.md has no fleet example")
	}
	f := simtest.StartFleet(t, m[1])
	if n := must[int](t)(rulesIn(t, assumed(f, "us-east-1", "arn:aws:iam::222222222222:role/ptcdoctor-audit"))); n != 1 {
		t.Fatalf("team-a: %d rules", n)
	}
	_, err = rulesIn(t, assumed(f, "us-east-1", "arn:aws:iam::333333333333:role/ptcdoctor-audit"))
	wantCode(t, err, "AccessDenied", "sts:AssumeRole")
	info := f.Info()
	cfg := fleetConfig(f, "us-east-1", credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, ""))
	out := must[*organizations.ListAccountsOutput](t)(organizations.NewFromConfig(cfg).ListAccounts(ctx(t), &organizations.ListAccountsInput{}))
	if len(out.Accounts) != 3 {
		t.Fatalf("%d accounts", len(out.Accounts))
	}
}
