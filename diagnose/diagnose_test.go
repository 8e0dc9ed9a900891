package diagnose_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// account starts the stand-in for a scenario (a name or YAML) and opens it.
func account(t *testing.T, scenario string) (*sim.Server, *ecrops.Account) {
	t.Helper()
	srv := simtest.Start(t, scenario)
	return srv, open(t, srv, 3, 0)
}

// open opens the stand-in's account with a retryer that does not wait.
func open(t *testing.T, srv *sim.Server, attempts int, probeTimeout time.Duration) *ecrops.Account {
	t.Helper()
	info := srv.Info()
	acc, err := ecrops.Open(context.Background(), ecrops.Config{Region: info.Region, EndpointURL: info.Endpoint, Resolve: info.Resolve,
		StateDir: t.TempDir(), Credentials: credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, ""),
		Retryer: ecrops.NoBackoff(attempts), ProbeTimeout: probeTimeout})
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

// diagnoseWith scans and diagnoses, with references and principals.
func diagnoseWith(t *testing.T, acc *ecrops.Account, refs []string, principals ...string) (*model.Snapshot, []model.Finding) {
	t.Helper()
	snap, res := diagnoseResult(t, acc, refs, principals...)
	return snap, res.Findings
}

// diagnoseResult scans and diagnoses, with what could not be checked.
func diagnoseResult(t *testing.T, acc *ecrops.Account, refs []string, principals ...string) (*model.Snapshot, diagnose.Result) {
	t.Helper()
	ctx := context.Background()
	snap, err := acc.Scan(ctx, ecrops.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var parsed []model.Ref
	for _, in := range refs {
		r, err := model.ParseRef(in, snap.AccountID, snap.Region, snap.Rules)
		if err != nil && r.Repository == "" && snap.PartFailed(model.PartRules) != nil {
			continue // without the rules, an upstream reference cannot be placed
		}
		if err != nil && r.Repository == "" {
			t.Fatal(err)
		}
		parsed = append(parsed, r)
	}
	return snap, diagnose.Diagnose(ctx, snap, acc, diagnose.Options{Refs: parsed, Principals: principals})
}

const reg = "111122223333.dkr.ecr.us-east-1.amazonaws.com/"

var demoRefs = []string{reg + "docker-hub/nginx:latest", "nginx:1.27", "redis:7.4", "quay.io/prometheus/node-exporter:v1.8.1",
	reg + "dockerhub/library/alpine:3.20",
	reg + "kubernetes/coredns/coredns@sha256:9c40e7f1558ee5cc7ebac9cd0edad3586945de5a5c15933686418df00d15e3b7"}

func byCheck(findings []model.Finding) map[string][]model.Finding {
	out := map[string][]model.Finding{}
	for _, f := range findings {
		out[f.Check] = append(out[f.Check], f)
	}
	return out
}

func TestEveryCheckFiresOnTheDemo(t *testing.T) {
	_, acc := account(t, "demo")
	_, findings := diagnoseWith(t, acc, demoRefs, "arn:aws:iam::111122223333:role/eks-node")
	got := byCheck(findings)
	want := map[string][]string{ // check -> subjects that must be among its findings
		"credentials":         {"github", "gitlab"},
		"permissions":         {"arn:aws:iam::111122223333:role/eks-node"},
		"name-mismatch":       {"docker-hub/nginx", "my-proxy", reg + "dockerhub/library/alpine:3.20"},
		"upstream-rate-limit": {"docker-hub"},
		"negative-cache":      {"redis:7.4"},
		"missing-manifest":    {"docker-hub/library/nginx:1.27", "quay.io/prometheus/node-exporter:v1.8.1", reg + "kubernetes/coredns/coredns@sha256:9c40e7f1558ee5cc7ebac9cd0edad3586945de5a5c15933686418df00d15e3b7"},
		"creation-template":   {"quay", "kubernetes", "legacy-hub"},
		"stale-tag":           {"docker-hub/library/alpine:latest"},
		"no-lifecycle":        {"quay"},
		"orphan-repository":   {"legacy-hub/"},
	}
	for check, subjects := range want {
		for _, s := range subjects {
			found := false
			for _, f := range got[check] {
				found = found || f.Subject.Name == s
			}
			if !found {
				t.Errorf("%s did not fire for %s; it found %v", check, s, subjectsOf(got[check]))
			}
		}
	}
	for _, f := range findings {
		if len(f.Evidence) == 0 {
			t.Errorf("%s %s has no evidence", f.Check, f.Subject.Name)
		}
		if f.Explanation == "" || f.Title == "" {
			t.Errorf("%s %s is not explained", f.Check, f.Subject.Name)
		}
	}
	// Healthy parts of the demo stay quiet.
	for _, f := range findings {
		if strings.HasPrefix(f.Subject.Name, "ecr-public") || f.Subject.Name == "docker-hub/library/nginx:latest" {
			t.Errorf("a healthy part was reported: %s %s: %s", f.Check, f.Subject.Name, f.Title)
		}
	}
	// The caller (admin) may do everything: only eks-node is reported.
	for _, f := range got["permissions"] {
		if strings.Contains(f.Subject.Name, "admin") {
			t.Errorf("admin was reported: %s", f.Title)
		}
	}
}

func subjectsOf(fs []model.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Subject.Name)
	}
	return out
}

