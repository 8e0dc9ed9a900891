package ecrops

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// The targets of one fleet share one SDK configuration per source of credentials and its
// HTTP client (one pool of connections), and one pool for the registries, while each
// keeps its own region, credentials and meter.
func TestFleetTargetsShareOneHTTPClient(t *testing.T) {
	f := simtest.StartFleet(t, "../testdata/fleet/cross-account.yaml")
	info := f.Info()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	base := Config{Region: info.Region, EndpointURL: info.Endpoint, StateDir: t.TempDir(), Retryer: NoBackoff(3),
		Credentials: credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, "")}
	targets, _, err := Targets(ctx, FleetConfig{Base: base, RoleARN: "arn:aws:iam::{account}:role/ptcdoctor-audit",
		Accounts: []string{"222222222222", "333333333333"}, Regions: []string{"us-east-1", "eu-west-1"}})
	if err != nil || len(targets) != 4 {
		t.Fatalf("targets %v: %v", targets, err)
	}
	var first *Account
	for _, tg := range targets {
		acc, err := OpenTarget(ctx, base, tg)
		if err != nil {
			t.Fatalf("%s: %v", tg, err)
		}
		id, err := acc.Whoami(ctx)
		if err != nil || id.Account != tg.Account || acc.Region() != tg.Region {
			t.Fatalf("%s: account %q region %q (%v)", tg, id.Account, acc.Region(), err)
		}
		if calls, _, _ := acc.Calls(); calls["GetCallerIdentity"] != 1 {
			t.Fatalf("%s: its own meter counted %v", tg, calls)
		}
		if first == nil {
			first = acc
			continue
		}
		if acc.aws.HTTPClient.(meteredClient).inner != first.aws.HTTPClient.(meteredClient).inner {
			t.Fatalf("%s has an HTTP client of its own", tg)
		}
		if acc.registryTransport() != first.registryTransport() {
			t.Fatalf("%s has a registry transport of its own", tg)
		}
	}
}

// sharedProbesFleet: five accounts pull the same upstreams; the first three's Docker Hub
// secrets hold the same credentials, the fourth's another user's, the fifth's the same
// user with a token Docker Hub refuses.
var sharedProbesFleet = `name: shared-probes
organization: {managementAccount: "111111111111"}
upstreams:
  - host: registry-1.docker.io
    accounts: [{username: team, token: dckr_pat_team}, {username: other, token: dckr_pat_other}]
    repositories:
      - name: library/nginx
        tags: [{tag: "1.27"}, {tag: "1.28"}]
  - host: quay.io
    repositories:
      - name: prometheus/node-exporter
        tags: [{tag: "v1.8.2"}]
accounts:
` + sharedProbesAccount("111111111111", "team", "dckr_pat_team",
	`{name: admin, kind: user, accessKeyId: AKIASHAREDPROBEADMIN, secretAccessKey: shared-probe-admin, allow: ["*"]}, `) +
	sharedProbesAccount("222222222222", "team", "dckr_pat_team", "") +
	sharedProbesAccount("333333333333", "team", "dckr_pat_team", "") +
	sharedProbesAccount("444444444444", "other", "dckr_pat_other", "") +
	sharedProbesAccount("555555555555", "team", "dckr_pat_wrong", "")

func sharedProbesAccount(id, user, token, principals string) string {
	return `  - id: "` + id + `"
    principals: [` + principals + `{name: ptcdoctor-audit, kind: role, accessKeyId: AKIAAUDIT` + id + `, secretAccessKey: audit-` + id + `, allow: ["*"], trust: ["111111111111"]}]
    regions:
      - region: us-east-1
        secrets: [{name: ecr-pullthroughcache/hub, value: '{"username":"` + user + `","accessToken":"` + token + `"}'}]
        rules: [{prefix: hub, upstream: docker-hub, credential: ecr-pullthroughcache/hub}, {prefix: quay, upstream: quay}]
`
}

