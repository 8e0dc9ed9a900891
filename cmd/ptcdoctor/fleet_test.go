package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
)

const crossAccountFleet = "../../testdata/fleet/cross-account.yaml"

// fleetEnv points the binary at a fleet stand-in, signed as its management account's admin.
func fleetEnv(t *testing.T, f *sim.Fleet) []string {
	info := f.Info()
	var resolve []string
	for h, u := range info.Resolve {
		resolve = append(resolve, h+"="+u)
	}
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "XDG_STATE_HOME=" + t.TempDir(), "XDG_CONFIG_HOME=" + t.TempDir(),
		"AWS_ENDPOINT_URL=" + info.Endpoint, "AWS_ACCESS_KEY_ID=" + info.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + info.SecretAccessKey, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"PTCDOCTOR_RESOLVE=" + strings.Join(resolve, ","), "NO_COLOR=1"}
}

// streamCLI runs the built binary with env and hands on its standard output line by
// line, as it is printed (the channel closes when the output ends); the process is
// killed when the test ends.
func streamCLI(t *testing.T, env []string, args ...string) <-chan string {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return lines
}

// writesIn counts the writes an account-region of the fleet took.
func writesIn(f *sim.Fleet, account, region string) int {
	n := 0
	for _, e := range f.Member(account, region).Events(0) {
		if e.Write && e.Outcome == "ok" {
			n++
		}
	}
	return n
}

// jsonOf decodes the JSON document in a combined output (stderr's progress line first).
func jsonOf(t *testing.T, out string, v any) {
	t.Helper()
	i := strings.Index(out, "{")
	if i < 0 || json.Unmarshal([]byte(out[i:]), v) != nil {
		t.Fatalf("no JSON in:\n%s", out)
	}
}

func TestDoctorOverAFleet(t *testing.T) {
	f := simtest.StartFleet(t, crossAccountFleet)
	env := fleetEnv(t, f)
	args := []string{"doctor", "--assume-role-arn", "arn:aws:iam::{account}:role/ptcdoctor-audit", "--organization", "--regions", "us-east-1,eu-west-1"}
	out, code := runCLI(t, env, append(args, "--json")...)
	if code != exitScan {
		t.Fatalf("exit %d, want 3 (a target failed):\n%s", code, out)
	}
	var r diagnose.FleetReport
	jsonOf(t, out, &r)
	if r.SchemaVersion != diagnose.FleetSchemaVersion || r.Kind != "fleet" || r.Complete || len(r.Targets) != 8 {
		t.Fatalf("report: version %d kind %q complete %v, %d targets", r.SchemaVersion, r.Kind, r.Complete, len(r.Targets))
	}
	states := map[string]string{}
	for _, tg := range r.Targets {
		states[tg.Account+" "+tg.Region] = tg.State
		if (tg.State == diagnose.TargetFailed) != (tg.Report == nil) {
			t.Errorf("%s: state %s with report %v", tg.Target, tg.State, tg.Report != nil)
		}
	}
	want := map[string]string{
		"111111111111 us-east-1": "complete", "111111111111 eu-west-1": "complete",
		"222222222222 us-east-1": "complete", "222222222222 eu-west-1": "complete", // enabled in every account: there, empty
		"444444444444 us-east-1": "failed", // its role does not trust the management account
	}
	for k, v := range want {
		if states[k] != v {
			t.Errorf("%s: %s, want %s (all: %v)", k, states[k], v, states)
		}
	}
	cross := map[string]int{}
	for _, f := range r.CrossAccount {
		cross[f.Check+" "+f.Subject.Name]++
	}
	if len(r.CrossAccount) != 3 || cross["fleet-ecr-upstream-policy 333333333333 us-east-1 central"] != 1 || cross["fleet-upstream-drift registry-1.docker.io"] != 2 {
		t.Fatalf("cross-account findings: %v", cross)
	}
	s := r.Summary
	if s.Targets != 8 || s.Failed != 2 || s.Complete != 6 {
		t.Fatalf("summary %+v", s)
	}
	for _, tg := range r.Targets {
		if tg.Account == "444444444444" && !strings.Contains(tg.Error, "AccessDenied") {
			t.Errorf("sandbox error: %q", tg.Error)
		}
	}

	out, code = runCLI(t, env, args...)
	if code != exitScan || !strings.Contains(out, "=== FLEET") || !strings.Contains(out, "8 account-regions: 6 complete, 0 incomplete, 2 failed") ||
		!strings.Contains(out, "FAILED  account 444444444444 (sandbox) us-east-1: cannot assume") {
		t.Fatalf("text (exit %d):\n%s", code, out)
	}
	// A fix command printed for a target names that target.
	if !strings.Contains(out, "--accounts 111111111111 --regions us-east-1 --dry-run") {
		t.Fatalf("no fix command naming its target:\n%s", out)
	}

	// The healthy targets alone: complete, and the exit code says what they hold.
	out, code = runCLI(t, env, "doctor", "--assume-role-arn", "arn:aws:iam::{account}:role/ptcdoctor-audit", "--accounts", "222222222222,333333333333", "--regions", "us-east-1", "--json")
	jsonOf(t, out, &r)
	if !r.Complete || (code == exitScan) || len(r.Targets) != 2 {
		t.Fatalf("exit %d, complete %v:\n%s", code, r.Complete, out)
	}
}

