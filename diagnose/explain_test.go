package diagnose_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// unlikeTheDemo is an account whose shapes the demo lacks: a stale tag whose digest
// moved, a cached tag deleted upstream, a private repository no rule covers, and two
// tags of which one is the other's prefix.
const unlikeTheDemo = `
secrets:
  - {name: ecr-pullthroughcache/docker-hub, value: '{"username":"me","accessToken":"tok"}'}
upstreams:
  - host: registry-1.docker.io
    accounts: [{username: me, token: tok}]
    repositories:
      - {name: library/nginx, tags: [{tag: "1.27", version: 1}]}
      - {name: bitnami/etcd, tags: [{tag: v3.5, version: 1}, {tag: v3.5.16}]}
      - {name: ratelimitpreview/test, tags: [{tag: latest}]}
rules:
  - {prefix: docker-hub, upstream: docker-hub, credential: ecr-pullthroughcache/docker-hub}
templates:
  - {prefix: docker-hub, imageTagMutability: MUTABLE, lifecyclePolicy: &lc '{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}},{"rulePriority":2,"selection":{"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":90},"action":{"type":"transition","targetStorageClass":"archive"}}]}'}
repositories:
  - name: docker-hub/library/nginx
    lifecyclePolicy: *lc
    images:
      - {tags: ["1.27"], source: "registry-1.docker.io/library/nginx:1.27#0", pulledAgo: 1h, validatedAgo: 1h}
      - {tags: ["1.25"], source: "registry-1.docker.io/library/nginx:1.25#0", pulledAgo: 1h, validatedAgo: 30h}
  - name: docker-hub/bitnami/etcd
    lifecyclePolicy: *lc
    images:
      - {tags: [v3.5], source: "registry-1.docker.io/bitnami/etcd:v3.5#0", pulledAgo: 1h, validatedAgo: 30h}
      - {tags: [v3.5.16], source: "registry-1.docker.io/bitnami/etcd:v3.5.16#0", pulledAgo: 1h, validatedAgo: 1h}
  - name: team/app
    lifecyclePolicy: *lc
    images: [{tags: [v1]}]
`

func explainRef(t *testing.T, acc *ecrops.Account, snap *model.Snapshot, in string) diagnose.Explanation {
	t.Helper()
	ref, err := model.ParseRef(in, snap.AccountID, snap.Region, snap.Rules)
	if err != nil && ref.Repository == "" {
		t.Fatal(err)
	}
	return diagnose.Explain(context.Background(), snap, acc, ref, diagnose.Options{})
}

func failedSteps(ex diagnose.Explanation) []string {
	var out []string
	for _, s := range ex.Steps {
		if s.Status == "failed" {
			out = append(out, s.Name+": "+s.Detail)
		}
	}
	return out
}

