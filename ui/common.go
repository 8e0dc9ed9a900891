package ui

import (
	"context"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// component is one screen. It owns its state and its inputs, draws itself in the size
// it is given, and names its keys, from which the footer and the help screen are built
// (after soft-serve's pkg/ui/common component contract).
type component interface {
	// Update takes a key meant for the screen, or a message; a screen drops the
	// answers that are not its own (they carry the id of what asked).
	Update(msg tea.Msg) tea.Cmd
	View() string
	SetSize(width, height int)
	ShortHelp() []key.Binding
	FullHelp() [][]key.Binding
	// Title names the screen in the tab line.
	Title() string
	// Capturing reports whether a text input or form has the focus: then every key
	// but ctrl+c goes to the screen.
	Capturing() bool
}

// closer is a screen with requests under way that end when it is left for good:
// close cancels them, and their late answers are dropped.
type closer interface{ close() }

// tabbed is a screen that belongs to one of the four tabs; pushed screens say which
// tab they were opened from.
type tabbed interface{ tab() int }

// filterable is a screen with a list that a filter narrows.
type filterable interface {
	filterValue() string
	setFilter(string)
}

// common is what every screen shares: the context, the engine, the styles and keys,
// what the account was last seen to hold, and the way to the router.
type common struct {
	ctx  context.Context
	eng  Engine
	opts Options
	st   styles
	keys keyMap
	nav  navigator

	snap     *model.Snapshot
	findings []model.Finding
	// notChecked is what the checks could not judge, and the read that failed.
	notChecked []model.NotChecked
	journal    []JournalRow
	// version counts the changes to the data above; a list rebuilds its rows
	// only when it is behind.
	version int
	// ids numbers the requests (scans, probes, plans, explanations) whose answers
	// come back as messages, so that a stale answer is known and dropped.
	ids int
	// pending counts the requests not answered yet; applying is the id of the
	// plan being applied, 0 when none is.
	pending  int
	applying int
	// holding counts the requests whose answer the next keys are for (the journal
	// a tab opens, the plan u asks for): keys typed meanwhile wait for it.
	holding int
	// stopHeld, when set, cancels the held request (the undo plan being read):
	// esc and q do not wait for it.
	stopHeld func()
	// stopApply, while a plan is applied, stops it between steps; quitting also
	// cancels the re-read that follows it.
	stopApply func(quitting bool)
}

// answeredMsg wraps the answer of a tracked request.
type answeredMsg struct {
	msg  tea.Msg
	held bool
}

// track counts a request as pending until its answer comes back.
func (c *common) track(cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	c.pending++
	return func() tea.Msg { return answeredMsg{msg: cmd()} }
}

// hold is track for a request the next keys are meant for: they wait for its answer.
func (c *common) hold(cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	c.pending++
	c.holding++
	return func() tea.Msg { return answeredMsg{msg: cmd(), held: true} }
}

// thenMsg carries the rest of a screen's work once its answer is in (what to show);
// the router runs it in Update, where the state may change.
type thenMsg func() tea.Cmd

// navigator is what a screen asks of the router.
type navigator interface {
	push(component)
	back()
	note(text string)
	fail(source, text, detail string)
	ask(q question)
	// openFinding shows the findings tab with this finding selected.
	openFinding(id string)
	// rescan reads the account again (after a write whose effects came after the
	// plan's own read: the setup's canary makes a repository).
	rescan() tea.Cmd
	// replace shows a screen in place of the active one: back goes where that one would.
	replace(component)
}

func (c *common) now() time.Time { return c.opts.Now() }

// nextID is a new request id.
func (c *common) nextID() int {
	c.ids++
	return c.ids
}

// setData records a new snapshot and its findings.
func (c *common) setData(snap *model.Snapshot, findings []model.Finding) {
	c.snap, c.findings = snap, findings
	c.version++
}

// setResult records the checks' result over a snapshot.
func (c *common) setResult(snap *model.Snapshot, res diagnose.Result) {
	c.notChecked = res.NotChecked
	c.setData(snap, res.Findings)
}

func (c *common) setJournal(rows []JournalRow) {
	c.journal = rows
	c.version++
}
