package diagnose_test

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// failure is one of the scan's or the probes' operations failing every time.
type failure struct {
	name   string
	faults string   // the stand-in's faults, as PUT /_sim/faults takes them
	deny   []string // or: the caller is a principal denied these actions
	code   string   // the error the failed calls get, which no evidence may cite
}

// failures are the scan's operations and the probes' calls, each failing at 100%: a
// server error, a throttle that outlasts the retries, an explicit IAM deny, and an
// emulator that answers 500 to every pull-through-cache call.
var failures = []failure{
	{name: "GetCallerIdentity 5xx", faults: `[{"operation":"GetCallerIdentity","errorRate":1}]`, code: "ServerException"},
	{name: "DescribePullThroughCacheRules 5xx", faults: `[{"operation":"DescribePullThroughCacheRules","errorRate":1}]`, code: "ServerException"},
	{name: "DescribePullThroughCacheRules throttled", faults: `[{"operation":"DescribePullThroughCacheRules","throttleRate":1}]`, code: "ThrottlingException"},
	{name: "DescribePullThroughCacheRules denied", deny: []string{"ecr:DescribePullThroughCacheRules"}, code: "AccessDeniedException"},
	{name: "every pull-through-cache call 500", faults: `[{"operation":"DescribePullThroughCacheRules","errorRate":1},{"operation":"ValidatePullThroughCacheRule","errorRate":1}]`, code: "ServerException"},
	{name: "DescribeRepositoryCreationTemplates 5xx", faults: `[{"operation":"DescribeRepositoryCreationTemplates","errorRate":1}]`, code: "ServerException"},
	{name: "DescribeRepositoryCreationTemplates denied", deny: []string{"ecr:DescribeRepositoryCreationTemplates"}, code: "AccessDeniedException"},
	{name: "GetRegistryPolicy 5xx", faults: `[{"operation":"GetRegistryPolicy","errorRate":1}]`, code: "ServerException"},
	{name: "DescribeRepositories 5xx", faults: `[{"operation":"DescribeRepositories","errorRate":1}]`, code: "ServerException"},
	{name: "DescribeImages 5xx", faults: `[{"operation":"DescribeImages","errorRate":1}]`, code: "ServerException"},
	{name: "DescribeImages denied", deny: []string{"ecr:DescribeImages"}, code: "AccessDeniedException"},
	{name: "GetLifecyclePolicy throttled", faults: `[{"operation":"GetLifecyclePolicy","throttleRate":1}]`, code: "ThrottlingException"},
	{name: "BatchGetImage 5xx", faults: `[{"operation":"BatchGetImage","errorRate":1}]`, code: "ServerException"},
	{name: "ValidatePullThroughCacheRule 5xx", faults: `[{"operation":"ValidatePullThroughCacheRule","errorRate":1}]`, code: "ServerException"},
	{name: "ValidatePullThroughCacheRule denied", deny: []string{"ecr:ValidatePullThroughCacheRule"}, code: "AccessDeniedException"},
	{name: "DescribeSecret 5xx", faults: `[{"operation":"DescribeSecret","errorRate":1}]`, code: "ServerException"},
	{name: "GetSecretValue 5xx", faults: `[{"operation":"GetSecretValue","errorRate":1}]`, code: "ServerException"},
	{name: "GetSecretValue denied", deny: []string{"secretsmanager:GetSecretValue"}, code: "AccessDeniedException"},
	{name: "SimulatePrincipalPolicy denied", deny: []string{"iam:SimulatePrincipalPolicy"}, code: "AccessDenied"},
	{name: "Docker Hub answers 503", faults: `[{"operation":"upstream:registry-1.docker.io","errorRate":1}]`, code: "503"},
}

// failing starts the demo account with one failure in force, and opens it as the
// principal that meets it.
func failing(t *testing.T, f failure) (*sim.Server, *ecrops.Account) {
	t.Helper()
	sc, err := sim.LoadScenario("demo")
	if err != nil {
		t.Fatal(err)
	}
	key, secret := "", ""
	if len(f.deny) > 0 {
		key, secret = "AKIAPTCDOCTORSIMDENY0", "ptcdoctor-sim-deny-secret-access-key"
		sc.Principals = append(sc.Principals, sim.Principal{Name: "restricted", Kind: "user", AccessKeyID: key, SecretAccessKey: secret,
			Allow: []string{"*"}, Deny: f.deny})
	}
	srv := simtest.StartScenario(t, sc)
	if f.faults != "" {
		setFaults(t, srv, f.faults)
	}
	info := srv.Info()
	if key == "" {
		key, secret = info.AccessKeyID, info.SecretAccessKey
	}
	acc, err := ecrops.Open(context.Background(), ecrops.Config{Region: info.Region, EndpointURL: info.Endpoint, Resolve: info.Resolve,
		StateDir: t.TempDir(), Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""), Retryer: ecrops.NoBackoff(3)})
	if err != nil {
		t.Fatal(err)
	}
	return srv, acc
}

