package ui_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ptcdoctor/ptcdoctor/cmd/ptcdoctor/uiengine"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
	"github.com/ptcdoctor/ptcdoctor/ui"
)

// selectRow filters the fleet to the row that holds text and leaves the filter.
func selectRow(app *ui.App, text string) {
	key(app, "/")
	typeText(app, text)
	key(app, "enter")
}

// A target that failed is not opened: its screens would say "nothing found" of data
// never read. enter says why, the fleet stays, the row keeps its failure.
func TestFleetFailedTargetIsNotOpened(t *testing.T) {
	app := fleetApp(t, 120, 30)
	drive(app, app.Init())
	selectRow(app, "222222222222 eu-west-1")
	key(app, "enter")
	s := screenText(app)
	head := strings.SplitN(s, "\n", 2)[0]
	if strings.Contains(head, "›") || !strings.Contains(s, "was not scanned (region not enabled)") || strings.Contains(s, "Nothing found") {
		t.Fatalf("enter on a failed target:\n%s", s)
	}
	key(app, "esc", "F")
	if s = screenText(app); lineWith(s, "222222222222", "eu-west-1", "failed: region not enabled") == "" {
		t.Fatalf("the failed row changed:\n%s", s)
	}
}

// Credentials refused everywhere leave the scan unable to tell whose account it is: the
// target failed (as doctor says), named by its profile on the status line, not
// "incomplete" with counts of what was never read.
func TestFleetUnreadAccountFails(t *testing.T) {
	_, base := crossAccountFleet(t)
	base.Credentials = credentials.NewStaticCredentialsProvider("AKIANOTKNOWN00000000", "not-a-known-secret-key", "")
	targets, _, err := ecrops.Targets(context.Background(), ecrops.FleetConfig{Base: base, Regions: []string{"us-east-1", "eu-west-1"}})
	if err != nil {
		t.Fatal(err)
	}
	app := ui.New(context.Background(), nil, ui.Options{NoColor: true, Fleet: uiengine.NewFleet(base, targets, 2, nil)})
	app.Update(tea.WindowSizeMsg{Width: 100, Height: 24})
	drive(app, app.Init())
	s := screenText(app)
	if l := lineWith(s, "profile default", "us-east-1"); !strings.Contains(l, "failed: could not tell which account") || strings.Contains(l, "0E") {
		t.Fatalf("the unread account's row:\n%s", s)
	}
	if status := strings.Split(s, "\n")[2]; !strings.HasPrefix(status, "profile default us-east-1 failed:") {
		t.Fatalf("the status line does not name the row's account: %q", status)
	}
}

// The fleet screen's keys act on the selected row, not on the target opened last: e
// waits for the selected row to be opened; ? and d keep the fleet's header; d tells a
// row in words, a target's counts only where it was scanned.
func TestFleetKeysActOnTheSelectedRow(t *testing.T) {
	app := fleetApp(t, 120, 30)
	drive(app, app.Init())
	selectRow(app, "222222222222 us-east-1")
	key(app, "enter", "F", "esc")
	selectRow(app, "111111111111 us-east-1")
	key(app, "e")
	if s := screenText(app); !strings.Contains(s, "enter opens the selected one first") || strings.Contains(s, "Explain") {
		t.Fatalf("e on a row not opened:\n%s", s)
	}
	key(app, "?")
	s := screenText(app)
	if head := strings.SplitN(s, "\n", 2)[0]; !strings.Contains(head, "fleet · 8 account-regions") || strings.Contains(head, "222222222222") {
		t.Fatalf("? over the fleet shows the opened target's header:\n%s", s)
	}
	key(app, "esc", "d")
	s = screenText(app)
	if !strings.Contains(s, "Account:  111111111111 (central)") || !strings.Contains(s, "Rules:    2") ||
		strings.Contains(s, "Discover") || strings.Contains(s, "null") || strings.Contains(s, "1 Rules") {
		t.Fatalf("d on a target row:\n%s", s)
	}
	key(app, "esc", "esc")
	selectRow(app, "444444444444 us-east-1")
	key(app, "d")
	if s = screenText(app); !strings.Contains(s, "Not scanned") || strings.Contains(s, "Rules:") || !strings.Contains(s, "AccessDenied") {
		t.Fatalf("d on a failed row:\n%s", s)
	}
}