const healthy = `
account: {id: "111122223333", region: us-east-1}
secrets:
  - {name: ecr-pullthroughcache/docker-hub, value: '{"username":"me","accessToken":"tok"}'}
upstreams:
  - host: registry-1.docker.io
    accounts: [{username: me, token: tok}]
    repositories:
      - {name: library/nginx, tags: [{tag: "1.27", platforms: [linux/amd64, linux/arm64]}]}
      - {name: ratelimitpreview/test, tags: [{tag: latest}]}
  - host: public.ecr.aws
    repositories: [{name: docker/library/busybox, tags: [{tag: latest}]}]
rules:
  - {prefix: docker-hub, upstream: docker-hub, credential: ecr-pullthroughcache/docker-hub}
  - {prefix: ecr-public, upstream: ecr-public}
templates:
  - {prefix: docker-hub, imageTagMutability: MUTABLE, lifecyclePolicy: &lc '{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":90},"action":{"type":"transition","targetStorageClass":"archive"}}]}'}
  - {prefix: ecr-public, imageTagMutability: MUTABLE, lifecyclePolicy: *lc}
repositories:
  - name: docker-hub/library/nginx
    lifecyclePolicy: *lc
    images: [{tags: ["1.27"], source: "registry-1.docker.io/library/nginx:1.27#0", platforms: [linux/amd64, linux/arm64], pulledAgo: 1h, validatedAgo: 1h}]
  - name: ecr-public/docker/library/busybox
    lifecyclePolicy: *lc
    images: [{tags: [latest], source: "public.ecr.aws/docker/library/busybox:latest#0"}]
`

func TestAHealthyAccountHasNoFindings(t *testing.T) {
	_, acc := account(t, healthy)
	_, findings := diagnoseWith(t, acc, []string{"nginx:1.27", "public.ecr.aws/docker/library/busybox:latest"})
	for _, f := range findings {
		t.Errorf("%s %s: %s", f.Check, f.Subject.Name, f.Title)
	}
}

func TestRateLimitSpentAndQuota(t *testing.T) {
	doc := strings.Replace(healthy, "accounts: [{username: me, token: tok}]", "accounts: [{username: me, token: tok, pullLimit: 100, pullsUsed: 100}]", 1)
	_, acc := account(t, doc)
	_, findings := diagnoseWith(t, acc, nil)
	rl := byCheck(findings)["upstream-rate-limit"]
	if len(rl) != 1 || rl[0].Severity != model.SeverityError || !strings.Contains(rl[0].Title, "spent") {
		t.Fatalf("%+v", rl)
	}
	_, acc2 := account(t, "generate: {rules: 46}")
	_, findings = diagnoseWith(t, acc2, nil)
	if q := byCheck(findings)["rule-quota"]; len(q) != 1 || !strings.Contains(q[0].Title, "46 of 50") {
		t.Fatalf("quota: %+v", q)
	}
}

func TestUpstreamPrefixMismatch(t *testing.T) {
	_, acc := account(t, `
upstreams:
  - host: quay.io
    repositories: [{name: app, tags: [{tag: v1}]}]
rules:
  - {prefix: team, upstream: quay, upstreamPrefix: org}
templates:
  - {prefix: team}
`)
	_, findings := diagnoseWith(t, acc, []string{reg + "team/app:v1"})
	nm := byCheck(findings)["name-mismatch"]
	if len(nm) != 1 || !strings.Contains(nm[0].Title, "quay.io/org/app:v1") {
		t.Fatalf("%+v", findings)
	}
}

