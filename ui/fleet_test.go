package ui_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ptcdoctor/ptcdoctor/cmd/ptcdoctor/uiengine"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
	"github.com/ptcdoctor/ptcdoctor/model"
	"github.com/ptcdoctor/ptcdoctor/ui"
)

// fleetApp is the interface over the cross-account fleet stand-in: every account of its
// Organization, through the audit role, in two regions (8 account-regions; the sandbox's
// role refuses the management account, and one account has not enabled eu-west-1).
func fleetApp(t *testing.T, width, height int, principals ...string) *ui.App {
	t.Helper()
	_, base := crossAccountFleet(t)
	targets, _, err := ecrops.Targets(context.Background(), ecrops.FleetConfig{Base: base,
		RoleARN: "arn:aws:iam::{account}:role/ptcdoctor-audit", Organization: true, Regions: []string{"us-east-1", "eu-west-1"}})
	if err != nil || len(targets) != 8 {
		t.Fatalf("targets %v: %v", targets, err)
	}
	app := ui.New(context.Background(), nil, ui.Options{NoColor: true, Principals: principals, Fleet: uiengine.NewFleet(base, targets, 4, principals)})
	app.Update(tea.WindowSizeMsg{Width: width, Height: height})
	return app
}

// lineWith is the screen's line that holds every one of parts.
func lineWith(screen string, parts ...string) string {
	for _, l := range strings.Split(screen, "\n") {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			return l
		}
	}
	return ""
}

func TestFleetJourney(t *testing.T) {
	app := fleetApp(t, 120, 30)
	cmd := app.Init()
	// The targets are on screen, queued, before any is scanned.
	s := screenText(app)
	if lineWith(s, "222222222222", "eu-west-1", "queued") == "" || !strings.Contains(s, "8 account-regions") {
		t.Fatalf("the first screen does not list the targets queued:\n%s", s)
	}
	drive(app, cmd)
	s = screenText(app)
	// A target that failed is named with why, and the others went on.
	if l := lineWith(s, "444444444444", "us-east-1", "failed"); !strings.Contains(l, "AccessDenied") {
		t.Errorf("the sandbox's refusal is not named:\n%s", s)
	}
	if l := lineWith(s, "222222222222", "eu-west-1", "failed"); !strings.Contains(l, "not enabled") {
		t.Errorf("the region not enabled is not named:\n%s", s)
	}
	if lineWith(s, "111111111111", "us-east-1", "done") == "" && lineWith(s, "111111111111", "us-east-1", "incomplete") == "" {
		t.Errorf("the management account was not scanned:\n%s", s)
	}
	if lineWith(s, "cross-acct", "ecr-upstream", "central") == "" || !strings.Contains(s, "3 cross-account") {
		t.Errorf("the cross-account findings are not listed:\n%s", s)
	}
	// enter opens a target's findings; the header names it; F is in the footer.
	key(app, "/")
	typeText(app, "111111111111 us-east-1")
	key(app, "enter", "enter")
	s = screenText(app)
	head := strings.SplitN(s, "\n", 2)[0]
	if !strings.Contains(head, "fleet › 111111111111 (central) · us-east-1") || !strings.Contains(s, "3 Findings 1E") || !strings.Contains(s, "F fleet") {
		t.Fatalf("enter did not open the account's findings:\n%s", s)
	}
	if !strings.Contains(s, "CHECK") {
		t.Errorf("the findings list is not shown:\n%s", s)
	}
	// :fleet returns, the rows as they were; F too.
	key(app, ":")
	typeText(app, "fleet")
	key(app, "enter", "esc") // esc clears the filter
	s = screenText(app)
	if !strings.Contains(strings.SplitN(s, "\n", 2)[0], "fleet · 8 account-regions") || lineWith(s, "444444444444", "failed") == "" {
		t.Fatalf(":fleet did not return to the fleet:\n%s", s)
	}
	key(app, "3")
	if s = screenText(app); !strings.Contains(s, "fleet › 111111111111") {
		t.Fatalf("3 did not go back to the open target:\n%s", s)
	}
	key(app, "F")
	if s = screenText(app); !strings.Contains(s, "fleet · 8 account-regions") {
		t.Fatalf("F did not return to the fleet:\n%s", s)
	}
	key(app, "?")
	if s = screenText(app); !strings.Contains(s, "F or :fleet") {
		t.Errorf("the help does not say how to come back to the fleet:\n%s", s)
	}
}

