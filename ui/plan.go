package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// The plan screen: a fix's steps, every call with its whole input (policies and
// lifecycle rules pretty-printed, the screen scrolls), destructive steps marked. y
// applies it, after the resource's name is typed when a step deletes, and after the
// credentials are typed when a step stores them; then the account is read and checked
// again, and the screen follows the results. n and p go through the finding's fixes.

// planPhase is where the plan is: it decides what keys do and what the screen asks.
type planPhase int

const (
	phaseReview   planPhase = iota // shown; y applies
	phaseManual                    // a fix done by hand: nothing to apply
	phaseConfirm                   // typing the name of what a step deletes
	phaseSecret                    // typing the credentials a step stores
	phaseApplying                  // the calls are running
	phaseDone                      // applied (or stopped): the results are shown
)

type planScreen struct {
	c     *common
	fixes []model.Fix
	at    int
	about *model.Finding // the finding the fixes are for; nil for an undo or setup

	phase         planPhase
	body          viewport.Model
	confirm       textinput.Model
	user, token   textinput.Model
	secretFocus   int
	id            int    // the apply's id: its answer carries it
	resultLine    int    // the line the results start on, where the view goes after y
	note, result  string // a line above the plan (setup's); what the apply did
	said          string // the last word under the plan: a refusal, a mismatch
	secrets       map[string]string
	stopping      bool                  // the person asked the plan to stop between steps
	afterApplied  func(ok bool) tea.Cmd // setup proves the rule once applied
	width, height int
}

type applyDoneMsg struct {
	id       int
	outcomes []StepOutcome
	err      error
	snap     *model.Snapshot
	result   diagnose.Result
	// undoHint says whether a step the plan did is one the journal can undo (a force
	// DeleteRepository has no inverse), so that "u there undoes it" is offered only then,
	// and says so when the journal could not be read rather than guess.
	undoHint string
}

// provedMsg is what was seen after the plan: appended to its results.
type provedMsg struct {
	id   int
	text string
}

func newPlanScreen(c *common, fixes []model.Fix, at int, about *model.Finding) *planScreen {
	s := &planScreen{c: c, fixes: fixes, at: at, about: about, body: viewport.New(),
		confirm: newInput("type it to confirm: "), user: newInput("upstream user name: "), token: newInput("access token: ")}
	s.token.EchoMode = textinput.EchoPassword
	s.body.KeyMap = c.keys.viewportKeys()
	s.body.SoftWrap = false // wrapText folds at spaces; a longer token scrolls sideways
	s.choose(at)
	return s
}

func (s *planScreen) plan() model.Plan {
	p := s.fixes[s.at].Plan
	if p.Title == "" {
		p.Title = s.fixes[s.at].Title
	}
	return p
}

// choose shows fix i of the finding's.
func (s *planScreen) choose(i int) {
	s.at, s.said, s.result = i, "", ""
	s.phase = phaseReview
	if len(s.plan().Steps) == 0 {
		s.phase = phaseManual
	}
	s.render()
	s.body.GotoTop()
}

func (s *planScreen) Title() string { return "Plan" }

func (s *planScreen) SetSize(w, h int) {
	s.width, s.height = w, h
	s.body.SetWidth(w)
	s.body.SetHeight(h)
	s.render()
}

func (s *planScreen) View() string { return s.body.View() }

func (s *planScreen) Capturing() bool { return s.phase == phaseConfirm || s.phase == phaseSecret }

// holdsEscape keeps the person on the plan while it is applied.
func (s *planScreen) holdsEscape() bool { return s.phase == phaseApplying }

