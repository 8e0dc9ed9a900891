package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// The chrome, top to bottom: the header (account, region, identity, mode), the tabs,
// the status line, the active screen, and the footer (the input being typed, or the
// screen's keys with the help and quit keys always last).

// View draws the whole screen.
func (a *App) View() tea.View {
	v := tea.NewView(a.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "ptcdoctor"
	return v
}

func (a *App) render() string {
	body := a.active.View()
	if shown := a.shownError(); a.showDetail && shown != nil {
		// One entry a line: Printable alone would run them together.
		body = textBlock(shown.detail, a.width) + "\n\n" + a.c.st.dim.Render("esc or ! closes these details")
	}
	out := a.headerLine() + "\n" + a.tabLine() + "\n" + a.statusLine() + "\n" + clip(body, max(3, a.height-4))
	if pad := a.height - 1 - lipgloss.Height(out); pad > 0 {
		out += strings.Repeat("\n", pad)
	}
	return out + "\n" + a.footerLine()
}

// clip keeps the first n lines of s.
func clip(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

func (a *App) headerLine() string {
	if a.onFleet() {
		return a.fleetHeader()
	}
	h := a.c.eng.Header()
	mode := a.c.st.readOnly.Render("READ-ONLY")
	if !a.c.eng.ReadOnly() {
		mode = a.c.st.writesOn.Render("WRITES ON")
	}
	who := h.Identity
	if who == "" && a.c.snap != nil {
		who = a.c.snap.Identity.ARN
	}
	profile := h.Profile
	if profile == "" {
		profile = "default"
	}
	if h.Demo {
		profile = "demo"
	}
	who = model.Printable(orDash(who))
	line := func(who string) string {
		return a.c.st.header.Render("ptcdoctor") + "  " + fmt.Sprintf("%s · %s · %s · profile %s", orDash(h.Account), orDash(h.Region), who, profile)
	}
	left := line(who)
	if over := lipgloss.Width(left) + lipgloss.Width(mode) + 1 - a.width; over > 0 {
		// The account is said already: the ARN's role or user is what tells it apart;
		// then its middle goes, never its end.
		short := brief(who)
		over -= lipgloss.Width(who) - lipgloss.Width(short)
		left = line(middleCut(short, lipgloss.Width(short)-max(0, over)))
	}
	if a.fleet != nil { // which of the fleet's targets this is: its account once, then its name
		left = a.c.st.header.Render("ptcdoctor") + "  " + "fleet › " + model.Printable(a.fleet.openName(h.Account, h.Region))
	}
	return a.spread(left, mode)
}

// onFleet says whether the fleet screen, or a screen opened from it (help, a row
// described), is shown: the header and tabs are the fleet's, not the opened target's.
func (a *App) onFleet() bool {
	if a.fleet == nil {
		return false
	}
	return a.active == a.fleet || a.c.eng == nil || (len(a.history) > 0 && a.history[0] == a.fleet)
}

// fleetHeader is the header over the fleet screen: how many targets, and the mode
// the targets are opened in.
func (a *App) fleetHeader() string {
	mode := a.c.st.readOnly.Render("READ-ONLY")
	if (a.c.eng != nil && !a.c.eng.ReadOnly()) || (a.c.eng == nil && !a.fleet.fleet.ReadOnly()) {
		mode = a.c.st.writesOn.Render("WRITES ON")
	}
	left := a.c.st.header.Render("ptcdoctor") + "  " + fmt.Sprintf("fleet · %s", a.fleet.count())
	return a.spread(left, mode)
}

// spread puts left at the start of the line and right at its end.
func (a *App) spread(left, mode string) string {
	room := a.width - lipgloss.Width(mode) - 1
	if lipgloss.Width(left) > room {
		left = truncate(left, room)
	}
	gap := max(1, a.width-lipgloss.Width(left)-lipgloss.Width(mode))
	return left + strings.Repeat(" ", gap) + mode
}

func (a *App) tabLabels() []string {
	all := make([]*model.Finding, len(a.c.findings))
	for i := range a.c.findings {
		all[i] = &a.c.findings[i]
	}
	e, w, i := countBySeverity(all)
	rules, repos := 0, 0
	if a.c.snap != nil {
		rules, repos = len(a.c.snap.Rules), len(a.c.snap.Repositories)
	}
	labels := []string{fmt.Sprintf("1 Rules %d", rules), fmt.Sprintf("2 Repositories %d", repos),
		fmt.Sprintf("3 Findings %dE %dW %dI", e, w, i), "4 Journal"}
	if a.crumbShown() && a.crumbRoom(labels) < lipgloss.Width(model.Printable(a.active.Title())) {
		// The place within the tab matters more than the tab's long name: the
		// numbers stay, the longest name shortens (the breadcrumb then loses its
		// leading parts).
		labels[1] = fmt.Sprintf("2 Repos %d", repos)
	}
	return labels
}

// crumbShown reports whether the tab line names the screen shown within its tab.
func (a *App) crumbShown() bool {
	return a.active != a.tabs[a.activeTabOr0()] || len(a.history) > 0
}

// crumbRoom is the room the tab line leaves for the breadcrumb after these labels.
func (a *App) crumbRoom(labels []string) int {
	w := 0
	for _, l := range labels {
		w += lipgloss.Width(a.c.st.tab.Render(l))
	}
	return a.width - w - lipgloss.Width("  › ")
}

// crumb shortens a screen's title to width: a path loses its leading parts first
// ("…/library/nginx"), so that its end, which names it, stays whole.
func crumb(title string, width int) string {
	if lipgloss.Width(title) <= width {
		return title
	}
	parts := strings.Split(title, "/")
	for i := 1; i < len(parts); i++ {
		if short := "…/" + strings.Join(parts[i:], "/"); lipgloss.Width(short) <= width {
			return short
		}
	}
	return middleCut(title, width)
}

// activeTab is the tab the active screen is, or was opened from.
func (a *App) activeTab() int {
	for _, s := range append([]component{a.active}, a.history...) {
		for i, t := range a.tabs {
			if s == t {
				return i
			}
		}
	}
	return -1
}

func (a *App) tabLine() string {
	if a.onFleet() {
		line := a.c.st.tabActive.Render("Fleet")
		if a.active != a.fleet {
			line += "  " + a.c.st.dim.Render("› "+model.Printable(a.active.Title()))
		} else if a.fleet.open != "" {
			line += "  " + a.c.st.dim.Render("1-4: "+model.Printable(a.fleet.open))
		}
		return truncate(line, a.width)
	}
	var parts []string
	for i, label := range a.tabLabels() {
		st := a.c.st.tab
		if i == a.activeTab() {
			st = a.c.st.tabActive
		}
		parts = append(parts, st.Render(label))
	}
	line := strings.Join(parts, "")
	if a.crumbShown() {
		room := a.width - lipgloss.Width(line) - lipgloss.Width("  › ")
		if room >= 4 {
			line += "  " + a.c.st.dim.Render("› "+crumb(model.Printable(a.active.Title()), room))
		}
	}
	return truncate(line, a.width)
}

func (a *App) activeTabOr0() int { return max(0, a.activeTab()) }

// statusLine shows, first to last: the question, the note, the scan's progress.
func (a *App) statusLine() string {
	switch {
	case a.q != nil:
		return truncate(a.c.st.banner.Render(a.q.text), a.width)
	case a.pinned != nil || (a.status != nil && a.status.err):
		shown := a.shownError()
		text, hint := "! "+shown.text, ""
		if shown.sticky {
			hint = "  (! shows the details)"
		}
		pad := lipgloss.Width(a.c.st.banner.Render("")) // the banner's own padding
		if room := a.width - lipgloss.Width(hint) - pad; lipgloss.Width(text) > room {
			text = wordCut(text, room) // the message is shortened, the hint kept
		}
		return truncate(a.c.st.banner.Render(text+hint), a.width)
	case a.status != nil:
		return wordCut(a.status.text, a.width)
	case a.fleet != nil && a.active == a.fleet:
		return a.c.st.dim.Render(wordCut(a.fleet.selectedNote(), a.width))
	case a.scan.running:
		return truncate(a.spin.View()+" "+a.scan.progressText(), a.width)
	case a.c.applying != 0 && a.quitting:
		return truncate(a.spin.View()+" stopping the plan after the step under way, then quitting…", a.width)
	case a.c.applying != 0:
		return truncate(a.spin.View()+" applying the plan… (esc stops it between steps)", a.width)
	}
	return ""
}

func (a *App) footerLine() string {
	switch a.mode {
	case modeFilter:
		return a.filter.View()
	case modeCommand:
		return a.cmdline.View()
	case modeQuestion: // the question takes only its own answers (see answer): offer those
		return truncate(a.help.ShortHelpView(questionKeys), a.width)
	}
	if a.active.Capturing() { // the keys go to an input: only its own keys mean anything
		return truncate(a.help.ShortHelpView(a.active.ShortHelp()), a.width)
	}
	if a.showDetail { // the details over the screen: only closing them, or quitting, works
		return a.help.ShortHelpView([]key.Binding{key.NewBinding(key.WithKeys("esc", "!"), key.WithHelp("esc/!", "close the details")), a.c.keys.Quit})
	}
	always := []key.Binding{a.c.keys.Help, a.c.keys.Quit}
	if a.fleet != nil && a.active != a.fleet {
		always = append([]key.Binding{a.c.keys.Fleet}, always...)
	}
	tail := a.help.ShortHelpView(always)
	own := a.fitKeys(a.active.ShortHelp(), a.width-lipgloss.Width(tail)-3)
	if own == "" {
		return tail
	}
	return own + " • " + tail
}

// fitKeys is the screen's keys in the room given, first ones first: a key that does
// not fit is left out whole (the help, ?, has them all), never cut in half.
func (a *App) fitKeys(keys []key.Binding, room int) string {
	if lipgloss.Width(a.help.ShortHelpView(keys)) > room {
		keys = a.withoutPaging(keys) // j/k say the same as pgdn/pgup: esc back matters more
	}
	for n := len(keys); n > 0; n-- {
		view := a.help.ShortHelpView(keys[:n])
		if n < len(keys) {
			view += " …"
		}
		if lipgloss.Width(view) <= room {
			return view
		}
	}
	return ""
}

// withoutPaging is keys without the page moves, which the line moves stand for.
func (a *App) withoutPaging(keys []key.Binding) []key.Binding {
	var out []key.Binding
	for _, k := range keys {
		if h := k.Help().Key; h != a.c.keys.PageDown.Help().Key && h != a.c.keys.PageUp.Help().Key {
			out = append(out, k)
		}
	}
	return out
}

// shownError is the error on the status line, and the one ! shows: the start
// notice until it is read, then the last error.
func (a *App) shownError() *note {
	if a.pinned != nil {
		return a.pinned
	}
	return a.status
}

// note says something on the status line, until the next key or another screen.
func (a *App) note(text string) {
	a.status = &note{text: model.Printable(text), screen: a.active, key: a.keyN}
}

// fail shows an error; with details, it stays until they are read with !.
func (a *App) fail(source, text, detail string) {
	a.status = &note{text: model.Printable(text), detail: detail, err: true, sticky: detail != "", source: source, key: a.keyN}
	if detail == "" {
		a.status.screen = a.active
	}
}

// expire drops a note made by an earlier key.
func (a *App) expire() {
	if a.status != nil && !a.status.sticky && a.status.key < a.keyN {
		a.status = nil
	}
}

// ask puts a question on the status line; it owns the line, and the keys, until answered.
func (a *App) ask(q question) {
	a.q, a.mode = &q, modeQuestion
}

// questionKeys are the answers a question takes, for the footer while it is asked.
var questionKeys = []key.Binding{
	key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yes")),
	key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "no")),
}

