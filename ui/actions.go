package ui

import (
	"context"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// Every call to the account runs in a tea.Cmd and comes back as one of these messages.

type scanProgressMsg struct {
	p  Progress
	ch <-chan tea.Msg
}

type scanDoneMsg struct {
	snap *model.Snapshot
	err  error
}

type diagnosedMsg struct {
	findings   []model.Finding
	notChecked []model.NotChecked
	refs       []model.Ref
	bad        []string
}

type applyDoneMsg struct {
	outcomes []StepOutcome
	err      error
	snap     *model.Snapshot
	findings []model.Finding
	result   diagnose.Result
}

type explainDoneMsg struct {
	text string
}

// upstreamMsg carries what the upstream says of a repository's tags.
type upstreamMsg struct {
	repo    string
	digests map[string]string // tag -> upstream digest, or "?" and why
}

type journalMsg struct {
	rows []JournalRow
	err  error
}

// startScan runs a scan in the background; its progress comes back message by message,
// so the screen fills as rules and repositories arrive.
func (a *App) startScan() tea.Cmd {
	if a.cancel != nil {
		a.cancel()
	}
	ctx, cancel := context.WithCancel(a.ctx)
	a.cancel = cancel
	a.scanning = true
	a.progress = Progress{Stage: "starting"}
	ch := make(chan tea.Msg, 64)
	eng := a.eng
	go func() {
		snap, err := eng.Scan(ctx, func(p Progress) {
			select {
			case ch <- scanProgressMsg{p: p}:
			default: // the screen is behind: drop a progress report, never block the scan
			}
		})
		ch <- scanDoneMsg{snap: snap, err: err}
		close(ch)
	}()
	return tea.Batch(listen(ch), a.spin.Tick)
}

// listen waits for the next message of a running scan.
func listen(ch <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg {
		msg, ok := <-ch
		if !ok {
			return nil
		}
		if p, isProgress := msg.(scanProgressMsg); isProgress {
			p.ch = ch
			return p
		}
		return msg
	}
}

// diagnoseCmd runs the checks over a snapshot.
func (a *App) diagnoseCmd(snap *model.Snapshot) tea.Cmd {
	ctx, eng, opts := a.ctx, a.eng, a.opts
	return func() tea.Msg {
		refs, bad := parseRefs(snap, opts.Images)
		res := diagnose.Diagnose(ctx, snap, eng, diagnose.Options{Refs: refs, Principals: principals(snap, opts.Principals)})
		return diagnosedMsg{findings: res.Findings, notChecked: res.NotChecked, refs: refs, bad: bad}
	}
}

func parseRefs(snap *model.Snapshot, inputs []string) ([]model.Ref, []string) {
	var refs []model.Ref
	var bad []string
	for _, in := range inputs {
		r, err := model.ParseRef(in, snap.AccountID, snap.Region, snap.Rules)
		if err != nil && r.Repository == "" {
			bad = append(bad, err.Error())
			continue
		}
		refs = append(refs, r)
	}
	return refs, bad
}

func principals(snap *model.Snapshot, extra []string) []string {
	if len(extra) == 0 {
		return nil
	}
	return append([]string{snap.Identity.ARN}, extra...)
}

// applyCmd applies a plan, then scans and diagnoses again so the person sees whether
// the finding is gone.
func (a *App) applyCmd(plan model.Plan, secrets map[string]string) tea.Cmd {
	ctx, eng, opts := a.ctx, a.eng, a.opts
	return func() tea.Msg {
		out, err := eng.Apply(ctx, plan, secrets)
		msg := applyDoneMsg{outcomes: out, err: err}
		snap, serr := eng.Scan(ctx, nil)
		if serr == nil {
			msg.snap = snap
			refs, _ := parseRefs(snap, opts.Images)
			msg.result = diagnose.Diagnose(ctx, snap, eng, diagnose.Options{Refs: refs, Principals: principals(snap, opts.Principals)})
			msg.findings = msg.result.Findings
		}
		return msg
	}
}

// explainCmd explains a reference, or an error message when the input is not one.
func (a *App) explainCmd(input string) tea.Cmd {
	ctx, eng, snap, opts := a.ctx, a.eng, a.snap, a.opts
	return func() tea.Msg {
		input = strings.TrimSpace(input)
		if strings.ContainsAny(input, " \t") || snap == nil {
			var acct *diagnose.Account
			if snap != nil {
				acct = &diagnose.Account{Snap: snap, Prober: eng, Opts: diagnose.Options{Principals: principals(snap, opts.Principals)}}
			}
			v, ok := diagnose.ExplainError(ctx, acct, input)
			if !ok {
				return explainDoneMsg{text: "Not a reference, and not an error message ptcdoctor recognises.\nType a reference (nginx:1.27, or a cache URI) or paste the whole error line."}
			}
			return explainDoneMsg{text: renderErrorVerdict(v)}
		}
		ref, err := model.ParseRef(input, snap.AccountID, snap.Region, snap.Rules)
		if err != nil && ref.Repository == "" {
			return explainDoneMsg{text: model.Printable(err.Error())}
		}
		ex := diagnose.Explain(ctx, snap, eng, ref, diagnose.Options{Principals: principals(snap, opts.Principals)})
		return explainDoneMsg{text: renderExplanation(ex)}
	}
}

func (a *App) journalCmd() tea.Cmd {
	eng := a.eng
	return func() tea.Msg {
		rows, err := eng.Journal()
		return journalMsg{rows: rows, err: err}
	}
}

var marks = map[string]string{"ok": "✓", "warning": "!", "failed": "✗", "skipped": "-", diagnose.StatusNotChecked: "?"}

func renderExplanation(ex diagnose.Explanation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", model.Printable(ex.Ref.Input))
	if ex.Ref.FromUpstream {
		fmt.Fprintf(&b, "pulled as %s\n", ex.Ref.CacheURI())
	}
	b.WriteString("\n")
	for _, s := range ex.Steps {
		fmt.Fprintf(&b, " %s %-22s %s\n", marks[s.Status], s.Name, model.Printable(s.Detail))
	}
	fmt.Fprintf(&b, "\nVerdict: %s\n", model.Printable(ex.Verdict))
	for i, f := range ex.Fixes {
		fmt.Fprintf(&b, "\nFix %d: %s\n", i+1, model.Printable(f.Title))
		for _, st := range f.Plan.Steps {
			fmt.Fprintf(&b, "  %s\n", model.Printable(st.String()))
		}
		if f.Manual != "" {
			fmt.Fprintf(&b, "  %s\n", model.Printable(f.Manual))
		}
	}
	return b.String()
}

func renderErrorVerdict(v diagnose.ErrorVerdict) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Recognised: %q\n", v.Reading.Matched)
	if v.Explanation != nil {
		ex := *v.Explanation
		ex.Fixes = v.Fixes // only the fixes of the link the line failed at
		b.WriteString("\n" + renderExplanation(ex))
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

// probeUpstreamCmd asks the upstream for the digest of each cached tag of a repository
// (HEAD requests, which Docker Hub does not count), to show which tags moved.
func (a *App) probeUpstreamCmd(repo *model.Repository) tea.Cmd {
	if a.snap == nil || repo == nil || repo.RulePrefix == "" {
		return nil
	}
	rule := a.snap.Rule(repo.RulePrefix)
	if rule == nil {
		return nil
	}
	ctx, eng, r, name := a.ctx, a.eng, *rule, repo.Name
	var tags []string
	for _, img := range repo.Images {
		tags = append(tags, img.Tags...)
	}
	if len(tags) > 50 {
		tags = tags[:50]
	}
	return func() tea.Msg {
		out := map[string]string{}
		for _, tag := range tags {
			p := eng.ProbeUpstream(ctx, r, r.UpstreamURL+"/"+model.UpstreamPath(&r, name)+":"+tag)
			if p.Exists {
				out[tag] = p.Digest
			} else {
				out[tag] = "? " + p.Class
			}
		}
		return upstreamMsg{repo: name, digests: out}
	}
}
