package ui_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/ptcdoctor/ptcdoctor/model"
	"github.com/ptcdoctor/ptcdoctor/ui"
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
	app := demoApp(t, 120, 40)
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
	findingsMatching(app, "credentials of rule github")
	key(app, "f", "y")
	if s := screenText(app); !strings.Contains(s, "Read-only: nothing was written") {
		t.Fatalf("the refusal is not said:\n%s", s)
	}
	key(app, "w", "y")
	if s := screenText(app); strings.Contains(s, "Read-only: nothing was written") {
		t.Fatalf("the refusal stayed after writes were turned on:\n%s", s)
	}
}

// blockingApply is an account whose apply runs until the test lets it end.
type blockingApply struct {
	*fakeEngine
	release chan struct{}
}

func (e blockingApply) Apply(ctx context.Context, p model.Plan, s map[string]string) ([]ui.StepOutcome, error) {
	<-e.release
	return e.fakeEngine.Apply(ctx, p, s)
}

// q while a plan is being applied asks first; n keeps the interface, and the plan's
// results, on screen.
func TestQuitDuringAnApplyAsksFirst(t *testing.T) {
	eng := blockingApply{&fakeEngine{scans: []*model.Snapshot{account("hub/a")},
		journal: []ui.JournalRow{{Plan: "20261130T043512-aaaaaaaaaaaa", Operation: "ecr:PutLifecyclePolicy", Target: "hub/a", Outcome: "done", Undoable: true}},
		undo:    model.Plan{Title: "Undo", Steps: []model.Step{{Operation: "ecr:PutLifecyclePolicy", Target: "hub/a", Summary: "Put back the lifecycle policy"}}}},
		make(chan struct{})}
	app := started(t, eng, 100, 30)
	key(app, "4", "u")
	_, apply := app.Update(tea.KeyPressMsg{Code: 'y', Text: "y"})
	_, quit := app.Update(tea.KeyPressMsg{Code: 'q', Text: "q"})
	if quit != nil {
		t.Fatal("q quit while a plan was being applied, without asking")
	}
	if s := screenText(app); !strings.Contains(s, "then quit?") {
		t.Fatalf("no question on screen:\n%s", s)
	}
	app.Update(tea.KeyPressMsg{Code: 'n', Text: "n"})
	app.Update(tea.KeyPressMsg{Code: '1', Text: "1"}) // the plan's screen stays until its results are in
	app.Update(tea.KeyPressMsg{Code: 'w', Text: "w"}) // writes are not turned off under a plan that writes
	if eng.ReadOnly() || strings.Contains(screenText(app), "Turn writes") {
		t.Fatal("w during an apply changed, or asked to change, the writes")
	}
	close(eng.release)
	drive(app, apply)
	if s := screenText(app); !strings.Contains(s, "step 1 done") || strings.Contains(s, "then quit?") {
		t.Fatalf("after n and the apply's end:\n%s", s)
	}
}

// The start notice (a plan that did not finish) stays on the status line through the
// first scan and its checks, until ! shows it and it is closed.
func TestTheStartNoticeStaysUntilRead(t *testing.T) {
	eng := &fakeEngine{scans: []*model.Snapshot{account("hub/a")}}
	app := ui.New(context.Background(), eng, ui.Options{NoColor: true, Notice: "A plan did not finish: 20261130T090000-0123456789ab"})
	app.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	drive(app, app.Init())
	if s := screenText(app); !strings.Contains(s, "A plan did not finish") {
		t.Fatalf("the start notice is gone after the scan:\n%s", s)
	}
	key(app, "j", "2")
	if s := screenText(app); !strings.Contains(s, "A plan did not finish") {
		t.Fatalf("the start notice went with a key:\n%s", s)
	}
	key(app, "!")
	if s := screenText(app); !strings.Contains(s, "20261130T090000-0123456789ab") || !strings.Contains(s, "closes these details") {
		t.Fatalf("! does not show the notice:\n%s", s)
	}
	key(app, "esc")
	if s := screenText(app); strings.Contains(s, "A plan did not finish") {
		t.Fatalf("the notice stayed after it was read:\n%s", s)
	}
}

// :region in the demo says that the demo's region cannot change; an unknown command
// is told every command there is.
func TestRegionInTheDemoAndTheCommandsHint(t *testing.T) {
	app := demoApp(t, 200, 30)
	command(app, "region eu-west-1")
	if s := screenText(app); !strings.Contains(s, "The demo has one region") || strings.Contains(s, "needs a name") {
		t.Fatalf(":region in the demo:\n%s", s)
	}
	key(app, ":")
	typeText(app, "bogus")
	key(app, "enter")
	s := screenText(app)
	for _, c := range []string{":profile NAME", ":refresh", ":quit", ":fleet", ":help", ":explain REF"} {
		if !strings.Contains(s, c) {
			t.Errorf("the unknown command's hint lacks %s:\n%s", c, s)
		}
	}
}

// At 80 columns the header keeps the end of the identity (who it is), and an error
// with details keeps its hint: the message is what is shortened.
func TestAt80ColumnsTheHeaderAndAnErrorKeepTheirEnds(t *testing.T) {
	app := ui.New(context.Background(), &fakeEngine{scans: []*model.Snapshot{account("hub/a")}}, ui.Options{NoColor: true,
		Notice: "A plan did not finish: 20261130T090000-0123456789ab; ptcdoctor journal shows what it did and ptcdoctor undo takes it back"})
	app.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	drive(app, app.Init())
	lines := strings.Split(screenText(app), "\n")
	if !strings.Contains(lines[0], "user/admin") || !strings.Contains(lines[0], "WRITES ON") {
		t.Errorf("the header lost the identity's end: %q", lines[0])
	}
	if !strings.HasSuffix(lines[2], "(! shows the details)") {
		t.Errorf("the error lost its hint: %q", lines[2])
	}
}

// ! shows each entry of an error's details on a line of its own.
func TestTheDetailsKeepOneEntryALine(t *testing.T) {
	app := ui.New(context.Background(), &fakeEngine{scans: []*model.Snapshot{account("hub/a")}}, ui.Options{NoColor: true,
		Notice: "first entry\nsecond entry"})
	app.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	drive(app, app.Init())
	key(app, "!")
	if s := screenText(app); !strings.Contains(s, "\nfirst entry\nsecond entry\n") {
		t.Fatalf("the entries run together:\n%s", s)
	}
}

// Help lists the keys that work everywhere: ! for an error's details, and the paging keys.
func TestHelpListsTheKeysOfEveryScreen(t *testing.T) {
	app := started(t, &fakeEngine{scans: []*model.Snapshot{account("hub/a")}}, 120, 50)
	key(app, "?")
	s := screenText(app)
	for _, want := range []string{"! ", "an error's details", "ctrl+u", "ctrl+d", "space"} {
		if !strings.Contains(s, want) {
			t.Errorf("help lacks %q:\n%s", want, s)
		}
	}
}

// A rule whose repositories' images could not all be read does not count them as 0.
func TestRulesTabSaysWhenImagesWereNotRead(t *testing.T) {
	snap := account("hub/a")
	snap.Repositories[0].ImagesKnown = false
	app := started(t, &fakeEngine{scans: []*model.Snapshot{snap}}, 120, 30)
	key(app, "1")
	s := screenText(app)
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "registry-1.docker.io") && !regexp.MustCompile(`\s1\s+\?\s`).MatchString(l) {
			t.Fatalf("the rule's images are counted as if read: %q\n%s", l, s)
		}
	}
}
