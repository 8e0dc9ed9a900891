package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// The findings screen: the list of findings and, beside it on a wide terminal or under
// it on a narrow one, the selected finding in full: its explanation, the evidence it
// rests on, and its fixes. f (or enter) opens the first fix's plan; n and p, on the
// plan, go through the others.

type findingsScreen struct {
	*listScreen
	detail   viewport.Model
	drawnID  string // the finding the detail pane shows, and from which data
	drawnVer int
	wide     bool
}

func newFindingsScreen(c *common) *findingsScreen {
	cols := []column{{name: "id", title: "ID", width: 8, keep: true}, {name: "sev", title: "SEV", width: 4, quantity: true},
		{name: "check", title: "CHECK", width: 19, hideBelow: 100}, {name: "subject", title: "SUBJECT", width: 26, path: true},
		{name: "title", title: "TITLE", width: 80}}
	s := &findingsScreen{detail: viewport.New()}
	s.detail.KeyMap = c.keys.viewportKeys()
	s.detail.SoftWrap = false // wrapText folds at spaces; breakLong continues a longer token after ↪
	s.listScreen = &listScreen{title: "Findings", tabN: 2, ownHelp: []key.Binding{c.keys.Fix, c.keys.DetailDown}}
	s.list = newList(c, "findings", "Nothing found: every check that could run passed.", cols, func() []row { return findingRows(c.findings) })
	s.order = "findings by severity, worst first"
	s.more = func() string {
		if n := len(c.notChecked); n > 0 {
			return fmt.Sprintf(" · %d not checked (! lists them)", n)
		}
		return ""
	}
	s.open = func(r *row) tea.Cmd { return s.openFix(r) }
	s.describe = func(r *row) any { return r.ref }
	s.explain = func(r *row) string { return explainable(c.snap, r.ref.(*model.Finding).Subject) }
	s.keys = func(msg tea.KeyPressMsg, r *row) (tea.Cmd, bool) {
		switch {
		case key.Matches(msg, c.keys.Fix):
			return s.openFix(r), true
		case key.Matches(msg, c.keys.DetailDown):
			s.detail.ScrollDown(1)
			return nil, true
		case key.Matches(msg, c.keys.DetailUp):
			s.detail.ScrollUp(1)
			return nil, true
		}
		return nil, false
	}
	return s
}

// explainable is the reference explain starts from for a finding's subject: the
// reference itself, or the cache URI of an image or a repository (its latest tag);
// "" for a subject that is no reference (a rule, a principal).
func explainable(snap *model.Snapshot, sub model.Subject) string {
	host := snap.AccountID + ".dkr.ecr." + snap.Region + ".amazonaws.com/"
	switch sub.Kind {
	case "reference":
		return sub.Name
	case "image":
		return host + sub.Name
	case "repository":
		return host + sub.Name + ":latest"
	}
	return ""
}

// findingID is what a finding is known by across scans and screens: its key.
func findingID(f *model.Finding) string { return f.Key() }

func (s *findingsScreen) openFix(r *row) tea.Cmd {
	if r == nil {
		s.c.nav.note("no finding is selected")
		return nil
	}
	f := r.ref.(*model.Finding)
	if len(f.Fixes) == 0 {
		s.c.nav.note("this finding has no fix to apply: its explanation says what to look at")
		return nil
	}
	s.c.nav.push(newPlanScreen(s.c, f.Fixes, 0, f))
	return nil
}

// focus selects the finding with this id, as explain does when its verdict is one.
func (s *findingsScreen) focus(id string) {
	s.setFilter("")
	s.cursor = id
	s.arrange()
}

// SetSize gives the list and the detail pane their parts; the pane's last line says
// what of the finding is above or below it, and how to scroll there.
func (s *findingsScreen) SetSize(w, h int) {
	s.wide = w >= 140
	if s.wide {
		s.list.SetSize(w*11/20, h)
		s.detail.SetWidth(w - w*11/20 - 1)
		s.detail.SetHeight(max(1, h-1))
	} else {
		s.list.SetSize(w, max(3, h/2))
		s.detail.SetWidth(w)
		s.detail.SetHeight(max(1, h-max(3, h/2)-1))
	}
	s.drawnID = "-"
}

// detailView is the detail pane and, under it, where it is in the finding.
func (s *findingsScreen) detailView() string {
	below := s.detail.TotalLineCount() - s.detail.YOffset() - s.detail.Height()
	var hint string
	switch {
	case below > 0 && s.detail.YOffset() > 0:
		hint = fmt.Sprintf("↕ %d lines above, %d below: J and K scroll", s.detail.YOffset(), below)
	case below > 0:
		hint = fmt.Sprintf("↓ %d more lines: J scrolls down", below)
	case s.detail.YOffset() > 0:
		hint = fmt.Sprintf("↑ %d lines above: K scrolls up", s.detail.YOffset())
	}
	return s.detail.View() + "\n" + s.c.st.dim.Render(truncate(hint, s.detail.Width()))
}

