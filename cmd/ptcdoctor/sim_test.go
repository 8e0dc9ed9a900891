package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds ptcdoctor once per test run, to be run as a person would run it.
func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ptcdoctor-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ptcdoctor")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = &buildError{err, string(out)}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

func TestSimPrintsItsJSONLineAndServes(t *testing.T) {
	cmd := exec.Command(binary(t), "sim", "--scenario", "demo")
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	var info map[string]any
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatalf("first line is not JSON: %q", line)
	}
	for _, k := range []string{"endpoint", "registry", "resolve", "region", "accountId", "accessKeyId", "secretAccessKey", "admin"} {
		if _, ok := info[k]; !ok {
			t.Errorf("the first line lacks %q: %s", k, line)
		}
	}
	client := ecr.New(ecr.Options{
		Region:       info["region"].(string),
		BaseEndpoint: aws.String(info["endpoint"].(string)),
		Credentials:  credentials.NewStaticCredentialsProvider(info["accessKeyId"].(string), info["secretAccessKey"].(string), ""),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := client.DescribePullThroughCacheRules(ctx, &ecr.DescribePullThroughCacheRulesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.PullThroughCacheRules) == 0 {
		t.Fatal("the demo scenario serves no rules")
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sim exited with %v on SIGTERM: %s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sim did not stop on SIGTERM")
	}
	if !strings.Contains(stderr.String(), "Press Ctrl-C to stop") {
		t.Fatalf("stderr: %s", stderr.String())
	}
}

func TestSimEnvLines(t *testing.T) {
	cmd := exec.Command(binary(t), "sim", "--scenario", "empty", "--env")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	r := bufio.NewReader(stdout)
	var lines []string
	for len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], "export PTCDOCTOR_SIM_ADMIN=") {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	all := strings.Join(lines, "")
	for _, want := range []string{"export AWS_ENDPOINT_URL='http://127.0.0.1:", "export AWS_ACCESS_KEY_ID='AKIAPTCDOCTORSIMADMIN'", "export AWS_REGION='us-east-1'", "export PTCDOCTOR_RESOLVE="} {
		if !strings.Contains(all, want) {
			t.Errorf("--env output lacks %q:\n%s", want, all)
		}
	}
	// A shell that points elsewhere (a service's own endpoint, the switch that ignores
	// configured endpoints, a profile with an endpoint_url) reaches only the stand-in
	// once the lines are sourced: doctor reads the stand-in's account.
	dir := t.TempDir()
	envFile, config := filepath.Join(dir, "sim.env"), filepath.Join(dir, "config")
	os.WriteFile(envFile, []byte(all), 0o600)
	os.WriteFile(config, []byte("[default]\nendpoint_url = http://127.0.0.1:9\nregion = eu-north-1\n[profile other]\nendpoint_url = http://127.0.0.1:9\n"), 0o600)
	elsewhere := "http://127.0.0.1:9" // the discard port: nothing answers
	sh := exec.Command("sh", "-c", `. "$1" && exec "$2" doctor --json`, "sh", envFile, binary(t))
	sh.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "XDG_CONFIG_HOME=" + dir, "XDG_STATE_HOME=" + dir,
		"AWS_ENDPOINT_URL_ECR=" + elsewhere, "AWS_ENDPOINT_URL_SECRETS_MANAGER=" + elsewhere, "AWS_ENDPOINT_URL_STS=" + elsewhere,
		"AWS_ENDPOINT_URL_IAM=" + elsewhere, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true", "AWS_CONFIG_FILE=" + config, "AWS_PROFILE=other",
		"AWS_SESSION_TOKEN=stale"}
	out, err := sh.CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"account": "111122223333"`) {
		t.Fatalf("doctor after sourcing --env in a shell that points elsewhere (%v):\n%s\n%s", err, all, out)
	}
}

func TestSimUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sim", "--scenario", "nope"}, "not one of the embedded scenarios (demo, empty)"},
		{[]string{"sim", "--addr", "nonsense"}, "--addr"},
		{[]string{"sim", "--frobnicate"}, "unknown flag"},
		{[]string{"sim", "extra"}, "unknown command"},
		{[]string{"nosuchverb"}, "unknown command"},
	} {
		cmd := exec.Command(binary(t), tc.args...)
		out, err := cmd.CombinedOutput()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != exitUsage || !strings.Contains(string(out), tc.want) {
			t.Errorf("%v: exit %v, output %q; want exit 2 with %q", tc.args, err, out, tc.want)
		}
	}
}

func TestSimRejectsABadScenarioFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(path, []byte("account: {id: \"12\"}\nrules: [{prefix: hub, upstream: dockerhub}]\n"), 0o600)
	out, err := exec.Command(binary(t), "sim", "--scenario", path).CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != exitUsage {
		t.Fatalf("exit %v: %s", err, out)
	}
	for _, want := range []string{"account.id \"12\"", "rules[0].upstream \"dockerhub\""} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q: %s", want, out)
		}
	}
}
