package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
)

// A principal denied some actions, for the scenarios that need one.
const deniedKey, deniedSecret = "AKIAPTCDOCTORSIMDENY0", "ptcdoctor-sim-deny-secret-access-key"

// failingStandIn starts the demo account with faults in force, or with the binary
// calling as a principal denied some actions; the environment carries the demo's
// watch list.
func failingStandIn(t *testing.T, faults string, deny []string) (*sim.Server, []string) {
	t.Helper()
	sc, err := sim.LoadScenario("demo")
	if err != nil {
		t.Fatal(err)
	}
	if len(deny) > 0 {
		sc.Principals = append(sc.Principals, sim.Principal{Name: "restricted", Kind: "user", AccessKeyID: deniedKey, SecretAccessKey: deniedSecret,
			Allow: []string{"*"}, Deny: deny})
	}
	srv := simtest.StartScenario(t, sc)
	env := envFor(t, srv)
	if len(deny) > 0 {
		env = append(env, "AWS_ACCESS_KEY_ID="+deniedKey, "AWS_SECRET_ACCESS_KEY="+deniedSecret)
	}
	if faults != "" {
		putFaults(t, srv, faults)
		// The SDK's own setting: two attempts, so that a fault outlasts the retries
		// without the adaptive mode's pauses.
		env = append(env, "AWS_MAX_ATTEMPTS=2")
	}
	return srv, env
}

// envFor points the binary at a running stand-in, with the demo's watch list.
func envFor(t *testing.T, srv *sim.Server) []string {
	info := srv.Info()
	var resolve []string
	for h, u := range info.Resolve {
		resolve = append(resolve, h+"="+u)
	}
	cfg := t.TempDir()
	os.MkdirAll(filepath.Join(cfg, "ptcdoctor"), 0o700)
	os.WriteFile(filepath.Join(cfg, "ptcdoctor", "config.yaml"), demoConfig, 0o600)
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "XDG_STATE_HOME=" + t.TempDir(), "XDG_CONFIG_HOME=" + cfg,
		"AWS_ENDPOINT_URL=" + info.Endpoint, "AWS_REGION=" + info.Region, "AWS_ACCESS_KEY_ID=" + info.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + info.SecretAccessKey, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"PTCDOCTOR_RESOLVE=" + strings.Join(resolve, ","), "NO_COLOR=1"}
}

func putFaults(t *testing.T, srv *sim.Server, body string) {
	t.Helper()
	method := http.MethodPut
	if body == "" {
		method = http.MethodDelete
	}
	resp, err := simtest.AdminRequest(srv, method, "faults", body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("faults: %v %v", err, resp)
	}
	resp.Body.Close()
}

// report runs doctor --json and decodes its report.
func report(t *testing.T, env []string, args ...string) (diagnose.Report, int) {
	t.Helper()
	out, code := runCLI(t, env, append([]string{"doctor", "--json"}, args...)...)
	var r diagnose.Report
	if i := strings.Index(out, "{"); i < 0 || json.Unmarshal([]byte(out[i:]), &r) != nil {
		t.Fatalf("doctor --json (exit %d):\n%s", code, out)
	}
	return r, code
}

