package ui

import (
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/table"
	"charm.land/bubbles/v2/viewport"
)

// keyMap holds every key of the interface; the help screen is built from it.
type keyMap struct {
	Up, Down, Enter, Back, Filter, Command, Help, Refresh, Checks, Fix, Explain, Describe, Writes, Quit, Fleet key.Binding
	Rules, Repos, Findings, Journal, Undo, Confirm, NextFix, PrevFix, OpenFinding                              key.Binding
	PageUp, PageDown, HalfUp, HalfDown, Top, Bottom, Sort, Reverse                                             key.Binding
	DetailDown, DetailUp                                                                                       key.Binding
}

func newKeyMap() keyMap {
	b := func(keys []string, help, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return keyMap{
		Up:          b([]string{"k", "up"}, "k/↑", "up"),
		Down:        b([]string{"j", "down"}, "j/↓", "down"),
		Enter:       b([]string{"enter"}, "enter", "go in"),
		Back:        b([]string{"esc"}, "esc", "back"),
		Filter:      b([]string{"/"}, "/", "filter"),
		Command:     b([]string{":"}, ":", "command"),
		Help:        b([]string{"?"}, "?", "help"),
		Refresh:     b([]string{"r"}, "r", "refresh"),
		Checks:      b([]string{"x"}, "x", "run the checks"),
		Fix:         b([]string{"f"}, "f", "fix"),
		Explain:     b([]string{"e"}, "e", "explain"),
		Describe:    b([]string{"d"}, "d", "describe"),
		Writes:      b([]string{"w"}, "w", "toggle writes"),
		Quit:        b([]string{"q", "ctrl+c"}, "q", "quit"),
		Fleet:       b([]string{"F"}, "F", "fleet"),
		Rules:       b([]string{"1"}, "1", "rules"),
		Repos:       b([]string{"2"}, "2", "repositories"),
		Findings:    b([]string{"3"}, "3", "findings"),
		Journal:     b([]string{"4"}, "4", "journal"),
		Undo:        b([]string{"u"}, "u", "undo the plan"),
		Confirm:     b([]string{"y"}, "y", "apply the plan"),
		NextFix:     b([]string{"n"}, "n", "next fix"),
		PrevFix:     b([]string{"p"}, "p", "previous fix"),
		OpenFinding: b([]string{"o"}, "o", "open the finding"),
		Sort:        b([]string{"s"}, "s", "sort"),
		// The detail pane beside or under a list scrolls on its own keys: j and k
		// move the list's cursor.
		DetailDown: b([]string{"J", "shift+down"}, "J/K", "scroll detail"),
		DetailUp:   b([]string{"K", "shift+up"}, "K", "scroll the detail up"),
		Reverse:    b([]string{"S"}, "S", "reverse sort"),
		// Paging keys leave f, d, u and b to the interface's own verbs, unlike
		// the lists' and viewports' defaults, which page on them too.
		PageUp:   b([]string{"pgup", "ctrl+b"}, "pgup", "page up"),
		PageDown: b([]string{"pgdown", "ctrl+f", "space"}, "pgdn", "page down"),
		HalfUp:   b([]string{"ctrl+u"}, "ctrl+u", "½ page up"),
		HalfDown: b([]string{"ctrl+d"}, "ctrl+d", "½ page down"),
		Top:      b([]string{"home", "g"}, "g", "top"),
		Bottom:   b([]string{"end", "G"}, "G", "bottom"),
	}
}

// tableKeys and viewportKeys give the lists and the text screens the same moves.
func (k keyMap) tableKeys() table.KeyMap {
	return table.KeyMap{LineUp: k.Up, LineDown: k.Down, PageUp: k.PageUp, PageDown: k.PageDown,
		HalfPageUp: k.HalfUp, HalfPageDown: k.HalfDown, GotoTop: k.Top, GotoBottom: k.Bottom}
}

func (k keyMap) viewportKeys() viewport.KeyMap {
	// left and right scroll sideways: a line that is one long token (an ARN, a
	// command) is never broken, and overflows.
	return viewport.KeyMap{Up: k.Up, Down: k.Down, PageUp: k.PageUp, PageDown: k.PageDown,
		HalfPageUp: k.HalfUp, HalfPageDown: k.HalfDown,
		Left:  key.NewBinding(key.WithKeys("left"), key.WithHelp("←/→", "scroll sideways")),
		Right: key.NewBinding(key.WithKeys("right"), key.WithHelp("→", "scroll right"))}
}

// globalHelp are the keys that work on every screen.
func (k keyMap) globalHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Rules, k.Repos, k.Findings, k.Journal},
		{k.Command, k.Refresh, k.Checks, k.Writes},
		{k.Back, k.Help, k.Quit, key.NewBinding(key.WithKeys("!"), key.WithHelp("!", "an error's details"))},
		{key.NewBinding(key.WithKeys("pgdown", "space"), key.WithHelp("space/pgdn", "page down")), k.PageUp, k.HalfDown, k.HalfUp,
			key.NewBinding(key.WithKeys("left", "right"), key.WithHelp("←/→", "scroll a long line"))},
	}
}
