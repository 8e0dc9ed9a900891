package ui_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/ptcdoctor/ptcdoctor/model"
	"github.com/ptcdoctor/ptcdoctor/ui"
)

// withRequestIDs gives each step done a request id, as the real engine's outcomes carry.
type withRequestIDs struct{ steppedApply }

func (e withRequestIDs) Apply(ctx context.Context, p model.Plan, s map[string]string) ([]ui.StepOutcome, error) {
	out, err := e.steppedApply.Apply(ctx, p, s)
	for i := range out {
		if out[i].Status == "done" {
			out[i].RequestID = "req-" + out[i].Step.Target
		}
	}
	return out, err
}

// A stopped plan offers "u there undoes it" only when a step it did can be undone (the
// journal's row of that write says so): a force DeleteRepository cannot.
func TestAStoppedPlanOffersUndoOnlyWhereThereIsOne(t *testing.T) {
	for _, undoable := range []bool{false, true} {
		eng := withRequestIDs{steppedApply{fakeEngine: &fakeEngine{scans: []*model.Snapshot{account("hub/a", "hub/b")},
			journal: []ui.JournalRow{{Plan: "p", Operation: "ecr:DeleteRepository", Target: "hub/b", Outcome: "done", RequestID: "req-hub/b", Undoable: undoable}},
			undo: model.Plan{Title: "Undo", Steps: []model.Step{{Operation: "ecr:DeleteRepository", Target: "hub/b", Summary: "b"},
				{Operation: "ecr:DeleteRepository", Target: "hub/a", Summary: "a"}}}},
			release: make(chan struct{}), stopped: new(bool)}}
		app := started(t, eng, 100, 30)
		key(app, "4", "u")
		_, apply := app.Update(tea.KeyPressMsg{Code: 'y', Text: "y"})
		app.Update(tea.KeyPressMsg{Code: tea.KeyEscape})
		app.Update(tea.KeyPressMsg{Code: 'y', Text: "y"})
		close(eng.release)
		drive(app, apply)
		s := screenText(app)
		offered := strings.Contains(s, "u there undoes it")
		if !strings.Contains(s, "The plan was stopped between steps") || offered != undoable ||
			(!undoable && !strings.Contains(s, "none of it can be undone")) {
			t.Errorf("undoable %v:\n%s", undoable, s)
		}
	}
}

// nothingToUndo's plan has no step with an inverse.
type nothingToUndo struct{ *fakeEngine }

func (nothingToUndo) UndoPlan(context.Context, string) (model.Plan, error) {
	return model.Plan{}, errors.New("nothing to undo: the plan wrote no step that has an inverse")
}

// u on a plan with nothing to undo says so in a note: nothing failed, so no sticky "!"
// error stays on every screen.
func TestNothingToUndoIsANote(t *testing.T) {
	eng := nothingToUndo{&fakeEngine{scans: []*model.Snapshot{account("hub/a")},
		journal: []ui.JournalRow{{Plan: "p", Operation: "ecr:DeleteRepository", Target: "hub/a", Outcome: "done"}}}}
	app := started(t, eng, 100, 30)
	_, cmd := app.Update(tea.KeyPressMsg{Code: '4', Text: "4"})
	drive(app, cmd)
	_, cmd = app.Update(tea.KeyPressMsg{Code: 'u', Text: "u"})
	drive(app, cmd)
	if status := statusOf(app); !strings.Contains(status, "nothing to undo") || strings.Contains(status, "!") {
		t.Fatalf("the status line: %q", status)
	}
	key(app, "1")
	if status := statusOf(app); strings.Contains(status, "nothing to undo") {
		t.Fatalf("stays on another screen: %q", status)
	}
}

// brokenJournal's journal cannot be read once broken is set.
type brokenJournal struct {
	withRequestIDs
	broken *bool
}

func (e brokenJournal) Journal() ([]ui.JournalRow, error) {
	if *e.broken {
		return nil, errors.New("journal.jsonl: permission denied")
	}
	return e.withRequestIDs.Journal()
}

// A stopped plan whose journal cannot be read then says that, not "none of it can be
// undone": an unread journal is not a journal without an inverse.
func TestAStoppedPlanSaysWhenItsJournalCannotBeRead(t *testing.T) {
	eng := brokenJournal{withRequestIDs{steppedApply{fakeEngine: &fakeEngine{scans: []*model.Snapshot{account("hub/a", "hub/b")},
		journal: []ui.JournalRow{{Plan: "p", Operation: "ecr:DeleteRepository", Target: "hub/b", Outcome: "done", RequestID: "req-hub/b", Undoable: true}},
		undo: model.Plan{Title: "Undo", Steps: []model.Step{{Operation: "ecr:DeleteRepository", Target: "hub/b", Summary: "b"},
			{Operation: "ecr:DeleteRepository", Target: "hub/a", Summary: "a"}}}},
		release: make(chan struct{}), stopped: new(bool)}}, new(bool)}
	app := started(t, eng, 100, 30)
	key(app, "4", "u")
	_, apply := app.Update(tea.KeyPressMsg{Code: 'y', Text: "y"})
	app.Update(tea.KeyPressMsg{Code: tea.KeyEscape})
	app.Update(tea.KeyPressMsg{Code: 'y', Text: "y"})
	*eng.broken = true
	close(eng.release)
	drive(app, apply)
	s := strings.Join(strings.Fields(screenText(app)), " ") // the hint folds over lines
	if strings.Contains(s, "none of it can be undone") || strings.Contains(s, "u there undoes it") || !strings.Contains(s, "the journal could not be read") {
		t.Errorf("after the stop:\n%s", s)
	}
}