func TestFleetUsageErrors(t *testing.T) {
	f := simtest.StartFleet(t, crossAccountFleet)
	env := fleetEnv(t, f)
	for _, args := range [][]string{
		{"doctor", "--accounts", "222222222222"},
		{"doctor", "--assume-role-arn", "arn:aws:iam::111111111111:role/x", "--accounts", "222222222222"},
		{"doctor", "--assume-role-arn", "arn:aws:iam::{account}:role/x", "--accounts", "12"},
		{"doctor", "--regions", "us-east-1,eu-west-1", "--markdown"},
		{"doctor", "--regions", "us-east-1,eu-west-1", "--region", "us-east-1"},
		{"explain", "--profile", "a", "--profile", "b", "nginx"},
		// One region in --regions is the region looked at: with --region too, refused.
		{"doctor", "--regions", "eu-west-1", "--region", "us-east-1"},
		{"fix", "--regions", "eu-west-1", "--region", "us-east-1", "--dry-run"},
		// Each target numbers its own findings: over a fleet, ids only.
		{"fix", "--assume-role-arn", "arn:aws:iam::{account}:role/ptcdoctor-audit", "--accounts", "222222222222,333333333333", "--regions", "us-east-1",
			"--finding", "1", "--dry-run"},
		{"fix", "--demo-fleet", "--finding", "1", "--dry-run"},
	} {
		if out, code := runCLI(t, env, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want 2:\n%s", args, code, out)
		}
	}
}

// The same fleet with every cross-account case put right: no cross-account finding, and a
// complete, clean fleet exits 0, also when the consuming accounts' node roles are named.
func TestDoctorOverAHealthyFleet(t *testing.T) {
	f := simtest.StartFleet(t, "../../testdata/fleet/healthy.yaml")
	for _, principals := range [][]string{nil, {"--principal", "arn:aws:iam::222222222222:role/eks-node", "--principal", "arn:aws:iam::333333333333:role/eks-node"}} {
		args := append([]string{"doctor", "--assume-role-arn", "arn:aws:iam::{account}:role/ptcdoctor-audit", "--accounts", "111111111111,222222222222,333333333333,444444444444",
			"--regions", "us-east-1", "--json"}, principals...)
		out, code := runCLI(t, fleetEnv(t, f), args...)
		var r diagnose.FleetReport
		jsonOf(t, out, &r)
		if code != exitOK || !r.Complete || len(r.CrossAccount) != 0 || r.Summary.Errors+r.Summary.Warnings != 0 || r.Summary.Complete != 4 {
			t.Fatalf("%v: exit %d:\n%s", principals, code, out)
		}
	}
}

