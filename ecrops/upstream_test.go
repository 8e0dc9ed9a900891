package ecrops_test

import (
	"testing"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
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
