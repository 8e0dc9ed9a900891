package ecrops

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// Undo is what undoing a journaled plan takes: the plan of inverses, and the steps it
// leaves alone.
type Undo struct {
	Plan model.Plan
	// Skipped are finished steps without an inverse (a secret's value, a warmed image).
	Skipped []JournalEntry
	// NoEffect are unfinished steps (the process stopped during the call) whose target
	// reads as it was before them: the call never took effect, there is nothing to undo.
	NoEffect []JournalEntry
	// Unknown are unfinished steps whose target changed: their inverse is in Plan,
	// restoring the before-image journaled with their intent.
	Unknown []JournalEntry
}

// UndoPlan builds the plan that undoes a journaled plan: the inverses of its finished
// steps, last first, leaving out those an earlier undo already reversed; before them,
// the inverse of a step that never recorded its outcome (a killed process) when the
// account shows that its call took effect. Each inverse expects the state the plan left
// (or, for an unfinished step, the state read now) and is refused when that changed.
// A plan that ran in another account or region is refused before anything is read
// (ElsewhereError), and one journaled without saying where unless opts allow it.
func (a *Account) UndoPlan(ctx context.Context, planID string, opts UndoOptions) (Undo, error) {
	entries, err := a.journal.Entries()
	if err != nil && len(entries) == 0 {
		return Undo{}, err
	}
	here, err := a.Place(ctx)
	if err != nil {
		return Undo{}, err
	}
	if err := checkPlace(here, entries, planID, opts.Unrecorded, false); err != nil {
		return Undo{}, err
	}
	u, found, alreadyUndone := undoOf(entries, planID)
	var open []JournalEntry
	for _, e := range unfinished(entries) {
		if e.Plan == planID {
			open = append(open, e)
		}
	}
	sort.Slice(open, func(i, j int) bool { return open[i].Step > open[j].Step })
	var first []model.Step
	for _, e := range open {
		impl, ok := stepImpls[e.Kind]
		if !ok {
			return u, fmt.Errorf("step %d of plan %s: ptcdoctor cannot carry out %q", e.Step+1, planID, e.Kind)
		}
		s := model.Step{Kind: e.Kind, Operation: e.Operation, Target: e.Target, Params: e.Params}
		now, err := impl.read(ctx, a, s)
		if err != nil {
			return u, fmt.Errorf("step %d of plan %s did not record its outcome, and its state cannot be read: %w", e.Step+1, planID, err)
		}
		switch {
		case e.Before != nil && sameState(e.Before, now):
			u.NoEffect = append(u.NoEffect, e)
		case impl.inverse == nil || e.Before == nil:
			u.Skipped = append(u.Skipped, e)
		default:
			inv := impl.inverse(s, e.Before, now)
			if inv == nil {
				u.Skipped = append(u.Skipped, e)
				continue
			}
			inv.Expect = now
			first = append(first, *inv)
			u.Unknown = append(u.Unknown, e)
		}
		if u.Plan.Title == "" {
			u.Plan.Title = "Undo: " + e.PlanTitle
		}
	}
	u.Plan.Steps = append(first, u.Plan.Steps...)
	switch {
	case !found && len(open) == 0:
		return u, fmt.Errorf("the journal has no finished step of plan %s", planID)
	case len(u.Plan.Steps) > 0 || len(u.NoEffect) > 0:
		return u, nil
	case alreadyUndone > 0:
		return u, undoneError{planID}
	}
	return u, ErrNothingToUndo
}

// undoOf gathers the inverses of a plan's finished steps, last first, leaving out
// those that an earlier undo applied.
func undoOf(entries []JournalEntry, planID string) (u Undo, found bool, alreadyUndone int) {
	undone := undoneSteps(entries)[planID]
	u.Plan.UndoOf = planID
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if e.Plan != planID || e.Phase != "done" {
			continue
		}
		found = true
		if e.Inverse == nil {
			u.Skipped = append(u.Skipped, e)
			continue
		}
		if k := undoKey(*e.Inverse); undone[k] > 0 {
			undone[k]--
			alreadyUndone++
			continue
		}
		if u.Plan.Title == "" {
			u.Plan.Title = "Undo: " + e.PlanTitle
		}
		u.Plan.Steps = append(u.Plan.Steps, *e.Inverse)
	}
	return u, found, alreadyUndone
}

// Undoable lists the plans an undo would still reverse, newest first, each by
// its last entry (for its id, title and time). It reads the file only.
func (j *Journal) Undoable() ([]JournalEntry, error) {
	entries, err := j.Entries()
	if err != nil && len(entries) == 0 {
		return nil, err
	}
	undoable := UndoablePlans(entries)
	var out []JournalEntry
	for i := len(entries) - 1; i >= 0; i-- {
		if e := entries[i]; (e.Phase == "done" || e.Phase == "intent") && undoable[e.Plan] {
			out = append(out, e)
			delete(undoable, e.Plan)
		}
	}
	return out, nil
}

// UndoablePlans names, in one pass over the journal's entries, the plans that
// still have a finished step whose inverse no undo has applied, or a step that never
// recorded its outcome and has an inverse (undo reads the account to know whether it
// took effect).
func UndoablePlans(entries []JournalEntry) map[string]bool {
	undone := undoneSteps(entries)
	out := map[string]bool{}
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if e.Phase != "done" || e.Inverse == nil {
			continue
		}
		if k := undoKey(*e.Inverse); undone[e.Plan][k] > 0 {
			undone[e.Plan][k]--
			continue
		}
		out[e.Plan] = true
	}
	for _, e := range unfinished(entries) {
		if impl, ok := stepImpls[e.Kind]; ok && impl.inverse != nil {
			out[e.Plan] = true
		}
	}
	return out
}

// undoneSteps counts, by plan undone, the finished writes of its undos, by what
// each did: each one cancels one inverse of that plan.
func undoneSteps(entries []JournalEntry) map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, e := range entries {
		if e.UndoOf == "" || e.Phase != "done" {
			continue
		}
		if out[e.UndoOf] == nil {
			out[e.UndoOf] = map[string]int{}
		}
		out[e.UndoOf][string(e.Kind)+" "+e.Target]++
	}
	return out
}

func undoKey(s model.Step) string { return string(s.Kind) + " " + s.Target }

// undoneError says a plan's inverses have all been applied; it is an ErrNothingToUndo.
type undoneError struct{ plan string }

func (e undoneError) Error() string {
	return "nothing to undo: plan " + e.plan + " was undone already (ptcdoctor journal shows by which plan)"
}

func (e undoneError) Is(target error) bool { return target == ErrNothingToUndo }

// ErrNothingToUndo is returned when a plan left no step that can be undone.
var ErrNothingToUndo = errors.New("nothing to undo: the plan wrote no step that has an inverse")