// A consuming account's node role, named by --principal, against the central account's
// creation template, whose repository policy grants that account's CI role only: the
// cross-account check fires end to end, and the role, being team-a's, is not simulated
// in the other accounts (where IAM has no such role: "not checked" for nothing).
func TestFleetConsumerPullEndToEnd(t *testing.T) {
	f := simtest.StartFleet(t, crossAccountFleet)
	node := "arn:aws:iam::222222222222:role/eks-node"
	out, code := runCLI(t, fleetEnv(t, f), "doctor", "--assume-role-arn", "arn:aws:iam::{account}:role/ptcdoctor-audit", "--organization",
		"--regions", "us-east-1", "--principal", node, "--json")
	var r diagnose.FleetReport
	jsonOf(t, out, &r)
	if code != exitScan { // the sandbox cannot be assumed
		t.Fatalf("exit %d:\n%s", code, out)
	}
	consumer := map[string]diagnose.ReportFinding{}
	for _, fd := range r.CrossAccount {
		if fd.Check == "fleet-consumer-pull" && fd.Severity == "error" && strings.Contains(fd.Title, node) {
			consumer[fd.Subject.Kind+" "+fd.Subject.Name] = fd
		}
	}
	// The template (what new repositories get) and the repository cached already.
	if len(consumer) != 2 || consumer["template 111111111111 us-east-1 quay"].ID == "" ||
		!strings.Contains(consumer["repositories 111111111111 us-east-1 quay/"].Explanation, "quay/prometheus/node-exporter") {
		t.Fatalf("fleet-consumer-pull did not fire on the central quay template and repository: %+v", r.CrossAccount)
	}
	for _, tg := range r.Targets {
		if tg.State == diagnose.TargetIncomplete {
			t.Errorf("%s is incomplete (%s's role judged in another account?): %+v", tg.Target, node, tg.Report.NotChecked)
		}
	}
	out, _ = runCLI(t, fleetEnv(t, f), "doctor", "--assume-role-arn", "arn:aws:iam::{account}:role/ptcdoctor-audit", "--organization",
		"--regions", "us-east-1", "--principal", node)
	if !strings.Contains(out, "ERROR   fleet-consumer-pull  (template 111111111111 us-east-1 quay)") {
		t.Fatalf("the text report does not show the finding:\n%s", out)
	}
}

// Three accounts whose rules have no creation template; 333333333333's audit role may only read.
const templatelessFleet = `
name: templateless
organization: {managementAccount: "111111111111"}
accounts:
  - id: "111111111111"
    principals:
      - {name: admin, kind: user, accessKeyId: AKIAFIXFLEETADMIN000, secretAccessKey: fix-fleet-admin-secret, allow: ["*"]}
    regions: [{region: us-east-1}]
  - id: "222222222222"
    principals:
      - {name: ptcdoctor-audit, kind: role, accessKeyId: AKIAFIXFLEETA0000000, secretAccessKey: fix-fleet-a-secret-key, allow: ["*"], trust: ["111111111111"]}
    regions: [{region: us-east-1, rules: [{prefix: quay, upstream: quay}]}]
  - id: "333333333333"
    principals:
      - {name: ptcdoctor-audit, kind: role, accessKeyId: AKIAFIXFLEETB0000000, secretAccessKey: fix-fleet-b-secret-key, allow: ["ecr:Describe*", "ecr:Get*", "ecr:List*", "ecr:Validate*", "sts:*", "secretsmanager:Describe*", "secretsmanager:List*", "iam:*"], trust: ["111111111111"]}
    regions: [{region: us-east-1, rules: [{prefix: quay, upstream: quay}]}]
  - id: "444444444444"
    principals:
      - {name: ptcdoctor-audit, kind: role, accessKeyId: AKIAFIXFLEETC0000000, secretAccessKey: fix-fleet-c-secret-key, allow: ["*"], trust: ["111111111111"]}
    regions: [{region: us-east-1, rules: [{prefix: quay, upstream: quay}]}]
`

