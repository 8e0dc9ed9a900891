package ecrops

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// ApplyOptions are what a plan needs that the plan does not hold.
type ApplyOptions struct {
	// SecretValues are the values of secrets that steps write, by the step's Target.
	// They are used in memory for the one call and never journaled or logged.
	SecretValues map[string]string
	// Progress is told about each step as it starts and ends.
	Progress func(StepResult)
}

// StepResult is what became of one step.
type StepResult struct {
	Index     int
	Step      model.Step
	Status    string // running, done, failed, not-run
	RequestID string
	Err       error
}

// PreconditionError says that the account changed since the plan was made.
type PreconditionError struct {
	Step       model.Step
	Key        string
	Want, Have string
	Refusal    error // a check that refuses the write whatever was expected
}

func (e *PreconditionError) Error() string {
	if e.Refusal != nil {
		return fmt.Sprintf("%s %s: %v; nothing was written", e.Step.Operation, e.Step.Target, e.Refusal)
	}
	return fmt.Sprintf("%s %s: the account changed since the plan was made (%s was %q, is %q now); nothing was written",
		e.Step.Operation, e.Step.Target, e.Key, short(e.Want), short(e.Have))
}

func short(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

// Apply carries out a plan: it refuses at once in read-only mode, before any network
// traffic; it re-reads every step's preconditions before the first write and stops with
// nothing written when one changed; then, step by step, it reads the state again, journals
// the intent, writes, and journals the outcome. It stops at the first failure.
func (a *Account) Apply(ctx context.Context, plan model.Plan, opts ApplyOptions) ([]StepResult, error) {
	if a.cfg.ReadOnly {
		return nil, ErrReadOnly
	}
	results := make([]StepResult, len(plan.Steps))
	for i, s := range plan.Steps {
		results[i] = StepResult{Index: i, Step: s, Status: "not-run"}
		impl, ok := stepImpls[s.Kind]
		if !ok {
			return results, fmt.Errorf("step %d: ptcdoctor cannot carry out %q", i+1, s.Kind)
		}
		if s.NeedsSecretValue && opts.SecretValues[s.Target] == "" {
			return results, fmt.Errorf("step %d (%s %s) needs the secret's value, and none was given", i+1, s.Operation, s.Target)
		}
		if _, err := a.checkStep(ctx, impl, s); err != nil {
			return results, err
		}
	}
	id := newPlanID()
	defer a.forgetCredentials() // a step may have changed a secret
	for i, s := range plan.Steps {
		impl := stepImpls[s.Kind]
		before, err := a.checkStep(ctx, impl, s)
		if err != nil {
			return results, err
		}
		entry := JournalEntry{Time: time.Now().UTC(), Plan: id, PlanTitle: plan.Title, Step: i, Kind: s.Kind,
			Operation: s.Operation, Target: s.Target, Params: s.Params, Before: before, UndoOf: plan.UndoOf}
		entry.Phase = "intent"
		if err := a.journal.Append(entry); err != nil {
			return results, fmt.Errorf("%w; nothing more was written", err)
		}
		results[i].Status = "running"
		if opts.Progress != nil {
			opts.Progress(results[i])
		}
		md, werr := impl.write(ctx, a, s, opts.SecretValues[s.Target])
		entry.Time, entry.RequestID = time.Now().UTC(), requestID(md)
		if werr != nil {
			entry.Phase, entry.Error = "failed", model.Printable(werr.Error())
			results[i].Status, results[i].Err = "failed", werr
		} else {
			entry.Phase = "done"
			results[i].Status = "done"
			if impl.inverse != nil {
				entry.Inverse = impl.inverse(s, before)
			}
		}
		results[i].RequestID = entry.RequestID
		jerr := a.journal.Append(entry)
		if opts.Progress != nil {
			opts.Progress(results[i])
		}
		if werr != nil {
			return results, fmt.Errorf("step %d, %s %s: %w", i+1, s.Operation, s.Target, werr)
		}
		if jerr != nil {
			return results, fmt.Errorf("step %d was written but the journal could not record it: %w", i+1, jerr)
		}
	}
	return results, nil
}

// checkStep reads the state a step changes and compares it with what the plan expected.
func (a *Account) checkStep(ctx context.Context, impl stepImpl, s model.Step) (map[string]string, error) {
	now, err := impl.read(ctx, a, s)
	if err != nil {
		return nil, fmt.Errorf("reading the state before %s %s: %w", s.Operation, s.Target, err)
	}
	for _, k := range sortedKeys(s.Expect) {
		if now[k] != s.Expect[k] {
			return nil, &PreconditionError{Step: s, Key: k, Want: s.Expect[k], Have: now[k]}
		}
	}
	if impl.check != nil {
		if err := impl.check(s, now); err != nil {
			return nil, &PreconditionError{Step: s, Refusal: err}
		}
	}
	return now, nil
}

func newPlanID() string {
	var b [6]byte
	rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

// ErrNothingToUndo is returned when a plan left no step that can be undone.
var ErrNothingToUndo = errors.New("nothing to undo: the plan wrote no step that has an inverse")

// UndoPlan builds the plan that undoes a journaled plan (see Journal.UndoPlan).
func (a *Account) UndoPlan(planID string) (model.Plan, []JournalEntry, error) {
	return a.journal.UndoPlan(planID)
}
