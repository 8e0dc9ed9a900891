package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
)

// The demo's secrets hold values that must never be seen: the stand-in gives them to
// ptcdoctor (it reads the Docker Hub token to probe the upstream), and tokens are given
// on standard input. None of them may reach stdout, stderr or the journal.
func TestSecretValuesNeverLeak(t *testing.T) {
	canaries := []string{"dckr_pat_ptcdemo_valid_token", "ghp_ptcdemo_expired_token", "glpat-ptcdemo-token", "CANARY-STDIN-7f3a9d"}
	// The demo, where the token given on standard input is a good one for GitHub: it is
	// tried before it is stored, and this test needs it stored.
	sc, err := sim.LoadScenario("demo")
	if err != nil {
		t.Fatal(err)
	}
	for i := range sc.Upstreams {
		if sc.Upstreams[i].Host == "ghcr.io" {
			sc.Upstreams[i].Accounts = append(sc.Upstreams[i].Accounts, sim.UpstreamAccount{Username: "ptcdemo-gh", Token: "CANARY-STDIN-7f3a9d"})
		}
	}
	_, env := standInServer(t, simtest.StartScenario(t, sc))
	env = append(env, "XDG_CONFIG_HOME="+t.TempDir())
	state := envValue(env, "XDG_STATE_HOME")
	var outputs []string
	run := func(stdin string, args ...string) {
		out, _ := runWithStdin(t, env, stdin, args...)
		outputs = append(outputs, out)
	}
	run("", "doctor")
	run("", "doctor", "--json", "--stats")
	run("", "doctor", "--markdown", "--image", "nginx:1.27")
	run("", "explain", "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/redis:7.4")
	run("", "explain", "ghcr.io/ptcdemo/app:v1")
	run("", "fix", "--dry-run")
	run("CANARY-STDIN-7f3a9d\n", "fix", "--check", "credentials", "--username", "ptcdemo-gh", "--token-stdin", "--yes")
	run("CANARY-STDIN-7f3a9d\n", "setup", "--upstream", "docker-hub", "--prefix", "hub2", "--username", "ptcdemo", "--token-stdin", "--yes")
	run("CANARY-STDIN-7f3a9d\n", "setup", "--upstream", "github-container-registry", "--prefix", "gh2", "--username", "x", "--token-stdin", "--yes")
	run("", "journal")
	run("", "journal", "--json")
	journal, _ := os.ReadFile(filepath.Join(state, "ptcdoctor", "journal.jsonl"))
	outputs = append(outputs, string(journal))
	if len(journal) == 0 {
		t.Fatal("nothing was journaled: the writes this test needs did not happen")
	}
	files, _ := filepath.Glob(filepath.Join(state, "ptcdoctor", "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		outputs = append(outputs, string(b))
	}
	all := strings.Join(outputs, "\n")
	for _, c := range canaries {
		if strings.Contains(all, c) {
			t.Errorf("the secret value %q leaked", c)
		}
	}
	if !strings.Contains(all, "step 1 done: secretsmanager:PutSecretValue") {
		t.Fatalf("the secret step did not run:\n%s", all)
	}
}