func TestFixOverAFleet(t *testing.T) {
	f := simtest.StartFleet(t, templatelessFleet)
	env := fleetEnv(t, f)
	writes := func(account string) int { return writesIn(f, account, "us-east-1") }
	fleet := []string{"fix", "--assume-role-arn", "arn:aws:iam::{account}:role/ptcdoctor-audit", "--accounts", "222222222222,333333333333,444444444444",
		"--regions", "us-east-1", "--check", "creation-template"}

	// A dry run goes over every account-region and writes nothing.
	out, code := runCLI(t, env, append(fleet, "--dry-run")...)
	if code != exitOK || strings.Count(out, "ecr:CreateRepositoryCreationTemplate") != 3 || !strings.Contains(out, "(3 of 3)") {
		t.Fatalf("dry run (exit %d):\n%s", code, out)
	}
	if writes("222222222222")+writes("333333333333")+writes("444444444444") != 0 {
		t.Fatal("the dry run wrote")
	}

	// Applied: the first account is fixed, the read-only one fails, and the run stops there.
	out, code = runCLI(t, env, append(fleet, "--yes")...)
	if code != exitScan || !strings.Contains(out, "Stopped at the first account-region whose fix failed; 1 not attempted") ||
		!strings.Contains(out, "1 done, 0 not fixed, 1 failed, 0 incomplete, 1 not attempted") {
		t.Fatalf("apply (exit %d):\n%s", code, out)
	}
	if writes("222222222222") == 0 || writes("333333333333") != 0 || writes("444444444444") != 0 {
		t.Fatalf("writes: %d %d %d", writes("222222222222"), writes("333333333333"), writes("444444444444"))
	}

	// --keep-going goes past the failure; the fixed account has nothing left to do. The
	// account-region that failed makes the exit 3 all the same, as without --keep-going.
	out, code = runCLI(t, env, append(fleet, "--yes", "--keep-going")...)
	if code != exitScan || writes("444444444444") == 0 || !strings.Contains(out, "2 done, 0 not fixed, 1 failed, 0 incomplete, 0 not attempted") {
		t.Fatalf("keep going (exit %d):\n%s", code, out)
	}
	if out, code := runCLI(t, env, append(fleet, "--yes", "--token-stdin", "--username", "u")...); code != exitUsage {
		t.Fatalf("--token-stdin over a fleet (exit %d):\n%s", code, out)
	}
}

// doctor over a fleet prints each target as it finishes: with the first target's registry policy
// slowed down, the others' blocks (one of them a target that failed, named with why)
// come out while it is still being read; the table at the end keeps the targets' order.
func TestFleetDoctorStreamsTargets(t *testing.T) {
	f := simtest.StartFleet(t, crossAccountFleet)
	simtest.Admin(t, f.Member("111111111111", "us-east-1"), "PUT", "/faults",
		`[{"operation":"GetRegistryPolicy","latency":"3s","latencyRate":1}]`, nil)
	lines := streamCLI(t, fleetEnv(t, f), "doctor", "--assume-role-arn", "arn:aws:iam::{account}:role/ptcdoctor-audit",
		"--accounts", "111111111111,222222222222,444444444444", "--regions", "us-east-1")
	var seen []string
	waitFor := func(prefix string) {
		t.Helper()
		for l := range lines {
			seen = append(seen, l)
			if strings.HasPrefix(l, prefix) {
				return
			}
		}
		t.Fatalf("no line %q in:\n%s", prefix, strings.Join(seen, "\n"))
	}
	// The fast targets, in whichever order they end, before the slow one.
	for _, want := range []string{"=== account 222222222222 us-east-1: ", "=== account 444444444444 us-east-1: FAILED"} {
		if !strings.Contains(strings.Join(seen, "\n"), want) {
			waitFor(want)
		}
	}
	if strings.Contains(strings.Join(seen, "\n"), "=== account 111111111111") {
		t.Fatalf("the slow target was printed before the others:\n%s", strings.Join(seen, "\n"))
	}
	if !strings.Contains(strings.Join(seen, "\n"), "not scanned: cannot assume arn:aws:iam::444444444444:role/ptcdoctor-audit") {
		t.Errorf("the failed target does not say why:\n%s", strings.Join(seen, "\n"))
	}
	waitFor("=== account 111111111111 us-east-1: ")
	waitFor("=== FLEET")
	for l := range lines {
		seen = append(seen, l)
	}
	out := strings.Join(seen, "\n")
	table := out[strings.Index(out, "=== FLEET"):]
	a, b, c := strings.Index(table, "\naccount 111111111111"), strings.Index(table, "\naccount 222222222222"), strings.Index(table, "\naccount 444444444444")
	if a < 0 || !(a < b && b < c) {
		t.Fatalf("the summary is not in the targets' order:\n%s", table)
	}
}

