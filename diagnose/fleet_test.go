package diagnose_test

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/model"
)

const lifecycle = `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}`

func grantPolicy(accounts ...string) string {
	var p []string
	for _, a := range accounts {
		p = append(p, `"arn:aws:iam::`+a+`:root"`)
	}
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":[` + strings.Join(p, ",") +
		`]},"Action":["ecr:BatchImportUpstreamImage","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"*"}]}`
}

// A central account (in us-east-1) whose registry others pull through, and two consumers.
func fleetViews(registryPolicy string) []*model.Snapshot {
	central := &model.Snapshot{AccountID: "111111111111", Region: "us-east-1", RegistryPolicy: registryPolicy,
		Rules:     []model.Rule{{Prefix: "hub", UpstreamURL: "registry-1.docker.io", CredentialArn: "arn:aws:secretsmanager:us-east-1:111111111111:secret:hub"}},
		Templates: []model.Template{{Prefix: "hub", AppliedFor: []string{"PULL_THROUGH_CACHE"}, LifecyclePolicy: lifecycle}}}
	consumer := func(id string) *model.Snapshot {
		return &model.Snapshot{AccountID: id, Region: "eu-west-1",
			Rules: []model.Rule{
				{Prefix: "central", UpstreamURL: "111111111111.dkr.ecr.us-east-1.amazonaws.com", CustomRoleArn: "arn:aws:iam::" + id + ":role/ecr-ptc"},
				{Prefix: "hub", UpstreamURL: "registry-1.docker.io", CredentialArn: "arn:aws:secretsmanager:eu-west-1:" + id + ":secret:hub"},
			},
			Templates: []model.Template{{Prefix: "hub", AppliedFor: []string{"PULL_THROUGH_CACHE"}, LifecyclePolicy: lifecycle}}}
	}
	return []*model.Snapshot{central, consumer("222222222222"), consumer("333333333333")}
}

func checksOf(fs []diagnose.ReportFinding) map[string]int {
	out := map[string]int{}
	for _, f := range fs {
		out[f.Check+" "+f.Subject.Name]++
	}
	return out
}

func TestFleetChecksQuietOnAHealthyFleet(t *testing.T) {
	fs, nc := diagnose.FleetChecks(fleetViews(grantPolicy("222222222222", "333333333333")), nil, nil)
	if len(fs) != 0 || len(nc) != 0 {
		t.Fatalf("findings %v, not checked %v", checksOf(fs), nc)
	}
}

func TestFleetECRUpstreamPolicy(t *testing.T) {
	views := fleetViews(grantPolicy("222222222222"))
	fs, _ := diagnose.FleetChecks(views, nil, nil)
	got := checksOf(fs)
	if len(fs) != 1 || got["fleet-ecr-upstream-policy 333333333333 eu-west-1 central"] != 1 || fs[0].Severity != "warning" {
		t.Fatalf("findings %v", got)
	}
	// ValidatePullThroughCacheRule failed too: an error.
	views[2].Rules[0].Validation = &model.Validation{IsValid: false, Failure: "not authorized"}
	fs, _ = diagnose.FleetChecks(views, nil, nil)
	if len(fs) != 1 || fs[0].Severity != "error" || !strings.Contains(fs[0].Fixes[0].Manual, `"AWS":"arn:aws:iam::333333333333:root"`) {
		t.Fatalf("findings %+v", fs)
	}

	// The central registry policy could not be read: not checked, never a finding.
	views = fleetViews("")
	views[0].Errors = []model.PartError{{Part: model.PartRegistryPolicy, Operation: "GetRegistryPolicy", Code: "AccessDeniedException"}}
	fs, nc := diagnose.FleetChecks(views, nil, nil)
	if len(checksOf(fs)) != 0 || len(nc) != 2 || !strings.Contains(nc[0].Reason, "AccessDeniedException") {
		t.Fatalf("findings %v, not checked %+v", checksOf(fs), nc)
	}

	// The central account could not be scanned at all: not checked, naming why.
	fs, nc = diagnose.FleetChecks(fleetViews("")[1:], []diagnose.FleetTarget{{Account: "111111111111", Region: "us-east-1", State: diagnose.TargetFailed, Error: "cannot assume role"}}, nil)
	if len(fs) != 0 || len(nc) != 2 || !strings.Contains(nc[0].Reason, "cannot assume role") {
		t.Fatalf("findings %v, not checked %+v", checksOf(fs), nc)
	}
	// An upstream outside the fleet (not among the targets): nothing seen, nothing said.
	fs, nc = diagnose.FleetChecks(fleetViews("")[1:], nil, nil)
	if len(fs) != 0 || len(nc) != 0 {
		t.Fatalf("findings %v, not checked %+v", checksOf(fs), nc)
	}
}

