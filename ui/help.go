package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// The help screen: the keys of the screen it was opened from, then those that work
// everywhere, the commands and the mouse; in a viewport, so a small terminal scrolls it.

type helpScreen struct {
	c     *common
	from  component
	body  viewport.Model
	width int
}

func newHelpScreen(c *common, from component) *helpScreen {
	s := &helpScreen{c: c, from: from, body: viewport.New()}
	s.body.KeyMap = c.keys.viewportKeys()
	s.body.SoftWrap = true
	return s
}

func (s *helpScreen) Title() string   { return "Help" }
func (s *helpScreen) Capturing() bool { return false }
func (s *helpScreen) View() string    { return s.body.View() }

func (s *helpScreen) SetSize(w, h int) {
	s.width = w
	s.body.SetWidth(w)
	s.body.SetHeight(h)
	s.body.SetContent(s.text())
}

func (s *helpScreen) text() string {
	return "Keys of " + s.from.Title() + "\n\n" + s.blocks(s.from.FullHelp()) + "\n\nEverywhere\n\n" + s.blocks(s.c.keys.globalHelp()) + "\n\n" +
		wrapText("Commands: :rules  :repos [PREFIX]  :findings [FILTER]  :journal  :explain REF  :setup  :region NAME  :profile NAME  :refresh  :quit", s.width) + "\n" +
		wrapText("Mouse: wheel scrolls; click selects, click again goes in, click a tab opens it.", s.width) + s.fleetText()
}

// fleetText is how the fleet screen and an account-region's screens lead to each other.
func (s *helpScreen) fleetText() string {
	if s.c.opts.Fleet == nil {
		return ""
	}
	return "\n" + wrapText("Fleet: F or :fleet shows the fleet screen; enter there opens an account-region in these screens, and 1-4 come back to it; r there scans the fleet again.", s.width)
}

// blocks lays key groups side by side, starting a new row of groups where the
// terminal ends, so that no key is cut off on a narrow one.
func (s *helpScreen) blocks(groups [][]key.Binding) string {
	var rows, row []string
	used := 0
	for _, group := range groups {
		keyWidth := 0
		for _, k := range group {
			keyWidth = max(keyWidth, lipgloss.Width(k.Help().Key))
		}
		lines := make([]string, len(group))
		for i, k := range group {
			lines[i] = s.c.st.bold.Render(k.Help().Key) + strings.Repeat(" ", keyWidth-lipgloss.Width(k.Help().Key)+1) + k.Help().Desc
		}
		block := strings.Join(lines, "\n")
		w := lipgloss.Width(block) + 4
		if used > 0 && used+w > s.width {
			rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
			row, used = nil, 0
		}
		row = append(row, lipgloss.NewStyle().Width(w).Render(block))
		used += w
	}
	rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
	return strings.Join(rows, "\n\n")
}

func (s *helpScreen) Update(msg tea.Msg) tea.Cmd {
	return scroll(&s.body, s.c.keys, msg)
}

func (s *helpScreen) ShortHelp() []key.Binding {
	return textKeys(&s.body, s.c.keys)
}

func (s *helpScreen) FullHelp() [][]key.Binding { return s.from.FullHelp() }
