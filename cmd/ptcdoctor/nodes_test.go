package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The verb on every example under testdata/nodes: its exit code and the check it names.
func TestNodesOnTheExamples(t *testing.T) {
	for _, c := range []struct {
		dir   string
		code  int
		check string
	}{
		{"healthy-containerd", exitOK, ""},
		{"healthy-bottlerocket", exitOK, ""},
		{"kops-ecr-credentials-for-mirrors", exitOK, "WARN  mirror-path"},
		{"missing-override-path", exitFindings, "ERROR mirror-path"},
		{"unmatched-credential-provider", exitFindings, "ERROR mirror-credentials"},
		{"docker-daemon-mirror", exitFindings, "ERROR docker-daemon-mirror"},
		{"bottlerocket-no-credentials", exitFindings, "ERROR mirror-credentials"},
		{"kops-no-ecr-credentials", exitFindings, "ERROR mirror-credentials"},
		{"containerd-config-mirror-path", exitFindings, "ERROR mirror-path"},
		{"containerd-config-path-conflict", exitFindings, "ERROR containerd-config"},
	} {
		out, code := runCLI(t, os.Environ(), "nodes", filepath.Join("..", "..", "testdata", "nodes", c.dir))
		if code != c.code || !strings.Contains(out, c.check) {
			t.Errorf("%s: exit %d, want %d and %q:\n%s", c.dir, code, c.code, c.check, out)
		}
	}
	// Without the kubelet's provider config the credentials are not checked: exit 3, no finding.
	out, code := runCLI(t, os.Environ(), "nodes", "../../testdata/nodes/healthy-containerd/certs.d")
	if code != exitScan || strings.Contains(out, "ERROR") || !strings.Contains(out, "Not checked") {
		t.Errorf("hosts.toml alone: exit %d:\n%s", code, out)
	}
	// Standard input, and bad input.
	daemon, _ := os.ReadFile("../../testdata/nodes/docker-daemon-mirror/daemon.json")
	if out, code := runWithStdin(t, os.Environ(), string(daemon), "nodes", "-"); code != exitFindings || !strings.Contains(out, "docker-daemon-mirror") {
		t.Errorf("stdin: exit %d:\n%s", code, out)
	}
	for _, bad := range []string{"server = [1\n", "\x1b]0;owned\x07 not a config", ""} {
		out, code := runWithStdin(t, os.Environ(), bad, "nodes", "-")
		if code != exitUsage || strings.Contains(out, "\x1b") || strings.Contains(out, "panic") {
			t.Errorf("%q: exit %d:\n%s", bad, code, out)
		}
	}
	if _, code := runCLI(t, os.Environ(), "nodes", "/nonexistent/certs.d"); code != exitUsage {
		t.Errorf("a missing path: exit %d", code)
	}
}

// The demo account's rules behind the healthy example's mirrors: docker-hub/ and github/ exist.
func TestNodesWithTheDemoAccount(t *testing.T) {
	out, code := runCLI(t, os.Environ(), "nodes", "--demo", "../../testdata/nodes/healthy-containerd")
	if code != exitOK || strings.Contains(out, "mirror-rule") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// With --account, against an account that has no rules yet: each mirror's prefix is missing.
func TestNodesWithAnAccountWithoutRules(t *testing.T) {
	_, env := standIn(t, "empty")
	out, code := runCLI(t, env, "nodes", "--account", "../../testdata/nodes/healthy-containerd")
	if code != exitFindings || strings.Count(out, "ERROR mirror-rule") != 2 || !strings.Contains(out, "No pull through cache rule has the prefix docker-hub/") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}
