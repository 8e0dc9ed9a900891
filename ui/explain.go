package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// The explain screen: one reference walked through the pull, link by link, or a pasted
// error message recognised. It starts from the row it was opened on; when its verdict
// is a finding on the findings screen, enter opens that finding, and f opens the fixes
// it lists as plans.

type explainScreen struct {
	c       *common
	input   textinput.Model
	body    viewport.Model
	id      int
	ex      *diagnose.Explanation
	matched string // the id of the finding the verdict is
	width   int
}

type explainDoneMsg struct {
	id   int
	text string
	ex   *diagnose.Explanation
}

func newExplainScreen(c *common, from component) *explainScreen {
	s := &explainScreen{c: c, input: newInput("reference or error: "), body: viewport.New()}
	s.input.Placeholder = "nginx:1.27, a cache URI, or a pasted error message"
	s.body.KeyMap = c.keys.viewportKeys()
	s.body.SoftWrap = false // wrapText folds at spaces; a longer token scrolls sideways
	return s
}

// start explains input, or asks for one.
func (s *explainScreen) start(input string) tea.Cmd {
	s.input.SetValue(input)
	if strings.TrimSpace(input) == "" {
		s.body.SetContent("Type a reference, or paste an error message from docker, containerd or kubelet, and press enter.")
		return s.input.Focus()
	}
	s.input.Blur()
	return s.run(input)
}

func (s *explainScreen) run(input string) tea.Cmd {
	c := s.c
	s.id, s.ex, s.matched = c.nextID(), nil, ""
	s.body.SetContent("Explaining " + model.Printable(input) + "…")
	ctx, eng, snap, opts, id, width := c.ctx, c.eng, c.snap, c.opts, s.id, s.body.Width()
	return c.track(func() tea.Msg {
		input = strings.TrimSpace(input)
		if strings.ContainsAny(input, " \t") || snap == nil {
			var acct *diagnose.Account
			if snap != nil {
				acct = &diagnose.Account{Snap: snap, Prober: eng, Opts: diagnose.Options{Principals: principals(snap, opts.Principals)}}
			}
			v, ok := diagnose.ExplainError(ctx, acct, input)
			if !ok {
				return explainDoneMsg{id: id, text: "Not a reference, and not an error message ptcdoctor recognises.\nType a reference (nginx:1.27, or a cache URI) or paste the whole error line."}
			}
			return explainDoneMsg{id: id, text: renderErrorVerdict(v, width), ex: v.Explanation}
		}
		ref, err := model.ParseRef(input, snap.AccountID, snap.Region, snap.Rules)
		if err != nil && ref.Repository == "" {
			return explainDoneMsg{id: id, text: model.Printable(err.Error())}
		}
		ex := diagnose.Explain(ctx, snap, eng, ref, diagnose.Options{Principals: principals(snap, opts.Principals)})
		return explainDoneMsg{id: id, text: renderExplanation(ex, width), ex: &ex}
	})
}

func (s *explainScreen) Title() string { return "Explain" }

func (s *explainScreen) SetSize(w, h int) {
	s.width = w
	s.input.SetWidth(max(10, w-len(s.input.Prompt)-1))
	s.body.SetWidth(w)
	s.body.SetHeight(max(1, h-1))
}

func (s *explainScreen) View() string { return s.input.View() + "\n" + s.body.View() }

func (s *explainScreen) Capturing() bool { return s.input.Focused() }

func (s *explainScreen) ShortHelp() []key.Binding {
	k := s.c.keys
	if s.input.Focused() {
		return []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "explain it")), k.Back}
	}
	out := []key.Binding{}
	if s.matched != "" {
		out = append(out, k.OpenFinding)
	}
	if s.ex != nil && len(s.ex.Fixes) > 0 {
		out = append(out, k.Fix)
	}
	return append(append(out, k.Explain), textKeys(&s.body, k)...)
}

func (s *explainScreen) FullHelp() [][]key.Binding {
	k := s.c.keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}, {k.OpenFinding, k.Fix, k.Explain, k.Back}}
}

func (s *explainScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case explainDoneMsg:
		if msg.id == s.id {
			s.done(msg)
		}
		return nil
	case tea.KeyPressMsg:
		if s.input.Focused() {
			return s.inputKey(msg)
		}
		k := s.c.keys
		switch {
		case key.Matches(msg, k.OpenFinding) && s.matched != "":
			s.c.nav.openFinding(s.matched)
			return nil
		case key.Matches(msg, k.Fix) && s.ex != nil && len(s.ex.Fixes) > 0:
			var about *model.Finding
			if len(s.ex.Findings) > 0 {
				about = &s.ex.Findings[0]
			}
			s.c.nav.push(newPlanScreen(s.c, s.ex.Fixes, 0, about))
			return nil
		case key.Matches(msg, k.Explain):
			return s.input.Focus()
		}
	}
	return scroll(&s.body, s.c.keys, msg)
}