func TestExplainEndsInTheFix(t *testing.T) {
	_, acc := account(t, "demo")
	snap, err := acc.Scan(context.Background(), ecrops.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := model.ParseRef(reg+"docker-hub/nginx:latest", snap.AccountID, snap.Region, snap.Rules)
	ex := diagnose.Explain(context.Background(), snap, acc, ref, diagnose.Options{})
	names := map[string]string{}
	for _, s := range ex.Steps {
		names[s.Name] = s.Status
	}
	if names["rule"] != "ok" || names["upstream reference"] != "failed" || names["upstream has it"] != "failed" {
		t.Fatalf("steps: %+v", ex.Steps)
	}
	if len(ex.Fixes) == 0 || !strings.Contains(ex.Fixes[0].Title, "docker-hub/library/nginx:latest") {
		t.Fatalf("fixes: %+v", ex.Fixes)
	}
	healthyRef, _ := model.ParseRef("nginx:latest", snap.AccountID, snap.Region, snap.Rules)
	ok := diagnose.Explain(context.Background(), snap, acc, healthyRef, diagnose.Options{})
	for _, s := range ok.Steps {
		if s.Status == "failed" {
			t.Errorf("nginx:latest: %s failed: %s", s.Name, s.Detail)
		}
	}
}

func TestExplainErrorFromTheLineAlone(t *testing.T) {
	for text, want := range map[string]string{
		"Error response from daemon: manifest for 111122223333.dkr.ecr.us-east-1.amazonaws.com/ecr-public/amazonlinux/amazonlinux:latest not found: manifest unknown: Requested image not found":                                                                              "missing-import-permission",
		"Error response from daemon: repository 111122223333.dkr.ecr.us-east-1.amazonaws.com/ecr-public/amazonlinux/amazonlinux not found: name unknown: The repository with name 'ecr-public/amazonlinux/amazonlinux' does not exist in the registry with id '111122223333'": "missing-create-permission",
		`failed to resolve reference "111122223333.dkr.ecr.us-west-2.amazonaws.com/docker-hub/amazonlinux:2023": pulling from host 111122223333.dkr.ecr.us-west-2.amazonaws.com failed with status code [manifests 2023]: 403 Forbidden`:                                      "library-prefix",
		"denied: The authentication to the upstream registry failed. Verify that the credentials provided in the pull through cache rule are correct, and try again.":                                                                                                         "upstream-credentials",
		"toomanyrequests: You have reached your unauthenticated pull rate limit. https://www.docker.com/increase-rate-limit":                                                                                                                                                  "bypassed-cache",
		"no basic auth credentials": "ecr-login",
	} {
		v, ok := diagnose.ExplainError(context.Background(), nil, text)
		if !ok || !contains(v.Reading.Candidates, want) {
			t.Errorf("%q:\n%+v\nwant %q among the candidates", text, v.Reading, want)
		}
	}
	if _, ok := diagnose.ExplainError(context.Background(), nil, "everything is fine"); ok {
		t.Fatal("recognised a message that says nothing")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The JSON example of README.md and a report of the demo decode into the report's type,
// with unknown fields refused.
func TestJSONSchema(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```json\n(.*?)```").FindSubmatch(raw)
	if m == nil {
		t.Fatal("no JSON example in README.md")
	}
	var example diagnose.Report
	dec := json.NewDecoder(bytes.NewReader(m[1]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&example); err != nil {
		t.Fatalf("the README's example does not match the report's type: %v", err)
	}
	if example.SchemaVersion != diagnose.SchemaVersion || len(example.Findings) == 0 || len(example.Findings[0].Fixes[0].Steps) == 0 || example.Stats == nil {
		t.Fatalf("example: %+v", example)
	}

	_, acc := account(t, "demo")
	snap, res := diagnoseResult(t, acc, demoRefs, "arn:aws:iam::111122223333:role/eks-node")
	report := diagnose.NewReport(snap, res, true)
	out, _ := json.Marshal(report)
	// Every field the README documents is in a real report.
	for _, field := range []string{`"schemaVersion":4`, `"complete":true`, `"findings":[`, `"notChecked":[]`, `"errors":[]`, `"stats":{`, `"id":"`, `"key":"`, `"number":1`,
		`"evidence":[`, `"fixes":[`, `"targets":["`, `"needsSecretValue":`, `"secondsToFirstRules":`} {
		if !bytes.Contains(out, []byte(field)) {
			t.Errorf("the report lacks %s", field)
		}
	}
	var back diagnose.Report
	dec = json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&back); err != nil {
		t.Fatal(err)
	}
	if back.Summary.Errors == 0 || back.Findings[0].ID != res.Findings[0].ID() || back.Findings[0].Number != 1 {
		t.Fatalf("%+v", back.Summary)
	}
	md := report.Markdown()
	if !strings.Contains(md, "# ptcdoctor report: 111122223333 in us-east-1") || !strings.Contains(md, "[error]") {
		t.Fatalf("markdown:\n%s", md)
	}
}

func FuzzExplainError(f *testing.F) {
	for _, s := range []string{"manifest unknown: Requested image not found", "toomanyrequests", "\x1b[31m403 Forbidden", strings.Repeat("a", 20000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := diagnose.ExplainError(context.Background(), nil, s)
		if ok && (v.Verdict == "" || len(v.Reading.Candidates) == 0) {
			t.Fatal("recognised without a verdict")
		}
		for _, out := range []string{v.Reading.Matched, v.Reading.Line, v.Verdict, v.Fix} {
			if strings.ContainsRune(out, 0x1b) {
				t.Fatalf("an escape reached the answer: %q", out)
			}
		}
	})
}
