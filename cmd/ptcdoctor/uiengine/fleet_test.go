package uiengine_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ptcdoctor/ptcdoctor/cmd/ptcdoctor/uiengine"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
	"github.com/ptcdoctor/ptcdoctor/ui"
)

// Two profiles that reach one account (two principals' keys of it), with --regions all:
// each account-region is one target, named under the first profile and also the other,
// as doctor's fleet names it; never two rows of one account-region scanned twice.
func TestFleetDiscoveredTwiceIsOneTarget(t *testing.T) {
	f := simtest.StartFleet(t, "../../../testdata/fleet/cross-account.yaml")
	info := f.Info()
	creds := filepath.Join(t.TempDir(), "credentials")
	keys := "aws_access_key_id = " + info.AccessKeyID + "\naws_secret_access_key = " + info.SecretAccessKey + "\n"
	if err := os.WriteFile(creds, []byte("[prod-central]\n"+keys+"[prod-central-ro]\n"+keys), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := ecrops.Config{Region: "us-east-1", EndpointURL: info.Endpoint, Resolve: info.Resolve,
		StateDir: t.TempDir(), Retryer: ecrops.NoBackoff(3)}
	fc := ecrops.FleetConfig{Base: base, Profiles: []string{"prod-central", "prod-central-ro"}, AllRegions: true}
	accounts, err := ecrops.FleetAccounts(ctx, fc)
	if err != nil {
		t.Fatal(err)
	}
	fl := uiengine.NewFleet(base, nil, 4, nil)
	fl.Discover(fc, accounts)
	var mu sync.Mutex
	rows := map[string]ui.FleetRow{} // each target's row as last reported
	fl.Scan(ctx, func(r ui.FleetRow) {
		mu.Lock()
		defer mu.Unlock()
		rows[r.ID] = r
	})
	regions := map[string]int{}
	for _, r := range rows {
		if r.Discover {
			continue
		}
		regions[r.Region]++
		if r.Account != "111111111111" || r.State == ui.FleetFailed {
			t.Errorf("%+v", r)
		}
		if !strings.Contains(r.Source, " (also profile prod-central") {
			t.Errorf("%s: the second profile's name is lost: %q", r.ID, r.Source)
		}
	}
	if len(regions) == 0 {
		t.Fatalf("no target: %+v", rows)
	}
	for region, n := range regions {
		if n != 1 {
			t.Errorf("%s: %d targets of one account-region: %+v", region, n, rows)
		}
	}
	if got := len(fl.Targets()); got != len(regions) {
		t.Errorf("%d targets listed for a new scan, want %d: %+v", got, len(regions), fl.Targets())
	}
}