func (s *explainScreen) inputKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		s.input.Blur()
		if s.ex == nil && s.id == 0 {
			s.c.nav.back()
		}
		return nil
	case "enter":
		in := s.input.Value()
		if strings.TrimSpace(in) == "" {
			return nil
		}
		s.input.Blur()
		return s.run(in)
	}
	var cmd tea.Cmd
	s.input, cmd = s.input.Update(msg)
	return cmd
}

// done shows the explanation, and links it to the finding its verdict is.
func (s *explainScreen) done(msg explainDoneMsg) {
	s.ex = msg.ex
	var head string
	if s.ex != nil {
	seek:
		for i := range s.ex.Findings {
			want := findingID(&s.ex.Findings[i])
			for j := range s.c.findings {
				if findingID(&s.c.findings[j]) == want {
					s.matched = want
					f := &s.c.findings[j]
					head = fmt.Sprintf("This is the finding %s %s: %s\n(o opens it on the findings screen)\n\n", sevLabel[f.Severity], f.Check, model.Printable(brief(f.Title)))
					break seek
				}
			}
		}
		if len(s.ex.Fixes) > 0 {
			msg.text += "\n(f opens these fixes as plans: n and p go through them)\n"
		}
	}
	s.body.SetContent(wrapText(head+msg.text, s.body.Width()))
	s.body.GotoTop()
}

var marks = map[string]string{"ok": "✓", "warning": "!", "failed": "✗", "skipped": "-", diagnose.StatusNotChecked: "?"}

// renderExplanation is the reference, its steps (a mark, what was checked, what was
// seen, the latter folded under itself), the verdict and the fixes, for width columns.
func renderExplanation(ex diagnose.Explanation, width int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", model.Printable(ex.Ref.Input))
	if ex.Ref.FromUpstream {
		fmt.Fprintf(&b, "pulled as %s\n", model.Printable(ex.Ref.CacheURI()))
	}
	b.WriteString("\n")
	nameW := 0
	for _, s := range ex.Steps {
		if n := len(s.Name); n <= 26 { // a longer name (an ARN's) has a line of its own
			nameW = max(nameW, n)
		}
	}
	for _, s := range ex.Steps {
		first := fmt.Sprintf(" %s %-*s  ", marks[s.Status], nameW, model.Printable(s.Name))
		if len(s.Name) > nameW { // a long name on a line of its own, its detail under the others'
			b.WriteString(strings.TrimRight(first, " ") + "\n")
			first = strings.Repeat(" ", nameW+5)
		}
		b.WriteString(hang(first, model.Printable(s.Detail), width) + "\n")
	}
	fmt.Fprintf(&b, "\nVerdict: %s\n", model.Printable(ex.Verdict))
	for i, f := range ex.Fixes {
		fmt.Fprintf(&b, "\nFix %d: %s\n", i+1, model.Printable(f.Title))
		for _, st := range f.Plan.Steps {
			fmt.Fprintf(&b, "  %s\n", model.Printable(st.Summary))
		}
		if f.Manual != "" {
			// Its lines kept: a policy is pretty-printed, a command stays whole.
			for _, l := range strings.Split(textBlock(f.Manual, 0), "\n") {
				fmt.Fprintf(&b, "  %s\n", l)
			}
		}
	}
	return b.String()
}

func renderErrorVerdict(v diagnose.ErrorVerdict, width int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Recognised: %q\n", v.Reading.Matched)
	if v.Explanation != nil {
		ex := *v.Explanation
		ex.Fixes = v.Fixes // only the fixes of the link the line failed at
		b.WriteString("\n" + renderExplanation(ex, width))
	}
	if v.Cause.ID != "" {
		fmt.Fprintf(&b, "\nCause: %s (%s)\n", v.Cause.Title, v.Cause.ID)
	}
	for _, n := range v.AlsoFailing {
		fmt.Fprintf(&b, "Also failing (not this line's cause): %s\n", model.Printable(n))
	}
	fmt.Fprintf(&b, "%s\n", model.Printable(v.Verdict))
	if v.Fix != "" {
		fmt.Fprintf(&b, "Fix: %s\n", model.Printable(v.Fix))
	}
	for _, n := range v.Needs {
		fmt.Fprintf(&b, "Would settle it: %s\n", model.Printable(n))
	}
	return b.String()
}