// The targets of a fleet run probe each upstream reference once per credentials: three
// accounts with the same Docker Hub credentials ask each reference once between them, the
// fourth, with other credentials, asks on its own, the fifth is refused (its token is
// not the team's: it gets no one else's answer), the anonymous quay reference is asked
// once by all five, and each registry is pinged once. Every call is counted by the target that made it. A target's scan start
// leaves the run's answers to the others; a write's premise asks afresh; a write forgets.
func TestFleetRunSharesProbes(t *testing.T) {
	f := simtest.StartFleet(t, sharedProbesFleet)
	info := f.Info()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	base := Config{Region: info.Region, EndpointURL: info.Endpoint, Resolve: info.Resolve, StateDir: t.TempDir(), Retryer: NoBackoff(3),
		Credentials: credentials.NewStaticCredentialsProvider("AKIASHAREDPROBEADMIN", "shared-probe-admin", "")}
	targets, _, err := Targets(ctx, FleetConfig{Base: base, RoleARN: "arn:aws:iam::{account}:role/ptcdoctor-audit",
		Accounts: []string{"111111111111", "222222222222", "333333333333", "444444444444", "555555555555"}, Regions: []string{"us-east-1"}})
	if err != nil || len(targets) != 5 {
		t.Fatalf("targets %v: %v", targets, err)
	}
	hub := f.Member("111111111111", "us-east-1") // serves the fleet's upstreams
	upstreamCalls := func(host, kind string) int {
		n := 0
		for _, e := range hub.Events(0) {
			if e.Service == "upstream:"+host && (kind == "ping" && e.Operation == "GET /v2/" ||
				kind == "HEAD" && strings.HasPrefix(e.Operation, "HEAD ") && strings.Contains(e.Operation, "/manifests/")) {
				n++
			}
		}
		return n
	}
	refs := []string{"registry-1.docker.io/library/nginx:1.27", "registry-1.docker.io/library/nginx:1.28", "registry-1.docker.io/library/nginx:9.9"}
	accounts := map[string]*Account{}
	var mu sync.Mutex
	EachTarget(ctx, base, targets, 4, func(ctx context.Context, tg Target, acc *Account) (map[string]model.UpstreamProbe, error) {
		snap, err := acc.Scan(ctx, Scope{}, nil)
		if err != nil {
			return nil, err
		}
		out := map[string]model.UpstreamProbe{}
		var wg sync.WaitGroup
		var omu sync.Mutex
		for _, ref := range append(refs, "quay.io/prometheus/node-exporter:v1.8.2") {
			rule := *snap.Rule("hub")
			if strings.HasPrefix(ref, "quay.io/") {
				rule = *snap.Rule("quay")
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := acc.ProbeUpstream(ctx, rule, ref)
				omu.Lock()
				out[ref] = p
				omu.Unlock()
			}()
		}
		wg.Wait()
		mu.Lock()
		accounts[tg.Account] = acc
		mu.Unlock()
		return out, nil
	}, func(tg Target, probes map[string]model.UpstreamProbe, err error) {
		if err != nil {
			t.Errorf("%s: %v", tg, err)
			return
		}
		for ref, p := range probes {
			want := !strings.HasSuffix(ref, ":9.9") && (tg.Account != "555555555555" || strings.HasPrefix(ref, "quay.io/"))
			if p.Exists != want || p.Reference != ref || p.Anonymous != strings.HasPrefix(ref, "quay.io/") {
				t.Errorf("%s: %s: %+v, want exists %v", tg, ref, p, want)
			}
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	if n := upstreamCalls("registry-1.docker.io", "HEAD"); n != 2*len(refs) {
		t.Errorf("Docker Hub saw %d manifest HEADs, want %d: each reference once per credentials", n, 2*len(refs))
	}
	if n := upstreamCalls("quay.io", "HEAD"); n != 1 {
		t.Errorf("quay.io saw %d manifest HEADs, want 1", n)
	}
	for _, host := range []string{"registry-1.docker.io", "quay.io"} {
		if n := upstreamCalls(host, "ping"); n != 1 {
			t.Errorf("%s saw %d pings, want 1 for the fleet", host, n)
		}
	}
	counted := 0
	for _, acc := range accounts {
		calls, _, _ := acc.Calls()
		counted += calls["registry registry-1.docker.io HEAD manifest"] + calls["registry quay.io HEAD manifest"]
	}
	if counted != 2*len(refs)+1 {
		t.Errorf("the targets counted %d manifest HEADs, the stand-in saw %d", counted, 2*len(refs)+1)
	}

	// Within a run: one target's scan start leaves the others' answers; a premise asks again.
	end := FleetRun(targets)
	defer end()
	a, b := accounts["111111111111"], accounts["222222222222"]
	snapA, errA := a.Scan(ctx, Scope{}, nil)
	snapB, errB := b.Scan(ctx, Scope{}, nil)
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	heads := func() int { return upstreamCalls("registry-1.docker.io", "HEAD") }
	before := heads()
	a.ProbeUpstream(ctx, *snapA.Rule("hub"), refs[0])
	b.Scan(ctx, Scope{}, nil)
	b.ProbeUpstream(ctx, *snapB.Rule("hub"), refs[0])
	if n := heads() - before; n != 1 {
		t.Fatalf("a run's answer: %d HEADs after one target's scan started, want 1", n)
	}
	if got := b.upstreamServes(ctx, snapB.Rules, "hub "+refs[0]); got != model.UpstreamServes || heads()-before != 2 {
		t.Fatalf("a premise's re-check: %q after %d HEADs, want it asked afresh (2)", got, heads()-before)
	}
	b.forgetAfterWrite()
	a.ProbeUpstream(ctx, *snapA.Rule("hub"), refs[0])
	if n := heads() - before; n != 3 {
		t.Fatalf("after a write, %d HEADs in all, want 3 (asked again)", n)
	}
}

// A run keeps an upstream's answer for the next target that asks, with that target's own
// part of it; a failure only once asked twice (once may be a blip); not an answer its
// asker's context cut short; never one asked with other credentials.
func TestSharedProbesKeepAnswersNotBlips(t *testing.T) {
	run := newSharedProbes()
	ref, _ := name.ParseReference("registry-1.docker.io/library/nginx:1.27")
	asked := 0
	ask := func(p model.UpstreamProbe) func() model.UpstreamProbe {
		return func() model.UpstreamProbe { asked++; return p }
	}
	team, other := secrets{user: "team", token: "dckr_pat_team"}, secrets{user: "team", token: "dckr_pat_other"}
	mine := model.UpstreamProbe{Reference: "docker.io/nginx:1.27", Why: "mine"}
	ctx := context.Background()

	blip := model.UpstreamProbe{Status: 503, Class: "server-error", Message: "UNAVAILABLE"}
	for i, want := range []int{1, 2, 2} {
		if p := run.answer(ctx, ref, team, mine, ask(blip)); p.Status != 503 || asked != want {
			t.Fatalf("failure %d: %+v after %d asked, want %d", i, p, asked, want)
		}
	}
	if p := run.answer(ctx, ref, other, mine, ask(model.UpstreamProbe{Status: 401, Class: "unauthorized"})); p.Status != 401 || asked != 3 {
		t.Fatalf("other credentials got %+v after %d asked, want their own (3)", p, asked)
	}

	ref2, _ := name.ParseReference("registry-1.docker.io/library/nginx:1.28")
	cut, cancel := context.WithCancel(ctx)
	cancel()
	run.answer(cut, ref2, team, mine, ask(model.UpstreamProbe{Class: "network", Message: "context canceled"}))
	served := model.UpstreamProbe{Reference: "theirs", Why: "theirs", Exists: true, Digest: "sha256:aa", Platforms: []string{"linux/amd64"}, RateLimit: &model.RateLimit{Limit: 100}}
	p := run.answer(ctx, ref2, team, mine, ask(served))
	again := run.answer(ctx, ref2, team, mine, ask(served))
	if asked != 5 || !p.Exists || !again.Exists || again.Reference != mine.Reference || again.Why != "mine" || again.RateLimit.Limit != 100 {
		t.Fatalf("after a cut-short probe: %+v then %+v after %d asked, want asked again once (5), then kept with the asker's own part", p, again, asked)
	}
	if run.identity(team) == run.identity(other) || run.identity(team) != run.identity(secrets{user: "team", token: "dckr_pat_team"}) ||
		strings.Contains(run.identity(team), "dckr_pat") || run.identity(secrets{}) != "anonymous" {
		t.Fatalf("identities: %q %q", run.identity(team), run.identity(other))
	}
}

// BenchmarkPingReplay is a ping's kept answer given again, as every probe of a kept
// registry gets it: a shallow copy of the request, not a Clone (headers, context).
func BenchmarkPingReplay(b *testing.B) {
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "https://registry-1.docker.io/v2/", nil)
	req.Header.Set("User-Agent", "go-containerregistry/v0.22.1")
	ans := pingAnswer{status: http.StatusUnauthorized, url: *req.URL, body: []byte(`{"errors":[]}`),
		header: http.Header{"Www-Authenticate": {`Bearer realm="https://auth.docker.io/token",service="registry.docker.io"`}, "Content-Type": {"application/json"}}}
	b.ReportAllocs()
	for b.Loop() {
		if resp := ans.response(req); resp.Request.URL.Scheme != "https" {
			b.Fatal(resp.Request.URL)
		}
	}
}
