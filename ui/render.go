package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/table"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// The screen, top to bottom: the header (account, region, identity, mode), the tabs, a
// banner or the scan's progress, the body, and the input line or the short help.

const chromeLines = 5 // header, tabs, banner, blank, footer

func (a *App) layout() {
	bodyHeight := max(3, a.height-chromeLines)
	a.help.SetWidth(a.width)
	a.body.SetWidth(a.width)
	a.body.SetHeight(bodyHeight)
	tableHeight := bodyHeight
	if a.screen == screenFindings && a.width < 140 {
		tableHeight = max(3, bodyHeight/2)
		a.body.SetHeight(bodyHeight - tableHeight)
	}
	if a.screen == screenFindings && a.width >= 140 {
		a.body.SetWidth(a.width - a.width*11/20 - 1)
	}
	a.table.SetHeight(tableHeight)
}

// tableWidth is the width the current list may take.
func (a *App) tableWidth() int {
	if a.screen == screenFindings && a.width >= 140 {
		return a.width * 11 / 20
	}
	return a.width
}

// refreshList rebuilds the current list from the snapshot, keeping the cursor.
func (a *App) refreshList() {
	a.layout()
	if !a.isListScreen() {
		return
	}
	now := a.opts.Now()
	var l listing
	switch {
	case a.screen == screenJournal:
		l = journalListing(a.journal)
	case a.snap == nil:
		l = listing{columns: []table.Column{{Title: "", Width: 10}}}
	case a.screen == screenRules:
		l = rulesListing(a.snap, a.findings)
	case a.screen == screenRepos:
		l = reposListing(a.snap, a.findings, a.rule, now)
	case a.screen == screenImages:
		repo := a.repo
		if repo != nil {
			if fresh := a.snap.Repository(repo.Name); fresh != nil {
				repo = fresh
			}
			l = imagesListing(repo, a.upstream, now)
		} else {
			l = listing{columns: []table.Column{{Title: "", Width: 10}}}
		}
	case a.screen == screenFindings:
		l = findingsListing(a.findings)
	}
	l = sortListing(l, a.sortOf())
	l.columns = fit(l.columns, l.rows, a.tableWidth())
	l = filterListing(l, a.filter.Value())
	a.list = l
	cols, rows := padListing(l)
	cursor := a.table.Cursor()
	a.table.SetRows(nil)
	a.table.SetColumns(cols)
	a.table.SetRows(rows)
	a.table.SetWidth(a.tableWidth())
	if cursor >= len(l.rows) {
		cursor = max(0, len(l.rows)-1)
	}
	a.table.SetCursor(cursor)
	a.updateDetail()
}

// padListing puts a one-space gap before every column, in the text itself.
func padListing(l listing) ([]table.Column, []table.Row) {
	cols := make([]table.Column, len(l.columns))
	for i, c := range l.columns {
		cols[i] = table.Column{Title: " " + c.Title, Width: c.Width + 2}
	}
	rows := make([]table.Row, len(l.rows))
	for i, r := range l.rows {
		padded := make(table.Row, len(r))
		for j, v := range r {
			padded[j] = " " + v
		}
		rows[i] = padded
	}
	return cols, rows
}

