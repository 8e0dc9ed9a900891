package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every outside input that is wrong gets a clear message and the exit code the README
// promises, never a panic.
func TestMalformedInputs(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		return p
	}
	spaces := file("spaces.txt", "nginx:1.27 redis:7\n")
	badYAML := file("bad.yaml", "apiVersion: v1\nspec: [unclosed\n")
	noImages := file("noimages.yaml", "apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n")
	badScenario := file("scenario.yaml", "rules: [{prefix: hub, upstream: dockerhub}]\n")
	unknownField := file("unknown.yaml", "acount: {id: \"111122223333\"}\n")
	cfgDir := filepath.Join(dir, "cfg")
	os.MkdirAll(filepath.Join(cfgDir, "ptcdoctor"), 0o700)
	os.WriteFile(filepath.Join(cfgDir, "ptcdoctor", "config.yaml"), []byte("watch:\n  imgs: [nginx]\n"), 0o600)

	cases := []struct {
		args  []string
		stdin string
		env   []string
		want  string
		code  int
	}{
		{args: []string{"doctor", "--demo", "--check", "nope"}, want: `--check "nope": no such check`, code: exitUsage},
		{args: []string{"doctor", "--demo", "--image", "UPPER/Case:1"}, want: "is not an image reference", code: exitUsage},
		{args: []string{"doctor", "--demo", "--image", ""}, want: "empty image reference", code: exitUsage},
		{args: []string{"doctor", "--demo", "--image", "nginx:bad tag"}, want: "is not an image reference", code: exitUsage},
		{args: []string{"doctor", "--demo", "--image", "gcr.io/distroless/static:nonroot"}, want: "no pull through cache rule has the upstream gcr.io", code: exitUsage},
		{args: []string{"doctor", "--demo", "--image", "444455556666.dkr.ecr.us-east-1.amazonaws.com/x:1"}, want: "is in the registry 444455556666", code: exitUsage},
		{args: []string{"doctor", "--demo", "--image", "111122223333.dkr.ecr.eu-west-1.amazonaws.com/x:1"}, want: "is in region eu-west-1", code: exitUsage},
		{args: []string{"doctor", "--demo", "--image", "nginx\x1b[2J:1"}, want: `\x1b`, code: exitUsage},
		{args: []string{"doctor", "--demo", "--json", "--markdown"}, want: "choose one of --json and --markdown", code: exitUsage},
		{args: []string{"doctor", "--demo", "--images-file", "/no/such/file"}, want: "no such file", code: exitUsage},
		{args: []string{"doctor", "--demo", "--images-file", spaces}, want: "is not one image reference", code: exitUsage},
		{args: []string{"doctor", "--demo", "--images-file", badYAML}, want: "not YAML or JSON", code: exitUsage},
		{args: []string{"doctor", "--demo", "--images-file", noImages}, want: "no image: fields", code: exitUsage},
		{args: []string{"doctor", "--demo", "--images-file", "-"}, stdin: "", want: "", code: exitFindings},
		{args: []string{"doctor", "--demo", "--rate", "nonsense"}, want: "want OPERATION=CALLS_PER_SECOND", code: exitUsage},
		{args: []string{"doctor", "--demo", "--rate", "DescribeImages=-1"}, want: "want OPERATION=CALLS_PER_SECOND", code: exitUsage},
		{args: []string{"doctor", "--demo", "--resolve", "nonsense"}, want: "want HOST=URL", code: exitUsage},
		{args: []string{"doctor", "--demo", "--resolve", "quay.io=ftp://x"}, want: "is not an http(s) URL", code: exitUsage},
		{args: []string{"doctor", "--endpoint-url", "::bad", "--region", "us-east-1"}, want: "is not a URL", code: exitUsage},
		{args: []string{"doctor", "--frobnicate"}, want: "unknown flag", code: exitUsage},
		{args: []string{"doctor", "--demo"}, env: []string{"XDG_CONFIG_HOME=" + cfgDir}, want: "", code: exitFindings},
		{args: []string{"doctor", "--config", filepath.Join(cfgDir, "ptcdoctor", "config.yaml"), "--demo"}, want: "field imgs not found", code: exitUsage},
		{args: []string{"doctor", "--config", "/no/such/config.yaml", "--demo"}, want: "no such file", code: exitUsage},
		{args: []string{"sim", "--scenario", "nope"}, want: "not one of the embedded scenarios", code: exitUsage},
		{args: []string{"sim", "--addr", "nonsense"}, want: "--addr", code: exitUsage},
		{args: []string{"sim", "--addr", "0.0.0.0:0"}, want: "pass --allow-remote", code: exitUsage},
		{args: []string{"sim", "--scenario", badScenario}, want: `rules[0].upstream "dockerhub"`, code: exitUsage},
		{args: []string{"sim", "--scenario", unknownField}, want: "field acount not found", code: exitUsage},
		{args: []string{"fix", "--demo"}, want: "say --dry-run to see the plans, or --yes", code: exitUsage},
		{args: []string{"fix", "--demo", "--yes", "--token-stdin"}, want: "--token-stdin needs --username", code: exitUsage},
		{args: []string{"fix", "--demo", "--yes", "--username", "u", "--token-stdin"}, stdin: "", want: "no token on standard input", code: exitUsage},
		{args: []string{"undo"}, want: "accepts 1 arg", code: exitUsage},
		{args: []string{"undo", "no-such-plan", "--yes", "--demo"}, want: "no finished step of plan no-such-plan", code: exitUsage},
		{args: []string{"journal", "extra"}, want: "unknown command", code: exitUsage},
		{args: []string{"explain", "--demo"}, want: "give a reference to explain", code: exitUsage},
		{args: []string{"explain", "--demo", "nginx:1", "--error", "x"}, want: "give a reference or --error, not both", code: exitUsage},
		{args: []string{"explain", "--demo", "!!!"}, want: "is not an image reference", code: exitUsage},
		{args: []string{"explain", "--error", "all is well"}, want: "does not recognise this message", code: exitUnrecognised},
		{args: []string{"setup", "--demo", "--upstream", "harbor", "--dry-run"}, want: `--upstream "harbor": one of docker-hub`, code: exitUsage},
		{args: []string{"setup", "--demo", "--upstream", "docker-hub", "--dry-run"}, want: "Docker Hub needs credentials", code: exitUsage},
		{args: []string{"setup", "--demo", "--upstream", "quay", "--prefix", "Bad", "--dry-run"}, want: "is not a valid prefix", code: exitUsage},
		{args: []string{"setup", "--demo", "--upstream", "quay", "--prefix", "q", "--dry-run"}, want: "2 to 30 characters", code: exitUsage},
		{args: []string{"setup", "--demo", "--upstream", "quay", "--prefix", "quay2", "--role-arn", "nope", "--dry-run"}, want: "is not an IAM role ARN", code: exitUsage},
		{args: []string{"setup", "--demo", "--upstream", "quay", "--prefix", "quay2", "--principal", "eks-node", "--dry-run"}, want: "is not an IAM role or user ARN", code: exitUsage},
		{args: []string{"setup", "--demo", "--upstream", "quay", "--prefix", "quay2", "--canary", "nope", "--dry-run"}, want: "--canary", code: exitUsage},
		{args: []string{"setup", "--demo", "--upstream", "quay", "--prefix", "quay2", "--upstream-prefix", "BAD", "--dry-run"}, want: "--upstream-prefix", code: exitUsage},
		{args: []string{"setup", "--demo", "--upstream", "ecr", "--dry-run"}, want: "--ecr-account (12 digits)", code: exitUsage},
		{args: []string{"setup", "--demo", "--upstream", "azure-container-registry", "--azure-registry", "X!", "--secret-arn", "arn:aws:secretsmanager:us-east-1:111122223333:secret:ecr-pullthroughcache/az-AbCdEf", "--dry-run"}, want: "--azure-registry", code: exitUsage},
		{args: []string{"setup", "--demo", "--upstream", "docker-hub", "--prefix", "hub2", "--secret-arn", "arn:aws:secretsmanager:us-east-1:111122223333:secret:dockerhub-AbCdEf", "--dry-run"}, want: "ECR only uses secrets named ecr-pullthroughcache/", code: exitUsage},
		{args: []string{"setup", "--demo", "--upstream", "quay", "--prefix", "quay2", "--template-lifecycle-days", "-3", "--dry-run"}, want: "lifecycle days", code: exitUsage},
		{args: []string{"setup", "--demo", "--upstream", "docker-hub", "--prefix", "hub2", "--username", "u", "--dry-run"}, want: "--username and --token-stdin go together", code: exitUsage},
		{args: []string{"setup", "--demo", "--upstream", "docker-hub", "--prefix", "hub2", "--secret-arn", "arn:aws:secretsmanager:us-east-1:111122223333:secret:ecr-pullthroughcache/gitlab-IisCjn", "--dry-run"}, want: "customer managed KMS key", code: exitUsage},
		{args: []string{"nosuchverb"}, want: "unknown command", code: exitUsage},
	}
	if len(cases) < 40 {
		t.Fatalf("only %d malformed inputs", len(cases))
	}
	for _, c := range cases {
		env := append(demoEnv(t), c.env...)
		out, code := runWithStdin(t, env, c.stdin, c.args...)
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("%q: exit %d, want %d with %q:\n%s", c.args, code, c.code, c.want, out)
		}
		if strings.Contains(out, "panic:") || strings.Contains(out, "goroutine ") {
			t.Errorf("%q panicked:\n%s", c.args, out)
		}
		if strings.ContainsRune(out, 0x1b) {
			t.Errorf("%q printed a raw escape sequence", c.args)
		}
	}
	t.Logf("%d malformed inputs, each refused with its message and exit code", len(cases))
}

