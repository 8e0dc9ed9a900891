package ecrops_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
	"github.com/ptcdoctor/ptcdoctor/model"
)

const crossAccountFleet = "../testdata/fleet/cross-account.yaml"

// fleetBase is the configuration every target of a fleet stand-in shares: its endpoint,
// and the management account's admin key as the base credentials.
func fleetBase(t *testing.T, f *sim.Fleet) ecrops.Config {
	info := f.Info()
	return ecrops.Config{Region: info.Region, EndpointURL: info.Endpoint, Resolve: info.Resolve,
		StateDir: t.TempDir(), Retryer: ecrops.NoBackoff(3),
		Credentials: credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, "")}
}

// scanAll scans every target and returns, by target, the snapshot's account or the error.
func scanAll(t *testing.T, base ecrops.Config, targets []ecrops.Target) map[string]string {
	t.Helper()
	var mu sync.Mutex
	out := map[string]string{}
	ecrops.EachTarget(ctx(t), base, targets, 2,
		func(ctx context.Context, _ ecrops.Target, acc *ecrops.Account) (*model.Snapshot, error) {
			return acc.Scan(ctx, ecrops.Scope{}, nil)
		},
		func(tg ecrops.Target, snap *model.Snapshot, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				out[tg.String()] = "error: " + err.Error()
				return
			}
			out[tg.String()] = snap.AccountID + " " + snap.Region
			for _, e := range snap.Errors {
				out[tg.String()] += "; " + e.Error()
			}
		})
	return out
}

func TestFleetRoleTargets(t *testing.T) {
	f := simtest.StartFleet(t, crossAccountFleet)
	base := fleetBase(t, f)
	targets, skipped, err := ecrops.Targets(ctx(t), ecrops.FleetConfig{Base: base,
		RoleARN: "arn:aws:iam::{account}:role/ptcdoctor-audit", Accounts: []string{"222222222222", "333333333333", "444444444444"},
		Regions: []string{"us-east-1"}})
	if err != nil || len(skipped) != 0 || len(targets) != 3 {
		t.Fatalf("targets %v, skipped %v, err %v", targets, skipped, err)
	}
	got := scanAll(t, base, targets)
	if got["account 222222222222 us-east-1"] != "222222222222 us-east-1" || got["account 333333333333 us-east-1"] != "333333333333 us-east-1" {
		t.Fatalf("scans: %v", got)
	}
	// The sandbox's role does not trust the management account: that target is named with
	// the SDK's error, and the others went on.
	if e := got["account 444444444444 us-east-1"]; !strings.Contains(e, "cannot assume arn:aws:iam::444444444444:role/ptcdoctor-audit") || !strings.Contains(e, "AccessDenied") {
		t.Fatalf("sandbox: %q", e)
	}
}

func TestFleetOrganizationAllRegions(t *testing.T) {
	f := simtest.StartFleet(t, crossAccountFleet)
	base := fleetBase(t, f)
	targets, skipped, err := ecrops.Targets(ctx(t), ecrops.FleetConfig{Base: base,
		RoleARN: "arn:aws:iam::{account}:role/ptcdoctor-audit", Organization: true, AllRegions: true})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tg := range targets {
		names = append(names, tg.String())
	}
	sort.Strings(names)
	// central has rules in us-east-1 only (eu-west-1 has none); team-a and team-b in
	// us-east-1; the sandbox's role cannot be assumed: one target in the base region, to
	// fail by name rather than vanish (or fail 33 times).
	want := []string{"account 111111111111 (central) us-east-1", "account 222222222222 (team-a) us-east-1",
		"account 333333333333 (team-b) us-east-1", "account 444444444444 (sandbox) us-east-1"}
	if len(names) != len(want) {
		t.Fatalf("targets %v, want %v", names, want)
	}
	for _, w := range want {
		if !contains(names, w) {
			t.Fatalf("targets %v lack %s", names, w)
		}
	}
	if contains(names, "account 111111111111 (central) eu-west-1") || contains(names, "account 222222222222 (team-a) eu-west-2") {
		t.Fatalf("targets without rules or not enabled: %v", names)
	}
	// Only the opt-in regions are skipped as not enabled: the others are enabled in every
	// account (the stand-in's empty there), and team-a has no rules in them.
	notEnabled, optIn := 0, 0
	for _, s := range skipped {
		if s.Source == "account 222222222222" && s.Region != "" {
			notEnabled++
			if !ecrops.OptInRegion(s.Region) {
				t.Errorf("team-a: %s, enabled in every account, skipped as not enabled", s.Region)
			}
		}
	}
	for _, r := range ecrops.CandidateRegions {
		if ecrops.OptInRegion(r) {
			optIn++
		}
	}
	if notEnabled != optIn {
		t.Fatalf("team-a: %d regions skipped as not enabled, want %d", notEnabled, optIn)
	}
}

func TestFleetProfilesByPattern(t *testing.T) {
	f := simtest.StartFleet(t, crossAccountFleet)
	base := fleetBase(t, f)
	base.Credentials = nil
	dir := t.TempDir()
	config := "[default]\nregion = us-east-1\n[profile fleet-central]\nregion = us-east-1\n[profile other]\nregion = us-east-1\n[sso-session corp]\nsso_region = us-east-1\n"
	creds := "[fleet-central]\naws_access_key_id = AKIAFLEETCENTRALADMIN\naws_secret_access_key = fleet-central-admin-secret\n" +
		"[fleet-team-a]\naws_access_key_id = AKIAFLEETTEAMAAUDIT0\naws_secret_access_key = fleet-team-a-audit-secret\n"
	os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o600)
	os.WriteFile(filepath.Join(dir, "credentials"), []byte(creds), 0o600)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	names, err := ecrops.ConfiguredProfiles()
	if err != nil || strings.Join(names, ",") != "default,fleet-central,fleet-team-a,other" {
		t.Fatalf("profiles %v %v", names, err)
	}
	targets, _, err := ecrops.Targets(ctx(t), ecrops.FleetConfig{Base: base, ProfilePattern: "fleet-*", Regions: []string{"us-east-1", "eu-west-1"}})
	if err != nil || len(targets) != 4 {
		t.Fatalf("targets %v %v", targets, err)
	}
	got := scanAll(t, base, targets)
	if got["profile fleet-central eu-west-1"] != "111111111111 eu-west-1" || got["profile fleet-team-a us-east-1"] != "222222222222 us-east-1" {
		t.Fatalf("scans: %v", got)
	}
	// team-a has nothing in eu-west-1, which every account has enabled: an empty scan.
	if e := got["profile fleet-team-a eu-west-1"]; e != "222222222222 eu-west-1" {
		t.Fatalf("team-a eu-west-1: %q", e)
	}
	if _, _, err := ecrops.Targets(ctx(t), ecrops.FleetConfig{Base: base, ProfilePattern: "nomatch-*"}); err == nil {
		t.Fatal("a pattern that matches nothing is an error")
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
