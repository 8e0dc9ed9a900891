package ui

import (
	"encoding/json"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// The plan screen: the chosen fix's steps, every call and its input, destructive steps
// marked; y confirms, or typing the resource's name when a step deletes; then the plan is
// applied and the account checked again.

func (a *App) openPlan(fixIndex int) tea.Cmd {
	f := a.selectedFinding()
	if f == nil {
		if a.screen != screenFindings {
			a.status = "select a finding first (3 for findings)"
		}
		return nil
	}
	if fixIndex >= len(f.Fixes) {
		a.status = fmt.Sprintf("finding has %d fixes", len(f.Fixes))
		return nil
	}
	fix := f.Fixes[fixIndex]
	a.planFor = f
	plan := fix.Plan
	if plan.Title == "" {
		plan.Title = fix.Title
	}
	a.plan = &plan
	a.planState = ""
	if len(plan.Steps) == 0 {
		a.planState = "manual"
	}
	a.go_(screenPlan)
	a.renderPlan("")
	return nil
}

func (a *App) openUndo() tea.Cmd {
	if len(a.list.refs) == 0 || a.table.Cursor() >= len(a.list.refs) {
		return nil
	}
	row, _ := a.list.refs[a.table.Cursor()].(JournalRow)
	plan, err := a.eng.UndoPlan(row.Plan)
	if err != nil {
		a.setBanner("Nothing to undo for plan "+row.Plan, err.Error())
		return nil
	}
	a.plan, a.planFor, a.planState = &plan, nil, ""
	a.go_(screenPlan)
	a.renderPlan("")
	return nil
}

// destructiveTarget is the name to type before a destructive plan runs.
func destructiveTarget(p *model.Plan) string {
	for _, s := range p.Steps {
		if s.Destructive {
			return s.Target
		}
	}
	return ""
}

func needsSecret(p *model.Plan) bool {
	for _, s := range p.Steps {
		if s.NeedsSecretValue {
			return true
		}
	}
	return false
}

func (a *App) confirmPlan() tea.Cmd {
	if a.plan == nil || a.planState == "applying" || a.planState == "manual" {
		return nil
	}
	if a.eng.ReadOnly() {
		a.setBanner("Read-only: nothing was written. Press w to turn writes on, then confirm again.", "")
		return nil
	}
	if needsSecret(a.plan) && a.setup != nil && a.setup.secrets != nil {
		secrets := a.setup.secrets
		a.setup.secrets = nil // used once
		return a.apply(secrets)
	}
	if needsSecret(a.plan) && a.planState != "secret" {
		a.planState = "secret"
		a.secretFocus = 0
		a.secretUser.SetValue("")
		a.secretToken.SetValue("")
		a.renderPlan("")
		return a.secretUser.Focus()
	}
	if t := destructiveTarget(a.plan); t != "" {
		a.planState = "confirm"
		a.confirm.SetValue("")
		a.renderPlan("")
		return a.confirm.Focus()
	}
	return a.apply(nil)
}

func (a *App) apply(secrets map[string]string) tea.Cmd {
	a.planState = "applying"
	a.renderPlan("Applying…")
	return tea.Batch(a.applyCmd(*a.plan, secrets), a.spin.Tick)
}

// planKey takes the typed confirmation, or the credentials a step stores.
func (a *App) planKey(msg tea.KeyPressMsg) tea.Cmd {
	k := msg.String()
	if k == "esc" {
		a.planState = ""
		a.confirm.Blur()
		a.secretUser.Blur()
		a.secretToken.Blur()
		a.renderPlan("cancelled: nothing was written")
		return nil
	}
	if a.planState == "secret" {
		switch k {
		case "tab", "shift+tab":
			a.secretFocus = 1 - a.secretFocus
			if a.secretFocus == 0 {
				a.secretToken.Blur()
				return a.secretUser.Focus()
			}
			a.secretUser.Blur()
			return a.secretToken.Focus()
		case "enter":
			if a.secretFocus == 0 {
				a.secretFocus = 1
				a.secretUser.Blur()
				return a.secretToken.Focus()
			}
			user, tok := strings.TrimSpace(a.secretUser.Value()), strings.TrimSpace(a.secretToken.Value())
			if user == "" || tok == "" {
				a.renderPlan("both the user name and the token are needed")
				return nil
			}
			value, _ := json.Marshal(map[string]string{"username": user, "accessToken": tok})
			a.secretToken.SetValue("") // the token leaves the screen's state at once
			a.secretToken.Blur()
			secrets := map[string]string{}
			for _, s := range a.plan.Steps {
				if s.NeedsSecretValue {
					secrets[s.Target] = string(value)
				}
			}
			if t := destructiveTarget(a.plan); t != "" {
				a.renderPlan("this plan also deletes: confirm it without credentials first")
				return nil
			}
			return a.apply(secrets)
		}
		var cmd tea.Cmd
		if a.secretFocus == 0 {
			a.secretUser, cmd = a.secretUser.Update(msg)
		} else {
			a.secretToken, cmd = a.secretToken.Update(msg)
		}
		a.renderPlan("")
		return cmd
	}
	if k == "enter" {
		if a.confirm.Value() != destructiveTarget(a.plan) {
			a.renderPlan("the name does not match: nothing was written")
			return nil
		}
		a.confirm.Blur()
		return a.apply(nil)
	}
	var cmd tea.Cmd
	a.confirm, cmd = a.confirm.Update(msg)
	a.renderPlan("")
	return cmd
}

// applied shows what the plan did, and whether the finding is gone.
func (a *App) applied(msg applyDoneMsg) tea.Cmd {
	a.planState = "done"
	var b strings.Builder
	for i, o := range msg.outcomes {
		if o.Status == "not-run" {
			continue
		}
		fmt.Fprintf(&b, "step %d %s: %s %s", i+1, o.Status, model.Printable(o.Step.Operation), model.Printable(o.Step.Target))
		if o.RequestID != "" {
			fmt.Fprintf(&b, " (request %s)", o.RequestID)
		}
		if o.Err != "" {
			fmt.Fprintf(&b, ": %s", model.Printable(o.Err))
		}
		b.WriteString("\n")
	}
	if msg.err != nil {
		fmt.Fprintf(&b, "\nThe plan stopped: %s\n", model.Printable(msg.err.Error()))
	}
	if msg.snap != nil {
		before := a.findings
		a.snap, a.findings = msg.snap, msg.findings
		a.status = fmt.Sprintf("%d findings after the fix", len(msg.findings))
		if a.planFor != nil {
			if v := diagnose.Recheck(*a.planFor, before, msg.result); v.Fixed() {
				b.WriteString("\nRe-checked: FIXED. The finding is gone.\n")
			} else {
				b.WriteString("\nRe-checked: NOT FIXED: " + v.String() + "\n")
			}
		}
	}
	a.lastResult = b.String()
	a.renderPlan(a.lastResult)
	if a.setup != nil && msg.err == nil {
		return a.proveCmd()
	}
	return nil
}

func (a *App) renderPlan(note string) {
	p := a.plan
	if p == nil {
		return
	}
	var b strings.Builder
	if a.planFor != nil {
		fmt.Fprintf(&b, "%s\n\n", a.st.bold.Render(model.Printable(a.planFor.Title)))
	}
	if a.setup != nil && a.setup.note != "" {
		b.WriteString(a.setup.note + "\n")
	}
	fmt.Fprintf(&b, "Plan: %s\n\n", model.Printable(p.Title))
	if a.planState == "manual" && a.planFor != nil {
		for _, fx := range a.planFor.Fixes {
			if fx.Manual != "" {
				fmt.Fprintf(&b, "%s\n\n%s\n\n", model.Printable(fx.Title), fx.Manual)
			}
		}
		b.WriteString("This fix is done by hand: ptcdoctor has no call that makes it.\n")
	}
	for i, s := range p.Steps {
		mark := ""
		if s.Destructive {
			mark = " " + a.st.sev[model.SeverityError].Render("[DESTRUCTIVE]")
		}
		num := fmt.Sprintf("%d. ", i+1)
		b.WriteString(hang(num, model.Printable(s.Summary)+mark, a.body.Width()) + "\n")
		b.WriteString(hang(strings.Repeat(" ", len(num)), model.Printable(s.String()), a.body.Width()) + "\n")
	}
	b.WriteString("\n")
	switch a.planState {
	case "":
		if a.eng.ReadOnly() {
			b.WriteString("READ-ONLY: press w to turn writes on before applying. esc goes back.\n")
		} else if t := destructiveTarget(p); t != "" {
			b.WriteString("y, then type " + model.Printable(t) + " to apply. esc goes back.\n")
		} else {
			b.WriteString("y applies this plan. esc goes back.\n")
		}
	case "confirm":
		b.WriteString("This plan deletes " + model.Printable(destructiveTarget(p)) + ". Type its name and press enter (esc cancels):\n")
		b.WriteString(a.confirm.View() + "\n")
	case "secret":
		b.WriteString("This fix stores new credentials; they are used for this call only and never shown, logged or kept:\n")
		b.WriteString(a.secretUser.View() + "\n" + a.secretToken.View() + "\n(tab switches, enter applies, esc cancels)\n")
	case "applying":
		b.WriteString(a.spin.View() + " applying…\n")
	}
	if note != "" {
		b.WriteString("\n" + note + "\n")
	}
	a.body.SetContent(wrapText(b.String(), a.body.Width()))
}
