package ecrops_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// Probes of one upstream ask it how to log in (GET /v2/) once, not once each, and every
// call they make is counted with the account's calls; a new scan asks again.
func TestProbesPingAnUpstreamOnceAndAreCounted(t *testing.T) {
	s := start(t, "demo")
	snap, _ := s.acc.Scan(ctx(t), ecrops.Scope{Repositories: []string{"none"}}, nil)
	hub := *snap.Rule("docker-hub")
	calls0, _, _ := s.acc.Calls()
	for _, ref := range []string{"registry-1.docker.io/library/nginx:latest", "registry-1.docker.io/library/nginx:9.9",
		"registry-1.docker.io/library/redis:7", "registry-1.docker.io/nginx:latest"} {
		s.acc.ProbeUpstream(ctx(t), hub, ref)
	}
	calls, _, _ := s.acc.Calls()
	ping, heads := "registry registry-1.docker.io ping", "registry registry-1.docker.io HEAD manifest"
	if n := calls[ping] - calls0[ping]; n != 1 {
		t.Fatalf("%d pings for 4 probes of one upstream, want 1: %v", n, calls)
	}
	if n := calls[heads] - calls0[heads]; n < 4 {
		t.Fatalf("%d manifest HEADs counted for 4 probes: %v", n, calls)
	}
	if n := calls["registry auth.docker.io token"] - calls0["registry auth.docker.io token"]; n < 3 {
		t.Fatalf("%d token calls counted: %v", n, calls)
	}
	s.acc.Scan(ctx(t), ecrops.Scope{Repositories: []string{"none"}}, nil)
	s.acc.ProbeUpstream(ctx(t), hub, "registry-1.docker.io/library/nginx:latest")
	again, _, _ := s.acc.Calls()
	if again[ping] != calls[ping]+1 {
		t.Fatalf("after a new scan, %d pings, want %d", again[ping], calls[ping]+1)
	}
}

// probeAll probes refs eight at a time, as the stale-tag check does.
func probeAll(t *testing.T, acc *ecrops.Account, rule model.Rule, refs []string) []model.UpstreamProbe {
	out := make([]model.UpstreamProbe, len(refs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, ref := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = acc.ProbeUpstream(ctx(t), rule, ref)
		}()
	}
	wg.Wait()
	return out
}

