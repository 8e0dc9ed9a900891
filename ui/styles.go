package ui

import (
	"image/color"
	"os"

	"charm.land/bubbles/v2/table"
	"charm.land/lipgloss/v2"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// styles are the interface's looks; with NO_COLOR they carry no colour, only bold and
// reverse, so that nothing depends on colour to be read.
type styles struct {
	header, headerMode, writesOn, readOnly lipgloss.Style
	title, dim, bold, banner, errorText    lipgloss.Style
	sev                                    map[model.Severity]lipgloss.Style
	tab, tabActive, box                    lipgloss.Style
	table                                  table.Styles
}

func newStyles(noColor bool) styles {
	c := func(s string) color.Color {
		if noColor {
			return lipgloss.NoColor{}
		}
		return lipgloss.Color(s)
	}
	st := styles{
		header:     lipgloss.NewStyle().Bold(true),
		headerMode: lipgloss.NewStyle().Bold(true).Padding(0, 1),
		readOnly:   lipgloss.NewStyle().Bold(true).Padding(0, 1).Foreground(c("0")).Background(c("10")),
		writesOn:   lipgloss.NewStyle().Bold(true).Padding(0, 1).Foreground(c("15")).Background(c("9")).Blink(false),
		title:      lipgloss.NewStyle().Bold(true).Foreground(c("12")),
		dim:        lipgloss.NewStyle().Foreground(c("8")),
		bold:       lipgloss.NewStyle().Bold(true),
		banner:     lipgloss.NewStyle().Bold(true).Foreground(c("15")).Background(c("1")).Padding(0, 1),
		errorText:  lipgloss.NewStyle().Foreground(c("9")),
		tab:        lipgloss.NewStyle().Padding(0, 1),
		tabActive:  lipgloss.NewStyle().Padding(0, 1).Bold(true).Reverse(true),
		box:        lipgloss.NewStyle(),
		sev: map[model.Severity]lipgloss.Style{
			model.SeverityError:   lipgloss.NewStyle().Bold(true).Foreground(c("9")),
			model.SeverityWarning: lipgloss.NewStyle().Foreground(c("11")),
			model.SeverityInfo:    lipgloss.NewStyle().Foreground(c("14")),
		},
	}
	if noColor {
		st.writesOn = lipgloss.NewStyle().Bold(true).Reverse(true).Padding(0, 1)
		st.readOnly = lipgloss.NewStyle().Bold(true).Padding(0, 1)
		st.banner = lipgloss.NewStyle().Bold(true).Reverse(true).Padding(0, 1)
	}
	// Cells carry no padding of their own (the gap is in the text, see padListing):
	// styling each cell costs more than anything else in a frame.
	st.table = table.Styles{
		Header:   lipgloss.NewStyle().Bold(true),
		Cell:     lipgloss.NewStyle(),
		Selected: lipgloss.NewStyle().Bold(true).Reverse(true),
	}
	return st
}

// noColorWanted reports whether the environment asks for no colour (https://no-color.org).
func noColorWanted() bool {
	_, set := os.LookupEnv("NO_COLOR")
	return set
}