// With any one operation failing at 100%, the diagnosis invents no finding, drops none
// silently, names what it could not check, and offers no plan the complete diagnosis
// would not; no evidence cites a failed call.
func TestAFailedReadIsNotCheckedNeverAFinding(t *testing.T) {
	_, cleanAcc := account(t, "demo")
	_, clean := diagnoseResult(t, cleanAcc, demoRefs, "arn:aws:iam::111122223333:role/eks-node")
	if !clean.Complete() {
		t.Fatalf("the demo itself is incomplete: %+v %+v", clean.ScanErrors, clean.NotChecked)
	}
	cleanKeys := map[string]bool{}
	cleanSteps := map[string]bool{}
	for _, f := range clean.Findings {
		if strings.Contains(f.Distinct, "#") {
			t.Errorf("two findings of %s share a key: the check should set Distinct: %s", f.Check, f.Key())
		}
		cleanKeys[f.Key()] = true
		for _, s := range planSteps(f) {
			cleanSteps[s] = true
		}
	}
	for _, fl := range failures {
		t.Run(fl.name, func(t *testing.T) {
			_, acc := failing(t, fl)
			_, got := diagnoseResult(t, acc, demoRefs, "arn:aws:iam::111122223333:role/eks-node")
			if got.Complete() {
				t.Fatal("the diagnosis says it is complete")
			}
			notChecked := map[string]bool{}
			for _, n := range got.NotChecked {
				notChecked[n.Check] = true
				if n.Failed.Operation == "" || n.Failed.Message == "" {
					t.Errorf("not checked without the failed call: %+v", n)
				}
			}
			gotKeys := map[string]bool{}
			for _, f := range got.Findings {
				gotKeys[f.Key()] = true
				if !cleanKeys[f.Key()] {
					t.Errorf("invented: [%s] %s", f.Check, f.Title)
				}
				for _, e := range f.Evidence {
					if strings.Contains(e.Answer, fl.code) || strings.Contains(e.Answer, "prefixes: (none)") {
						t.Errorf("[%s] %s cites a failed read: %s → %s", f.Check, f.Title, e.Call, e.Answer)
					}
				}
				for _, s := range planSteps(f) {
					if !cleanSteps[s] {
						t.Errorf("[%s] %s offers a step the complete diagnosis does not: %s", f.Check, f.Title, s)
					}
				}
			}
			for _, f := range clean.Findings {
				if !gotKeys[f.Key()] && !notChecked[f.Check] {
					t.Errorf("dropped silently: [%s] %s", f.Check, f.Title)
				}
			}
		})
	}
}

// planSteps names each step of a finding's fixes by what it does and to what.
func planSteps(f model.Finding) []string {
	var out []string
	for _, fx := range f.Fixes {
		for _, s := range fx.Plan.Steps {
			params, _ := json.Marshal(s.Params)
			out = append(out, string(s.Kind)+" "+s.Target+" "+string(params))
		}
	}
	sort.Strings(out)
	return out
}

// A check whose whole part failed says so once, for every subject; the report carries it.
func TestNotCheckedReachesTheReport(t *testing.T) {
	snap := &model.Snapshot{AccountID: "111122223333", Region: "us-east-1",
		Repositories: []model.Repository{{Name: "docker-hub/library/nginx", ImagesKnown: true, LifecycleKnown: true,
			Images: []model.Image{{Digest: model.ParseDigest("sha256:aa"), Tags: []string{"1"}}}}},
		Templates: []model.Template{{Prefix: "docker-hub", AppliedFor: []string{"PULL_THROUGH_CACHE"}}},
		Errors:    []model.PartError{{Part: model.PartRules, Operation: "DescribePullThroughCacheRules", Code: "ServerException", Message: "internal error"}}}
	res := diagnose.Diagnose(context.Background(), snap, nil, diagnose.Options{Principals: []string{"arn:aws:iam::111122223333:role/x"}})
	if len(res.Findings) != 0 {
		t.Fatalf("findings from a snapshot without its rules: %v", keys(res.Findings))
	}
	if len(res.NotChecked) == 0 || res.Complete() {
		t.Fatalf("not checked: %+v", res.NotChecked)
	}
	r := diagnose.NewReport(snap, res, false)
	if r.Complete || len(r.NotChecked) == 0 || r.NotChecked[0].Operation != "DescribePullThroughCacheRules" {
		t.Fatalf("report: %+v", r)
	}
	if md := r.Markdown(); !strings.Contains(md, "## Not checked") || strings.Contains(md, "No findings.\n") {
		t.Fatalf("markdown:\n%s", md)
	}
}
