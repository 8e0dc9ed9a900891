package ui_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
	"github.com/ptcdoctor/ptcdoctor/model"
	"github.com/ptcdoctor/ptcdoctor/ui"
)

// An undo whose step deletes runs only once its target's name is typed, as a fix's does.
func TestJourneyUndoOfADeleteNeedsTheTypedName(t *testing.T) {
	srv, eng := demo(t)
	const repo = "quay/prometheus/node-exporter"
	policy := `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}}]}`
	if _, err := eng.Account.Apply(context.Background(), model.Plan{Title: "Lifecycle", Steps: []model.Step{{Kind: model.StepPutLifecyclePolicy,
		Operation: "ecr:PutLifecyclePolicy", Target: repo, Params: map[string]string{"lifecyclePolicyText": policy}}}}, ecrops.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	writes := writesOf(srv)
	var before int
	out := journey(t, eng, func(tm *teatest.TestModel) {
		press(tm, "4", "u", "y")
		waitDrawn(t, tm, "Type its name")
		before = writesOf(srv)
		press(tm, repo, "enter")
		waitDrawn(t, tm, "step 1 done")
	})
	if before != writes {
		t.Fatal("the undo deleted before the name was typed")
	}
	if !strings.Contains(out, "ecr:DeleteLifecyclePolicy") || writesOf(srv) != writes+1 {
		t.Fatalf("after typing the name:\n%s", out)
	}
}

// steppedApply applies a plan of steps one at a time: the first runs until release is
// closed, and a later one starts only while ctx lives (as uiengine's Apply does).
type steppedApply struct {
	*fakeEngine
	release chan struct{}
	stopped *bool
	block   bool // UndoPlan waits until its context ends
}

func (e steppedApply) Apply(ctx context.Context, p model.Plan, _ map[string]string) ([]ui.StepOutcome, error) {
	<-e.release
	var out []ui.StepOutcome
	for i, s := range p.Steps {
		if i > 0 && ctx.Err() != nil {
			*e.stopped = true
			out = append(out, ui.StepOutcome{Step: s, Status: "not-run"})
			continue
		}
		out = append(out, ui.StepOutcome{Step: s, Status: "done"})
	}
	if *e.stopped {
		return out, errors.New("stopped between steps, as asked: step 2 of 2 and after not run; step 1 was done")
	}
	return out, nil
}

func (e steppedApply) UndoPlan(ctx context.Context, id string) (model.Plan, error) {
	if e.block {
		<-ctx.Done()
		return model.Plan{}, ctx.Err()
	}
	return e.fakeEngine.UndoPlan(ctx, id)
}

// undoOfTwoSteps is an interface whose journal holds one plan of two steps, its undo ready.
// block makes the undo's plan wait to be read until its context ends.
func undoOfTwoSteps(t *testing.T, block bool) (*ui.App, steppedApply) {
	eng := steppedApply{fakeEngine: &fakeEngine{scans: []*model.Snapshot{account("hub/a", "hub/b")},
		journal: []ui.JournalRow{{Plan: "20261130T043512-aaaaaaaaaaaa", Operation: "ecr:PutLifecyclePolicy", Target: "hub/a", Outcome: "done", Undoable: true}},
		undo: model.Plan{Title: "Undo", Steps: []model.Step{{Operation: "ecr:DeleteLifecyclePolicy", Target: "hub/b", Summary: "Take back b's policy"},
			{Operation: "ecr:DeleteLifecyclePolicy", Target: "hub/a", Summary: "Take back a's policy"}}}},
		release: make(chan struct{}), stopped: new(bool), block: block}
	return started(t, eng, 100, 30), eng
}

// esc during an undo asks; n lets it run to its end, y stops it after the step under
// way, and the results say what was done and what was not.
func TestEscDuringAnUndoAsksThenStopsBetweenSteps(t *testing.T) {
	for _, answer := range []string{"n", "y"} {
		app, eng := undoOfTwoSteps(t, false)
		key(app, "4", "u")
		_, apply := app.Update(tea.KeyPressMsg{Code: 'y', Text: "y"})
		app.Update(tea.KeyPressMsg{Code: tea.KeyEscape})
		if s := screenText(app); !strings.Contains(s, "Stop the plan after the step under way?") {
			t.Fatalf("esc during the undo did not ask:\n%s", s)
		}
		app.Update(tea.KeyPressMsg{Code: rune(answer[0]), Text: answer})
		close(eng.release)
		drive(app, apply)
		s := screenText(app)
		switch {
		case answer == "n" && (*eng.stopped || !strings.Contains(s, "step 2 done")):
			t.Errorf("n stopped the undo:\n%s", s)
		case answer == "y" && (!*eng.stopped || !strings.Contains(s, "step 1 done") || strings.Contains(s, "step 2 done") ||
			!strings.Contains(s, "The plan was stopped between steps") || !strings.Contains(s, "journal (4)")):
			t.Errorf("y did not stop the undo between its steps, or did not say so:\n%s", s)
		}
	}
}

// q during an undo asks; y stops it between steps and quits once it has stopped, not before.
func TestQuitDuringAnUndoStopsItThenQuits(t *testing.T) {
	app, eng := undoOfTwoSteps(t, false)
	key(app, "4", "u")
	_, apply := app.Update(tea.KeyPressMsg{Code: 'y', Text: "y"})
	app.Update(tea.KeyPressMsg{Code: 'q', Text: "q"})
	if _, cmd := app.Update(tea.KeyPressMsg{Code: 'y', Text: "y"}); cmd != nil {
		if _, ok := cmd().(tea.QuitMsg); ok {
			t.Fatal("quit while the step under way ran")
		}
	}
	if s := screenText(app); !strings.Contains(s, "then quitting") {
		t.Fatalf("the status line does not say the plan stops first:\n%s", s)
	}
	close(eng.release)
	if quit := drive(app, apply); !quit || !*eng.stopped {
		t.Fatalf("quit %v, stopped between steps %v", quit, *eng.stopped)
	}
}

// esc while the undo's plan is read (it may read the account) stops the reading.
func TestEscStopsReadingAnUndoPlan(t *testing.T) {
	app, _ := undoOfTwoSteps(t, true)
	key(app, "4")
	_, read := app.Update(tea.KeyPressMsg{Code: 'u', Text: "u"})
	app.Update(tea.KeyPressMsg{Code: tea.KeyEscape})
	drive(app, read)
	if s := screenText(app); !strings.Contains(s, "stopped: the undo of plan") || strings.Contains(s, "Take back") {
		t.Fatalf("esc did not stop the undo's reading:\n%s", s)
	}
}

// Against the stand-in, through uiengine: an undo of two steps, stopped (esc, y) while
// its first call is slow, does that step, not the second, and the journal says where
// it stopped.
func TestJourneyAnUndoStoppedBetweenStepsIsJournaled(t *testing.T) {
	srv, eng := demo(t)
	repos := []string{"quay/prometheus/node-exporter", "docker-hub/library/redis"}
	var steps []model.Step
	for _, r := range repos {
		steps = append(steps, model.Step{Kind: model.StepPutLifecyclePolicy, Operation: "ecr:PutLifecyclePolicy", Target: r,
			Params: map[string]string{"lifecyclePolicyText": `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}}]}`}})
	}
	if _, err := eng.Account.Apply(context.Background(), model.Plan{Title: "Two lifecycles", Steps: steps}, ecrops.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	simtest.Admin(t, srv, "PUT", "/faults", `[{"operation":"PutLifecyclePolicy","latency":"3s","latencyRate":1}]`, nil)
	out := journey(t, eng, func(tm *teatest.TestModel) {
		press(tm, "4", "u", "y")
		waitDrawn(t, tm, "Type")
		press(tm, repos[0], "enter") // the one it deletes; redis's policy is put back first (last step first)
		waitDrawn(t, tm, "esc stops it between steps")
		press(tm, "esc")
		waitDrawn(t, tm, "Stop the plan after the step under way")
		press(tm, "y")
		waitDrawn(t, tm, "The plan was")
	})
	if !strings.Contains(out, "step 1 done") || strings.Contains(out, "step 2 done") || !strings.Contains(out, "stopped between steps") {
		t.Fatalf("the undo did not stop between its steps:\n%s", out)
	}
	entries, err := eng.Account.Journal().Entries()
	if err != nil {
		t.Fatal(err)
	}
	if last := entries[len(entries)-1]; last.Phase != "stopped" || last.Step != 1 {
		t.Fatalf("the journal does not say where the undo stopped: %+v", last)
	}
}