func (s *planScreen) ShortHelp() []key.Binding {
	k := s.c.keys
	switch s.phase {
	case phaseReview, phaseManual:
		var out []key.Binding
		if s.phase == phaseReview {
			out = append(out, k.Confirm)
		}
		if len(s.fixes) > 1 {
			out = append(out, k.NextFix, k.PrevFix)
		}
		return append(out, s.scrollKeys()...)
	case phaseConfirm:
		phrase := model.Printable(destructiveTarget(s.plan()))
		return []key.Binding{key.NewBinding(key.WithKeys("type"), key.WithHelp("type", phrase)),
			key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply")), key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel"))}
	case phaseSecret:
		return []key.Binding{key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next field")),
			key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply")), key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel"))}
	}
	return s.scrollKeys()
}

func (s *planScreen) scrollKeys() []key.Binding { return textKeys(&s.body, s.c.keys) }

func (s *planScreen) FullHelp() [][]key.Binding {
	k := s.c.keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}, {k.Confirm, k.NextFix, k.PrevFix, k.Back}}
}

func (s *planScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case applyDoneMsg:
		if msg.id == s.id {
			return s.applied(msg)
		}
		return nil
	case provedMsg:
		if msg.id == s.id {
			// What was seen after the plan (the rule validated, the canary pulled)
			// goes to the top of the view: the calls' results are just above.
			proof := s.resultLine + strings.Count(wrapText(s.result, s.body.Width()), "\n")
			s.result += msg.text
			s.render()
			s.body.SetYOffset(proof)
			return s.c.nav.rescan() // the canary made a repository since the plan's read
		}
		return nil
	case tea.KeyPressMsg:
		return s.key(msg)
	}
	return scroll(&s.body, s.c.keys, msg)
}

func (s *planScreen) key(msg tea.KeyPressMsg) tea.Cmd {
	k := s.c.keys
	switch s.phase {
	case phaseConfirm, phaseSecret:
		return s.inputKey(msg)
	case phaseApplying:
		if key.Matches(msg, k.Back) {
			if s.stopping {
				s.c.nav.note("the plan stops after the step under way: its results follow")
				return nil
			}
			s.c.nav.ask(question{text: "Stop the plan after the step under way? The journal keeps what was done. y / n",
				yes: func() tea.Cmd {
					if s.c.stopApply != nil {
						s.c.stopApply(false)
					}
					return nil
				}})
			return nil
		}
	case phaseReview, phaseManual:
		switch {
		case key.Matches(msg, k.Confirm):
			return s.confirmPlan()
		case key.Matches(msg, k.NextFix) && len(s.fixes) > 1:
			s.choose((s.at + 1) % len(s.fixes))
			return nil
		case key.Matches(msg, k.PrevFix) && len(s.fixes) > 1:
			s.choose((s.at + len(s.fixes) - 1) % len(s.fixes))
			return nil
		}
	}
	return scroll(&s.body, s.c.keys, msg)
}

func (s *planScreen) confirmPlan() tea.Cmd {
	if s.phase == phaseManual {
		s.c.nav.note("this fix is done by hand: there is no call to apply")
		return nil
	}
	if s.phase != phaseReview {
		return nil
	}
	if s.c.eng.ReadOnly() {
		s.c.nav.note("Read-only: nothing was written. w turns writes on; then y again.")
		return nil
	}
	p := s.plan()
	if needsSecret(p) && s.secrets == nil {
		s.phase, s.secretFocus = phaseSecret, 0
		s.user.SetValue("")
		s.token.SetValue("")
		s.render()
		return s.user.Focus()
	}
	if destructiveTarget(p) != "" {
		s.phase = phaseConfirm
		s.confirm.SetValue("")
		s.render()
		return s.confirm.Focus()
	}
	return s.apply()
}