func TestFleetGolden(t *testing.T) {
	app := fleetApp(t, 80, 24)
	drive(app, app.Init())
	key(app, "down", "down", "down", "down", "down", "down") // the sandbox: the status line says why it failed
	golden(t, "fleet-80x24", screenText(app))
}

// fakeFleet is two targets; its first scan reports one row and then waits to be
// replaced, its next ones answer at once.
type fakeFleet struct{ scans int }

func (f *fakeFleet) Targets() []ui.FleetTarget {
	return []ui.FleetTarget{{ID: "a", Account: "111111111111", Region: "us-east-1"}, {ID: "b", Account: "222222222222", Region: "us-east-1"}}
}

func (f *fakeFleet) Scan(ctx context.Context, report func(ui.FleetRow)) ui.FleetCross {
	f.scans++
	if f.scans == 1 {
		report(ui.FleetRow{FleetTarget: f.Targets()[0], State: ui.FleetDone, Rules: 99})
		<-ctx.Done()
		return ui.FleetCross{}
	}
	for _, t := range f.Targets() {
		report(ui.FleetRow{FleetTarget: t, State: ui.FleetDone, Rules: 1})
	}
	return ui.FleetCross{}
}

func (f *fakeFleet) ReadOnly() bool { return true }

func (f *fakeFleet) Open(context.Context, string) (ui.Engine, error) {
	return &fakeEngine{scans: []*model.Snapshot{account()}}, nil
}

// A fleet scan replaced by r: its rows, arriving late, are dropped.
func TestFleetDropsAReplacedScansRows(t *testing.T) {
	app := ui.New(context.Background(), nil, ui.Options{NoColor: true, Fleet: &fakeFleet{}})
	app.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	late := app.Init()() // the first scan's first row, held back
	if _, ok := late.(tea.BatchMsg); ok {
		t.Fatalf("Init is one listener, got a batch")
	}
	key(app, "r")
	if s := screenText(app); lineWith(s, "111111111111", " 1 ", "done") == "" {
		t.Fatalf("the second scan's rows are not shown:\n%s", s)
	}
	app.Update(late)
	if s := screenText(app); strings.Contains(s, "99") || lineWith(s, "111111111111", " 1 ", "done") == "" {
		t.Fatalf("a replaced scan's row was shown:\n%s", s)
	}
}

// stuckFleet is a fleet whose one target is scanning and whose other was read only in
// part, and which cannot be opened.
type stuckFleet struct{ fakeFleet }

func (f *stuckFleet) Scan(ctx context.Context, report func(ui.FleetRow)) ui.FleetCross {
	ts := f.Targets()
	report(ui.FleetRow{FleetTarget: ts[0], State: ui.FleetIncomplete, Rules: 2, Repositories: 5, Errors: 1,
		Reason: "1 parts unread, 3 subjects not checked"})
	report(ui.FleetRow{FleetTarget: ts[1], State: ui.FleetScanning})
	return ui.FleetCross{}
}

func (f *stuckFleet) Open(context.Context, string) (ui.Engine, error) {
	return nil, errors.New("cannot assume arn:aws:iam::111111111111:role/audit: AccessDenied")
}

// An incomplete target is marked so, with its counts; one being scanned says so; a
// target that cannot be opened is named on the status line, and the fleet stays.
func TestFleetIncompleteAndUnopenable(t *testing.T) {
	app := ui.New(context.Background(), nil, ui.Options{NoColor: true, Fleet: &stuckFleet{}})
	app.Update(tea.WindowSizeMsg{Width: 100, Height: 24})
	drive(app, app.Init())
	s := screenText(app)
	if lineWith(s, "111111111111", "2", "5", "1E 0W 0I", "incomplete: 1 parts unread") == "" || lineWith(s, "222222222222", "scanning") == "" {
		t.Fatalf("the fleet's rows:\n%s", s)
	}
	key(app, "enter")
	s = screenText(app)
	if !strings.Contains(s, "Could not open a") || !strings.Contains(s, "fleet · 2 account-regions") {
		t.Fatalf("a target that cannot be opened:\n%s", s)
	}
	key(app, "3") // no account behind the tabs yet: said so
	if s = screenText(app); !strings.Contains(s, "enter opens the selected account-region") {
		t.Fatalf("3 before any target was opened:\n%s", s)
	}
}

// discoveringFleet is one account whose regions are to be found (--regions all) beside
// a known target; its scan finds two regions, and the cross-account checks leave one
// judgement open.
type discoveringFleet struct{ fakeFleet }

