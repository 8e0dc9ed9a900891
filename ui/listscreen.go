package ui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// listScreen is a list with what its rows lead to: enter opens, d describes, e explains.
// The rules, repositories, images and journal screens are lists so made; each file
// says what its rows are and where they lead.
type listScreen struct {
	*list
	title string
	tabN  int
	// open goes into a row (enter, or a second click); describe is what d shows of
	// it; explain is the reference e starts from ("" asks for one).
	open     func(r *row) tea.Cmd
	describe func(r *row) any
	explain  func(r *row) string
	// keys are the screen's own keys, tried before the list's moves.
	keys    func(msg tea.KeyPressMsg, r *row) (tea.Cmd, bool)
	ownHelp []key.Binding
}

func (s *listScreen) Title() string { return s.title }
func (s *listScreen) tab() int      { return s.tabN }

func (s *listScreen) Update(msg tea.Msg) tea.Cmd {
	k := s.c.keys
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		r := s.selected()
		if s.keys != nil {
			if cmd, ok := s.keys(msg, r); ok {
				return cmd
			}
		}
		switch {
		case key.Matches(msg, k.Enter, k.Describe) && r == nil && (s.open != nil || s.describe != nil):
			s.c.nav.note("no row is selected: nothing to open or describe")
			return nil
		case key.Matches(msg, k.Enter):
			if s.open != nil {
				return s.open(r)
			}
			return nil
		case key.Matches(msg, k.Describe):
			if s.describe != nil {
				if text, ok := s.describe(r).(string); ok { // already in words
					s.c.nav.push(newTextScreen(s.c, s.title, text))
				} else {
					s.c.nav.push(newDescribeScreen(s.c, s.title, s.describe(r)))
				}
			}
			return nil
		case key.Matches(msg, k.Explain):
			from := ""
			if r != nil && s.explain != nil {
				from = s.explain(r)
			}
			e := newExplainScreen(s.c, s)
			s.c.nav.push(e)
			return e.start(from)
		}
	case tea.MouseClickMsg:
		if again, _ := s.clickRow(msg.Y); again && s.open != nil {
			if r := s.selected(); r != nil {
				return s.open(r)
			}
		}
		return nil
	}
	return s.list.Update(msg)
}

func (s *listScreen) ShortHelp() []key.Binding {
	k := s.c.keys
	out := []key.Binding{}
	if s.open != nil {
		out = append(out, k.Enter)
	}
	out = append(out, s.ownHelp...)
	if s.describe != nil {
		out = append(out, k.Describe)
	}
	return append(out, k.Explain, k.Filter, k.Sort, k.Back)
}

func (s *listScreen) FullHelp() [][]key.Binding {
	k := s.c.keys
	var own []key.Binding
	if s.open != nil { // enter is offered only where it opens something
		own = append(own, k.Enter)
	}
	own = append(append(own, k.Describe, k.Explain), s.ownHelp...)
	return append(s.list.FullHelp(), own)
}