func (s *findingsScreen) View() string {
	r := s.selected()
	id := ""
	if r != nil {
		id = r.id
	}
	if id != s.drawnID || s.drawnVer != s.c.version {
		s.drawnID, s.drawnVer = id, s.c.version
		s.detail.SetContent(s.detailText(r))
		s.detail.GotoTop()
	}
	if s.c.snap == nil {
		return s.list.View()
	}
	if s.wide {
		return lipgloss.JoinHorizontal(lipgloss.Top, s.list.View(), " ", s.detailView())
	}
	return s.list.View() + "\n" + s.detailView()
}

// detailText is the selected finding, whole: the very row the list shows selected.
func (s *findingsScreen) detailText(r *row) string {
	if r == nil {
		return ""
	}
	f, st, w := r.ref.(*model.Finding), s.c.st, s.detail.Width()
	var b strings.Builder
	// The subject on a line of its own: a cache URI is as wide as the screen.
	b.WriteString(st.sev[f.Severity].Render(strings.ToUpper(string(f.Severity))) + " " + st.bold.Render(f.Check) + "  " + st.dim.Render("id "+f.ID()) + "\n")
	b.WriteString(wrapText(model.Printable(f.Subject.Kind+" "+f.Subject.Name), w) + "\n")
	b.WriteString(wrapText(model.Printable(f.Title), w) + "\n\n")
	b.WriteString(wrapText(model.Printable(f.Explanation), w) + "\n")
	if len(f.Evidence) > 0 {
		b.WriteString("\n" + st.bold.Render("Evidence") + "\n")
		for _, e := range f.Evidence {
			b.WriteString(hang("• ", model.Printable(e.Call)+" → "+model.Printable(e.Answer), w) + "\n")
		}
	}
	if len(f.Fixes) > 0 {
		hint := " (f shows the plan)"
		if len(f.Fixes) > 1 {
			hint = " (f shows the first plan; n and p go through the others)"
		}
		b.WriteString("\n" + st.bold.Render("Fixes") + hint + "\n")
		for i, fx := range f.Fixes {
			kind := ""
			if len(fx.Plan.Steps) == 0 {
				kind = " (by hand)"
			} else if fx.Plan.Destructive() {
				kind = " (destructive)"
			}
			b.WriteString(hang(fmt.Sprintf("%d. ", i+1), model.Printable(fx.Title)+kind, w) + "\n")
		}
	}
	return breakLong(b.String(), w)
}

func (s *findingsScreen) Update(msg tea.Msg) tea.Cmd {
	if m, ok := msg.(tea.MouseWheelMsg); ok && (s.wide && m.Mouse().X > s.width || !s.wide && m.Mouse().Y >= bodyTop+s.height) {
		return scroll(&s.detail, s.c.keys, msg) // the wheel over the detail pane scrolls it
	}
	return s.listScreen.Update(msg)
}

func findingRows(fs []model.Finding) []row {
	rows := make([]row, 0, len(fs))
	for i := range fs {
		f := &fs[i]
		rows = append(rows, row{id: findingID(f), ref: f,
			cells: map[string]string{"id": f.ID(), "sev": sevLabel[f.Severity], "check": f.Check,
				"subject": model.Printable(brief(f.Subject.Name)), "title": model.Printable(titleCell(f))},
			nums: map[string]float64{"sev": severityWeight([]*model.Finding{f})}})
	}
	return rows
}

// titleCell is the title as the list shows it: shortened as the subject is, and
// without the subject in front when it starts so, the SUBJECT column saying it already.
func titleCell(f *model.Finding) string {
	title, subject := brief(f.Title), brief(f.Subject.Name)
	if rest, ok := strings.CutPrefix(title, subject+" "); ok && subject != "" {
		return "… " + rest
	}
	return title
}

var sevLabel = map[model.Severity]string{model.SeverityError: "ERR", model.SeverityWarning: "WARN", model.SeverityInfo: "INFO"}

// severityWeight orders rows by their worst findings: errors, then warnings, then notes.
func severityWeight(fs []*model.Finding) float64 {
	var w float64
	for _, f := range fs {
		switch f.Severity {
		case model.SeverityError:
			w += 1e6
		case model.SeverityWarning:
			w += 1e3
		default:
			w++
		}
	}
	return w
}

// countBySeverity counts errors, warnings and notes.
func countBySeverity(fs []*model.Finding) (e, w, i int) {
	for _, f := range fs {
		switch f.Severity {
		case model.SeverityError:
			e++
		case model.SeverityWarning:
			w++
		default:
			i++
		}
	}
	return e, w, i
}

func sevCounts(fs []*model.Finding) string {
	e, w, i := countBySeverity(fs)
	var parts []string
	for _, p := range []struct {
		n int
		s string
	}{{e, "E"}, {w, "W"}, {i, "I"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d%s", p.n, p.s))
		}
	}
	return orDash(strings.Join(parts, " "))
}

// findingsAbout lists the findings whose subject is a rule, repository or image.
func findingsAbout(fs []model.Finding, kind, name string) []*model.Finding {
	var out []*model.Finding
	for i := range fs {
		f := &fs[i]
		switch {
		case f.Subject.Kind == kind && f.Subject.Name == name:
			out = append(out, f)
		case kind == "repository" && f.Subject.Kind == "image" && strings.HasPrefix(f.Subject.Name, name+":"):
			out = append(out, f)
		case kind == "rule" && f.Subject.Kind == "principal" && strings.Contains(f.Title, " "+name+"/"):
			out = append(out, f)
		}
	}
	return out
}