// inputKey takes the typed confirmation, or the credentials a step stores.
func (s *planScreen) inputKey(msg tea.KeyPressMsg) tea.Cmd {
	k := msg.String()
	if k == "esc" {
		s.phase, s.secrets = phaseReview, nil
		s.confirm.Blur()
		s.user.Blur()
		s.token.Blur()
		s.said = "cancelled: nothing was written"
		s.render()
		return nil
	}
	var cmd tea.Cmd
	switch {
	case s.phase == phaseSecret && (k == "tab" || k == "shift+tab" || (k == "enter" && s.secretFocus == 0)):
		s.secretFocus = 1 - s.secretFocus
		if s.secretFocus == 0 {
			s.token.Blur()
			return s.user.Focus()
		}
		s.user.Blur()
		return s.token.Focus()
	case s.phase == phaseSecret && k == "enter":
		return s.secretsTyped()
	case s.phase == phaseSecret && s.secretFocus == 0:
		s.user, cmd = s.user.Update(msg)
	case s.phase == phaseSecret:
		s.token, cmd = s.token.Update(msg)
	case k == "enter":
		if strings.TrimSpace(s.confirm.Value()) != destructiveTarget(s.plan()) {
			s.said = "that does not match " + strconv.Quote(model.Printable(destructiveTarget(s.plan()))) + ": nothing was written"
			s.render()
			return nil
		}
		s.confirm.Blur()
		return s.apply()
	default:
		s.confirm, cmd = s.confirm.Update(msg)
	}
	s.render()
	return cmd
}

func (s *planScreen) secretsTyped() tea.Cmd {
	user, tok := strings.TrimSpace(s.user.Value()), strings.TrimSpace(s.token.Value())
	if user == "" || tok == "" {
		s.said = "both the user name and the token are needed"
		s.render()
		return nil
	}
	value, _ := json.Marshal(map[string]string{"username": user, "accessToken": tok})
	s.token.SetValue("") // the token leaves the screen's state at once
	s.token.Blur()
	s.secrets = map[string]string{}
	for _, st := range s.plan().Steps {
		if st.NeedsSecretValue {
			s.secrets[st.Target] = string(value)
		}
	}
	if destructiveTarget(s.plan()) != "" {
		s.phase = phaseConfirm
		s.confirm.SetValue("")
		s.render()
		return s.confirm.Focus()
	}
	return s.apply()
}

// apply runs the plan, then reads and checks the account again, so the person sees
// whether the finding is gone.
func (s *planScreen) apply() tea.Cmd {
	c := s.c
	s.phase, s.said, s.id, s.stopping = phaseApplying, "", c.nextID(), false
	c.applying = s.id
	// stop ends the plan between steps; reread, the reading of the account after it
	// (not wanted when the person is quitting).
	stop, stopPlan := context.WithCancel(c.ctx)
	reread, stopReread := context.WithCancel(c.ctx)
	c.stopApply = func(quitting bool) {
		s.stopping = true
		stopPlan()
		if quitting {
			stopReread()
		}
		s.render()
	}
	s.render()
	s.body.GotoBottom()
	eng, opts, plan, secrets, id := c.eng, c.opts, s.plan(), s.secrets, s.id
	s.secrets = nil // used once
	return c.track(func() tea.Msg {
		defer stopPlan()
		defer stopReread()
		out, err := eng.Apply(stop, plan, secrets)
		msg := applyDoneMsg{id: id, outcomes: out, err: err, undoHint: undoHintOf(eng, out)}
		ctx := reread
		snap, serr := eng.Scan(ctx, nil)
		if serr == nil {
			msg.snap = snap
			refs, _ := parseRefs(snap, opts.Images)
			msg.result = diagnose.Diagnose(ctx, snap, eng, diagnose.Options{Refs: refs, Principals: principals(snap, opts.Principals)})
		}
		return msg
	})
}