// updateDetail shows the selected finding's explanation, evidence and fixes.
func (a *App) updateDetail() {
	if a.screen != screenFindings {
		return
	}
	f := a.selectedFinding()
	if f == nil {
		a.body.SetContent("")
		return
	}
	var b strings.Builder
	b.WriteString(a.st.sev[f.Severity].Render(strings.ToUpper(string(f.Severity))) + " " + a.st.bold.Render(f.Check) + "  " + model.Printable(f.Subject.Kind+" "+f.Subject.Name) + "\n")
	b.WriteString(wrapText(model.Printable(f.Title), a.body.Width()) + "\n\n")
	b.WriteString(wrapText(model.Printable(f.Explanation), a.body.Width()) + "\n")
	if len(f.Evidence) > 0 {
		b.WriteString("\n" + a.st.bold.Render("Evidence") + "\n")
		for _, e := range f.Evidence {
			b.WriteString(hang("• ", model.Printable(e.Call)+" → "+model.Printable(e.Answer), a.body.Width()) + "\n")
		}
	}
	if len(f.Fixes) > 0 {
		b.WriteString("\n" + a.st.bold.Render("Fixes") + " (f or 1-9 to see the plan)\n")
		for i, fx := range f.Fixes {
			kind := ""
			if len(fx.Plan.Steps) == 0 {
				kind = " (by hand)"
			} else if fx.Plan.Destructive() {
				kind = " (destructive)"
			}
			b.WriteString(hang(fmt.Sprintf("%d. ", i+1), model.Printable(fx.Title)+kind, a.body.Width()) + "\n")
		}
	}
	a.body.SetContent(b.String())
	a.body.GotoTop()
}

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

type tab struct {
	label  string
	screen screen
}

func (a *App) tabs() []tab {
	e, w, i := 0, 0, 0
	for _, f := range a.findings {
		switch f.Severity {
		case model.SeverityError:
			e++
		case model.SeverityWarning:
			w++
		default:
			i++
		}
	}
	rules, repos := 0, 0
	if a.snap != nil {
		rules, repos = len(a.snap.Rules), len(a.snap.Repositories)
	}
	return []tab{
		{fmt.Sprintf("1 Rules %d", rules), screenRules},
		{fmt.Sprintf("2 Repositories %d", repos), screenRepos},
		{fmt.Sprintf("3 Findings %dE %dW %dI", e, w, i), screenFindings},
		{"4 Journal", screenJournal},
	}
}

