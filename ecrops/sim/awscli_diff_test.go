package sim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
)

// A differential test: the commands of the API references' documented examples, run with
// the aws CLI (a client no one here wrote) against the stand-in, answer with the fields
// the examples show, and with no field the API model does not define for the operation;
// the errors the stand-in gives these commands are ones the model declares for them.
// The examples are botocore's examples-1.json (testdata/awsexamples/).
func TestAWSCLIAgreesWithDocumentedExamples(t *testing.T) {
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the aws CLI is not installed (pip install awscli); skipping the differential check against the documented examples")
	}
	t.Parallel() // the CLI takes seconds to start: overlap with the other CLI checks
	s := startYAML(t, `
repositories:
  - name: ubuntu
    images: [{tags: [precise]}]
    policy: '{"Version":"2008-10-17","Statement":[{"Sid":"new statement","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/CodeDeployDemo"},"Action":["ecr:GetDownloadUrlForLayer","ecr:BatchGetImage"]}]}'
`)
	cli := cliRunner(bin, s.srv.Info())
	models := map[string]*testModel{"secretsmanager": loadTestModel(t, "awsmodels/secretsmanager-service-2.json"),
		"ecr": loadTestModel(t, "awsmodels/ecr-service-2.json")}
	examples := map[string]map[string][]struct {
		Output map[string]any `json:"output"`
	}{}
	for _, svc := range []string{"secretsmanager", "ecr"} {
		raw, err := os.ReadFile("testdata/awsexamples/" + svc + "-examples-1.json")
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Examples map[string][]struct {
				Output map[string]any `json:"output"`
			} `json:"examples"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		examples[svc] = doc.Examples
	}

	// Fields of the examples that the stand-in leaves out on purpose, and why.
	notModelled := map[string]string{
		"RotationEnabled": "no rotation", "RotationLambdaARN": "no rotation", "RotationRules": "no rotation",
		"LastRotatedDate": "no rotation",
		"KmsKeyId":        "AWS omits it for the default aws/secretsmanager key, which these secrets use",
	}
	type command struct {
		svc, op string
		args    []string
	}
	// Rounds of commands that do not depend on each other run side by side: the CLI
	// takes seconds to start.
	rounds := [][]command{
		{
			{"secretsmanager", "CreateSecret", []string{"create-secret", "--name", "MyTestDatabaseSecret", "--description", "My test database secret created with the CLI",
				"--secret-string", `{"username":"david","password":"EXAMPLE-PASSWORD"}`, "--tags", "Key=FirstTag,Value=SomeValue", "Key=SecondTag,Value=AnotherValue"}},
			{"secretsmanager", "", []string{"create-secret", "--name", "ecr-pullthroughcache/x", "--secret-string", "a"}},
			{"ecr", "CreateRepository", []string{"create-repository", "--repository-name", "project-a/nginx-web-app"}},
			{"ecr", "ListImages", []string{"list-images", "--repository-name", "ubuntu"}},
			{"ecr", "BatchGetImage", []string{"batch-get-image", "--repository-name", "ubuntu", "--image-ids", "imageTag=precise"}},
			{"ecr", "GetRepositoryPolicy", []string{"get-repository-policy", "--repository-name", "ubuntu"}},
			{"ecr", "DescribeImages", []string{"describe-images", "--repository-name", "ubuntu"}},
		},
		{
			{"secretsmanager", "GetSecretValue", []string{"get-secret-value", "--secret-id", "MyTestDatabaseSecret"}},
			{"ecr", "DescribeRepositories", []string{"describe-repositories"}},
			{"ecr", "DeleteRepositoryPolicy", []string{"delete-repository-policy", "--repository-name", "ubuntu"}},
			{"ecr", "BatchDeleteImage", []string{"batch-delete-image", "--repository-name", "ubuntu", "--image-ids", "imageTag=precise"}},
		},
		{
			{"secretsmanager", "PutSecretValue", []string{"put-secret-value", "--secret-id", "MyTestDatabaseSecret", "--secret-string", `{"username":"david","password":"EXAMPLE-PASSWORD-2"}`}},
			{"secretsmanager", "DescribeSecret", []string{"describe-secret", "--secret-id", "MyTestDatabaseSecret"}},
			{"secretsmanager", "ListSecrets", []string{"list-secrets"}},
			{"ecr", "DeleteRepository", []string{"delete-repository", "--repository-name", "ubuntu", "--force"}},
		},
		{
			{"secretsmanager", "DeleteSecret", []string{"delete-secret", "--secret-id", "MyTestDatabaseSecret", "--recovery-window-in-days", "7"}},
		},
	}
	for _, round := range rounds {
		type answer struct {
			got    map[string]any
			stderr string
			code   int
		}
		answers := make([]answer, len(round))
		var wg sync.WaitGroup
		for i, c := range round {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, stderr, code := cli(append([]string{c.svc}, c.args...)...)
				answers[i] = answer{got, stderr, code}
			}()
		}
		wg.Wait()
		for i, tc := range round {
			got, stderr, code := answers[i].got, answers[i].stderr, answers[i].code
			if code != 0 {
				t.Errorf("aws %s %s: exit %d: %s", tc.svc, strings.Join(tc.args, " "), code, stderr)
				continue
			}
			if tc.op == "" {
				continue // setup for the errors below
			}
			// An operation without a documented example (DescribeImages) is held to the model only.
			var documented map[string]any
			if ex := examples[tc.svc][tc.op]; len(ex) > 0 {
				documented = ex[0].Output
			}
			have := fieldPaths(got, "")
			for _, f := range fieldPaths(documented, "") {
				if !contains(have, f) && !notModelledPath(f, notModelled) {
					t.Errorf("%s: the documented example has %s; the stand-in's answer lacks it (it has %v)", tc.op, f, have)
				}
			}
			for _, bad := range models[tc.svc].undefined(tc.op, got) {
				t.Errorf("%s: the stand-in answers %s, which the API model does not define for it", tc.op, bad)
			}
			if tc.op == "DescribeSecret" {
				// The example's LastAccessedDate is a midnight (1523923200): a date, not a time.
				if !isMidnight(got["LastAccessedDate"]) {
					t.Errorf("DescribeSecret: LastAccessedDate %v is not a date (midnight UTC) as in the documented example", got["LastAccessedDate"])
				}
			}
		}
	}

	// Errors: the code the CLI reports is one the model declares for the operation (or a
	// common error every AWS JSON service can answer).
	common := []string{"ValidationException", "AccessDeniedException", "ThrottlingException", "UnrecognizedClientException"}
	codeRE := regexp.MustCompile(`\(([A-Za-z]+)\) when calling the ([A-Za-z]+) operation`)
	errCases := []struct {
		svc, want string
		args      []string
	}{
		{"secretsmanager", "ResourceNotFoundException", []string{"describe-secret", "--secret-id", "absent"}},
		{"secretsmanager", "InvalidRequestException", []string{"get-secret-value", "--secret-id", "MyTestDatabaseSecret"}}, // marked for deletion above
		{"secretsmanager", "ResourceExistsException", []string{"create-secret", "--name", "ecr-pullthroughcache/x", "--secret-string", "a"}},
		{"secretsmanager", "ValidationException", []string{"list-secrets", "--sort-by", "size"}},
		{"secretsmanager", "InvalidParameterException", []string{"delete-secret", "--secret-id", "ecr-pullthroughcache/x", "--recovery-window-in-days", "3"}},
		{"ecr", "RepositoryNotFoundException", []string{"describe-images", "--repository-name", "absent"}},
		{"ecr", "RepositoryAlreadyExistsException", []string{"create-repository", "--repository-name", "project-a/nginx-web-app"}},
		{"ecr", "InvalidParameterException", []string{"describe-images", "--repository-name", "project-a/nginx-web-app", "--starting-token", "bm90LWEtdG9rZW4"}},
		{"ecr", "RepositoryPolicyNotFoundException", []string{"get-repository-policy", "--repository-name", "project-a/nginx-web-app"}},
	}
	stderrs := make([]string, len(errCases))
	codes := make([]int, len(errCases))
	var wg sync.WaitGroup
	for i, tc := range errCases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, stderrs[i], codes[i] = cli(append([]string{tc.svc}, tc.args...)...)
		}()
	}
	wg.Wait()
	for i, tc := range errCases {
		stderr, code := stderrs[i], codes[i]
		m := codeRE.FindStringSubmatch(stderr)
		if code == 0 || m == nil {
			t.Errorf("aws %s %s: exit %d, want %s: %s", tc.svc, strings.Join(tc.args, " "), code, tc.want, stderr)
			continue
		}
		if m[1] != tc.want {
			t.Errorf("aws %s %s: %s, want %s", tc.svc, strings.Join(tc.args, " "), m[1], tc.want)
		}
		if !contains(models[tc.svc].errors(m[2]), m[1]) && !contains(common, m[1]) {
			t.Errorf("%s answers %s, which the API model does not declare for it (%v)", m[2], m[1], models[tc.svc].errors(m[2]))
		}
	}
}

// notModelledPath reports whether a field path goes through a field left out on purpose.
func notModelledPath(path string, notModelled map[string]string) bool {
	for _, seg := range strings.FieldsFunc(path, func(r rune) bool { return r == '.' || r == '[' || r == ']' }) {
		if notModelled[seg] != "" {
			return true
		}
	}
	return false
}

// cliRunner runs the aws CLI against the stand-in, with nothing of the user's AWS setup.
// A CLI that could not run, or answered what is not JSON, comes back as code -1 with why.
func cliRunner(bin string, info sim.Info) func(args ...string) (map[string]any, string, int) {
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
	return func(args ...string) (map[string]any, string, int) {
		cmd := exec.Command(bin, append(args, "--output", "json")...)
		cmd.Env = env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			return nil, err.Error(), -1
		}
		var m map[string]any
		if out.Len() > 0 {
			if err := json.Unmarshal(out.Bytes(), &m); err != nil {
				return nil, fmt.Sprintf("not JSON: %v\n%s", err, out.String()), -1
			}
		}
		return m, errb.String(), code
	}
}

// mapFields have keys that are data (version ids), not field names.
var mapFields = map[string]bool{"SecretVersionsToStages": true, "VersionIdsToStages": true}

// fieldPaths lists the field paths of a JSON answer: "repository.repositoryArn",
// "SecretList[].Name". Lists contribute their elements' fields; maps of data stop.
func fieldPaths(v any, prefix string) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			p := strings.TrimPrefix(prefix+"."+k, ".")
			out = append(out, p)
			if !mapFields[k] {
				out = append(out, fieldPaths(val, p)...)
			}
		}
	case []any:
		for _, e := range x {
			for _, p := range fieldPaths(e, prefix+"[]") {
				if !contains(out, p) {
					out = append(out, p)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

func lastField(path string) string {
	return path[strings.LastIndexAny(path, ".]")+1:]
}

func isMidnight(v any) bool {
	switch x := v.(type) {
	case float64:
		return math.Mod(x, 86400) == 0
	case string:
		t, err := time.Parse(time.RFC3339, x)
		return err == nil && t.UTC().Equal(t.UTC().Truncate(24*time.Hour))
	}
	return false
}

// testModel is the part of a botocore API model this test reads: operations' output
// shapes and errors, and shapes' members. Read here, not through the stand-in's own
// model code, so that the two cannot share a mistake.
type testModel struct {
	Operations map[string]struct {
		Output *struct{ Shape string }
		Errors []struct{ Shape string }
	}
	Shapes map[string]struct {
		Type    string
		Members map[string]struct{ Shape string }
		Member  *struct{ Shape string }
		Value   *struct{ Shape string }
	}
}

func loadTestModel(t *testing.T, path string) *testModel {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m testModel
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

func (m *testModel) errors(op string) []string {
	var out []string
	for _, e := range m.Operations[op].Errors {
		out = append(out, e.Shape)
	}
	return out
}

// undefined lists the fields of an answer that the operation's output shape lacks.
func (m *testModel) undefined(op string, answer map[string]any) []string {
	o := m.Operations[op].Output
	if o == nil {
		return nil
	}
	var out []string
	var walk func(shape string, v any, path string)
	walk = func(shape string, v any, path string) {
		sh := m.Shapes[shape]
		switch sh.Type {
		case "structure":
			obj, _ := v.(map[string]any)
			for k, val := range obj {
				mem, ok := sh.Members[k]
				if !ok {
					out = append(out, strings.TrimPrefix(path+"."+k, "."))
					continue
				}
				walk(mem.Shape, val, strings.TrimPrefix(path+"."+k, "."))
			}
		case "list":
			list, _ := v.([]any)
			for _, e := range list {
				walk(sh.Member.Shape, e, path+"[]")
			}
		case "map":
			obj, _ := v.(map[string]any)
			for _, val := range obj {
				walk(sh.Value.Shape, val, path+"{}")
			}
		}
	}
	walk(o.Shape, answer, "")
	sort.Strings(out)
	return out
}
