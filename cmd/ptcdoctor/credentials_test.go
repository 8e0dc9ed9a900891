package main

import (
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
)

func writesTo(srv *sim.Server) int {
	n := 0
	for _, e := range srv.Events(0) {
		if e.Write {
			n++
		}
	}
	return n
}

// A token the upstream refuses is not stored: the rate-limit fix fails, says why, and
// nothing reads "fixed".
func TestARefusedTokenIsNotStored(t *testing.T) {
	srv, env := standIn(t, "demo")
	env = append(env, "XDG_CONFIG_HOME="+t.TempDir())
	out, code := runWithStdin(t, env, "wrong-token\n", "fix", "--check", "upstream-rate-limit", "--username", "ptcdemo", "--token-stdin", "--yes")
	if code != exitFindings || !strings.Contains(out, "registry-1.docker.io refused the credentials of ptcdemo") ||
		strings.Contains(out, "fixed") || strings.Contains(out, "wrong-token") {
		t.Fatalf("a refused token (exit %d):\n%s", code, out)
	}
	if n := writesTo(srv); n != 0 {
		t.Fatalf("%d writes with a refused token", n)
	}
}

// One --token-stdin token goes into one secret: a run whose fixes would store it in two
// is refused before any write, naming both.
func TestATokenGivenOnceGoesIntoOneSecret(t *testing.T) {
	srv, env := standIn(t, "demo")
	env = append(env, "XDG_CONFIG_HOME="+t.TempDir())
	out, code := runWithStdin(t, env, "dckr_pat_ptcdemo_valid_token\n", "fix", "--username", "ptcdemo", "--token-stdin", "--yes")
	if code != exitUsage || !strings.Contains(out, "applies to one secret") ||
		!strings.Contains(out, "ecr-pullthroughcache/docker-hub") || !strings.Contains(out, "ecr-pullthroughcache/github") {
		t.Fatalf("one token for two secrets (exit %d):\n%s", code, out)
	}
	if n := writesTo(srv); n != 0 {
		t.Fatalf("%d writes", n)
	}
}

// An upstream that does not answer (503) gave no verdict on a token: the fix says the
// credentials could not be tried, never that they were refused, and stores nothing.
func TestATokenTheUpstreamCouldNotTryIsNotCalledRefused(t *testing.T) {
	srv, env := failingStandIn(t, `[{"operation":"upstream:ghcr.io","errorRate":1}]`, nil)
	r, _ := report(t, env)
	id := ""
	for _, f := range r.Findings {
		if f.Check == "credentials" && f.Subject.Name == "github" {
			id = f.ID
		}
	}
	if id == "" {
		t.Fatalf("no credentials finding on github: %+v", r.Findings)
	}
	out, code := runWithStdin(t, env, "ghp_a_new_token\n", "fix", "--finding", id, "--username", "me", "--token-stdin", "--yes")
	if code == exitOK || !strings.Contains(out, "could not be tried: ghcr.io did not answer") || strings.Contains(out, "refused") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if n := writesTo(srv); n != 0 {
		t.Fatalf("%d writes", n)
	}
}