// enter on a cross-account row shows the finding whole: explanation, evidence, and its
// fix, a step by hand in the account it names; never the raw data.
func TestFleetCrossAccountFindingInFull(t *testing.T) {
	app := fleetApp(t, 80, 24)
	drive(app, app.Init())
	selectRow(app, "ecr-upstream central")
	key(app, "enter")
	s := screenText(app)
	if !strings.Contains(s, "› finding ") || !strings.Contains(s, "Evidence") || strings.Contains(s, `"ID"`) {
		t.Fatalf("enter on a cross-account finding:\n%s", s)
	}
	key(app, "G") // the step by hand is at the end
	if s = screenText(app); !strings.Contains(s, "Fix, by hand") || !strings.Contains(s, "In account 111111111111, region us-east-1") {
		t.Fatalf("the step by hand is not shown:\n%s", s)
	}
}

var targetLine = regexp.MustCompile(`^ \d{12} `)

// Sorting keeps the cross-account rows after the targets, in either direction.
func TestFleetSortGroupsCrossAccountRows(t *testing.T) {
	app := fleetApp(t, 120, 30)
	drive(app, app.Init())
	for _, keys := range [][]string{{"s", "s", "s", "s", "s"}, {"S"}, {"s"}} { // FINDINGS, then reversed, then STATE
		key(app, keys...)
		s := screenText(app)
		lastTarget, firstCross := -1, -1
		for i, l := range strings.Split(s, "\n") {
			switch {
			case strings.Contains(l, "cross-acct") && firstCross < 0:
				firstCross = i
			case targetLine.MatchString(l):
				lastTarget = i
			}
		}
		if firstCross < 0 || lastTarget > firstCross {
			t.Fatalf("after %v the cross-account rows are among the targets:\n%s", keys, s)
		}
	}
}

// Over a fleet, :region opens the opened target's account in that region, when the
// fleet holds it; otherwise it says where the fleet's account-regions are.
func TestFleetRegionCommand(t *testing.T) {
	app := fleetApp(t, 120, 30)
	drive(app, app.Init())
	selectRow(app, "111111111111 us-east-1")
	key(app, "enter")
	key(app, ":")
	typeText(app, "region eu-west-1")
	key(app, "enter")
	if head := strings.SplitN(screenText(app), "\n", 2)[0]; !strings.Contains(head, "fleet › 111111111111 (central) · eu-west-1") {
		t.Fatalf(":region eu-west-1: %q", head)
	}
	key(app, ":")
	typeText(app, "region ap-south-1")
	key(app, "enter")
	if s := screenText(app); !strings.Contains(s, "on the fleet screen") || strings.Contains(s, "The demo has one region") {
		t.Fatalf(":region ap-south-1:\n%s", s)
	}
}

// The details ! shows: the footer offers only what works there.
func TestFleetDetailsFooter(t *testing.T) {
	app := ui.New(context.Background(), nil, ui.Options{NoColor: true, Fleet: &stuckFleet{}})
	app.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	drive(app, app.Init())
	key(app, "enter", "!")
	s := screenText(app)
	foot := s[strings.LastIndex(s, "\n")+1:]
	if !strings.Contains(s, "AccessDenied") || !strings.Contains(foot, "close the details") || strings.Contains(foot, "fleet") || strings.Contains(foot, "enter") {
		t.Fatalf("the footer under the details: %q\n%s", foot, s)
	}
}

// enter on an account whose regions are still being looked for opens nothing, then or
// once they are found.
func TestFleetEnterWhileDiscovering(t *testing.T) {
	_, fl := allRegionsFleet(t)
	app := ui.New(context.Background(), nil, ui.Options{NoColor: true, Fleet: fl})
	app.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	cmd := app.Init()
	app.Update(tea.KeyPressMsg{Code: tea.KeyEnter}) // not key(): it would wait for the scan
	if s := screenText(app); !strings.Contains(s, "still being looked for") {
		t.Fatalf("enter on a discovering account:\n%s", s)
	}
	drive(app, cmd)
	if head := strings.SplitN(screenText(app), "\n", 2)[0]; strings.Contains(head, "›") {
		t.Fatalf("a target was opened: %q", head)
	}
}

// ! lists what could not be checked one entry a line; a check that could not run at all
// reads "every subject of the check", not "all every subject of the check".
func TestNotCheckedDetailsWording(t *testing.T) {
	snap := account("hub/a")
	snap.Errors = []model.PartError{{Part: model.PartTemplates, Operation: "DescribeRepositoryCreationTemplates", Code: "AccessDeniedException", Message: "not authorized"}}
	app := ui.New(context.Background(), &fakeEngine{scans: []*model.Snapshot{snap}}, ui.Options{NoColor: true})
	app.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	drive(app, app.Init())
	key(app, "!")
	s := screenText(app)
	if !strings.Contains(s, "creation-template: every subject of the check: DescribeRepositoryCreationTemplates failed") || strings.Contains(s, "all every") {
		t.Fatalf("the details of what was not checked:\n%s", s)
	}
}
