package ui

import tea "charm.land/bubbletea/v2"

// The status line: one line under the tabs, one message at a time, with a lifetime.
//
// A note belongs to the screen that was showing when it was made, and to the key that
// made it: the next key, or another screen, clears it. An error that has details stays
// until the person reads them with ! (and closes them), or until the action that made it
// runs again (a new scan replaces the last scan's errors). A question owns the line
// until it is answered: no other message, progress or key takes its place.

// mode is what the keys go to: the screen, the filter, the command line, or a question.
type mode int

const (
	modeNormal mode = iota
	modeFilter
	modeCommand
	modeQuestion
)

// note is a message on the status line.
type note struct {
	text, detail string
	err          bool // drawn as an error
	sticky       bool // an error with details: it stays until they are read
	// source names the action that made an error ("scan", "start"), which
	// replaces it when it runs again.
	source string
	screen component // the screen it belongs to; nil for the whole interface
	key    int       // the key press that made it
}

// question is asked on the status line and answered with y or n (esc is n).
type question struct {
	text string
	yes  func() tea.Cmd
	no   func()
}

func (a *App) toggleWrites() {
	if !a.c.eng.ReadOnly() {
		a.c.eng.SetReadOnly(true)
		a.note("read-only again")
		return
	}
	a.ask(question{text: "Turn writes ON? Fixes will change the account. y / n", yes: func() tea.Cmd {
		a.c.eng.SetReadOnly(false)
		a.note("writes are ON")
		return nil
	}, no: func() { a.note("writes stay off") }})
}

// release replays the keys that waited for an answer, until one waits again.
func (a *App) release() tea.Cmd {
	var cmds []tea.Cmd
	for len(a.held) > 0 && a.c.holding == 0 {
		k := a.held[0]
		a.held = a.held[1:]
		a.keyN-- // counted when it was typed
		cmds = append(cmds, a.key(k))
	}
	return tea.Batch(cmds...)
}