func TestExplainVerdictsOnAnAccountUnlikeTheDemo(t *testing.T) {
	_, acc := account(t, unlikeTheDemo)
	snap, err := acc.Scan(context.Background(), ecrops.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}

	// The cache serves 1.27 at version 0; the upstream's 1.27 is version 1.
	stale := explainRef(t, acc, snap, reg+"docker-hub/library/nginx:1.27")
	if strings.Contains(stale.Verdict, "Nothing on the path") || !strings.Contains(stale.Verdict, "stale") {
		t.Errorf("a stale tag: verdict %q", stale.Verdict)
	}

	// 1.25 is cached but gone upstream: ECR keeps serving the cached image.
	gone := explainRef(t, acc, snap, reg+"docker-hub/library/nginx:1.25")
	if f := failedSteps(gone); len(f) > 0 || strings.Contains(gone.Verdict, "The pull fails") {
		t.Errorf("a cached tag deleted upstream pulls fine: verdict %q, failed %v", gone.Verdict, f)
	}

	// team/app is a private repository: no rule, and none needed.
	private := explainRef(t, acc, snap, reg+"team/app:v1")
	if f := failedSteps(private); len(f) > 0 || strings.Contains(private.Verdict, "The pull fails") || strings.Contains(private.Verdict, "No rule covers") {
		t.Errorf("a private repository pulls fine: verdict %q, failed %v", private.Verdict, f)
	}
	missing := explainRef(t, acc, snap, reg+"team/app:v2")
	if len(failedSteps(missing)) == 0 {
		t.Errorf("a tag the private repository lacks: verdict %q", missing.Verdict)
	}

	// v3.5.16 is current; v3.5 is stale. No plan for v3.5.16 may touch v3.5.
	etcd := explainRef(t, acc, snap, reg+"docker-hub/bitnami/etcd:v3.5.16")
	for _, fx := range etcd.Fixes {
		for _, st := range fx.Plan.Steps {
			if st.Params["imageTag"] == "v3.5" || strings.HasSuffix(st.Target, ":v3.5") {
				t.Errorf("a fix for v3.5.16 acts on v3.5: %s: %s", fx.Title, st.Summary)
			}
		}
	}
	for _, f := range etcd.Findings {
		if f.Subject.Name == "docker-hub/bitnami/etcd:v3.5" {
			t.Errorf("a finding about v3.5 is counted for v3.5.16: %s", f.Title)
		}
	}

	// Written without the registry, docker-hub/library/nginx is the account's cache path.
	bare := explainRef(t, acc, snap, "docker-hub/library/nginx:1.25")
	if bare.Ref.RulePrefix != "docker-hub" || bare.Ref.Repository != "docker-hub/library/nginx" || bare.Ref.FromUpstream {
		t.Errorf("docker-hub/library/nginx:1.25 read as %+v", bare.Ref)
	}
}

