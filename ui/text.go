package ui

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// wrapText folds text to width.
func wrapText(s string, width int) string {
	if width < 10 {
		return s
	}
	return lipgloss.NewStyle().Width(width).Render(s)
}

// hang folds text to width with a hanging indent, so a wrapped ARN or call
// stays under its bullet instead of running back to the left margin.
func hang(first, text string, width int) string {
	pad := lipgloss.Width(first)
	if width-pad < 10 {
		return first + text
	}
	lines := strings.Split(wrapText(text, width-pad), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
		if i == 0 {
			lines[i] = first + lines[i]
		} else {
			lines[i] = strings.Repeat(" ", pad) + lines[i]
		}
	}
	return strings.Join(lines, "\n")
}

func truncate(s string, width int) string {
	if lipgloss.Width(s) <= width {
		return s
	}
	return lipgloss.NewStyle().MaxWidth(width).Render(s)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

var (
	cacheHostRE  = regexp.MustCompile(`\b\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/`)
	accountARNRE = regexp.MustCompile(`\barn:aws[a-z-]*:(iam|sts)::\d{12}:`)
)

// brief keeps, of the long names in s, the part that differs between the rows of one
// account: the repository and tag of a cache URI, the role or user of an IAM ARN. The
// detail pane shows them whole.
func brief(s string) string {
	return accountARNRE.ReplaceAllString(cacheHostRE.ReplaceAllString(s, ""), "")
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// ago says how long ago t was, to the unit that matters.
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

// age is how long ago t was, in seconds, for sorting; never sorts as the oldest.
func age(t, now time.Time) float64 {
	if t.IsZero() {
		return math.Inf(1)
	}
	return now.Sub(t).Seconds()
}

func shortDigest(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

// scroll moves a text screen: the viewport's keys, and g and G to its ends.
func scroll(vp *viewport.Model, k keyMap, msg tea.Msg) tea.Cmd {
	if km, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(km, k.Top):
			vp.GotoTop()
			return nil
		case key.Matches(km, k.Bottom):
			vp.GotoBottom()
			return nil
		}
	}
	var cmd tea.Cmd
	*vp, cmd = vp.Update(msg)
	return cmd
}
