package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// The journal screen: the writes made, newest first, each with the tail of its plan's
// id that tells it from the others (ids start with their time, which WHEN says; d
// describes the row with the whole id, which `ptcdoctor undo` takes), when it was made
// and its plan's title; a target is shortened to the part that differs (d has it whole). u opens the plan
// that undoes the row's plan. A write made in another account or region than the one on
// screen (the journal is the machine's, and a fleet's targets share it) says where it
// ran, and its undo is refused here. When a write is added, the cursor goes to it.

func newJournalScreen(c *common) *listScreen {
	// WHEN and the plan's title say which plan a row is; the operation, which the
	// title words, gives way first on a narrow terminal.
	cols := []column{{name: "plan", title: "PLAN", width: 10, keep: true}, {name: "when", title: "WHEN", width: 8, quantity: true},
		{name: "title", title: "PLAN TITLE", width: 40}, {name: "target", title: "TARGET", width: 26, path: true},
		{name: "op", title: "OPERATION", width: 34, hideBelow: 120}, {name: "outcome", title: "OUTCOME", width: 12}, {name: "undo", title: "UNDO", width: 4}}
	s := &listScreen{title: "Journal", tabN: 3, ownHelp: []key.Binding{c.keys.Undo}}
	s.list = newList(c, "writes", "Nothing was written from this machine yet: the journal lists every write ptcdoctor makes, "+
		"and u undoes a plan.", cols, func() []row { return journalRows(c) })
	s.ownData = true
	s.order = "writes newest first"
	newest := ""
	s.list.build = func() []row {
		rows := journalRows(c)
		if len(rows) > 0 && rows[0].id != newest {
			newest = rows[0].id
			s.list.cursor = newest // a new write: the cursor goes to it
		}
		return rows
	}
	s.describe = func(r *row) any { return describedWrite(r.ref.(JournalRow)) }
	s.keys = func(msg tea.KeyPressMsg, r *row) (tea.Cmd, bool) {
		if !key.Matches(msg, c.keys.Undo) {
			return nil, false
		}
		if r == nil {
			c.nav.note("no plan is selected: nothing to undo")
			return nil, true
		}
		// The undo plan may read the account (a step that never recorded its
		// outcome): in a command, and the keys typed next wait for the plan, but
		// for esc and q, which stop it.
		id, eng := r.ref.(JournalRow).Plan, c.eng
		// Said at once; the engine refuses it all the same (it reads the account).
		switch where := r.ref.(JournalRow).Elsewhere; {
		case strings.HasPrefix(where, "ran in "):
			c.nav.note("not undone: plan " + id + " " + where + ", not in this account-region: undo it from there")
			return nil, true
		case where != "":
			c.nav.note("not undone: plan " + id + ": " + where + "; once you checked it ran here, ptcdoctor undo " + id + " --force")
			return nil, true
		}
		ctx, cancel := context.WithCancel(c.ctx)
		c.stopHeld = cancel
		c.nav.note("reading what undoing plan " + id + " takes… (esc stops)")
		return c.hold(func() tea.Msg {
			plan, err := eng.UndoPlan(ctx, id)
			return thenMsg(func() tea.Cmd {
				cancel()
				c.stopHeld = nil
				switch {
				case errors.Is(err, context.Canceled):
					c.nav.note("stopped: the undo of plan " + id + " was not built, nothing was written")
					return nil
				case err != nil && strings.HasPrefix(err.Error(), "nothing to undo"):
					// Nothing failed: the plan has no step with an inverse. A note, not an error
					// that stays on every screen.
					c.nav.note(model.Printable(err.Error()))
					return nil
				case err != nil:
					c.nav.fail("undo", "Not undone: plan "+id, err.Error())
					return nil
				}
				c.nav.push(newPlanScreen(c, []model.Fix{{Title: plan.Title, Plan: plan}}, 0, nil))
				return nil
			})
		}), true
	}
	return s
}

// describedWrite is a journal row as d describes it: its step numbered from 1, as
// `ptcdoctor journal` numbers them for people (journal --json keeps its 0-based
// "step" index, its documented contract).
func describedWrite(r JournalRow) any {
	return struct {
		JournalRow
		Step int // the shallower field: it is the one marshalled
	}{r, r.Step + 1}
}

// planTail is how many of a plan id's last characters tell it from every other plan
// in the journal: at least 8, more where two share them.
func planTail(rows []JournalRow) int {
	n := 8
	for {
		seen, longest := map[string]string{}, 0
		clash := false
		for _, r := range rows {
			longest = max(longest, len(r.Plan))
			t := r.Plan[max(0, len(r.Plan)-n):]
			if other, ok := seen[t]; ok && other != r.Plan {
				clash = true
			}
			seen[t] = r.Plan
		}
		if !clash || n >= longest {
			return n
		}
		n++
	}
}

// shortPlan is a plan id's tail, marked as cut when it is.
func shortPlan(id string, n int) string {
	if len(id) <= n+1 {
		return id
	}
	return "…" + id[len(id)-n:]
}

func journalRows(c *common) []row {
	now := c.now()
	tail := planTail(c.journal)
	var rows []row
	for i := len(c.journal) - 1; i >= 0; i-- {
		r := c.journal[i]
		undo, outcome := "-", r.Outcome
		if r.Undoable {
			undo = "yes"
		}
		if r.Elsewhere != "" {
			// A write made in another account or region (the journal is the machine's):
			// said first, and u on it is refused by the engine.
			undo, outcome = "no", r.Elsewhere+" · "+r.Outcome
		}
		rows = append(rows, row{id: fmt.Sprintf("%s/%d", r.Plan, r.Step), ref: r,
			cells: map[string]string{"plan": model.Printable(shortPlan(r.Plan, tail)), "when": ago(r.When, now), "op": model.Printable(r.Operation),
				"target": model.Printable(brief(r.Target)), "outcome": model.Printable(outcome), "undo": undo, "title": model.Printable(r.Title)},
			nums: map[string]float64{"when": age(r.When, now)}})
	}
	return rows
}
