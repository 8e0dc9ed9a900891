package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
)

func runWithStdin(t *testing.T, env []string, stdin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

func TestSetupOnAnEmptyAccount(t *testing.T) {
	srv, env := standIn(t, "empty")
	writes := func() int {
		n := 0
		for _, e := range srv.Events(0) {
			if e.Write && e.Outcome == "ok" {
				n++
			}
		}
		return n
	}
	// A wrong token is refused before anything is written.
	out, code := runWithStdin(t, env, "not-the-token\n", "setup", "--upstream", "docker-hub", "--username", "ptcdemo", "--token-stdin", "--yes")
	if code != exitFindings || !strings.Contains(out, "refused the credentials") || !strings.Contains(out, "Nothing was written") || writes() != 0 {
		t.Fatalf("wrong token (exit %d, %d writes):\n%s", code, writes(), out)
	}
	if strings.Contains(out, "not-the-token") {
		t.Fatal("the token was echoed")
	}
	// A dry run writes nothing either.
	out, code = runWithStdin(t, env, "dckr_pat_ptcdemo_valid_token\n", "setup", "--upstream", "docker-hub", "--username", "ptcdemo", "--token-stdin", "--dry-run",
		"--principal", "arn:aws:iam::111122223333:role/eks-node")
	if code != 0 || !strings.Contains(out, "ecr:CreatePullThroughCacheRule") || !strings.Contains(flat(out), "pull budget 200 of 200") || writes() != 0 {
		t.Fatalf("dry run (exit %d, %d writes):\n%s", code, writes(), out)
	}
	// Docker Hub, then ECR Public: each rule validates and the canary fills the cache.
	out, code = runWithStdin(t, env, "dckr_pat_ptcdemo_valid_token\n", "setup", "--upstream", "docker-hub", "--username", "ptcdemo", "--token-stdin", "--yes",
		"--principal", "arn:aws:iam::111122223333:role/eks-node")
	if code != 0 || !strings.Contains(out, "ValidatePullThroughCacheRule: valid") || !strings.Contains(out, "canary") || !strings.Contains(out, "docker-hub/library/nginx:1.27") {
		t.Fatalf("docker hub (exit %d):\n%s", code, out)
	}
	if strings.Contains(out, "dckr_pat_ptcdemo_valid_token") {
		t.Fatal("the token was printed")
	}
	// The node snippets it printed pass ptcdoctor nodes.
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "certs.d", "docker.io"), 0o755)
	os.WriteFile(filepath.Join(dir, "certs.d", "docker.io", "hosts.toml"), []byte(printedBlock(out, "/docker.io/hosts.toml):")), 0o644)
	os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(printedBlock(out, "config.json):")), 0o644)
	if nout, code := runCLI(t, env, "nodes", dir); code != 0 || !strings.Contains(nout, "credentials: yes") {
		t.Fatalf("the printed snippets, through nodes (exit %d):\n%s", code, nout)
	}
	out, code = runCLI(t, env, "setup", "--upstream", "ecr-public", "--yes", "--principal", "arn:aws:iam::111122223333:role/eks-node")
	if code != 0 || !strings.Contains(out, "[ ok ] canary") {
		t.Fatalf("ecr public (exit %d):\n%s", code, out)
	}
	out, _ = runCLI(t, env, "doctor", "--json", "--principal", "arn:aws:iam::111122223333:role/eks-node")
	var r diagnose.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		if f.Severity == "error" {
			t.Errorf("after setup, doctor finds: [%s] %s", f.Check, f.Title)
		}
	}
	// Again, for the same prefix: nothing differs, nothing to change.
	before := writes()
	out, code = runCLI(t, env, "setup", "--upstream", "ecr-public", "--yes", "--canary", "amazonlinux/amazonlinux:2023")
	if code != 0 || !strings.Contains(out, "Nothing to change") || !strings.Contains(out, "already there: the rule ecr-public/") || writes() != before {
		t.Fatalf("again (exit %d, %d new writes):\n%s", code, writes()-before, out)
	}
}

func TestSetupRefusesBadAnswers(t *testing.T) {
	_, env := standIn(t, "empty")
	for _, args := range [][]string{
		{"setup", "--upstream", "harbor", "--dry-run"},
		{"setup", "--upstream", "docker-hub", "--dry-run"},
		{"setup", "--upstream", "quay", "--prefix", "Bad_Prefix", "--dry-run"},
		{"setup", "--upstream", "quay", "--prefix", "q", "--dry-run"},
		{"setup", "--upstream", "quay", "--principal", "eks-node", "--dry-run"},
		{"setup", "--upstream", "docker-hub", "--secret-arn", "arn:aws:secretsmanager:us-east-1:111122223333:secret:dockerhub-AbCdEf", "--dry-run"},
		{"setup", "--upstream", "ecr", "--ecr-account", "444455556666", "--ecr-region", "us-west-2", "--dry-run"},
		{"setup", "--upstream", "quay"},
	} {
		out, code := runCLI(t, env, args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d:\n%s", args, code, out)
		}
	}
}

// printedBlock is the indented block setup printed under a header line ending in suffix.
func printedBlock(out, suffix string) string {
	var b strings.Builder
	in := false
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasSuffix(line, suffix):
			in = true
		case in && strings.HasPrefix(line, "  "):
			b.WriteString(strings.TrimPrefix(line, "  ") + "\n")
		case in:
			return b.String()
		}
	}
	return b.String()
}
