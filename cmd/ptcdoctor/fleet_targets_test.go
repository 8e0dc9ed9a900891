package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
)

// profilesEnv is fleetEnv with an AWS credentials file of profiles: the central account's
// admin twice (prod-central, prod-central-ro), team-a's audit role's keys (prod-team-a),
// and keys the stand-in does not know (prod-broken).
func profilesEnv(t *testing.T, f *sim.Fleet) []string {
	info := f.Info()
	creds := filepath.Join(t.TempDir(), "credentials")
	body := "[prod-central]\naws_access_key_id = " + info.AccessKeyID + "\naws_secret_access_key = " + info.SecretAccessKey + "\n" +
		"[prod-central-ro]\naws_access_key_id = " + info.AccessKeyID + "\naws_secret_access_key = " + info.SecretAccessKey + "\n" +
		"[prod-team-a]\naws_access_key_id = AKIAFLEETTEAMAAUDIT0\naws_secret_access_key = fleet-team-a-audit-secret\n" +
		"[prod-broken]\naws_access_key_id = AKIANOTKNOWNANYWHERE\naws_secret_access_key = not-a-secret-anyone-knows\n"
	if err := os.WriteFile(creds, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return append(fleetEnv(t, f), "AWS_SHARED_CREDENTIALS_FILE="+creds, "AWS_REGION=us-east-1")
}

// Keys AWS does not know answer UnrecognizedClientException in every region, as a region
// not enabled does: the account is a failed target that says its credentials were
// refused, never a list of regions "not enabled", and the exit code says a target failed.
func TestFleetRefusedCredentialsFailTheAccount(t *testing.T) {
	f := simtest.StartFleet(t, crossAccountFleet)
	env := profilesEnv(t, f)
	for _, regions := range []string{"all", "us-east-1,eu-west-1"} {
		out, code := runCLI(t, env, "doctor", "--profile", "prod-broken", "--profile", "prod-team-a", "--regions", regions, "--json")
		var r diagnose.FleetReport
		jsonOf(t, out, &r)
		if code != exitScan || r.Complete || r.Summary.Failed == 0 {
			t.Fatalf("--regions %s: exit %d, complete %v:\n%s", regions, code, r.Complete, out)
		}
		for _, s := range r.Skipped {
			if strings.Contains(s.Source, "prod-broken") {
				t.Errorf("--regions %s: the broken profile's regions skipped: %+v", regions, s)
			}
		}
		broken := 0
		for _, tg := range r.Targets {
			if tg.Source != "profile prod-broken" {
				continue
			}
			broken++
			if tg.State != diagnose.TargetFailed || !strings.Contains(tg.Error, "credentials of profile prod-broken were refused") ||
				!strings.Contains(tg.Error, "GetCallerIdentity") || strings.Contains(tg.Error, "not enabled") {
				t.Errorf("--regions %s: %+v", regions, tg)
			}
		}
		if broken == 0 {
			t.Errorf("--regions %s: the broken profile is not a target:\n%s", regions, out)
		}
	}
	// Alone, it is still a failure, not an empty fleet that passed.
	out, code := runCLI(t, env, "doctor", "--profile", "prod-broken", "--regions", "all")
	if code != exitScan || !strings.Contains(out, "1 account-region: 0 complete, 0 incomplete, 1 failed") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// The same target named twice is scanned once; two profiles of the same account are one
// target under both names; a profile's target names its account in the table.
func TestFleetTargetsNamedTwiceAreOne(t *testing.T) {
	f := simtest.StartFleet(t, crossAccountFleet)
	env := profilesEnv(t, f)
	for _, args := range [][]string{
		{"--profile", "prod-central", "--regions", "us-east-1,eu-west-1,us-east-1"},
		{"--profile", "prod-central", "--profile", "prod-central", "--regions", "us-east-1,eu-west-1"},
		{"--profile", "prod-central", "--profile", "prod-central-ro", "--regions", "us-east-1,eu-west-1"},
	} {
		out, code := runCLI(t, env, append([]string{"doctor", "--json"}, args...)...)
		var r diagnose.FleetReport
		jsonOf(t, out, &r)
		if code == exitScan || len(r.Targets) != 2 || r.Summary.Targets != 2 || r.Summary.Failed != 0 {
			t.Fatalf("%v: exit %d:\n%s", args, code, out)
		}
		for _, tg := range r.Targets {
			if tg.State == "" || tg.Account != "111111111111" {
				t.Errorf("%v: %+v", args, tg)
			}
			// (Whichever profile answered first is scanned; the other is named with it.)
			if args[3] == "prod-central-ro" && (tg.Source != "profile prod-central (also profile prod-central-ro)" &&
				tg.Source != "profile prod-central-ro (also profile prod-central)" || !strings.Contains(tg.Target, "(also profile prod-central")) {
				t.Errorf("%v: the second profile's name is lost: %q", args, tg.Source)
			}
		}
	}
	out, _ := runCLI(t, env, "doctor", "--profile", "prod-broken", "--profile", "prod-central", "--regions", "us-east-1,eu-west-1")
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "profile prod-broken") && !strings.Contains(l, "  -  ") {
			t.Errorf("the broken profile's row names an account: %q", l)
		}
		if strings.HasPrefix(l, "profile prod-central") && !strings.Contains(l, "111111111111") {
			t.Errorf("a profile's row does not name its account: %q", l)
		}
	}
}

