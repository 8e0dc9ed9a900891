package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
)

// tableChecks are the check ids the table names; the demo must show each.
var tableChecks = []string{"upstream-rate-limit", "name-mismatch", "negative-cache", "missing-manifest", "credentials",
	"permissions", "creation-template", "stale-tag", "no-lifecycle", "orphan-repository"}

func demoEnv(t *testing.T) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "XDG_STATE_HOME=" + t.TempDir(), "XDG_CONFIG_HOME=" + t.TempDir(), "NO_COLOR=1"}
}

func TestDoctorDemoJSONFindsEveryCheck(t *testing.T) {
	out, code := runCLI(t, demoEnv(t), "doctor", "--demo", "--json", "--stats")
	if code != exitFindings {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	var r diagnose.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	seen := map[string]bool{}
	for _, f := range r.Findings {
		seen[f.Check] = true
		if len(f.Evidence) == 0 {
			t.Errorf("finding %s (%s) has no evidence", f.ID, f.Check)
		}
	}
	for _, c := range tableChecks {
		if !seen[c] {
			t.Errorf("doctor --demo found no %s", c)
		}
	}
	if r.Stats == nil || r.Stats.Calls["DescribeImages"] == 0 || r.Stats.SecondsToComplete <= 0 {
		t.Fatalf("stats: %+v", r.Stats)
	}
}

func TestDoctorOutputsAndScopes(t *testing.T) {
	env := demoEnv(t)
	out, code := runCLI(t, env, "doctor", "--demo")
	if code != exitFindings || !strings.Contains(out, "errors,") || !strings.Contains(out, "ptcdoctor fix --finding") {
		t.Fatalf("text (exit %d):\n%s", code, out)
	}
	out, _ = runCLI(t, env, "doctor", "--demo", "--markdown")
	if !strings.HasPrefix(out, "# ptcdoctor report:") {
		t.Fatalf("markdown:\n%s", out)
	}
	out, code = runCLI(t, env, "doctor", "--demo", "--check", "no-lifecycle", "--json")
	var r diagnose.Report
	json.Unmarshal([]byte(out), &r)
	if code != 0 || len(r.Findings) == 0 {
		t.Fatalf("--check no-lifecycle (exit %d): %+v", code, r.Findings)
	}
	for _, f := range r.Findings {
		if f.Check != "no-lifecycle" {
			t.Fatalf("--check let %s through", f.Check)
		}
	}
	out, code = runCLI(t, env, "doctor", "--list-checks")
	if code != 0 || !strings.Contains(out, "orphan-repository") || !strings.Contains(out, "stale-tag") {
		t.Fatalf("--list-checks (exit %d):\n%s", code, out)
	}
	// References from a Kubernetes manifest.
	manifest := filepath.Join(t.TempDir(), "pods.json")
	os.WriteFile(manifest, []byte(`{"items":[{"spec":{"containers":[{"name":"web","image":"111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/redis:7.4"}]}}]}`), 0o600)
	out, _ = runCLI(t, env, "doctor", "--demo", "--images-file", manifest, "--check", "negative-cache", "--json")
	if !strings.Contains(out, "docker-hub/library/redis:7.4") {
		t.Fatalf("--images-file:\n%s", out)
	}
	for _, bad := range [][]string{{"doctor", "--demo", "--check", "nope"}, {"doctor", "--demo", "--image", "UPPER/Case:1"},
		{"doctor", "--demo", "--json", "--markdown"}, {"doctor", "--demo", "--images-file", "/no/such/file"}} {
		if out, code := runCLI(t, env, bad...); code != exitUsage {
			t.Errorf("%v: exit %d:\n%s", bad, code, out)
		}
	}
}

func TestExplainDemoEndsInTheLibraryFix(t *testing.T) {
	out, code := runCLI(t, demoEnv(t), "explain", "--demo", "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/nginx:latest")
	if code != exitFindings {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if !strings.Contains(flat(out), "Fix 1: Pull 111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:latest instead") || !strings.Contains(out, "[FAIL] upstream reference") {
		t.Fatalf("explain:\n%s", out)
	}
	// A line without a reference: the causes it allows, and what would settle it.
	out, code = runCLI(t, demoEnv(t), "explain", "--error", "manifest unknown: Requested image not found")
	if code != 0 || !strings.Contains(out, "BatchImportUpstreamImage") || !strings.Contains(flat(out), "Would settle it: the image reference") {
		t.Fatalf("explain --error (exit %d):\n%s", code, out)
	}
	// With the reference, against the demo (whose node role cannot import), the chain settles it.
	out, code = runCLI(t, demoEnv(t), "explain", "--demo", "--error",
		`Failed to pull image "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/redis:7.4": rpc error: code = NotFound desc = failed to resolve reference "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/redis:7.4": not found`)
	// A cause the chain confirms is a finding on the account: exit 1, as explain REF.
	if code != exitFindings || !strings.Contains(flat(out), "(missing-import-permission; check permissions; confirmed by the chain)") || !strings.Contains(flat(out), "to arn:aws:iam::111122223333:role/eks-node") {
		t.Fatalf("explain --error against the demo (exit %d):\n%s", code, out)
	}
	// --line-only never reads the account.
	out, code = runCLI(t, demoEnv(t), "explain", "--demo", "--line-only", "--error",
		`failed to resolve reference "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/redis:7.4": not found`)
	if code != 0 || strings.Contains(out, "[ ok ]") || !strings.Contains(flat(out), "Would settle it: the account") {
		t.Fatalf("explain --error --line-only (exit %d):\n%s", code, out)
	}
	if _, code := runCLI(t, demoEnv(t), "explain"); code != exitUsage {
		t.Fatalf("explain without a reference: exit %d", code)
	}
}

// The line narrows the causes; the chain confirms one of them or none. A 429 through the
// cache is the pull budget, whatever else fails on the demo's chain (the node role cannot
// import, the index lacks arm64): those are shown as also failing, never as the cause,
// and their fixes are not this line's. Read from the line alone, it exits 0.
func TestExplainErrorKeepsToTheLinesCauses(t *testing.T) {
	out, code := runCLI(t, demoEnv(t), "explain", "--demo", "--principal", "arn:aws:iam::111122223333:role/eks-node", "--error",
		`Failed to pull image "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:1.27": rpc error: code = Unknown desc = failed to pull and unpack image "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:1.27": failed to copy: httpReadSeeker: failed open: unexpected status code https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2/docker-hub/library/nginx/manifests/sha256:abc: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit.`)
	if code != 0 || !strings.Contains(flat(out), "(pull-budget-spent; check upstream-rate-limit; read from the line)") ||
		!strings.Contains(flat(out), "Also failing (not this line's cause): permissions of") || strings.Contains(out, "Fix 1:") {
		t.Fatalf("a 429 through the cache (exit %d):\n%s", code, out)
	}
	// The exit codes are documented where a user looks.
	if help, _ := runCLI(t, demoEnv(t), "explain", "--help"); !strings.Contains(flat(help), "4 when the message is not one ptcdoctor recognises") {
		t.Errorf("explain --help does not document the exit codes:\n%s", help)
	}
	// A back-off alone: the first error holds the cause.
	out, code = runCLI(t, demoEnv(t), "explain", "--demo", "--error", "Warning  Failed  3m  kubelet  Error: ImagePullBackOff")
	if code != 0 || !strings.Contains(flat(out), "(back-off;") || !strings.Contains(flat(out), "ErrImagePull") {
		t.Fatalf("a back-off alone (exit %d):\n%s", code, out)
	}
}

// Against a stand-in that keeps its state between runs, fix --yes followed by doctor
// shows the fixable findings gone.
func TestFixThenDoctor(t *testing.T) {
	srv, env := standIn(t, "demo")
	env = append(env, "XDG_CONFIG_HOME="+t.TempDir())
	cfg := filepath.Join(envValue(env, "XDG_CONFIG_HOME"), "ptcdoctor")
	os.MkdirAll(cfg, 0o700)
	os.WriteFile(filepath.Join(cfg, "config.yaml"), demoConfig, 0o600)

	before := findings(t, env)
	out, code := runCLI(t, env, "fix", "--dry-run")
	if code != 0 || !strings.Contains(out, "ecr:PutRegistryPolicy") || srv.Events(0) == nil {
		t.Fatalf("dry run (exit %d):\n%s", code, out)
	}
	writes := 0
	for _, e := range srv.Events(0) {
		if e.Write {
			writes++
		}
	}
	if writes != 0 {
		t.Fatalf("--dry-run wrote %d times", writes)
	}
	out, _ = runCLI(t, env, "fix", "--yes", "--destructive")
	if !strings.Contains(out, "After the fixes:") || !strings.Contains(out, "fixed:") {
		t.Fatalf("fix --yes:\n%s", out)
	}
	after := findings(t, env)
	for _, check := range []string{"name-mismatch", "permissions", "negative-cache", "missing-manifest", "creation-template", "stale-tag", "no-lifecycle", "orphan-repository"} {
		for _, f := range before[check] {
			if f.Subject.Kind == "reference" && check == "name-mismatch" {
				continue // a reference with a wrong prefix is fixed by changing the reference
			}
			if f.Fixes[0].Manual != "" && len(f.Fixes[0].Steps) == 0 {
				continue
			}
			for _, g := range after[check] {
				if g.Subject == f.Subject && (check != "permissions" || g.Title == f.Title) {
					t.Errorf("%s %s still there after fix: %s", check, f.Subject.Name, g.Title)
				}
			}
		}
	}
	// What needs a person's secret is still there, and says so.
	if len(after["credentials"]) == 0 {
		t.Error("the credentials findings went away without new credentials")
	}
}

func findings(t *testing.T, env []string) map[string][]diagnose.ReportFinding {
	t.Helper()
	out, _ := runCLI(t, env, "doctor", "--json")
	var r diagnose.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	m := map[string][]diagnose.ReportFinding{}
	for _, f := range r.Findings {
		m[f.Check] = append(m[f.Check], f)
	}
	return m
}

// The README says: against the stand-in, doctor --config cmd/ptcdoctor/demo-config.yaml
// finds the same findings as doctor --demo. Said without a number, which drifts.
func TestDemoConfigAgainstTheStandInFindsWhatDemoFinds(t *testing.T) {
	ids := func(out string) []string {
		var r diagnose.Report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		var out2 []string
		for _, f := range r.Findings {
			out2 = append(out2, f.ID)
		}
		return out2
	}
	demo, _ := runCLI(t, demoEnv(t), "doctor", "--demo", "--json")
	_, env := standIn(t, "demo")
	cfg, _ := filepath.Abs("demo-config.yaml")
	stand, _ := runCLI(t, env, "doctor", "--config", cfg, "--json")
	if a, b := ids(demo), ids(stand); strings.Join(a, " ") != strings.Join(b, " ") || len(a) == 0 {
		t.Fatalf("doctor --demo finds %v; against the stand-in with the demo config, %v", a, b)
	}
}

// decodeExplain reads explain's JSON, refusing fields the type does not have.
func decodeExplain(t *testing.T, out string) diagnose.ExplainReport {
	t.Helper()
	var r diagnose.ExplainReport
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	// After the document, only what went to stderr (the output is combined).
	rest := strings.TrimSpace(out[dec.InputOffset():])
	if r.SchemaVersion != diagnose.ExplainSchemaVersion || r.Tool != "ptcdoctor" || (rest != "" && !strings.HasPrefix(rest, "ptcdoctor: ")) {
		t.Fatalf("not one explain document:\n%s", out)
	}
	return r
}

// explain --json, for a reference and for a line: one document each, the exit status of
// the text, and each fix with the finding and the command that apply exactly it.
func TestExplainJSON(t *testing.T) {
	out, code := runCLI(t, demoEnv(t), "explain", "--demo", "--json", "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/nginx:latest")
	r := decodeExplain(t, out)
	if code != exitFindings || r.Kind != diagnose.ExplainKindReference || r.Error != nil || r.Reference == nil || r.Reference.RulePrefix != "docker-hub" || !r.Complete {
		t.Fatalf("explain REF --json (exit %d):\n%s", code, out)
	}
	failed := ""
	for _, l := range r.Chain {
		if l.Status == "failed" && failed == "" {
			failed = l.Link
		}
	}
	if failed != "upstream reference" || !strings.HasPrefix(r.Verdict, "The pull fails at \"upstream reference\"") {
		t.Errorf("chain: first failed %q, verdict %q", failed, r.Verdict)
	}
	if len(r.Fixes) == 0 || r.Fixes[0].Finding == "" || r.Fixes[0].Number != 1 ||
		r.Fixes[0].Apply != "ptcdoctor fix --finding "+r.Fixes[0].Finding+" --fix 1 --demo --image 111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/nginx:latest --dry-run" {
		t.Errorf("fixes: %+v", r.Fixes)
	}

	line := `failed to resolve reference "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/redis:7.4": not found`
	out, code = runCLI(t, demoEnv(t), "explain", "--demo", "--json", "--principal", "arn:aws:iam::111122223333:role/eks-node", "--error", line)
	r = decodeExplain(t, out)
	if code != exitFindings || r.Kind != diagnose.ExplainKindError || r.Error == nil || r.Error.Cause == nil || r.Error.Cause.ID != "missing-import-permission" ||
		!r.Error.Confirmed || r.Error.Line != line || len(r.Chain) == 0 || r.Account != "111122223333" || len(r.Fixes) == 0 || r.Fixes[0].Apply == "" {
		t.Fatalf("explain --error --json against the demo (exit %d):\n%s", code, out)
	}

	// From the line alone: the causes it allows, what would settle it, no account.
	out, code = runCLI(t, demoEnv(t), "explain", "--demo", "--json", "--line-only", "--error", line)
	r = decodeExplain(t, out)
	if code != 0 || r.Error.Cause != nil || len(r.Error.Candidates) < 2 || len(r.Error.Needs) == 0 || r.Account != "" || len(r.Chain) != 0 {
		t.Fatalf("--line-only --json (exit %d):\n%s", code, out)
	}
	// A message it does not know: still one document, and exit 4.
	out, code = runCLI(t, demoEnv(t), "explain", "--json", "--error", "everything is fine")
	if r = decodeExplain(t, out); code != exitUnrecognised || r.Error.Recognised {
		t.Fatalf("an unknown message --json (exit %d):\n%s", code, out)
	}
	if help, _ := runCLI(t, demoEnv(t), "explain", "--help"); !strings.Contains(help, "--json") || !strings.Contains(flat(help), "explain's JSON") {
		t.Errorf("explain --help does not document --json:\n%s", help)
	}
}

// Keys that cannot read the account: explain --json still prints one document, incomplete,
// naming what failed, and exits 3, for a reference and for a line alike.
func TestExplainJSONWhenTheAccountCannotBeRead(t *testing.T) {
	_, env := standIn(t, "demo")
	for i, kv := range env {
		if strings.HasPrefix(kv, "AWS_SECRET_ACCESS_KEY=") {
			env[i] = "AWS_SECRET_ACCESS_KEY=not-the-key"
		}
	}
	out, code := runCLI(t, env, "explain", "--json", "docker-hub/library/nginx:1.27")
	r := decodeExplain(t, out)
	if code != exitScan || r.Complete || len(r.Chain) != 1 || r.Chain[0].Status != diagnose.StatusNotChecked || !strings.Contains(r.Verdict, "could not be read") {
		t.Fatalf("explain REF --json, account unread (exit %d):\n%s", code, out)
	}
	out, code = runCLI(t, env, "explain", "--json", "--error", `failed to resolve reference "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/redis:7.4": not found`)
	r = decodeExplain(t, out)
	if code != exitScan || r.Complete || r.Error == nil || r.Error.AccountNotRead == "" || r.Error.Cause != nil {
		t.Fatalf("explain --error --json, account unread (exit %d):\n%s", code, out)
	}
}