// Through a node's mirror (containerd hosts.toml), containerd names the upstream
// reference: a first pull by digest arrives as "not found", and the chain for the cache
// path it maps to says why.
func TestExplainErrorOfADigestPulledThroughAMirror(t *testing.T) {
	_, acc := account(t, "demo")
	snap, err := acc.Scan(context.Background(), ecrops.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	up := acc.ProbeUpstream(context.Background(), *snap.Rule("quay"), "quay.io/prometheus/node-exporter:v1.8.1")
	if !up.Exists {
		t.Fatalf("probe: %+v", up)
	}
	line := `failed to pull and unpack image "quay.io/prometheus/node-exporter@` + up.Digest + `": failed to resolve reference "quay.io/prometheus/node-exporter@` + up.Digest + `": not found`
	acct := &diagnose.Account{Snap: snap, Prober: acc}
	v, ok := diagnose.ExplainError(context.Background(), acct, line)
	if !ok || v.Cause.ID != "digest-first-pull" || v.Explanation == nil || !strings.Contains(v.Fix, "quay/prometheus/node-exporter@"+up.Digest) {
		t.Fatalf("cause %q, verdict %q, fix %q, needs %v", v.Cause.ID, v.Verdict, v.Fix, v.Needs)
	}
	// From the line alone, it is one of two causes; ptcdoctor says so.
	alone, _ := diagnose.ExplainError(context.Background(), nil, line)
	if alone.Cause.ID != "" || !contains(alone.Reading.Candidates, "digest-first-pull") || len(alone.Needs) == 0 {
		t.Fatalf("alone: %+v", alone)
	}
}

// A 429 through the cache is the rule's pull budget, and its window is the one the
// ratelimit-* headers give (w= seconds), never a fixed "6 hours"; Docker Hub's bare 429
// (HAP429) is its abuse limit, not the budget.
func TestExplainErrorOfRateLimits(t *testing.T) {
	budget := `failed to resolve reference "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:1.27": unexpected status from HEAD request to https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2/docker-hub/library/nginx/manifests/1.27: 429 Too Many Requests (ratelimit-remaining: 0;w=3600)`
	v, _ := diagnose.ExplainError(context.Background(), nil, budget)
	if v.Cause.ID != "pull-budget-spent" || !strings.Contains(v.Verdict, "w=3600") || strings.Contains(v.Verdict, "6-hour") || strings.Contains(v.Verdict, "6 hours") {
		t.Fatalf("budget: %q %q", v.Cause.ID, v.Verdict)
	}
	abuse, _ := diagnose.ExplainError(context.Background(), nil, "toomanyrequests: Too Many Requests (HAP429).")
	if abuse.Cause.ID != "abuse-limit" || strings.Contains(abuse.Verdict, "budget is spent") {
		t.Fatalf("abuse: %q %q", abuse.Cause.ID, abuse.Verdict)
	}
}

// containerd names the original reference and the host it asked: a mirror asked without
// credentials, and a mirror bypassed for the upstream, read from the line alone.
func TestExplainErrorOfMirrors(t *testing.T) {
	for line, want := range map[string]string{
		`failed to resolve reference "docker.io/library/nginx:1.27": unexpected status from HEAD request to https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2/docker-hub/library/nginx/manifests/1.27?ns=docker.io: 401 Unauthorized`:                                          "mirror-credentials",
		`failed to resolve reference "docker.io/library/nginx:1.27": failed to do request: Head "https://registry-1.docker.io/v2/library/nginx/manifests/1.27": dial tcp 54.236.113.205:443: i/o timeout`:                                                                            "bypassed-cache",
		`failed to resolve reference "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:1.27": failed to do request: Head "https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2/docker-hub/library/nginx/manifests/1.27": dial tcp 10.0.1.5:443: i/o timeout`: "registry-unreachable",
	} {
		v, ok := diagnose.ExplainError(context.Background(), nil, line)
		if !ok || v.Cause.ID != want {
			t.Errorf("%s:\n got %q (%v), want %s", line, v.Cause.ID, v.Reading.Candidates, want)
		}
	}
}

// Against an account whose Docker Hub budget is spent, the verdict's window is the one the
// upstream's headers gave the probe.
func TestExplainErrorOfASpentBudgetGivesTheHeadersWindow(t *testing.T) {
	doc := strings.Replace(healthy, "accounts: [{username: me, token: tok}]", "accounts: [{username: me, token: tok, pullLimit: 100, pullsUsed: 100}]", 1)
	_, acc := account(t, doc)
	snap, err := acc.Scan(context.Background(), ecrops.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	line := `failed to resolve reference "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:1.27": unexpected status from HEAD request to https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2/docker-hub/library/nginx/manifests/1.27: 429 Too Many Requests`
	v, _ := diagnose.ExplainError(context.Background(), &diagnose.Account{Snap: snap, Prober: acc}, line)
	if v.Cause.ID != "pull-budget-spent" || !regexp.MustCompile(`[0-9]+s window`).MatchString(v.Verdict) || strings.Contains(v.Verdict, "6 hours") {
		t.Fatalf("%q: %s", v.Cause.ID, v.Verdict)
	}
}

// An upstream that answers 503 leaves "upstream has it" not checked: the verdict does not
// pass it ("The pull should work"), says why the pull could not be judged, and offers no
// fix (not "Pull it through the cache now" against an upstream that is down).
func TestExplainDoesNotPassALinkItCouldNotCheck(t *testing.T) {
	_, acc := account(t, `
upstreams:
  - host: quay.io
    repositories: [{name: prometheus/node-exporter, tags: [{tag: v1.8.0}]}]
rules:
  - {prefix: quay, upstream: quay}
templates:
  - {prefix: quay, lifecyclePolicy: '{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}}]}'}
faults:
  - {operation: "upstream:quay.io", errorRate: 1}
`)
	snap, err := acc.Scan(context.Background(), ecrops.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ex := explainRef(t, acc, snap, "quay/prometheus/node-exporter:v1.8.0")
	if !ex.NotChecked() {
		t.Fatalf("the upstream answered 503, yet every link was checked: %+v", ex.Steps)
	}
	if strings.Contains(ex.Verdict, "should work") || strings.Contains(ex.Verdict, "Nothing on the path") ||
		!strings.Contains(ex.Verdict, "could not be judged") || !strings.Contains(ex.Verdict, "upstream has it") {
		t.Fatalf("verdict: %s", ex.Verdict)
	}
	if len(ex.Fixes) != 0 {
		t.Fatalf("fixes offered on a chain not judged: %+v", ex.Fixes)
	}
}