func (f *discoveringFleet) Targets() []ui.FleetTarget {
	return []ui.FleetTarget{{ID: "a", Account: "111111111111", Region: "us-east-1"},
		{ID: "discover b", Source: "account 222222222222", Account: "222222222222", Discover: true}}
}

func (f *discoveringFleet) Scan(ctx context.Context, report func(ui.FleetRow)) ui.FleetCross {
	found := []ui.FleetTarget{{ID: "b1", Account: "222222222222", Region: "eu-west-1"}, {ID: "b2", Account: "222222222222", Region: "us-east-2"}}
	report(ui.FleetRow{FleetTarget: f.Targets()[1], State: ui.FleetDone, Found: found})
	for _, t := range append(f.Targets()[:1], found...) {
		report(ui.FleetRow{FleetTarget: t, State: ui.FleetDone, Rules: 1})
	}
	return ui.FleetCross{
		Findings: []ui.FleetFinding{{ID: "f1", Check: "fleet-upstream-drift", Severity: "warning", Subject: "quay.io", Title: "Rules for quay.io differ"}},
		NotChecked: []ui.FleetNotChecked{{Check: "fleet-ecr-upstream-policy", Subject: "222222222222 eu-west-1 rule sandbox",
			Reason: "the upstream account-region 444444444444 us-east-1 could not be scanned: AccessDenied"}}}
}

// An account whose regions are being looked for is a row at once, discovering; the
// account-regions found take its place; the cross-account checks' findings and what
// they could not judge are rows of the fleet screen, the latter with why.
func TestFleetDiscoveringAndNotChecked(t *testing.T) {
	app := ui.New(context.Background(), nil, ui.Options{NoColor: true, Fleet: &discoveringFleet{}})
	app.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	cmd := app.Init()
	s := screenText(app)
	if lineWith(s, "222222222222", "discovering") == "" || !strings.Contains(s, "fleet · 1 account-regions, 1 accounts discovering") {
		t.Fatalf("the discovering account is not listed at once:\n%s", s)
	}
	app.Update(tea.KeyPressMsg{Code: tea.KeyDown}) // not key(): it waits for the scan, not run yet
	app.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
	if s = screenText(app); !strings.Contains(s, "still being looked for") {
		t.Fatalf("enter on a discovering account:\n%s", s)
	}
	drive(app, cmd)
	s = screenText(app)
	if lineWith(s, "discovering") != "" || lineWith(s, "222222222222", "eu-west-1", "done") == "" || lineWith(s, "222222222222", "us-east-2", "done") == "" ||
		!strings.Contains(s, "fleet · 3 account-regions") {
		t.Fatalf("the regions found did not take the account's row:\n%s", s)
	}
	if lineWith(s, "cross-acct", "ecr-upstream", "not checked: 2222") == "" || !strings.Contains(s, "1 cross-account, 1 not checked") {
		t.Fatalf("the cross-account not checked is not on the fleet screen:\n%s", s)
	}
	key(app, "down", "down", "down", "down") // the judgement left open: the status line says why
	golden(t, "fleet-not-checked-80x24", screenText(app))
	key(app, "/")
	typeText(app, "not checked")
	key(app, "enter")
	if s = screenText(app); !strings.Contains(s, "444444444444 us-east-1 could not be scanned") {
		t.Fatalf("the status line does not say why it was not checked:\n%s", s)
	}
	key(app, "d")
	if s = screenText(app); !strings.Contains(s, "222222222222 eu-west-1 rule sandbox") || !strings.Contains(s, "account-region 444444444444 us-east-1") {
		t.Fatalf("d does not describe the judgement left open:\n%s", s)
	}
}

// crossAccountFleet starts the cross-account fleet stand-in; base reaches it as the
// management account's admin, read-only.
func crossAccountFleet(t *testing.T) (*sim.Fleet, ecrops.Config) {
	t.Helper()
	f := simtest.StartFleet(t, "../testdata/fleet/cross-account.yaml")
	info := f.Info()
	return f, ecrops.Config{Region: info.Region, EndpointURL: info.Endpoint, Resolve: info.Resolve, ReadOnly: true,
		StateDir: t.TempDir(), Retryer: ecrops.NoBackoff(3),
		Credentials: credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, "")}
}