func TestFleetUpstreamDrift(t *testing.T) {
	views := fleetViews(grantPolicy("222222222222", "333333333333"))
	views[1].Rules[1].CredentialArn = ""
	views[2].Templates[0].LifecyclePolicy = ""
	fs, _ := diagnose.FleetChecks(views, nil, nil)
	if len(fs) != 2 || checksOf(fs)["fleet-upstream-drift registry-1.docker.io"] != 2 {
		t.Fatalf("findings %v", checksOf(fs))
	}
	for _, f := range fs {
		if len(f.Evidence) != 3 || f.ID == "" {
			t.Fatalf("%+v", f)
		}
	}
	if !strings.Contains(fs[0].Explanation+fs[1].Explanation, "not in 222222222222 eu-west-1 hub") ||
		!strings.Contains(fs[0].Explanation+fs[1].Explanation, "but not in 333333333333 eu-west-1 hub") {
		t.Fatalf("%s\n%s", fs[0].Explanation, fs[1].Explanation)
	}
	// The fix is to the template, which has made no repository yet (so no check of that
	// account offers one): the call is given whole, with the policy the others have; an
	// account with no template at all is sent to its creation-template fix.
	manual := func() string {
		fs, _ := diagnose.FleetChecks(views, nil, nil)
		for _, f := range fs {
			if f.Check == "fleet-upstream-drift" && strings.Contains(f.Title, "lifecycle") {
				return f.Fixes[0].Manual
			}
		}
		t.Fatalf("no lifecycle drift in %v", checksOf(fs))
		return ""
	}
	if m := manual(); !strings.Contains(m, "In 333333333333 eu-west-1, the template hub: aws ecr update-repository-creation-template --region eu-west-1 --prefix hub --lifecycle-policy '"+lifecycle+"'") ||
		strings.Contains(m, "222222222222") {
		t.Fatalf("lifecycle drift's fix:\n%s", m)
	}
	views[2].Templates = nil
	if m := manual(); !strings.Contains(m, "In 333333333333 eu-west-1, no creation template covers hub/: `ptcdoctor fix --check creation-template`") {
		t.Fatalf("lifecycle drift's fix without a template:\n%s", m)
	}
	views[2].Templates = []model.Template{{Prefix: "hub", AppliedFor: []string{"PULL_THROUGH_CACHE"}}}
	// Templates that could not be read take no side: not checked for that account.
	views[2].Errors = []model.PartError{{Part: model.PartTemplates, Operation: "DescribeRepositoryCreationTemplates", Code: "AccessDeniedException"}}
	fs, nc := diagnose.FleetChecks(views, nil, nil)
	if checksOf(fs)["fleet-upstream-drift registry-1.docker.io"] != 1 || len(nc) != 2 {
		t.Fatalf("findings %v, not checked %+v", checksOf(fs), nc)
	}
}

// The fleet example of README.md decodes into the fleet report's type (unknown fields
// refused), and a real fleet report has every field it shows.
func TestFleetJSONSchema(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(raw), "## The fleet report")
	m := regexp.MustCompile("(?s)```json\n(.*?)```").FindStringSubmatch(rest)
	if m == nil {
		t.Fatal("no fleet JSON example in README.md")
	}
	var example diagnose.FleetReport
	dec := json.NewDecoder(strings.NewReader(m[1]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&example); err != nil {
		t.Fatalf("the README's fleet example does not match the type: %v", err)
	}
	if example.SchemaVersion != diagnose.FleetSchemaVersion || len(example.Targets) != 3 || example.Targets[0].Report == nil || len(example.CrossAccount) != 1 {
		t.Fatalf("example: %+v", example)
	}
	views := fleetViews(grantPolicy("222222222222"))
	cross, nc := diagnose.FleetChecks(views, nil, nil)
	rep := diagnose.Report{SchemaVersion: diagnose.SchemaVersion, Account: "111111111111"}
	targets := []diagnose.FleetTarget{
		{Target: "a", Account: "111111111111", Region: "us-east-1", State: diagnose.TargetComplete, Report: &rep},
		{Target: "b", Account: "444444444444", Region: "us-east-1", State: diagnose.TargetFailed, Error: "cannot assume"},
	}
	r := diagnose.NewFleetReport(time.Now(), targets, cross, nc, []diagnose.FleetSkipped{{Source: "x", Region: "eu-west-1", Reason: "not enabled"}})
	out, _ := json.Marshal(r)
	for _, field := range []string{`"schemaVersion":5`, `"kind":"fleet"`, `"complete":false`, `"targets":[`, `"state":"failed"`, `"error":"cannot assume"`,
		`"report":{`, `"crossAccount":[{`, `"crossAccountNotChecked":[]`, `"skipped":[{`, `"failed":1`, `"warnings":1`} {
		if !strings.Contains(string(out), field) {
			t.Errorf("the fleet report lacks %s:\n%s", field, out)
		}
	}
	if r.Complete || r.Summary.Failed != 1 || r.Summary.Complete != 1 {
		t.Fatalf("summary %+v", r.Summary)
	}
}