// The demo fleet: an Organization of several accounts and regions, in process, with a
// target refused (its role does not trust the caller), each
// cross-account check firing, and writes allowed, target by target.
func TestDemoFleet(t *testing.T) {
	state := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + state, "XDG_STATE_HOME=" + state, "XDG_CONFIG_HOME=" + state, "NO_COLOR=1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
	out, code := runCLI(t, env, "doctor", "--demo-fleet", "--json")
	var r diagnose.FleetReport
	jsonOf(t, out, &r)
	if code != exitScan || r.Complete {
		t.Fatalf("exit %d, complete %v: a demo fleet with failing targets is incomplete:\n%s", code, r.Complete, out)
	}
	accounts, regions, errs := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, tg := range r.Targets {
		accounts[tg.Account], regions[tg.Region] = true, true
		if tg.State == diagnose.TargetFailed {
			errs[tg.Account+" "+tg.Region] = true
			if !strings.Contains(tg.Error, "AccessDenied") && !strings.Contains(tg.Error, "not enabled") {
				t.Errorf("%s failed without saying why: %q", tg.Target, tg.Error)
			}
		}
	}
	if len(accounts) < 3 || len(regions) < 2 || !errs["444444444444 us-east-1"] {
		t.Fatalf("accounts %v, regions %v, failed %v", accounts, regions, errs)
	}
	checks := map[string]bool{}
	for _, f := range r.CrossAccount {
		checks[f.Check] = true
	}
	for _, c := range diagnose.FleetCatalog {
		if !checks[c.ID] {
			t.Errorf("the demo fleet does not show %s (it shows %v)", c.ID, checks)
		}
	}
	// A target's fix, as doctor prints it, writes to that target.
	out, _ = runCLI(t, env, "doctor", "--demo-fleet")
	i := strings.Index(out, "ptcdoctor fix --finding")
	if i < 0 {
		t.Fatalf("no fix command:\n%s", out)
	}
	line := strings.Fields(strings.TrimSuffix(strings.SplitN(out[i:], "\n", 2)[0], " --dry-run"))
	var args []string
	for _, a := range line[1:] {
		args = append(args, strings.Trim(a, "'"))
	}
	out, code = runCLI(t, env, append(args, "--yes")...)
	if code != exitOK || !strings.Contains(out, "fixed:") || !strings.Contains(out, "1 done, 0 not fixed, 0 failed") {
		t.Fatalf("%v (exit %d):\n%s", args, code, out)
	}
	if out, code := runCLI(t, env, "explain", "--demo-fleet", "nginx"); code != exitUsage {
		t.Errorf("explain --demo-fleet: exit %d:\n%s", code, out)
	}
}

// doctor --help names the fleet report's schema version as it is, and the demo fleet.
func TestDoctorHelpFleetSchema(t *testing.T) {
	out, _ := runCLI(t, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, "doctor", "--help")
	if !strings.Contains(out, fmt.Sprintf("(schemaVersion %d, diagnose/README.md)", diagnose.FleetSchemaVersion)) || !strings.Contains(out, "--demo-fleet") {
		t.Fatalf("doctor --help:\n%s", out)
	}
}