// allRegionsFleet is the cross-account fleet with every region to be looked in.
func allRegionsFleet(t *testing.T) (*sim.Fleet, *uiengine.Fleet) {
	t.Helper()
	f, base := crossAccountFleet(t)
	fc := ecrops.FleetConfig{Base: base, RoleARN: "arn:aws:iam::{account}:role/ptcdoctor-audit", Organization: true, AllRegions: true}
	accounts, err := ecrops.FleetAccounts(context.Background(), fc)
	if err != nil {
		t.Fatal(err)
	}
	fl := uiengine.NewFleet(base, nil, 4, nil)
	fl.Discover(fc, accounts)
	return f, fl
}

// The accounts of a fleet whose regions are all to be looked in are on screen before
// any region is asked for its rules; the account-regions with rules follow.
func TestFleetAllRegionsRowsAtOnce(t *testing.T) {
	f, fl := allRegionsFleet(t)
	info := f.Info()
	app := ui.New(context.Background(), nil, ui.Options{NoColor: true, Fleet: fl})
	app.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	s := screenText(app)
	asked := 0
	for _, a := range info.Accounts {
		for _, r := range a.Regions {
			for _, e := range f.Member(a.ID, r.Region).Events(0) {
				if e.Operation == "DescribePullThroughCacheRules" {
					asked++
				}
			}
		}
	}
	if lineWith(s, "111111111111", "discovering") == "" || lineWith(s, "444444444444", "discovering") == "" || asked != 0 {
		t.Fatalf("%d rules asked for before the first screen:\n%s", asked, s)
	}
	drive(app, app.Init())
	s = screenText(app)
	if lineWith(s, "111111111111", "us-east-1", "done") == "" || lineWith(s, "333333333333", "us-east-1", "done") == "" ||
		lineWith(s, "444444444444", "failed") == "" || strings.Contains(s, "discovering") {
		t.Fatalf("after the scan:\n%s", s)
	}
}

// A target opened from the fleet judges the watched principals of its own account only:
// team-a's node role is not simulated in the central account, where IAM has no such
// role (it would be "not checked" for nothing).
func TestFleetTargetJudgesItsOwnPrincipals(t *testing.T) {
	app := fleetApp(t, 120, 30, "arn:aws:iam::222222222222:role/eks-node")
	drive(app, app.Init())
	key(app, "enter") // the central account in us-east-1
	s := screenText(app)
	if !strings.Contains(s, "fleet › 111111111111 (central) · us-east-1") || strings.Contains(s, "Not checked") || strings.Contains(s, "eks-node") {
		t.Fatalf("the central account judged another account's principal:\n%s", s)
	}
}

// An account's regions are scanned as soon as they are found: with the central
// account's rules slow to answer (far slower than any scan here), another account's
// region is scanned before the central account's regions are known. The scan is
// cancelled once that is seen, so the test does not wait for the slow answer.
func TestFleetScansRegionsAsFound(t *testing.T) {
	f, fl := allRegionsFleet(t)
	simtest.Admin(t, f.Member("111111111111", "us-east-1"), "PUT", "/faults",
		`[{"operation":"DescribePullThroughCacheRules","latency":"60s","latencyRate":1}]`, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var seen []string
	centralFound, teamBScanned := false, false
	fl.Scan(ctx, func(r ui.FleetRow) {
		seen = append(seen, fmt.Sprintf("%s %s %s found %d", r.Account, r.Region, r.State, len(r.Found)))
		switch {
		case r.Account == "111111111111" && r.Region == "" && r.State != ui.FleetDiscovering:
			centralFound = true
		case r.Account == "333333333333" && r.Region == "us-east-1" && r.State == ui.FleetDone && !centralFound:
			teamBScanned = true
			cancel()
		}
	})
	if !teamBScanned {
		t.Fatalf("team-b's region was not scanned before the central account's regions were found: %q", seen)
	}
	// The scan replaced (cancelled) left the central account to be looked in again; the
	// next scan finds its region.
	discovering := false
	for _, tg := range fl.Targets() {
		discovering = discovering || tg.Account == "111111111111" && tg.Discover
	}
	if !discovering {
		t.Fatalf("the central account, not looked in, is no longer to be: %+v", fl.Targets())
	}
	simtest.Admin(t, f.Member("111111111111", "us-east-1"), "PUT", "/faults", `[]`, nil)
	found := false
	fl.Scan(context.Background(), func(r ui.FleetRow) {
		found = found || r.Account == "111111111111" && len(r.Found) == 1 && r.Found[0].Region == "us-east-1"
	})
	if !found {
		t.Fatalf("the next scan did not find the central account's region: %+v", fl.Targets())
	}
}
