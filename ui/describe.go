package ui

import (
	"encoding/json"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
)

// The describe screen: the raw data of a row, as JSON. JSON escapes the C0 controls
// but not the C1 ones or the bidi overrides a tag or a policy from AWS may hold: each
// line goes through model.Printable, as the CLI's output does.

type describeScreen struct {
	c     *common
	title string
	text  string
	body  viewport.Model
	// named screens (newTextScreen) show text, not data: their title is their own.
	named bool
}

func newDescribeScreen(c *common, title string, v any) *describeScreen {
	s := &describeScreen{c: c, title: title, body: viewport.New()}
	s.body.KeyMap = c.keys.viewportKeys()
	s.body.SoftWrap = false // wrapText folds at spaces; an ARN stays whole, and scrolls sideways
	b, _ := json.MarshalIndent(v, "", "  ")
	s.text = printableLines(string(b))
	s.body.SetContent(s.text)
	return s
}

// newTextScreen shows text already in words (a fleet's row), folded to the screen.
func newTextScreen(c *common, title, text string) *describeScreen {
	s := &describeScreen{c: c, title: title, body: viewport.New(), named: true, text: printableLines(text)}
	s.body.KeyMap = c.keys.viewportKeys()
	s.body.SoftWrap = false // as describe: folded at spaces, an ARN whole, scrolled sideways
	s.body.SetContent(s.text)
	return s
}

func (s *describeScreen) Title() string {
	if s.named {
		return s.title
	}
	return "Describe " + s.title
}
func (s *describeScreen) Capturing() bool { return false }
func (s *describeScreen) View() string    { return s.body.View() }

func (s *describeScreen) SetSize(w, h int) {
	s.body.SetWidth(w)
	s.body.SetHeight(h)
	s.body.SetContent(wrapText(s.text, w))
}

func (s *describeScreen) Update(msg tea.Msg) tea.Cmd {
	return scroll(&s.body, s.c.keys, msg)
}

func (s *describeScreen) ShortHelp() []key.Binding { return textKeys(&s.body, s.c.keys) }

func (s *describeScreen) FullHelp() [][]key.Binding {
	k := s.c.keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Back}}
}
