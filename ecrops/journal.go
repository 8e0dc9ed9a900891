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
// (what it intends and the state it will change) and one after (the outcome, AWS's
// request id and the state it left), each synced to disk before going on, so that a
// process killed between the two leaves what undo needs. Secret values never enter it.
type Journal struct {
	Dir string
	mu  sync.Mutex
}

// JournalEntry is one line of the journal.
type JournalEntry struct {
	Time      time.Time      `json:"time"`
	Plan      string         `json:"plan"` // the plan's id: one apply
	PlanTitle string         `json:"planTitle,omitempty"`
	Step      int            `json:"step"`
	Phase     string         `json:"phase"` // intent, done, failed; stopped (a step not run: the plan was stopped before it); ack (an unfinished plan seen to)
	Kind      model.StepKind `json:"kind"`
	Operation string         `json:"operation"`
	Target    string         `json:"target"`
	// Account and Region are where the write was made (GetCallerIdentity and the
	// region in use), Profile or Role how those credentials were reached: an undo
	// refuses to run anywhere else. Lines written before they were recorded have none.
	Account string            `json:"account,omitempty"`
	Region  string            `json:"region,omitempty"`
	Profile string            `json:"profile,omitempty"`
	Role    string            `json:"role,omitempty"`
	Params  map[string]string `json:"params,omitempty"`
	// Before is the state the step changes, as it was just before the write.
	Before map[string]string `json:"before,omitempty"`
	// After is the state the write left, read just after it: what an undo expects to find.
	After     map[string]string `json:"after,omitempty"`
	RequestID string            `json:"requestId,omitempty"`
	Error     string            `json:"error,omitempty"`
	// Inverse is the step that undoes this one, when there is one.
	Inverse *model.Step `json:"inverse,omitempty"`
	// UndoOf names the plan and step this write undid.
	UndoOf string `json:"undoOf,omitempty"`
	// Note says why an ack entry was written (undone by a plan, acknowledged by a person).
	Note string `json:"note,omitempty"`
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
	_, statErr := os.Stat(j.Path())
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
	if err := f.Sync(); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if statErr != nil { // a new file: its name must survive a crash too
		if d, err := os.Open(j.Dir); err == nil {
			d.Sync()
			d.Close()
		}
	}
	return nil
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

// Unfinished lists the steps whose intent was written but whose outcome was not (a
// process stopped in the middle of a plan), leaving out the plans undone or
// acknowledged since.
func (j *Journal) Unfinished() ([]JournalEntry, error) {
	entries, err := j.Entries()
	return unfinished(entries), err
}

func unfinished(entries []JournalEntry) []JournalEntry {
	ended := map[string]bool{}
	acked := map[string]bool{}
	for _, e := range entries {
		switch e.Phase {
		case "ack":
			acked[e.Plan] = true
		case "intent":
		default:
			ended[fmt.Sprintf("%s/%d", e.Plan, e.Step)] = true
		}
	}
	var out []JournalEntry
	for _, e := range entries {
		if e.Phase == "intent" && !ended[fmt.Sprintf("%s/%d", e.Plan, e.Step)] && !acked[e.Plan] {
			out = append(out, e)
		}
	}
	return out
}

// ErrNotUnfinished is returned by Ack for a plan that has no unfinished step.
var ErrNotUnfinished = errors.New("the journal has no unfinished step of that plan")

// Ack records that a person saw to an unfinished plan (checked the account, or undid
// it): the warning about it ends.
func (j *Journal) Ack(planID, note string) error {
	entries, err := j.Entries()
	if err != nil && len(entries) == 0 {
		return err
	}
	for _, e := range unfinished(entries) {
		if e.Plan == planID {
			return j.Append(JournalEntry{Time: time.Now().UTC(), Plan: planID, PlanTitle: e.PlanTitle, Step: -1, Phase: "ack", Note: note})
		}
	}
	return fmt.Errorf("plan %s: %w", planID, ErrNotUnfinished)
}