// contents lists the repositories and templates of the stand-in's account, as its admin.
func contents(t *testing.T, srv *sim.Server) map[string]bool {
	t.Helper()
	info := srv.Info()
	acc, err := ecrops.Open(context.Background(), ecrops.Config{Region: info.Region, EndpointURL: info.Endpoint, StateDir: t.TempDir(),
		Credentials: credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := acc.Scan(context.Background(), ecrops.Scope{}, nil)
	if err != nil || len(snap.Errors) > 0 {
		t.Fatalf("%v %v", err, snap.Errors)
	}
	out := map[string]bool{}
	for _, r := range snap.Repositories {
		out["repository "+r.Name] = true
	}
	for _, tp := range snap.Templates {
		out["template "+tp.Prefix] = true
	}
	return out
}

// The reproduction, and the same for each operation of the scan and the probes:
// with one of them failing at 100% (denied to the caller; a server error where the deny
// cannot say it), doctor invents no finding, names what it could not check and exits 3;
// fix --yes --destructive deletes nothing the complete diagnosis would not, and exits 3.
// (diagnose's TestAFailedReadIsNotCheckedNeverAFinding adds throttling and 5xx for each,
// in-process, where the retries need not wait.)
func TestAFailedReadNeverBecomesADeletion(t *testing.T) {
	srv, env := failingStandIn(t, "", nil)
	clean, code := report(t, env)
	if code != exitFindings || !clean.Complete {
		t.Fatalf("the demo (exit %d, complete %v): %+v", code, clean.Complete, clean.NotChecked)
	}
	initial := contents(t, srv)
	mayDelete := map[string]bool{}
	cleanIDs := map[string]bool{}
	for _, f := range clean.Findings {
		cleanIDs[f.ID] = true
		for _, fx := range f.Fixes {
			for _, s := range fx.Steps {
				for _, target := range s.Targets {
					switch s.Kind {
					case "delete-repository", "delete-empty-repository":
						mayDelete["repository "+target] = true
					case "delete-template":
						mayDelete["template "+target] = true
					}
				}
			}
		}
	}
	cases := []struct {
		name   string
		faults string
		deny   []string
	}{
		{"DescribePullThroughCacheRules 5xx", `[{"operation":"DescribePullThroughCacheRules","errorRate":1}]`, nil},
		{"DescribePullThroughCacheRules denied", "", []string{"ecr:DescribePullThroughCacheRules"}},
		{"an emulator answering 500 to every pull-through-cache call", `[{"operation":"DescribePullThroughCacheRules","errorRate":1},{"operation":"ValidatePullThroughCacheRule","errorRate":1}]`, nil},
		{"DescribeRepositoryCreationTemplates denied", "", []string{"ecr:DescribeRepositoryCreationTemplates"}},
		{"GetRegistryPolicy denied", "", []string{"ecr:GetRegistryPolicy"}},
		{"DescribeRepositories denied", "", []string{"ecr:DescribeRepositories"}},
		{"DescribeImages denied", "", []string{"ecr:DescribeImages"}},
		{"GetLifecyclePolicy denied", "", []string{"ecr:GetLifecyclePolicy"}},
		{"BatchGetImage denied", "", []string{"ecr:BatchGetImage"}},
		{"ValidatePullThroughCacheRule denied", "", []string{"ecr:ValidatePullThroughCacheRule"}},
		{"DescribeSecret denied", "", []string{"secretsmanager:DescribeSecret"}},
		{"GetSecretValue denied", "", []string{"secretsmanager:GetSecretValue"}},
		{"SimulatePrincipalPolicy denied", "", []string{"iam:SimulatePrincipalPolicy"}},
		{"Docker Hub answers 503", `[{"operation":"upstream:registry-1.docker.io","errorRate":1}]`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // most of the time is the SDK's backoff, not work
			srv, env := failingStandIn(t, c.faults, c.deny)
			r, code := report(t, env)
			if code != exitScan || r.Complete || len(r.NotChecked)+len(r.Errors) == 0 {
				t.Fatalf("doctor: exit %d, complete %v, not checked %+v, errors %+v", code, r.Complete, r.NotChecked, r.Errors)
			}
			for _, f := range r.Findings {
				if f.Check == "permissions" && strings.HasSuffix(f.Subject.Name, "user/restricted") {
					continue // the denied caller is not the demo's: what it lacks is true, and new
				}
				if !cleanIDs[f.ID] {
					t.Errorf("invented: [%s] %s", f.Check, f.Title)
				}
			}
			out, code := runCLI(t, env, "fix", "--yes", "--destructive")
			if code != exitScan {
				t.Errorf("fix --yes --destructive: exit %d:\n%s", code, out)
			}
			putFaults(t, srv, "")
			after := contents(t, srv)
			var gone []string
			for k := range initial {
				if !after[k] && !mayDelete[k] {
					gone = append(gone, k)
				}
			}
			sort.Strings(gone)
			if len(gone) > 0 {
				t.Fatalf("fix deleted what the complete diagnosis would not: %v\n%s", gone, out)
			}
		})
	}
}

// A principal that may read nothing: doctor says what it could not read and exits 3,
// never "No findings." with 0.
func TestNothingReadableIsNotAHealthyAccount(t *testing.T) {
	_, env := failingStandIn(t, "", []string{"ecr:*", "secretsmanager:*", "iam:*"})
	out, code := runCLI(t, env, "doctor")
	if code != exitScan || strings.Contains(out, "No findings.") || !strings.Contains(out, "NOT CHECKED") || !strings.Contains(out, "INCOMPLETE") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// `doctor --check X` prints, for each fix, a command that plans exactly that fix: the
// finding's id with the filter. A number with a filter is refused, saying to use the id.
func TestTheFixCommandDoctorPrintsPlansThatFinding(t *testing.T) {
	_, env := failingStandIn(t, "", nil)
	all, _ := report(t, env)
	filtered, _ := report(t, env, "--check", "name-mismatch")
	ids := map[string]string{}
	for _, f := range all.Findings {
		ids[f.ID] = f.Key
	}
	if len(filtered.Findings) < 2 || all.Findings[0].ID == filtered.Findings[0].ID {
		t.Fatalf("the demo no longer shows the trap (finding 1 differs with the filter): %d name-mismatch findings", len(filtered.Findings))
	}
	for _, f := range filtered.Findings {
		if ids[f.ID] != f.Key {
			t.Fatalf("the id of %s changed with the filter", f.Key)
		}
	}
	text, _ := runCLI(t, env, "doctor", "--check", "name-mismatch")
	for _, f := range filtered.Findings {
		if len(f.Fixes) == 0 || len(f.Fixes[0].Steps) == 0 {
			continue
		}
		line := ""
		for _, l := range strings.Split(text, "\n") {
			if strings.Contains(l, "ptcdoctor fix --finding "+f.ID+" --fix 1") {
				line = l
			}
		}
		if line == "" {
			t.Fatalf("doctor printed no fix command for %s:\n%s", f.ID, text)
		}
		cmdline := line[strings.Index(line, "ptcdoctor fix")+len("ptcdoctor "):]
		out, code := runCLI(t, env, strings.Fields(cmdline)...)
		if code != 0 {
			t.Fatalf("%s: exit %d:\n%s", cmdline, code, out)
		}
		if !strings.Contains(flat(out), "["+f.ID+"] "+flat(f.Title)) || strings.Count(out, "\n[") != 1 {
			t.Fatalf("%s planned something else:\n%s", cmdline, out)
		}
		for _, g := range f.Fixes[0].Steps {
			for _, s := range g.Expand() {
				if !strings.Contains(out, s.Operation) || !strings.Contains(out, s.Targets[0]) {
					t.Fatalf("%s: the plan lacks %s %s:\n%s", cmdline, s.Operation, s.Targets[0], out)
				}
			}
		}
		return
	}
	t.Fatal("no name-mismatch finding with a plan")
}

func TestAFindingNumberWithAFilterIsRefused(t *testing.T) {
	out, code := runCLI(t, demoEnv(t), "fix", "--demo", "--check", "name-mismatch", "--finding", "1", "--dry-run")
	if code != exitUsage || !strings.Contains(out, "give the finding's id") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// explain with the rules unread, or the upstream unreachable from this machine, says what
// it could not check and exits 3, instead of "no rule covers" or "the pull fails".
func TestExplainSaysWhatItCouldNotCheck(t *testing.T) {
	_, env := failingStandIn(t, "", []string{"ecr:DescribePullThroughCacheRules"})
	for _, ref := range []string{"nginx:1.27", "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:latest"} {
		out, code := runCLI(t, env, "explain", ref)
		if code != exitScan || !strings.Contains(out, "NOT CHECKED") && !strings.Contains(out, "[ ?? ]") || strings.Contains(out, "No rule covers") {
			t.Errorf("explain %s with the rules denied: exit %d:\n%s", ref, code, out)
		}
	}
	_, env = failingStandIn(t, `[{"operation":"upstream:registry-1.docker.io","errorRate":1}]`, nil)
	out, code := runCLI(t, env, "explain", "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:latest")
	if code != exitScan || !strings.Contains(out, "[ ?? ] upstream has it") {
		t.Errorf("explain with Docker Hub answering 503: exit %d:\n%s", code, out)
	}
}

// A part of the scan that could not be read leaves the report incomplete whatever checks
// were asked for: rule-quota needs no validation, yet the scan missed one.
func TestAnUnreadPartIsIncompleteWhateverTheFilter(t *testing.T) {
	_, env := failingStandIn(t, "", []string{"ecr:ValidatePullThroughCacheRule"})
	r, code := report(t, env, "--check", "rule-quota")
	if code != exitScan || r.Complete || len(r.Errors) == 0 || r.Errors[0].Operation != "ValidatePullThroughCacheRule" {
		t.Fatalf("exit %d, complete %v, errors %+v", code, r.Complete, r.Errors)
	}
}

// The fix command doctor prints names the account doctor read: run as printed, it must
// not fall back to the default profile or a real account (the demo's --demo, a --region,
// an --endpoint-url given on the command line).
func TestThePrintedFixCommandNamesTheAccount(t *testing.T) {
	fixLine := func(out string) string {
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "ptcdoctor fix --finding ") {
				return l
			}
		}
		return ""
	}
	out, _ := runCLI(t, demoEnv(t), "doctor", "--demo", "--check", "name-mismatch")
	if !strings.Contains(fixLine(out), " --demo ") {
		t.Fatalf("with --demo, the printed fix lacks --demo:\n%s", out)
	}
	_, env := failingStandIn(t, "", nil)
	out, _ = runCLI(t, env, "doctor", "--region", "us-east-1", "--check", "name-mismatch")
	if !strings.Contains(fixLine(out), " --region us-east-1 ") {
		t.Fatalf("with --region, the printed fix lacks it:\n%s", out)
	}
}
