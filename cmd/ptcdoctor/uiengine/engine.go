// Package uiengine adapts an ecrops.Account to the interface's Engine, and a fleet's
// targets (ecrops.Targets, EachTarget; with --regions all, the accounts of
// ecrops.FleetAccounts, whose regions ecrops.AccountTargets finds during the scan) to its
// FleetEngine, so that the ui package never sees the AWS SDK, only the model.
package uiengine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
	"github.com/ptcdoctor/ptcdoctor/ui"
)

// Engine adapts an ecrops.Account to the interface's Engine: the interface never sees
// the AWS SDK, only the model.
type Engine struct {
	*ecrops.Account
	header ui.Header
}

func (e Engine) Scan(ctx context.Context, progress func(ui.Progress)) (*model.Snapshot, error) {
	var p func(ecrops.Progress)
	if progress != nil {
		p = func(x ecrops.Progress) {
			progress(ui.Progress{Stage: x.Stage, Snapshot: x.Snapshot, ReposDone: x.ReposDone, ReposTotal: x.ReposTotal, Images: x.Images})
		}
	}
	return e.Account.Scan(ctx, ecrops.Scope{}, p)
}

// Apply stops between steps once ctx ends: the calls themselves run to their end (a
// write cut in its call leaves the journal without its outcome), and the journal
// records where the plan stopped.
func (e Engine) Apply(ctx context.Context, plan model.Plan, secrets map[string]string) ([]ui.StepOutcome, error) {
	results, err := e.Account.Apply(context.WithoutCancel(ctx), plan, ecrops.ApplyOptions{SecretValues: secrets, Stop: ctx})
	var out []ui.StepOutcome
	for _, r := range results {
		o := ui.StepOutcome{Step: r.Step, Status: r.Status, RequestID: r.RequestID}
		if r.Err != nil {
			o.Err = r.Err.Error()
		}
		out = append(out, o)
	}
	return out, err
}

func (e Engine) Journal() ([]ui.JournalRow, error) {
	entries, err := e.Account.Journal().Entries()
	undoable := ecrops.UndoablePlans(entries)
	open, uerr := e.Account.Journal().Unfinished()
	if err == nil {
		err = uerr // not read is not "nothing unfinished"
	}
	// One journal serves every account and region written from this machine: a plan
	// that ran elsewhere is marked so, and not offered for undo here.
	elsewhere := func(en ecrops.JournalEntry) string {
		p, ok := en.PlaceOf()
		switch {
		case !ok:
			return "account and region not recorded"
		case p.Account != e.header.Account || !strings.EqualFold(p.Region, e.Account.Region()):
			return "ran in " + p.Account + " " + p.Region
		}
		return ""
	}
	var rows []ui.JournalRow
	for _, en := range open { // a step stopped during its call: undo reads whether it took effect
		where := elsewhere(en)
		rows = append(rows, ui.JournalRow{Plan: en.Plan, Title: en.PlanTitle, Step: en.Step, When: en.Time, Operation: en.Operation, Target: en.Target,
			Outcome: "UNFINISHED: stopped during the call", Undoable: undoable[en.Plan] && where == "", Elsewhere: where})
	}
	for _, en := range entries {
		if en.Phase == "intent" || en.Phase == "ack" {
			continue
		}
		outcome := en.Phase
		if en.Error != "" {
			outcome += ": " + en.Error
		}
		if en.Inverse != nil && !undoable[en.Plan] {
			outcome += ", undone"
		}
		where := elsewhere(en)
		rows = append(rows, ui.JournalRow{Plan: en.Plan, Title: en.PlanTitle, Step: en.Step, When: en.Time, Operation: en.Operation, Target: en.Target,
			Outcome: outcome, RequestID: en.RequestID, Undoable: en.Inverse != nil && undoable[en.Plan] && where == "", Elsewhere: where})
	}
	return rows, err
}

// UndoPlan reads the account only for a step that never recorded its outcome (a
// killed process), to see whether its call took effect; it gives up after 20 seconds,
// or when ctx ends (the person stopped it).
func (e Engine) UndoPlan(ctx context.Context, planID string) (model.Plan, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	u, err := e.Account.UndoPlan(ctx, planID, ecrops.UndoOptions{})
	if err == nil && len(u.Plan.Steps) == 0 {
		err = fmt.Errorf("%w: its unfinished step did not take effect (ptcdoctor journal --ack %s ends the warning)", ecrops.ErrNothingToUndo, planID)
	}
	return u.Plan, err
}

func (e Engine) Header() ui.Header { return e.header }

// New adapts an account; demo marks the embedded demo account in the header.
func New(ctx context.Context, acc *ecrops.Account, demo bool) Engine {
	h := ui.Header{Region: acc.Region(), Demo: demo}
	if id, err := acc.Whoami(ctx); err == nil {
		h.Account, h.Identity, h.Profile = id.Account, id.ARN, id.Profile
	}
	return Engine{Account: acc, header: h}
}
