package ui_test

import (
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// An error note without details lasts until the next action: a rescan, here.
func TestAnUnknownCommandIsForgottenByTheNextAction(t *testing.T) {
	app := started(t, &fakeEngine{scans: []*model.Snapshot{account("hub/a")}}, 100, 30)
	key(app, ":")
	typeText(app, "bogus")
	key(app, "enter")
	if s := screenText(app); !strings.Contains(s, "Unknown command :bogus") {
		t.Fatalf("no word of the unknown command:\n%s", s)
	}
	key(app, "r")
	if s := screenText(app); strings.Contains(s, "Unknown command") {
		t.Fatalf("the note stayed through a rescan:\n%s", s)
	}
}

// A question is on the status line whatever was there, and owns the keys until it is
// answered: a key that is no answer answers nothing.
func TestAQuestionOwnsTheStatusLine(t *testing.T) {
	eng := &fakeEngine{scans: []*model.Snapshot{account("hub/a")}, readOnly: true}
	app := started(t, eng, 100, 30)
	key(app, ":")
	typeText(app, "bogus")
	key(app, "enter", "w")
	if s := screenText(app); !strings.Contains(s, "Turn writes ON?") {
		t.Fatalf("the question is not on screen:\n%s", s)
	}
	key(app, "j", "2")
	if s := screenText(app); !strings.Contains(s, "Turn writes ON?") || !eng.ReadOnly() {
		t.Fatalf("a key that is no answer took the question away, or answered it:\n%s", s)
	}
	key(app, "y")
	if eng.ReadOnly() {
		t.Fatal("y did not turn writes on")
	}
	if s := screenText(app); strings.Contains(s, "Turn writes ON?") || !strings.Contains(s, "writes are ON") {
		t.Fatalf("after the answer:\n%s", s)
	}
}

// A note goes with the screen it was said on: "select a finding first" is not
// left on the findings screen.
func TestANoteGoesWithItsScreen(t *testing.T) {
	_, eng := demo(t)
	app := newApp(eng)
	app.Update(windowSize(120, 40))
	drive(app, app.Init())
	key(app, "f", "3")
	if s := screenText(app); strings.Contains(s, "select a finding first") {
		t.Fatalf("a stale note on the findings screen:\n%s", s)
	}
}

// "Read-only: nothing was written" goes once writes are on.
func TestTheReadOnlyRefusalGoesOnceWritesAreOn(t *testing.T) {
	_, eng := demo(t)
	eng.SetReadOnly(true)
	app := newApp(eng)
	app.Update(windowSize(120, 40))
	drive(app, app.Init())
	key(app, "3", "/")
	typeText(app, "credentials of rule github")
	key(app, "enter", "f", "y")
	if s := screenText(app); !strings.Contains(s, "Read-only: nothing was written") {
		t.Fatalf("the refusal is not said:\n%s", s)
	}
	key(app, "w", "y")
	if s := screenText(app); strings.Contains(s, "Read-only: nothing was written") {
		t.Fatalf("the refusal stayed after writes were turned on:\n%s", s)
	}
}
