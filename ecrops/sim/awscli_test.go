package sim_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The aws CLI is a client no one here wrote, with its own signer, serializers and
// paginators: if it and the Go SDK both work, the wire is right and not merely agreed.
func TestAWSCLIAgainstTheStandIn(t *testing.T) {
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the aws CLI is not installed (pip install awscli); skipping the independent-client check")
	}
	s := startScenario(t, "demo")
	info := s.srv.Info()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"AWS_ENDPOINT_URL="+info.Endpoint, "AWS_ACCESS_KEY_ID="+info.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+info.SecretAccessKey, "AWS_DEFAULT_REGION="+info.Region, "AWS_REGION="+info.Region,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1")
	aws := func(args ...string) (map[string]any, string, int) {
		t.Helper()
		cmd := exec.Command(bin, append(args, "--output", "json")...)
		cmd.Env = env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if out.Len() > 0 {
			if err := json.Unmarshal(out.Bytes(), &m); err != nil {
				t.Fatalf("aws %v: %v\n%s", args, err, out.String())
			}
		}
		return m, errb.String(), code
	}
	ok := func(args ...string) map[string]any {
		t.Helper()
		m, stderr, code := aws(args...)
		if code != 0 {
			t.Fatalf("aws %s: exit %d: %s", strings.Join(args, " "), code, stderr)
		}
		return m
	}

	if id := ok("sts", "get-caller-identity"); id["Arn"] != "arn:aws:iam::111122223333:user/admin" {
		t.Fatalf("caller: %v", id)
	}
	// The CLI's own paginator follows nextToken across pages of one.
	rules := ok("ecr", "describe-pull-through-cache-rules", "--page-size", "1")["pullThroughCacheRules"].([]any)
	if len(rules) != 6 {
		t.Fatalf("%d rules through the CLI paginator", len(rules))
	}
	ok("ecr", "create-pull-through-cache-rule", "--ecr-repository-prefix", "k8s-2", "--upstream-registry-url", "registry.k8s.io")
	v := ok("ecr", "validate-pull-through-cache-rule", "--ecr-repository-prefix", "github")
	if v["isValid"] != false || !strings.Contains(v["failure"].(string), "expired") {
		t.Fatalf("validate: %v", v)
	}
	ok("ecr", "create-repository-creation-template", "--prefix", "quay", "--applied-for", "PULL_THROUGH_CACHE",
		"--image-tag-mutability", "MUTABLE")
	imgs := ok("ecr", "describe-images", "--repository-name", "docker-hub/library/nginx", "--filter", "tagStatus=TAGGED")["imageDetails"].([]any)
	if len(imgs) != 2 {
		t.Fatalf("%d tagged images", len(imgs))
	}
	if _, ok := imgs[0].(map[string]any)["imagePushedAt"].(float64); !ok {
		t.Fatalf("imagePushedAt is not epoch seconds: %v", imgs[0])
	}
	tok := ok("ecr", "get-authorization-token")["authorizationData"].([]any)[0].(map[string]any)
	if tok["proxyEndpoint"] != info.Registry {
		t.Fatalf("proxyEndpoint %v", tok["proxyEndpoint"])
	}

	ok("secretsmanager", "create-secret", "--name", "ecr-pullthroughcache/quay", "--secret-string", `{"username":"u","accessToken":"t"}`)
	if got := ok("secretsmanager", "get-secret-value", "--secret-id", "ecr-pullthroughcache/quay")["SecretString"]; got != `{"username":"u","accessToken":"t"}` {
		t.Fatalf("secret value %v", got)
	}
	secrets := ok("secretsmanager", "list-secrets", "--filters", "Key=name,Values=ecr-pullthroughcache/g")["SecretList"].([]any)
	if len(secrets) != 2 {
		t.Fatalf("%d secrets", len(secrets))
	}
	simr := ok("iam", "simulate-principal-policy", "--policy-source-arn", "arn:aws:iam::111122223333:role/eks-node",
		"--action-names", "ecr:BatchImportUpstreamImage", "ecr:BatchGetImage")["EvaluationResults"].([]any)
	if simr[0].(map[string]any)["EvalDecision"] != "implicitDeny" || simr[1].(map[string]any)["EvalDecision"] != "allowed" {
		t.Fatalf("simulation: %v", simr)
	}

	// Errors reach the CLI with AWS's names and messages.
	_, stderr, code := aws("ecr", "describe-repositories", "--repository-names", "absent/repo")
	if code == 0 || !strings.Contains(stderr, "(RepositoryNotFoundException)") || !strings.Contains(stderr, "'absent/repo' does not exist") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	_, stderr, code = aws("ecr", "create-pull-through-cache-rule", "--ecr-repository-prefix", "hub2", "--upstream-registry-url", "registry-1.docker.io")
	if code == 0 || !strings.Contains(stderr, "(UnsupportedUpstreamRegistryException)") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	_, stderr, code = aws("sts", "get-caller-identity", "--region", info.Region) // sanity: still fine
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}
