package main

import (
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
)

// A generated account with no failure asked for is healthy: its rules' upstream serves
// the images they cached (the same digests), with the credentials the rules hold where
// the upstream needs them, so doctor finds nothing to warn of and everything it probed
// answered: exit 0. (Its upstream used to be a stub answering 503, and every generated
// account was incomplete, exit 3, with each stale-tag probe not checked.)
func TestDoctorOnAGeneratedAccountIsHealthy(t *testing.T) {
	for _, up := range []string{"ecr-public", "quay", "docker-hub", "github-container-registry"} {
		t.Run(up, func(t *testing.T) {
			_, env := standIn(t, "generate: {rules: 2, repositoriesPerRule: 3, imagesPerRepository: 2, upstream: "+up+"}\n")
			out, code := runCLI(t, env, "doctor", "--stats")
			if code != exitOK || strings.Contains(out, "NOT CHECKED") || !strings.Contains(out, "0 errors, 0 warnings") ||
				!strings.Contains(out, "HEAD manifest") {
				t.Fatalf("exit %d, want 0, nothing not checked, the upstream probed:\n%s", code, out)
			}
		})
	}
}

// The same over a generated fleet: every account-region complete and clean, and each
// target's figures count the checks' calls too (its upstream probes), as doctor's do.
// The targets mirror the same upstream references, which the fleet asks once between
// them (the probes' answers are shared): the targets' figures add up to one ping and
// one HEAD a reference.
func TestDoctorOnAGeneratedFleetIsHealthy(t *testing.T) {
	f := simtest.StartFleet(t, "name: gen\ngenerate: {accounts: 2, regions: [us-east-1, eu-west-1], rules: 2, repositoriesPerRule: 3, imagesPerRepository: 2}\n")
	out, code := runCLI(t, fleetEnv(t, f), "doctor", "--assume-role-arn", "arn:aws:iam::{account}:role/ptcdoctor-audit", "--organization",
		"--regions", "us-east-1,eu-west-1", "--json", "--stats")
	var r diagnose.FleetReport
	jsonOf(t, out, &r)
	if code != exitOK || !r.Complete || r.Summary.Errors+r.Summary.Warnings != 0 || r.Summary.Complete != 4 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	pings, heads := 0, 0
	for _, ft := range r.Targets {
		st := ft.Report.Stats
		if st == nil {
			t.Fatalf("%s: no figures", ft.Target)
		}
		pings += st.Calls["registry public.ecr.aws ping"]
		heads += st.Calls["registry public.ecr.aws HEAD manifest"]
	}
	// 3 paths × 2 tags under 2 rules: 6 upstream references, each asked once by the fleet.
	if pings != 1 || heads != 6 {
		t.Fatalf("the targets' figures count %d pings and %d manifest HEADs, want 1 and 6 (the checks' calls, once for the fleet):\n%s", pings, heads, out)
	}
}