// pullPolicy is a repository policy that lets the principals pull.
func pullPolicy(principals ...string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["` + strings.Join(principals, `","`) +
		`"]},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"]}]}`
}

func TestFleetConsumerPull(t *testing.T) {
	const node = "arn:aws:iam::222222222222:role/eks-node"
	for _, tc := range []struct {
		name, templatePolicy string
		fires                bool
	}{
		{"another role of the account only", pullPolicy("arn:aws:iam::222222222222:role/ci"), true},
		{"the node role", pullPolicy("arn:aws:iam::222222222222:role/ci", node), false},
		{"the account's root", pullPolicy("arn:aws:iam::222222222222:root"), false},
		{"nothing of the account (cross-account-pull speaks)", pullPolicy("arn:aws:iam::999999999999:root"), false},
	} {
		views := fleetViews(grantPolicy("222222222222", "333333333333"))
		views[0].Templates[0].RepositoryPolicy = tc.templatePolicy
		fs, nc := diagnose.FleetChecks(views, nil, []string{node})
		got := checksOf(fs)["fleet-consumer-pull 111111111111 us-east-1 hub"]
		if (got == 1) != tc.fires || len(nc) != 0 {
			t.Errorf("%s: findings %v, not checked %v", tc.name, checksOf(fs), nc)
		}
	}
	// The central templates could not be read: not checked.
	views := fleetViews(grantPolicy("222222222222"))
	views[0].Errors = []model.PartError{{Part: model.PartTemplates, Operation: "DescribeRepositoryCreationTemplates", Code: "AccessDeniedException"}}
	fs, nc := diagnose.FleetChecks(views, nil, []string{node})
	if checksOf(fs)["fleet-consumer-pull 111111111111 us-east-1 hub"] != 0 || len(nc) == 0 {
		t.Fatalf("findings %v, not checked %v", checksOf(fs), nc)
	}
}

// A principal named with {account} is every scanned account's: the consumer's node role
// is found without naming it account by account. A target is given its own account's
// principals only.
func TestFleetPrincipalsPerAccount(t *testing.T) {
	views := fleetViews(grantPolicy("222222222222", "333333333333"))
	views[0].Templates[0].RepositoryPolicy = pullPolicy("arn:aws:iam::222222222222:role/ci", "arn:aws:iam::333333333333:role/eks-node")
	fs, _ := diagnose.FleetChecks(views, nil, []string{"arn:aws:iam::{account}:role/eks-node"})
	var subjects []string
	for _, f := range fs {
		if f.Check == "fleet-consumer-pull" {
			subjects = append(subjects, f.Title)
		}
	}
	if len(subjects) != 1 || !strings.Contains(subjects[0], "arn:aws:iam::222222222222:role/eks-node") {
		t.Fatalf("fleet-consumer-pull with {account}: %v", subjects)
	}
	got := diagnose.PrincipalsFor([]string{"arn:aws:iam::{account}:role/eks-node", "arn:aws:iam::222222222222:role/ci",
		"arn:aws:iam::333333333333:role/ci", "eks-node"}, "222222222222")
	want := []string{"arn:aws:iam::222222222222:role/eks-node", "arn:aws:iam::222222222222:role/ci", "eks-node"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("PrincipalsFor: %v, want %v", got, want)
	}
}

// The central account's cache repositories made already are judged by their own
// policies: a node role their policies leave out, though they name its account's other
// principals, cannot pull what is cached. A policy not read is not judged; repositories
// that could not be listed are not checked.
func TestFleetConsumerPullRepositories(t *testing.T) {
	node := "arn:aws:iam::222222222222:role/eks-node"
	policy := pullPolicy
	for _, tc := range []struct {
		name  string
		repo  model.Repository
		fires bool
	}{
		{"another role only", model.Repository{Name: "hub/library/nginx", RulePrefix: "hub", SettingsKnown: true, Policy: policy("arn:aws:iam::222222222222:role/ci")}, true},
		{"the node role", model.Repository{Name: "hub/library/nginx", RulePrefix: "hub", SettingsKnown: true, Policy: policy(node)}, false},
		{"not read", model.Repository{Name: "hub/library/nginx", RulePrefix: "hub", Policy: policy("arn:aws:iam::222222222222:role/ci")}, false},
		{"not a cache repository", model.Repository{Name: "mine", SettingsKnown: true, Policy: policy("arn:aws:iam::222222222222:role/ci")}, false},
	} {
		views := fleetViews(grantPolicy("222222222222", "333333333333"))
		views[0].Repositories = []model.Repository{tc.repo}
		fs, nc := diagnose.FleetChecks(views, nil, []string{node})
		got := checksOf(fs)["fleet-consumer-pull 111111111111 us-east-1 hub/"]
		if (got == 1) != tc.fires || len(nc) != 0 {
			t.Errorf("%s: findings %v, not checked %v", tc.name, checksOf(fs), nc)
		}
	}
	views := fleetViews(grantPolicy("222222222222"))
	views[0].Errors = []model.PartError{{Part: model.PartRepositories, Operation: "DescribeRepositories", Code: "AccessDeniedException"}}
	if _, nc := diagnose.FleetChecks(views, nil, []string{node}); len(nc) != 1 || !strings.Contains(nc[0].Reason, "repositories could not be read") {
		t.Fatalf("not checked: %v", nc)
	}
}

// FleetView keeps what the cross-account checks read, so they find the same on it as on
// the whole snapshot, and drops the rest of the repositories (a fleet keeps a view of
// every finished target until the end).
func TestFleetViewKeepsWhatTheChecksRead(t *testing.T) {
	node := "arn:aws:iam::222222222222:role/eks-node"
	full := fleetViews(grantPolicy("222222222222"))
	full[2].Errors = []model.PartError{{Part: model.PartTemplates, Operation: "DescribeRepositoryCreationTemplates", Code: "AccessDeniedException"}}
	for _, s := range full {
		s.Repositories = []model.Repository{
			{Name: "hub/library/nginx", RulePrefix: "hub", SettingsKnown: true, Policy: pullPolicy("arn:aws:iam::222222222222:role/ci"),
				LifecyclePolicy: lifecycle, ImagesKnown: true, Images: []model.Image{{Tags: []string{"latest"}}}},
			{Name: "hub/library/redis", RulePrefix: "hub", LifecyclePolicy: lifecycle, ImagesKnown: true}, // its policy not read
			{Name: "mine", ImagesKnown: true}}
		s.Errors = append(s.Errors, model.PartError{Part: model.PartLifecycle("hub/library/nginx"), Operation: "GetLifecyclePolicy", Code: "AccessDeniedException"})
	}
	var views []*model.Snapshot
	for _, s := range full {
		v := diagnose.FleetView(s)
		if len(v.Repositories) != 1 || v.Repositories[0].Images != nil || v.Repositories[0].LifecyclePolicy != "" ||
			len(v.Errors) != len(s.Errors)-1 || len(v.Rules) != len(s.Rules) || v.AccountID != s.AccountID {
			t.Fatalf("view of %s: repositories %+v, errors %v, %d rules", s.AccountID, v.Repositories, v.Errors, len(v.Rules))
		}
		views = append(views, v)
	}
	fs, nc := diagnose.FleetChecks(full, nil, []string{node})
	vfs, vnc := diagnose.FleetChecks(views, nil, []string{node})
	a, _ := json.Marshal([]any{fs, nc})
	b, _ := json.Marshal([]any{vfs, vnc})
	if checksOf(fs)["fleet-consumer-pull 111111111111 us-east-1 hub/"] != 1 || len(nc) == 0 || string(a) != string(b) {
		t.Fatalf("on the snapshots:\n%s\non the views:\n%s", a, b)
	}
}