// applied shows what the plan did, and whether the finding is gone.
func (s *planScreen) applied(msg applyDoneMsg) tea.Cmd {
	s.phase = phaseDone
	s.c.applying, s.c.stopApply = 0, nil
	var b strings.Builder
	for i, o := range msg.outcomes {
		if o.Status == "not-run" {
			continue
		}
		fmt.Fprintf(&b, "step %d %s: %s %s", i+1, o.Status, model.Printable(o.Step.Operation), model.Printable(o.Step.Target))
		if o.Err != "" {
			fmt.Fprintf(&b, ": %s", model.Printable(o.Err))
		}
		if o.RequestID != "" { // on a line of its own, so that it is never wrapped
			fmt.Fprintf(&b, "\n  request %s", model.Printable(o.RequestID))
		}
		b.WriteString("\n")
	}
	switch {
	case msg.err != nil && s.stopping:
		fmt.Fprintf(&b, "\nThe plan was %s\nThe journal (4) lists what was done; %s.\n", model.Printable(msg.err.Error()), msg.undoHint)
	case msg.err != nil:
		fmt.Fprintf(&b, "\nThe plan stopped: %s\n", model.Printable(msg.err.Error()))
	}
	if msg.snap != nil {
		before := s.c.findings
		s.c.setResult(msg.snap, msg.result)
		if s.about != nil {
			if v := diagnose.Recheck(*s.about, before, msg.result); v.Fixed() {
				b.WriteString("\nRe-checked: FIXED. The finding is gone.\n")
			} else {
				b.WriteString("\nRe-checked: " + model.Printable(v.String()) + "\n") // "NOT fixed: …" or "could not confirm: …"
			}
		}
	}
	s.result = b.String()
	s.render()
	s.body.SetYOffset(s.resultLine) // the results at the top, and what follows them under
	if s.afterApplied != nil {
		return s.afterApplied(msg.err == nil)
	}
	return nil
}

// render draws the plan into the viewport, keeping the place the person scrolled to.
func (s *planScreen) render() {
	st, w := s.c.st, s.body.Width()
	p := s.plan()
	var b strings.Builder
	if s.about != nil {
		b.WriteString(st.bold.Render(wrapText(model.Printable(s.about.Title), w)) + "\n\n")
	}
	if s.note != "" {
		b.WriteString(s.note + "\n")
	}
	title := "Plan: " + model.Printable(p.Title)
	if len(s.fixes) > 1 {
		title = fmt.Sprintf("Fix %d of %d (n: next, p: previous) · %s", s.at+1, len(s.fixes), title)
	}
	b.WriteString(wrapText(title, w) + "\n\n")
	if s.phase == phaseManual {
		if m := s.fixes[s.at].Manual; m != "" {
			b.WriteString(textBlock(m, w) + "\n\n")
		}
		b.WriteString("This fix is done by hand: ptcdoctor has no call that makes it.\n")
	}
	for i, step := range p.Steps {
		b.WriteString(s.stepText(i, step))
	}
	b.WriteString("\n" + s.prompt(p))
	if s.said != "" {
		b.WriteString("\n" + s.said + "\n")
	}
	if s.result != "" {
		b.WriteString("\n")
		s.resultLine = strings.Count(b.String(), "\n")
		b.WriteString(wrapText(s.result, w))
	}
	off := s.body.YOffset()
	s.body.SetContent(b.String())
	s.body.SetYOffset(off)
	if s.Capturing() {
		s.body.GotoBottom() // the keys go to the input: the view cannot be scrolled to it
	}
}

// stepText is one step: what it does, then the call and every input, whole.
func (s *planScreen) stepText(i int, step model.Step) string {
	w := s.body.Width()
	mark := ""
	if step.Destructive {
		mark = " " + s.c.st.sev[model.SeverityError].Render("[DESTRUCTIVE]")
	}
	num := fmt.Sprintf("%d. ", i+1)
	pad := strings.Repeat(" ", len(num))
	var b strings.Builder
	b.WriteString(hang(num, model.Printable(step.Summary)+mark, w) + "\n")
	b.WriteString(pad + s.c.st.bold.Render(model.Printable(step.Operation)) + "\n")
	keys := make([]string, 0, len(step.Params))
	for k := range step.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(paramText(pad+"  ", model.Printable(k), step.Params[k], w))
	}
	if step.NeedsSecretValue {
		b.WriteString(hang(pad+"  ", "SecretString: <asked for when applied, never shown>", w) + "\n")
	}
	return b.String()
}