// The trial's harm: a fleet fix made the same template in two accounts, and the undo of
// one plan, run with other credentials, deleted a template in the wrong account. The
// journal names each plan's account and region; undo refuses elsewhere, saying how to
// reach the plan's account, and --assume-role-arn reaches it.
func TestUndoAfterAFleetFixWritesWhereThePlanRan(t *testing.T) {
	f := simtest.StartFleet(t, templatelessFleet)
	env := fleetEnv(t, f)
	role := "arn:aws:iam::{account}:role/ptcdoctor-audit"
	writes := func(account string) int { return writesIn(f, account, "us-east-1") }
	out, _ := runCLI(t, env, "fix", "--assume-role-arn", role, "--accounts", "222222222222,444444444444", "--regions", "us-east-1",
		"--check", "creation-template", "--yes")
	if !strings.Contains(out, "in 222222222222 us-east-1") || !strings.Contains(out, "in 444444444444 us-east-1") {
		t.Fatalf("fix does not say where each plan ran:\n%s", out)
	}
	out, code := runCLI(t, env, "journal", "--json")
	plans := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e struct{ Plan, Account, Region, Role string }
		if json.Unmarshal([]byte(line), &e) != nil || e.Region != "us-east-1" || e.Role != strings.Replace(role, "{account}", e.Account, 1) {
			t.Fatalf("journal line without its place (exit %d): %s", code, line)
		}
		plans[e.Account] = e.Plan
	}
	if len(plans) != 2 {
		t.Fatalf("plans by account: %v", plans)
	}
	out, _ = runCLI(t, env, "journal")
	if !strings.Contains(out, "ACCOUNT") || !strings.Contains(out, "444444444444  us-east-1") {
		t.Fatalf("journal text:\n%s", out)
	}
	before222, before444 := writes("222222222222"), writes("444444444444")

	// The default credentials are the management account's: refused, with how to reach 444.
	out, code = runCLI(t, env, "undo", plans["444444444444"], "--yes", "--destructive")
	if code != exitUsage || !strings.Contains(out, "ran in account 444444444444 us-east-1") ||
		!strings.Contains(out, "--assume-role-arn 'arn:aws:iam::{account}:role/ptcdoctor-audit' --region us-east-1") {
		t.Fatalf("undo elsewhere (exit %d):\n%s", code, out)
	}
	if writes("222222222222") != before222 || writes("444444444444") != before444 || writes("111111111111") != 0 {
		t.Fatal("the refused undo wrote")
	}
	// Through the role, in the plan's account: undone there, and only there.
	out, code = runCLI(t, env, "undo", plans["444444444444"], "--assume-role-arn", role, "--yes", "--destructive")
	if code != exitOK || !strings.Contains(out, "step 1 done: ecr:DeleteRepositoryCreationTemplate") {
		t.Fatalf("undo through the role (exit %d):\n%s", code, out)
	}
	if writes("444444444444") != before444+1 || writes("222222222222") != before222 {
		t.Fatalf("writes: 222 %d→%d, 444 %d→%d", before222, writes("222222222222"), before444, writes("444444444444"))
	}
}

// --regions with one region is the region scanned and fixed (it was ignored, and the
// profile's region fixed), and fix says where each plan writes.
func TestOneRegionInRegionsIsTheRegionFixed(t *testing.T) {
	f := simtest.StartFleet(t, crossAccountFleet)
	env := append(fleetEnv(t, f), "AWS_REGION=us-east-1")
	out, code := runCLI(t, env, "doctor", "--regions", "eu-west-1", "--json")
	var r struct{ Account, Region string }
	if jsonOf(t, out, &r); code != exitOK || r.Region != "eu-west-1" {
		t.Fatalf("doctor --regions eu-west-1 (exit %d): region %q\n%s", code, r.Region, out)
	}
	out, code = runCLI(t, env, "fix", "--check", "cross-account-pull", "--dry-run")
	if code != exitOK || !strings.Contains(out, "in 111111111111 us-east-1") {
		t.Fatalf("fix in the profile's region (exit %d):\n%s", code, out)
	}
	out, code = runCLI(t, env, "fix", "--regions", "eu-west-1", "--check", "cross-account-pull", "--yes")
	if code != exitOK || !strings.Contains(out, "Nothing to fix") {
		t.Fatalf("fix --regions eu-west-1 (exit %d):\n%s", code, out)
	}
	for _, e := range f.Member("111111111111", "us-east-1").Events(0) {
		if e.Write {
			t.Fatalf("fix --regions eu-west-1 wrote in us-east-1: %+v", e)
		}
	}
}

// Over a fleet, a target that could not be opened makes fix exit 3, as doctor calls it
// failed, with --dry-run too; --read-only says what a CLI user does to apply.
func TestFleetFixExitsThreeWhenATargetFailed(t *testing.T) {
	f := simtest.StartFleet(t, crossAccountFleet)
	env := fleetEnv(t, f)
	// 444444444444's role does not trust the management account.
	args := []string{"fix", "--assume-role-arn", "arn:aws:iam::{account}:role/ptcdoctor-audit", "--accounts", "111111111111,444444444444", "--regions", "us-east-1"}
	out, code := runCLI(t, env, append(args, "--dry-run")...)
	if code != exitScan || !strings.Contains(out, "not opened") || !strings.Contains(out, "1 failed") {
		t.Fatalf("dry run with a target not opened (exit %d):\n%s", code, out)
	}
	out, code = runCLI(t, env, "fix", "--read-only", "--yes", "--check", "cross-account-pull", "--region", "us-east-1")
	if code != exitFindings || !strings.Contains(out, "run again without --read-only") || strings.Contains(out, "turn writes on") {
		t.Fatalf("fix --read-only --yes (exit %d):\n%s", code, out)
	}
}
