package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// wrapText folds text to width at spaces only: a token (an ARN, a command's
// argument, a digest) is never broken, so that it can be copied whole; a token longer
// than the width stays on a line of its own, which the screens scroll sideways. A
// line's leading spaces are kept, and its folds hang under them.
func wrapText(s string, width int) string {
	if width < 10 {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		lines[i] = wrapLine(line, width)
	}
	return strings.Join(lines, "\n")
}

func wrapLine(line string, width int) string {
	if lipgloss.Width(line) <= width {
		return line
	}
	body := strings.TrimLeft(line, " ")
	indent := line[:len(line)-len(body)]
	if lipgloss.Width(indent) > width/2 {
		indent = ""
	}
	var out []string
	cur := ""
	for _, word := range strings.Split(body, " ") {
		switch {
		case cur == "":
			cur = indent + word
		case lipgloss.Width(cur)+1+lipgloss.Width(word) <= width:
			cur += " " + word
		default:
			out = append(out, cur)
			cur = indent + word
		}
	}
	return strings.Join(append(out, cur), "\n")
}

// breakLong breaks, for a pane that does not scroll sideways (the findings detail), a
// line still wider than width after wrapText: a token longer than the pane (a cache
// URI with its digest) continues on the next line after "↪ ", so it is all there and
// plainly one name, never cut off at the edge. Styled lines (short headings) are left.
func breakLong(s string, width int) string {
	if width < 10 {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		if cellWidth(line) <= width || strings.Contains(line, "\x1b") {
			continue
		}
		body := strings.TrimLeft(line, " ")
		indent := line[:len(line)-len(body)]
		if len(indent) > width/2 {
			indent = ""
		}
		var out []string
		cur, curW := "", 0
		for _, r := range line {
			rw := lipgloss.Width(string(r))
			if curW+rw > width {
				out = append(out, cur)
				cur, curW = indent+"↪ ", len(indent)+2
			}
			cur += string(r)
			curW += rw
		}
		lines[i] = strings.Join(append(out, cur), "\n")
	}
	return strings.Join(lines, "\n")
}

// textBlock is a text from outside made safe, its lines kept (Printable alone folds
// them into one): a JSON document pretty-printed, the rest folded at spaces.
func textBlock(s string, width int) string {
	var pretty bytes.Buffer
	if t := strings.TrimSpace(s); (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) && json.Indent(&pretty, []byte(t), "", "  ") == nil {
		s = pretty.String()
	}
	return wrapText(printableLines(s), width)
}

// printableLines is each line of s made safe, the line breaks kept.
func printableLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = model.Printable(l)
	}
	return strings.Join(lines, "\n")
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

// middleCut shortens s to width by dropping its middle: the start says what kind of
// name it is, the end which one (an ARN's role or user).
func middleCut(s string, width int) string {
	if lipgloss.Width(s) <= width {
		return s
	}
	if width < 5 {
		return truncate(s, max(0, width))
	}
	r := []rune(s)
	head := (width - 1) / 3
	tail := width - 1 - head
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}

// wordCut shortens a line of text to width at a space, and says so with "…": a word
// is not cut in half (one longer than the width is).
func wordCut(s string, width int) string {
	if lipgloss.Width(s) <= width {
		return s
	}
	cut := truncate(s, max(0, width-2))
	if i := strings.LastIndex(cut, " "); i > 0 {
		return strings.TrimRight(cut[:i], " ,;:") + " …"
	}
	return truncate(s, max(0, width-1)) + "…"
}

// pathCut shortens a path to width by its middle segments: its first part says
// where it is (a rule's prefix), its last which one; without the first part when
// that does not fit either; middleCut when no cut at a slash fits.
func pathCut(s string, width int) string {
	if cellWidth(s) <= width {
		return s
	}
	if name, digest, ok := strings.Cut(s, "@sha256:"); ok && len(digest) > 8 && !strings.HasSuffix(digest, "…") {
		return pathCut(name+"@sha256:"+digest[:8]+"…", width) // a digest is told apart by its start
	}
	parts := strings.Split(s, "/")
	for i := 2; i < len(parts); i++ {
		if short := parts[0] + "/…/" + strings.Join(parts[i:], "/"); lipgloss.Width(short) <= width {
			return short
		}
	}
	if last := "…/" + parts[len(parts)-1]; len(parts) > 1 && lipgloss.Width(last) <= width {
		return last
	}
	return middleCut(s, width)
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

// textKeys are a text screen's moves that do something, from where it stands: down
// only when there is more below, up only when there is more above, sideways when a
// line (a token never broken) is wider; then back. Every text screen's footer is
// built here, so that none offers a move that goes nowhere.
func textKeys(vp *viewport.Model, k keyMap) []key.Binding {
	var out []key.Binding
	if vp.TotalLineCount() > vp.Height() {
		if !vp.AtBottom() {
			out = append(out, k.Down, k.PageDown)
		}
		if !vp.AtTop() {
			out = append(out, k.Up, k.PageUp)
		}
	}
	if vp.HorizontalScrollPercent() < 1 || vp.XOffset() > 0 {
		out = append(out, vp.KeyMap.Left)
	}
	return append(out, k.Back)
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
