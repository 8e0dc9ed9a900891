package ui

import "charm.land/bubbles/v2/key"

// keyMap holds every key of the interface; the help screen is built from it.
type keyMap struct {
	Up, Down, Enter, Back, Filter, Command, Help, Refresh, Checks, Fix, Explain, Describe, Writes, Quit key.Binding
	Rules, Repos, Findings, Journal, Undo, Confirm                                                      key.Binding
}

func newKeyMap() keyMap {
	b := func(keys []string, help, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return keyMap{
		Up:       b([]string{"k", "up"}, "k/↑", "up"),
		Down:     b([]string{"j", "down"}, "j/↓", "down"),
		Enter:    b([]string{"enter"}, "enter", "go in"),
		Back:     b([]string{"esc"}, "esc", "back / cancel"),
		Filter:   b([]string{"/"}, "/", "filter"),
		Command:  b([]string{":"}, ":", "command"),
		Help:     b([]string{"?"}, "?", "help"),
		Refresh:  b([]string{"r"}, "r", "refresh"),
		Checks:   b([]string{"x"}, "x", "run the checks"),
		Fix:      b([]string{"f"}, "f", "fix"),
		Explain:  b([]string{"e"}, "e", "explain"),
		Describe: b([]string{"d"}, "d", "describe"),
		Writes:   b([]string{"w"}, "w", "toggle writes"),
		Quit:     b([]string{"q", "ctrl+c"}, "q", "quit"),
		Rules:    b([]string{"1"}, "1", "rules"),
		Repos:    b([]string{"2"}, "2", "repositories"),
		Findings: b([]string{"3"}, "3", "findings"),
		Journal:  b([]string{"4"}, "4", "journal"),
		Undo:     b([]string{"u"}, "u", "undo (journal)"),
		Confirm:  b([]string{"y"}, "y", "confirm"),
	}
}

// ShortHelp and FullHelp make the key map a help.KeyMap.
func (k keyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Enter, k.Back, k.Filter, k.Command, k.Fix, k.Explain, k.Help, k.Quit}
}

func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Enter, k.Back},
		{k.Rules, k.Repos, k.Findings, k.Journal},
		{k.Filter, k.Command, k.Refresh, k.Checks},
		{k.Fix, k.Explain, k.Describe, k.Undo},
		{k.Writes, k.Confirm, k.Help, k.Quit},
	}
}
