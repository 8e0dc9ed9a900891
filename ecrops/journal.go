package ecrops

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// Journal is the record of every write ptcdoctor makes: one JSON line before a write
// (what it intends and the state it will change) and one after (the outcome and AWS's
// request id), each synced to disk before going on. Secret values never enter it.
type Journal struct {
	Dir string
	mu  sync.Mutex
}

// JournalEntry is one line of the journal.
type JournalEntry struct {
	Time      time.Time         `json:"time"`
	Plan      string            `json:"plan"` // the plan's id: one apply
	PlanTitle string            `json:"planTitle,omitempty"`
	Step      int               `json:"step"`
	Phase     string            `json:"phase"` // intent, done, failed
	Kind      model.StepKind    `json:"kind"`
	Operation string            `json:"operation"`
	Target    string            `json:"target"`
	Params    map[string]string `json:"params,omitempty"`
	// Before is the state the step changes, as it was just before the write.
	Before    map[string]string `json:"before,omitempty"`
	RequestID string            `json:"requestId,omitempty"`
	Error     string            `json:"error,omitempty"`
	// Inverse is the step that undoes this one, when there is one.
	Inverse *model.Step `json:"inverse,omitempty"`
	// UndoOf names the plan and step this write undid.
	UndoOf string `json:"undoOf,omitempty"`
}

const journalFile = "journal.jsonl"

// Path is the journal file.
func (j *Journal) Path() string { return filepath.Join(j.Dir, journalFile) }

// Append writes one entry and syncs it.
func (j *Journal) Append(e JournalEntry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := os.MkdirAll(j.Dir, 0o700); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	f, err := os.OpenFile(j.Path(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return f.Sync()
}

// Entries reads the whole journal; a missing journal is empty. A line that cannot be read
// (a write cut short by a crash) is skipped and reported.
func (j *Journal) Entries() ([]JournalEntry, error) {
	f, err := os.Open(j.Path())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []JournalEntry
	var bad int
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for sc.Scan() {
		var e JournalEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			bad++
			continue
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return out, err
	}
	if bad > 0 {
		return out, fmt.Errorf("journal %s: %d unreadable lines skipped", j.Path(), bad)
	}
	return out, nil
}

// Unfinished lists the steps whose intent was written but whose outcome was not: a
// process stopped in the middle of a plan.
func (j *Journal) Unfinished() ([]JournalEntry, error) {
	entries, err := j.Entries()
	ended := map[string]bool{}
	for _, e := range entries {
		if e.Phase != "intent" {
			ended[fmt.Sprintf("%s/%d", e.Plan, e.Step)] = true
		}
	}
	var out []JournalEntry
	for _, e := range entries {
		if e.Phase == "intent" && !ended[fmt.Sprintf("%s/%d", e.Plan, e.Step)] {
			out = append(out, e)
		}
	}
	return out, err
}

// UndoPlan builds the plan that undoes a journaled plan: the inverses of its finished
// steps, last first, leaving out those an earlier undo already reversed. Steps
// without an inverse are listed in skipped.
func (j *Journal) UndoPlan(planID string) (model.Plan, []JournalEntry, error) {
	entries, err := j.Entries()
	if err != nil && len(entries) == 0 {
		return model.Plan{}, nil, err
	}
	return undoPlanOf(entries, planID)
}

// Undoable lists the plans an undo would still reverse, newest first, each by
// its last finished entry (for its id, title and time). It reads the file only.
func (j *Journal) Undoable() ([]JournalEntry, error) {
	entries, err := j.Entries()
	if err != nil && len(entries) == 0 {
		return nil, err
	}
	undoable := UndoablePlans(entries)
	var out []JournalEntry
	for i := len(entries) - 1; i >= 0; i-- {
		if e := entries[i]; e.Phase == "done" && undoable[e.Plan] {
			out = append(out, e)
			delete(undoable, e.Plan)
		}
	}
	return out, nil
}

// UndoablePlans names, in one pass over the journal's entries, the plans that
// still have a finished step whose inverse no undo has applied: the plans
// undoPlanOf would build a non-empty undo for.
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

func undoPlanOf(entries []JournalEntry, planID string) (model.Plan, []JournalEntry, error) {
	undone := undoneSteps(entries)[planID]
	plan := model.Plan{UndoOf: planID}
	var skipped []JournalEntry
	found, alreadyUndone := false, 0
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if e.Plan != planID || e.Phase != "done" {
			continue
		}
		found = true
		if e.Inverse == nil {
			skipped = append(skipped, e)
			continue
		}
		if k := undoKey(*e.Inverse); undone[k] > 0 {
			undone[k]--
			alreadyUndone++
			continue
		}
		if plan.Title == "" {
			plan.Title = "Undo: " + e.PlanTitle
		}
		plan.Steps = append(plan.Steps, *e.Inverse)
	}
	if found && len(plan.Steps) == 0 && alreadyUndone > 0 {
		return plan, skipped, undoneError{planID}
	}
	if !found {
		return plan, nil, fmt.Errorf("the journal has no finished step of plan %s", planID)
	}
	if len(plan.Steps) == 0 {
		return plan, skipped, ErrNothingToUndo
	}
	return plan, skipped, nil
}

// undoneError says a plan's inverses have all been applied; it is an ErrNothingToUndo.
type undoneError struct{ plan string }

func (e undoneError) Error() string {
	return "nothing to undo: plan " + e.plan + " was undone already (ptcdoctor journal shows by which plan)"
}

func (e undoneError) Is(target error) bool { return target == ErrNothingToUndo }