// An upstream whose ping fails (here the stand-in's stub, 503 to everything) is asked
// twice (a failure once may be a blip), then learned: the 200 probes that need it are
// each answered with that same failed call, none taken for an answer, without asking it
// again (it used to take 400 pings and a 200 ms retry wait each). The failure is
// forgotten after a while, and at the next scan.
func TestProbesLearnAnUpstreamWhosePingFails(t *testing.T) {
	s := startYAML(t, "rules: [{prefix: pub, upstream: ecr-public}]\n")
	snap, err := s.acc.Scan(ctx(t), ecrops.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var mu sync.Mutex
	s.acc.SetPingClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	rule := *snap.Rule("pub")
	var refs []string
	for i := range 200 {
		refs = append(refs, fmt.Sprintf("public.ecr.aws/team/app-%04d:v1", i))
	}
	const ping = "registry public.ecr.aws ping"
	probes := probeAll(t, s.acc, rule, refs)
	for i, p := range probes {
		if p.Exists || p.Status != 503 || p.Class != "server-error" || p.Message != probes[0].Message || !strings.Contains(p.Message, "UNAVAILABLE") {
			t.Fatalf("probe %d: %+v, want the 503 every probe got (%q)", i, p, probes[0].Message)
		}
	}
	calls, _, _ := s.acc.Calls()
	if calls[ping] != 2 {
		t.Fatalf("%d pings for 200 probes of an upstream answering 503, want 2 (one, and once more): %v", calls[ping], calls)
	}
	if n := s.calls("GET /v2/"); n != 2 {
		t.Fatalf("the stand-in saw %d pings, want 2", n)
	}

	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	if p := s.acc.ProbeUpstream(ctx(t), rule, refs[0]); p.Status != 503 {
		t.Fatalf("after a while: %+v", p)
	}
	if again, _, _ := s.acc.Calls(); again[ping] != 4 {
		t.Fatalf("a learned failure a while old: %d pings in all, want 4 (asked twice again)", again[ping])
	}
	s.acc.Scan(ctx(t), ecrops.Scope{Repositories: []string{"none"}}, nil)
	s.acc.ProbeUpstream(ctx(t), rule, refs[0])
	if again, _, _ := s.acc.Calls(); again[ping] != 6 {
		t.Fatalf("after a new scan: %d pings in all, want 6", again[ping])
	}
}

// A registry that refuses connections is learned the same way: two connection attempts,
// then every probe is "network" with the same error.
func TestProbesLearnARefusedRegistry(t *testing.T) {
	s := startYAML(t, "rules: [{prefix: pub, upstream: ecr-public}]\n")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	cfg := s.cfg
	cfg.Resolve = map[string]string{"public.ecr.aws": "http://" + addr}
	acc := s.open(cfg)
	snap, err := acc.Scan(ctx(t), ecrops.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for i := range 50 {
		refs = append(refs, fmt.Sprintf("public.ecr.aws/team/app-%04d:v1", i))
	}
	probes := probeAll(t, acc, *snap.Rule("pub"), refs)
	for i, p := range probes {
		if p.Exists || p.Class != "network" || p.Message != probes[0].Message || !strings.Contains(p.Message, "refused") {
			t.Fatalf("probe %d: %+v, want the refusal every probe got (%q)", i, p, probes[0].Message)
		}
	}
	if calls, _, _ := acc.Calls(); calls["registry public.ecr.aws ping"] != 2 {
		t.Fatalf("%d pings for 50 probes of a refusing host, want 2", calls["registry public.ecr.aws ping"])
	}
}

// One failed ping is not taken for the host: the retry asks again and gets the answer.
func TestOneFailedPingIsAskedAgain(t *testing.T) {
	s := startYAML(t, "rules: [{prefix: pub, upstream: ecr-public}]\n")
	var mu sync.Mutex
	pings := 0
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			mu.Lock()
			pings++
			first := pings == 1
			mu.Unlock()
			if first {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusOK)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`)
	}))
	t.Cleanup(reg.Close)
	cfg := s.cfg
	cfg.Resolve = map[string]string{"public.ecr.aws": reg.URL}
	acc := s.open(cfg)
	snap, err := acc.Scan(ctx(t), ecrops.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if p := acc.ProbeUpstream(ctx(t), *snap.Rule("pub"), "public.ecr.aws/team/app:v1"); p.Status != 404 || p.Class != "not-found" {
			t.Fatalf("probe %d after one failed ping: %+v, want the registry's 404", i, p)
		}
	}
	if calls, _, _ := acc.Calls(); calls["registry public.ecr.aws ping"] != 2 {
		t.Fatalf("%d pings, want 2 (the failed one, and its retry kept)", calls["registry public.ecr.aws ping"])
	}
}

// A registry that does not answer costs the probe's time twice (two pings that got no
// answer), not once per probe: the probes after are "not checked" with that call at once.
func TestProbesLearnARegistryThatDoesNotAnswer(t *testing.T) {
	s := startYAML(t, `
rules: [{prefix: pub, upstream: ecr-public}]
upstreams: [{host: public.ecr.aws}]
faults: [{operation: "upstream:public.ecr.aws", latency: 30s, latencyRate: 1}]
`)
	cfg := s.cfg
	cfg.ProbeTimeout = 300 * time.Millisecond
	acc := s.open(cfg)
	snap, err := acc.Scan(ctx(t), ecrops.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for i := range 64 {
		refs = append(refs, fmt.Sprintf("public.ecr.aws/team/app-%04d:v1", i))
	}
	probes := probeAll(t, acc, *snap.Rule("pub"), refs)
	for i, p := range probes {
		if p.Exists || p.Class != "network" || !strings.Contains(p.Message, "deadline exceeded") {
			t.Fatalf("probe %d: %+v, want no answer in time", i, p)
		}
	}
	if calls, _, _ := acc.Calls(); calls["registry public.ecr.aws ping"] != 2 {
		t.Fatalf("%d pings for 64 probes of a host that does not answer, want 2", calls["registry public.ecr.aws ping"])
	}
}