// Flags that name no real region, role or check are refused with exit 2 before any target
// is asked anything.
func TestFleetFlagsCheckedUpFront(t *testing.T) {
	f := simtest.StartFleet(t, crossAccountFleet)
	env := profilesEnv(t, f)
	role := []string{"--assume-role-arn", "arn:aws:iam::{account}:role/ptcdoctor-audit", "--accounts", "111111111111"}
	for _, args := range [][]string{
		{"--regions", "us-east-1,eu-wset-1"},
		{"--regions", "US-EAST-1"},
		{"--regions", "all,us-east-1"},
		{"--regions", "all", "--regions", "us-east-1"},
		{"--regions", ""},
		{"--regions", "us-east-1,,eu-west-1"},
		{"--assume-role-arn", "arn:aws:iam::{account}:user/x", "--accounts", "111111111111"},
		{"--assume-role-arn", "arn:aws:iam::{account}:role/$(touch /tmp/pwn)", "--accounts", "111111111111"},
		{"--assume-role-arn", "arn:aws-xx:iam::{account}:role/x", "--accounts", "111111111111"},
		{"--parallel", "1000000000", "--regions", "us-east-1,eu-west-1"},
		append([]string{"--check", "bogus", "--regions", "us-east-1"}, role...),
	} {
		out, code := runCLI(t, env, append([]string{"doctor", "--profile", "prod-central"}, args...)...)
		if code != exitUsage || strings.Contains(out, "account-region") {
			t.Errorf("%q: exit %d, want 2 before any target:\n%s", args, code, out)
		}
	}
	// Spaces after commas are dropped; the aws-cn and aws-us-gov partitions are real (the
	// stand-in refuses to assume a role there: a failed target, not a usage error).
	out, code := runCLI(t, env, "doctor", "--profile", "prod-central", "--regions", "us-east-1, eu-west-1", "--json")
	var r diagnose.FleetReport
	jsonOf(t, out, &r)
	if code == exitUsage || len(r.Targets) != 2 || r.Targets[1].Region != "eu-west-1" || r.Targets[1].Account != "111111111111" {
		t.Fatalf("spaces after commas: exit %d:\n%s", code, out)
	}
	for _, arn := range []string{"arn:aws-cn:iam::{account}:role/audit", "arn:aws-us-gov:iam::{account}:role/path/to/audit"} {
		if out, code := runCLI(t, env, "doctor", "--assume-role-arn", arn, "--accounts", "222222222222", "--regions", "us-east-1"); code == exitUsage {
			t.Errorf("%s refused:\n%s", arn, out)
		}
	}
}