// An upstream whose error messages carry terminal escape sequences: they reach the
// person inert, in the CLI's output.
func TestHostileUpstreamTextIsShownInert(t *testing.T) {
	hostile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"errors":[{"code":"UNKNOWN","message":"\u001b[2J\u001b[31mYOU HAVE BEEN OWNED\u0007"}]}`))
	}))
	defer hostile.Close()
	_, env := standIn(t, "demo")
	env = append(env, "XDG_CONFIG_HOME="+t.TempDir())
	out, _ := runCLI(t, env, "doctor", "--check", "stale-tag", "--resolve", "quay.io="+hostile.URL)
	if !strings.Contains(out, "YOU HAVE BEEN OWNED") {
		t.Fatalf("the hostile answer is not reported:\n%s", out)
	}
	if strings.ContainsRune(out, 0x1b) || strings.ContainsRune(out, 0x07) {
		t.Fatalf("a raw control character reached the terminal:\n%q", out)
	}
	if !strings.Contains(out, `\x1b[2J`) {
		t.Fatalf("the escape is not shown as text:\n%s", out)
	}
}

// Read-only mode, across the verbs that write: every write is refused before it is sent,
// and the stand-in's event log shows none.
func TestReadOnlyWritesNothing(t *testing.T) {
	srv, env := standIn(t, "demo")
	env = append(env, "XDG_CONFIG_HOME="+t.TempDir())
	refused := 0
	for _, args := range [][]string{
		{"doctor", "--read-only"},
		{"doctor", "--read-only", "--json", "--image", "redis:7.4"},
		{"explain", "--read-only", "nginx:1.27"},
		{"fix", "--read-only", "--dry-run"},
		{"fix", "--read-only", "--yes", "--destructive"},
		{"undo", "--read-only", "some-plan", "--yes"},
		{"setup", "--read-only", "--upstream", "ecr-public", "--prefix", "ecr2", "--yes"},
		{"journal", "--read-only"},
	} {
		out, _ := runCLI(t, env, args...)
		refused += strings.Count(out, "read-only mode")
	}
	for _, e := range srv.Events(0) {
		if e.Write {
			t.Fatalf("a write reached the stand-in in read-only mode: %+v", e)
		}
	}
	if refused == 0 {
		t.Fatal("no write was refused: the test did not try any")
	}
	t.Logf("%d writes refused in read-only mode, 0 reached the account", refused)
}