// View draws the whole screen.
func (a *App) View() tea.View {
	v := tea.NewView(a.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "ptcdoctor"
	return v
}

func (a *App) render() string {
	var lines []string
	lines = append(lines, a.headerLine(), a.tabLine(), a.bannerLine())
	body := a.bodyView()
	lines = append(lines, body)
	out := strings.Join(lines, "\n")
	// The footer sits on the last line, whatever the body's height.
	used := lipgloss.Height(out)
	if pad := a.height - 1 - used; pad > 0 {
		out += strings.Repeat("\n", pad)
	}
	return out + "\n" + a.footerLine()
}

func (a *App) headerLine() string {
	h := a.eng.Header()
	mode := a.st.readOnly.Render("READ-ONLY")
	if !a.eng.ReadOnly() {
		mode = a.st.writesOn.Render("WRITES ON")
	}
	who := h.Identity
	if who == "" && a.snap != nil {
		who = a.snap.Identity.ARN
	}
	profile := h.Profile
	if profile == "" {
		profile = "default"
	}
	if h.Demo {
		profile = "demo"
	}
	left := a.st.header.Render("ptcdoctor") + "  " + fmt.Sprintf("%s · %s · %s · profile %s", orDash(h.Account), orDash(h.Region), model.Printable(orDash(who)), profile)
	room := a.width - lipgloss.Width(mode) - 1
	if lipgloss.Width(left) > room {
		left = truncate(left, room)
	}
	gap := max(1, a.width-lipgloss.Width(left)-lipgloss.Width(mode))
	return left + strings.Repeat(" ", gap) + mode
}

func (a *App) tabLine() string {
	var parts []string
	for _, t := range a.tabs() {
		st := a.st.tab
		if t.screen == a.screen || (t.screen == screenRepos && a.screen == screenImages) {
			st = a.st.tabActive
		}
		parts = append(parts, st.Render(t.label))
	}
	line := strings.Join(parts, "")
	if crumb := a.crumb(); crumb != "" {
		line += "  " + a.st.dim.Render(crumb)
	}
	return truncate(line, a.width)
}

func (a *App) crumb() string {
	switch a.screen {
	case screenRepos:
		if a.rule != "" {
			return "› rule " + a.rule + "/"
		}
	case screenImages:
		if a.repo != nil {
			return "› " + model.Printable(a.repo.Name)
		}
	case screenPlan, screenExplain, screenDescribe, screenHelp, screenSetup:
		return "› " + screenNames[a.screen]
	}
	return ""
}

func (a *App) bannerLine() string {
	switch {
	case a.banner != "":
		return truncate(a.st.banner.Render("! "+a.banner), a.width)
	case a.scanning:
		p := a.progress
		text := a.spin.View() + " scanning: " + p.Stage
		if p.ReposTotal > 0 {
			width := 20
			done := width * p.ReposDone / p.ReposTotal
			text += fmt.Sprintf(" [%s%s] %d/%d repositories, %d images", strings.Repeat("█", done), strings.Repeat("░", width-done), p.ReposDone, p.ReposTotal, p.Images)
		}
		text += "  (esc cancels)"
		return truncate(text, a.width)
	case a.askWrites:
		return a.st.banner.Render("Turn writes ON? Fixes will change the account. y / n")
	}
	return truncate(a.st.dim.Render(a.status), a.width)
}

// helpText is the help screen: in the viewport, so a small terminal scrolls it.
func (a *App) helpText() string {
	return "Keys\n\n" + a.keyBlocks() + "\n\n" +
		wrapText("Commands: :rules  :repos [PREFIX]  :findings [FILTER]  :journal  :explain REF  :setup  :region NAME  :profile NAME  :refresh  :quit", a.width) + "\n" +
		wrapText("Mouse: wheel scrolls; click selects, click again goes in, click a tab opens it.", a.width)
}

// keyBlocks lays the key groups side by side, starting a new row of groups where
// the terminal ends, so that no key is cut off on a narrow one.
func (a *App) keyBlocks() string {
	var rows, row []string
	used := 0
	for _, group := range a.keys.FullHelp() {
		keyWidth := 0
		for _, k := range group {
			keyWidth = max(keyWidth, lipgloss.Width(k.Help().Key))
		}
		lines := make([]string, len(group))
		for i, k := range group {
			lines[i] = a.st.bold.Render(k.Help().Key) + strings.Repeat(" ", keyWidth-lipgloss.Width(k.Help().Key)+1) + k.Help().Desc
		}
		block := strings.Join(lines, "\n")
		w := lipgloss.Width(block) + 4
		if used > 0 && used+w > a.width {
			rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
			row, used = nil, 0
		}
		row = append(row, lipgloss.NewStyle().Width(w).Render(block))
		used += w
	}
	rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
	return strings.Join(rows, "\n\n")
}

func (a *App) bodyView() string {
	if a.showDetail && a.bannerDetail != "" {
		return wrapText(model.Printable(a.bannerDetail), a.width)
	}
	switch a.screen {
	case screenFindings:
		if a.width >= 140 {
			return lipgloss.JoinHorizontal(lipgloss.Top, a.table.View(), " ", a.body.View())
		}
		return a.table.View() + "\n" + a.body.View()
	case screenExplain:
		return a.explainInput.View() + "\n" + a.body.View()
	case screenPlan, screenDescribe, screenHelp:
		return a.body.View()
	case screenSetup:
		return a.setupView()
	}
	if a.snap == nil && a.screen != screenJournal {
		return a.st.dim.Render("reading the account…")
	}
	if len(a.list.rows) == 0 {
		if a.filter.Value() != "" {
			return a.table.View() + "\n" + a.st.dim.Render("nothing matches the filter")
		}
		return a.table.View() + "\n" + a.st.dim.Render("nothing here")
	}
	return a.table.View()
}

func (a *App) footerLine() string {
	switch {
	case a.filtering:
		return a.filter.View()
	case a.commanding:
		return a.cmdline.View()
	}
	return truncate(a.help.View(a.keys), a.width)
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