// --check over a fleet selects among the fleet checks too: a one-account check alone
// runs no fleet check (whose findings would decide the exit code), a fleet check alone
// runs in no target.
func TestFleetCheckSelectsFleetChecks(t *testing.T) {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "XDG_STATE_HOME=" + t.TempDir(), "XDG_CONFIG_HOME=" + t.TempDir(),
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "NO_COLOR=1"}
	var r diagnose.FleetReport
	out, code := runCLI(t, env, "doctor", "--demo-fleet", "--check", "creation-template", "--json")
	jsonOf(t, out, &r)
	if len(r.CrossAccount) != 0 || len(r.CrossAccountNotChecked) != 0 || r.Summary.Errors != 0 || code == exitFindings {
		t.Fatalf("--check creation-template ran fleet checks: exit %d, %d cross-account:\n%s", code, len(r.CrossAccount), out)
	}
	out, code = runCLI(t, env, "doctor", "--demo-fleet", "--check", "fleet-upstream-drift", "--json")
	r = diagnose.FleetReport{}
	jsonOf(t, out, &r)
	if len(r.CrossAccount) == 0 || code == exitUsage {
		t.Fatalf("--check fleet-upstream-drift: exit %d:\n%s", code, out)
	}
	for _, f := range r.CrossAccount {
		if f.Check != "fleet-upstream-drift" {
			t.Errorf("another fleet check ran: %s", f.Check)
		}
	}
	// For one account-region, a fleet check is refused as one (exit 2), before any call.
	if out, code := runCLI(t, env, "doctor", "--demo", "--check", "fleet-upstream-drift"); code != exitUsage || !strings.Contains(out, "is a fleet check") {
		t.Errorf("a fleet check over one account-region: exit %d:\n%s", code, out)
	}
	for _, tg := range r.Targets {
		if tg.State == diagnose.TargetFailed && strings.Contains(tg.Error, "no such check") {
			t.Errorf("%s: %s", tg.Target, tg.Error)
		}
		if tg.Report != nil && len(tg.Report.Findings) != 0 {
			t.Errorf("%s: a one-account check ran: %+v", tg.Target, tg.Report.Findings[0].Check)
		}
	}
}

// A principal IAM does not have (NoSuchEntity) is a definite answer: named with
// {account}, the account has no such role (info, the fleet stays complete); named
// literally, the role to pull as does not exist (a warning), never "not checked".
func TestFleetPrincipalThatDoesNotExist(t *testing.T) {
	f := simtest.StartFleet(t, "../../testdata/fleet/healthy.yaml")
	env := fleetEnv(t, f)
	role := []string{"doctor", "--assume-role-arn", "arn:aws:iam::{account}:role/ptcdoctor-audit", "--accounts", "111111111111,222222222222", "--regions", "us-east-1", "--json"}
	out, code := runCLI(t, env, append(role, "--principal", "arn:aws:iam::{account}:role/eks-node")...)
	var r diagnose.FleetReport
	jsonOf(t, out, &r)
	if code != exitOK || !r.Complete || r.Summary.Info != 1 {
		t.Fatalf("exit %d, complete %v, %d info:\n%s", code, r.Complete, r.Summary.Info, out)
	}
	for _, tg := range r.Targets {
		if tg.Account == "111111111111" && (len(tg.Report.Findings) != 1 || tg.Report.Findings[0].Severity != "info" ||
			!strings.Contains(tg.Report.Findings[0].Title, "No arn:aws:iam::111111111111:role/eks-node in account 111111111111")) {
			t.Errorf("the central account, which has no node role: %+v", tg.Report.Findings)
		}
	}
	out, code = runCLI(t, env, append(role, "--principal", "arn:aws:iam::222222222222:role/no-such")...)
	r = diagnose.FleetReport{}
	jsonOf(t, out, &r)
	// (fleet-consumer-pull still judges the central account's policies against the name.)
	if code == exitScan || !r.Complete || !strings.Contains(out, "role/no-such does not exist") {
		t.Fatalf("a literal principal that does not exist: exit %d:\n%s", code, out)
	}
}

