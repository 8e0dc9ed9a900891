package ui

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// The journal screen: the writes made, newest first, each with its plan's id (which
// `ptcdoctor undo` takes) whole: it starts with the time the plan was made, so a narrow
// terminal drops the WHEN column first. u opens the plan that undoes the row's plan.

func newJournalScreen(c *common) *listScreen {
	cols := []column{{name: "plan", title: "PLAN", width: 24, keep: true}, {name: "when", title: "WHEN", width: 8, quantity: true, hideBelow: 120},
		{name: "op", title: "OPERATION", width: 34}, {name: "target", title: "TARGET", width: 26},
		{name: "outcome", title: "OUTCOME", width: 12}, {name: "undo", title: "UNDO", width: 4}, {name: "title", title: "PLAN TITLE", width: 40, hideBelow: 120}}
	s := &listScreen{title: "Journal", tabN: 3, ownHelp: []key.Binding{c.keys.Undo}}
	s.list = newList(c, "writes", "Nothing was written from this machine yet: the journal lists every write ptcdoctor makes, "+
		"and u undoes a plan.", cols, func() []row { return journalRows(c) })
	s.ownData = true
	s.describe = func(r *row) any { return r.ref }
	s.keys = func(msg tea.KeyPressMsg, r *row) (tea.Cmd, bool) {
		if !key.Matches(msg, c.keys.Undo) {
			return nil, false
		}
		if r == nil {
			return nil, true
		}
		// The undo plan may read the account (a step that never recorded its
		// outcome): in a command, and the keys typed next wait for the plan.
		id, eng := r.ref.(JournalRow).Plan, c.eng
		return c.hold(func() tea.Msg {
			plan, err := eng.UndoPlan(id)
			return thenMsg(func() tea.Cmd {
				if err != nil {
					c.nav.fail("undo", "Nothing to undo for plan "+id, err.Error())
					return nil
				}
				c.nav.push(newPlanScreen(c, []model.Fix{{Title: plan.Title, Plan: plan}}, 0, nil))
				return nil
			})
		}), true
	}
	return s
}

func journalRows(c *common) []row {
	now := c.now()
	var rows []row
	for i := len(c.journal) - 1; i >= 0; i-- {
		r := c.journal[i]
		undo := "-"
		if r.Undoable {
			undo = "yes"
		}
		rows = append(rows, row{id: fmt.Sprintf("%s/%d", r.Plan, r.Step), ref: r,
			cells: map[string]string{"plan": model.Printable(r.Plan), "when": ago(r.When, now), "op": model.Printable(r.Operation),
				"target": model.Printable(r.Target), "outcome": model.Printable(r.Outcome), "undo": undo, "title": model.Printable(r.Title)},
			nums: map[string]float64{"when": age(r.When, now)}})
	}
	return rows
}