// paramText is one input of a call: JSON documents (policies, lifecycle rules) are
// pretty-printed under their name, anything else follows it; nothing is cut.
func paramText(indent, name, value string, width int) string {
	var pretty bytes.Buffer
	if t := strings.TrimSpace(value); (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) && json.Indent(&pretty, []byte(t), indent+"  ", "  ") == nil {
		var b strings.Builder
		b.WriteString(indent + name + ":\n")
		for _, line := range strings.Split(pretty.String(), "\n") {
			b.WriteString(hang(indent+"  ", strings.TrimPrefix(model.Printable(line), indent+"  "), width) + "\n")
		}
		return b.String()
	}
	return hang(indent, name+": "+model.Printable(value), width) + "\n"
}

// prompt says what the next key does, in the phase the plan is in.
func (s *planScreen) prompt(p model.Plan) string {
	switch s.phase {
	case phaseReview:
		switch {
		case s.c.eng.ReadOnly():
			return "READ-ONLY: w turns writes on before applying. esc goes back.\n"
		case destructiveTarget(p) != "":
			return "y, then type " + model.Printable(destructiveTarget(p)) + " to apply. esc goes back.\n"
		}
		return "y applies this plan. esc goes back.\n"
	case phaseConfirm:
		if t := destructiveTargets(p); len(t) > 1 {
			return wrapText(fmt.Sprintf("This plan deletes %d targets: %s. Type %q and press enter (esc cancels):",
				len(t), model.Printable(strings.Join(t, ", ")), destructiveTarget(p)), s.body.Width()) + "\n" + s.confirm.View() + "\n"
		}
		return wrapText("This plan deletes "+model.Printable(destructiveTarget(p))+". Type its name and press enter (esc cancels):", s.body.Width()) + "\n" + s.confirm.View() + "\n"
	case phaseSecret:
		return "This fix stores new credentials; they are used for this call only and never shown, logged or kept:\n" +
			s.user.View() + "\n" + s.token.View() + "\n(tab switches, enter applies, esc cancels)\n"
	case phaseApplying:
		if s.stopping {
			return "stopping after the step under way…\n"
		}
		return "applying… (esc stops it between steps)\n"
	}
	return ""
}

// destructiveTargets are what the plan deletes, each once, in the plan's order.
func destructiveTargets(p model.Plan) []string {
	var out []string
	for _, s := range p.Steps {
		if s.Destructive && !slices.Contains(out, s.Target) {
			out = append(out, s.Target)
		}
	}
	return out
}

// destructiveTarget is the phrase to type before a destructive plan runs: the name
// of the one thing it deletes, or "delete N" when it deletes several, so that the
// phrase covers every one of them; "" when it deletes nothing.
func destructiveTarget(p model.Plan) string {
	switch t := destructiveTargets(p); len(t) {
	case 0:
		return ""
	case 1:
		return t[0]
	default:
		return fmt.Sprintf("delete %d", len(t))
	}
}

func needsSecret(p model.Plan) bool {
	for _, s := range p.Steps {
		if s.NeedsSecretValue {
			return true
		}
	}
	return false
}

// undoHintOf says whether the journal can undo a step the plan did: the journal's row of
// that write (by its request id) says so. A journal that could not be read is said, not
// read as "nothing can be undone".
func undoHintOf(eng Engine, out []StepOutcome) string {
	const can, cannot = "u there undoes it", "none of it can be undone"
	done := map[string]bool{}
	for _, o := range out {
		if o.Status == "done" && o.RequestID != "" {
			done[o.RequestID] = true
		}
	}
	if len(done) == 0 {
		return cannot
	}
	rows, err := eng.Journal()
	if err != nil {
		return "whether it can be undone is not known: the journal could not be read (" + model.Printable(err.Error()) + ")"
	}
	for _, r := range rows {
		if r.Undoable && done[r.RequestID] {
			return can
		}
	}
	return cannot
}