// Only an opt-in region answers "not enabled": a region every account has enabled that a
// scenario account does not list is there, empty; one refused there would be a failure.
func TestFleetOnlyOptInRegionsAreNotEnabled(t *testing.T) {
	f := simtest.StartFleet(t, crossAccountFleet)
	env := fleetEnv(t, f)
	role := []string{"doctor", "--assume-role-arn", "arn:aws:iam::{account}:role/ptcdoctor-audit", "--accounts", "222222222222"}
	out, code := runCLI(t, env, append(role, "--regions", "us-east-1,eu-west-1,ap-east-1", "--json")...)
	var r diagnose.FleetReport
	jsonOf(t, out, &r)
	states := map[string]string{}
	for _, tg := range r.Targets {
		states[tg.Region] = tg.State + " " + tg.Error
	}
	if code != exitScan || !strings.HasPrefix(states["eu-west-1"], "complete") || !strings.HasPrefix(states["ap-east-1"], "failed") ||
		!strings.Contains(states["ap-east-1"], "not enabled") {
		t.Fatalf("exit %d, %v", code, states)
	}
	out, _ = runCLI(t, env, append(role, "--regions", "all")...)
	i := strings.Index(out, "skipped account 222222222222: opt-in regions not enabled for the account: ")
	if i < 0 {
		t.Fatalf("no one line for the regions not enabled:\n%s", out)
	}
	line := out[i : i+strings.Index(out[i:], "\n")]
	if !strings.Contains(line, "ap-east-1") || strings.Contains(line, "eu-west-1") || strings.Contains(line, "us-east-2") || strings.Count(out, "skipped") != 1 {
		t.Errorf("regions enabled by default listed as not enabled, or a line a region:\n%s", out)
	}
}

// doctor --regions all scans an account's regions as soon as they are found: with the
// central account's eu-west-1 holding its answer (for ten minutes), team-a's us-east-1 is
// scanned and printed meanwhile. Before, no target was scanned until every account's
// regions were found.
func TestFleetDoctorStreamsRegionsAsFound(t *testing.T) {
	f := simtest.StartFleet(t, crossAccountFleet)
	simtest.Admin(t, f.Member("111111111111", "eu-west-1"), "PUT", "/faults",
		`[{"operation":"DescribePullThroughCacheRules","latency":"10m","latencyRate":1}]`, nil)
	seen := streamCLI(t, fleetEnv(t, f), "doctor", "--assume-role-arn", "arn:aws:iam::{account}:role/ptcdoctor-audit",
		"--accounts", "111111111111,222222222222", "--regions", "all")
	watchdog := time.After(2 * time.Minute) // a failure guard, not a measure: the answer held is 10 minutes
	var lines []string
	for {
		select {
		case l, ok := <-seen:
			if !ok {
				t.Fatalf("doctor ended without team-a's target:\n%s", strings.Join(lines, "\n"))
			}
			lines = append(lines, l)
			if strings.HasPrefix(l, "=== account 222222222222 us-east-1: COMPLETE") {
				return
			}
		case <-watchdog:
			t.Fatalf("team-a's target waited for the central account's regions:\n%s", strings.Join(lines, "\n"))
		}
	}
}

// fix over a fleet says so of an account whose credentials were refused, and goes no
// further there.
func TestFleetFixRefusedCredentials(t *testing.T) {
	f := simtest.StartFleet(t, crossAccountFleet)
	out, code := runCLI(t, profilesEnv(t, f), "fix", "--profile", "prod-broken", "--profile", "prod-team-a", "--regions", "us-east-1", "--dry-run")
	if code == exitOK || !strings.Contains(out, "not opened: the credentials of profile prod-broken were refused") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}
