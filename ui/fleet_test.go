package ui_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ptcdoctor/ptcdoctor/cmd/ptcdoctor/uiengine"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
	"github.com/ptcdoctor/ptcdoctor/model"
	"github.com/ptcdoctor/ptcdoctor/ui"
)

// fleetApp is the interface over the cross-account fleet stand-in: every account of its
// Organization, through the audit role, in two regions (8 account-regions; the sandbox's
// role refuses the management account, and one account has not enabled eu-west-1).
func fleetApp(t *testing.T, width, height int) *ui.App {
	t.Helper()
	f := simtest.StartFleet(t, "../testdata/fleet/cross-account.yaml")
	info := f.Info()
	base := ecrops.Config{Region: info.Region, EndpointURL: info.Endpoint, Resolve: info.Resolve, ReadOnly: true,
		StateDir: t.TempDir(), Retryer: ecrops.NoBackoff(3),
		Credentials: credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, "")}
	targets, _, err := ecrops.Targets(context.Background(), ecrops.FleetConfig{Base: base,
		RoleARN: "arn:aws:iam::{account}:role/ptcdoctor-audit", Organization: true, Regions: []string{"us-east-1", "eu-west-1"}})
	if err != nil || len(targets) != 8 {
		t.Fatalf("targets %v: %v", targets, err)
	}
	app := ui.New(context.Background(), nil, ui.Options{NoColor: true, Fleet: uiengine.NewFleet(base, targets, 4, nil)})
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
	if lineWith(s, "fleet", "cross-acct", "fleet-ecr-upstream-policy") == "" || !strings.Contains(s, "3 cross-account") {
		t.Errorf("the cross-account findings are not listed:\n%s", s)
	}
	// enter opens a target's findings; the header names it; F is in the footer.
	key(app, "/")
	typeText(app, "111111111111 us-east-1")
	key(app, "enter", "enter")
	s = screenText(app)
	head := strings.SplitN(s, "\n", 2)[0]
	if !strings.Contains(head, "fleet › 111111111111 · us-east-1") || !strings.Contains(s, "3 Findings 1E") || !strings.Contains(s, "F fleet") {
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

func (f *fakeFleet) Scan(ctx context.Context, report func(ui.FleetRow)) []ui.FleetFinding {
	f.scans++
	if f.scans == 1 {
		report(ui.FleetRow{FleetTarget: f.Targets()[0], State: ui.FleetDone, Rules: 99})
		<-ctx.Done()
		return nil
	}
	for _, t := range f.Targets() {
		report(ui.FleetRow{FleetTarget: t, State: ui.FleetDone, Rules: 1})
	}
	return nil
}

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

func (f *stuckFleet) Scan(ctx context.Context, report func(ui.FleetRow)) []ui.FleetFinding {
	ts := f.Targets()
	report(ui.FleetRow{FleetTarget: ts[0], State: ui.FleetIncomplete, Rules: 2, Repositories: 5, Errors: 1,
		Reason: "1 parts unread, 3 subjects not checked"})
	report(ui.FleetRow{FleetTarget: ts[1], State: ui.FleetScanning})
	return nil
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
