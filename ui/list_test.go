package ui_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/ptcdoctor/ptcdoctor/model"
	"github.com/ptcdoctor/ptcdoctor/ui"
)

// The cursor is held by the row's id: a rescan that adds a row above it leaves it
// on the same repository.
func TestTheCursorStaysOnItsRowThroughARescan(t *testing.T) {
	eng := &fakeEngine{scans: []*model.Snapshot{account("hub/a", "hub/b", "hub/c"), account("hub/0", "hub/a", "hub/b", "hub/c")}}
	app := started(t, eng, 100, 30)
	key(app, "2", "j", "d")
	if s := screenText(app); !strings.Contains(s, `"Name": "hub/b"`) {
		t.Fatalf("j should select hub/b:\n%s", s)
	}
	key(app, "esc", "r", "d")
	if s := screenText(app); !strings.Contains(s, `"Name": "hub/b"`) {
		t.Fatalf("after the rescan the cursor left hub/b:\n%s", s)
	}
}

// selectedLine is the list row drawn selected (in reverse video), without styling.
func selectedLine(app *ui.App) string {
	row := regexp.MustCompile(`^\s*[0-9a-f]{8}\s+(ERR|WARN|INFO)\s`)
	for _, l := range strings.Split(app.View().Content, "\n") {
		if plain := ansi.Strip(l); strings.Contains(l, "7m") && row.MatchString(plain) {
			return strings.TrimSpace(plain)
		}
	}
	return ""
}

// A filter says it is on, and how many rows it shows of how many; after G and a
// filter, the detail pane shows the row drawn selected.
func TestAFilterSaysSoAndTheDetailFollowsTheSelection(t *testing.T) {
	app := demoApp(t, 100, 40)
	key(app, "3", "G", "/")
	typeText(app, "credentials")
	key(app, "enter")
	s := screenText(app)
	if !regexp.MustCompile(`\d+ of \d+ findings match the filter "credentials"`).MatchString(s) {
		t.Fatalf("nothing says a filter is on:\n%s", s)
	}
	sel := selectedLine(app)
	if sel == "" {
		t.Fatalf("no row is drawn selected:\n%s", s)
	}
	id := strings.Fields(sel)[0] // ID, SEV, CHECK, SUBJECT
	var detail string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "ERROR ") || strings.HasPrefix(l, "WARNING ") || strings.HasPrefix(l, "INFO ") {
			detail = l
		}
	}
	if !strings.Contains(detail, "id "+id) {
		t.Fatalf("the detail (%q) is not about the selected row (%q):\n%s", detail, sel, s)
	}
}

// Applying a fix leaves the findings filtered as they were.
func TestApplyingAFixKeepsTheFilter(t *testing.T) {
	app := demoApp(t, 120, 40)
	findingsMatching(app, "docker-hub/nginx")
	key(app, "f", "y")
	typeText(app, "docker-hub/nginx")
	key(app, "enter")
	if s := screenText(app); !strings.Contains(s, "Re-checked") {
		t.Fatalf("the fix was not applied:\n%s", s)
	}
	key(app, "esc")
	if s := screenText(app); !strings.Contains(s, `match the filter "docker-hub/nginx"`) {
		t.Fatalf("the filter was dropped:\n%s", s)
	}
}

// An account with no rule says how to make one.
func TestAnEmptyAccountPointsToSetup(t *testing.T) {
	empty := &model.Snapshot{AccountID: "111122223333", Region: "us-east-1"}
	app := started(t, &fakeEngine{scans: []*model.Snapshot{empty}}, 100, 30)
	if s := screenText(app); !strings.Contains(s, ":setup") {
		t.Fatalf("an empty account says nothing of :setup:\n%s", s)
	}
}