func (a *App) answer(k string) tea.Cmd {
	q := a.q
	switch k {
	case "y", "Y":
		a.q, a.mode = nil, modeNormal
		if q.yes != nil {
			return q.yes()
		}
	case "n", "N", "esc":
		a.q, a.mode = nil, modeNormal
		if q.no != nil {
			q.no()
		}
	}
	return nil // any other key leaves the question asked
}

func (a *App) filterKey(msg tea.KeyPressMsg) tea.Cmd {
	f, _ := a.active.(filterable)
	switch msg.String() {
	case "enter":
		a.mode = modeNormal
		a.filter.Blur()
		return nil
	case "esc":
		a.mode = modeNormal
		a.filter.Blur()
		if f != nil {
			f.setFilter("")
		}
		return nil
	}
	var cmd tea.Cmd
	a.filter, cmd = a.filter.Update(msg)
	if f != nil {
		f.setFilter(a.filter.Value())
	}
	return cmd
}

// bodyTop is the screen line where the active screen starts.
const bodyTop = 3

// click opens a tab from the tab line; below, the click goes to the screen, placed
// in its own lines.
func (a *App) click(m tea.Mouse) tea.Cmd {
	if m.Button != tea.MouseLeft {
		return nil
	}
	if m.Y >= bodyTop {
		return a.active.Update(tea.MouseClickMsg{X: m.X, Y: m.Y - bodyTop, Button: m.Button})
	}
	if m.Y != 1 {
		return nil
	}
	x := 0
	for i, label := range a.tabLabels() {
		w := lipgloss.Width(label) + 2
		if m.X >= x && m.X < x+w {
			return a.jump(i)
		}
		x += w
	}
	return nil
}
