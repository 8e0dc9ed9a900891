package main

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

// An upstream whose token service echoes the credentials it was sent into its error
// text: the probes mask them where they are made, so explain, doctor --json and
// --markdown show the error without the token.
func TestAnEchoingUpstreamDoesNotLeakTheToken(t *testing.T) {
	const token = "dckr_pat_ptcdemo_valid_token"
	basic := base64.StdEncoding.EncodeToString([]byte("ptcdemo:" + token))
	var mu sync.Mutex
	sent := false
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		if strings.HasPrefix(r.URL.Path, "/token") {
			raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(auth, "Basic "))
			mu.Lock()
			sent = sent || strings.Contains(string(raw), token)
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			tok := string(raw[strings.Index(string(raw), ":")+1:])
			fmt.Fprintf(w, `{"errors":[{"code":"UNAUTHORIZED","message":"refused %s (%s) for %s; upper=%s b64tok=%s hex=%s hexpair=%s"}]}`, auth, raw, r.URL.Query().Get("scope"),
				strings.ToUpper(tok), base64.StdEncoding.EncodeToString([]byte(tok)), hex.EncodeToString([]byte(tok)), hex.EncodeToString(raw))
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+r.Host+`/token",service="echo"`)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
	}))
	defer echo.Close()
	_, env := standIn(t, "demo")
	env = append(env, "XDG_CONFIG_HOME="+t.TempDir())
	resolve := []string{"--resolve", "registry-1.docker.io=" + echo.URL}
	var all []string
	for _, args := range [][]string{
		{"explain", "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:latest"},
		{"doctor", "--json", "--image", "nginx:1.27"},
		{"doctor", "--markdown", "--image", "nginx:1.27"},
		{"doctor", "--check", "upstream-rate-limit"},
	} {
		out, _ := runCLI(t, env, append(args, resolve...)...)
		all = append(all, out)
	}
	joined := strings.Join(all, "\n")
	mu.Lock()
	defer mu.Unlock()
	if !sent {
		t.Fatal("the probes never sent the token: the test proves nothing")
	}
	for _, leak := range []string{strings.ToUpper(token), base64.StdEncoding.EncodeToString([]byte(token)), hex.EncodeToString([]byte(token)), hex.EncodeToString([]byte("ptcdemo:" + token))} {
		if strings.Contains(joined, leak) {
			t.Fatalf("the token leaked as %s:\n%s", leak, joined)
		}
	}
	if strings.Contains(joined, token) || strings.Contains(joined, basic) || strings.Contains(joined, strings.TrimRight(basic, "=")) {
		t.Fatalf("the token leaked:\n%s", joined)
	}
	if !strings.Contains(joined, "refused") || !strings.Contains(joined, "****") {
		t.Fatalf("the upstream's answer is not shown (masked):\n%s", joined)
	}
}
