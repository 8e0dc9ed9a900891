package diagnose

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// SchemaVersion is the version of the JSON report. It changes only when a field changes
// meaning or goes away; new fields do not change it. See README.md beside this file.
// 2: findings[].id is the finding's stable short id (a string), no longer its number,
// which is findings[].number; complete and notChecked are new.
// 3 is the fleet report's first version (FleetSchemaVersion), not this report's.
// 4: a fix's steps that differ only in their target are one entry: steps[].targets (a
// list) replaces steps[].target, and "{target}" in params and summary stands for each.
const SchemaVersion = 4

// Report is the JSON report of `ptcdoctor doctor --json`.
type Report struct {
	SchemaVersion int       `json:"schemaVersion"`
	Tool          string    `json:"tool"`
	Account       string    `json:"account"`
	Region        string    `json:"region"`
	Identity      string    `json:"identity"`
	ScannedAt     time.Time `json:"scannedAt"`
	// Complete is false when any part of the scan, or a probe a check needed, could
	// not be read: then "no finding" does not mean "nothing wrong".
	Complete   bool               `json:"complete"`
	Summary    Summary            `json:"summary"`
	Findings   []ReportFinding    `json:"findings"`
	NotChecked []ReportNotChecked `json:"notChecked"`
	Errors     []ReportError      `json:"errors"`
	Stats      *ReportStats       `json:"stats,omitempty"`
	// PullFailures are the failed pulls of --events-file, grouped by cause (explain_events.go).
	PullFailures []PullGroup `json:"pullFailures,omitempty"`
}

// ReportNotChecked is a subject a check could not judge, and the call that failed.
type ReportNotChecked struct {
	Check     string        `json:"check"`
	Subject   ReportSubject `json:"subject"`
	Needs     string        `json:"needs"`
	Operation string        `json:"operation"`
	Code      string        `json:"code"`
	Message   string        `json:"message"`
}

type Summary struct {
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Info     int `json:"info"`
}

type ReportFinding struct {
	ID          string           `json:"id"`
	Key         string           `json:"key"`
	Number      int              `json:"number"`
	Check       string           `json:"check"`
	Severity    string           `json:"severity"`
	Subject     ReportSubject    `json:"subject"`
	Title       string           `json:"title"`
	Explanation string           `json:"explanation"`
	Evidence    []ReportEvidence `json:"evidence"`
	Fixes       []ReportFix      `json:"fixes"`
}

type ReportSubject struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

type ReportEvidence struct {
	Call   string `json:"call"`
	Answer string `json:"answer"`
}

type ReportFix struct {
	Title       string       `json:"title"`
	Destructive bool         `json:"destructive"`
	Manual      string       `json:"manual,omitempty"`
	Steps       []ReportStep `json:"steps"`
}

// ReportStep is one step of a plan, or a run of steps that differ only in their target
// (a lifecycle policy for each of a rule's 100 repositories): the same is said once, and
// what differs, the targets, one level down. With more than one target, "{target}" in
// Params and Summary stands for each in turn; each target is one call, in order.
type ReportStep struct {
	Kind             string            `json:"kind"`
	Operation        string            `json:"operation"`
	Targets          []string          `json:"targets"`
	Params           map[string]string `json:"params"`
	Summary          string            `json:"summary"`
	Destructive      bool              `json:"destructive"`
	NeedsSecretValue bool              `json:"needsSecretValue"`
}

type ReportError struct {
	Part      string `json:"part"`
	Operation string `json:"operation"`
	Code      string `json:"code"`
	Message   string `json:"message"`
}

type ReportStats struct {
	Calls                 map[string]int `json:"calls"`
	Throttled             map[string]int `json:"throttled"`
	Retried               int            `json:"retried"`
	SecondsToFirstRules   float64        `json:"secondsToFirstRules"`
	SecondsToRepositories float64        `json:"secondsToRepositories"`
	SecondsToComplete     float64        `json:"secondsToComplete"`
	Repositories          int            `json:"repositories"`
	Images                int            `json:"images"`
}

// NewReport puts a diagnosis into the report's shape. Strings from outside are made safe
// to print. Each finding has its stable id (what `fix --finding` takes) and its number
// in this report, from 1.
func NewReport(snap *model.Snapshot, res Result, withStats bool) Report {
	r := Report{SchemaVersion: SchemaVersion, Tool: "ptcdoctor", Account: snap.AccountID, Region: snap.Region,
		Identity: model.Printable(snap.Identity.ARN), ScannedAt: snap.TakenAt.UTC(), Complete: res.Complete(),
		Findings: []ReportFinding{}, NotChecked: []ReportNotChecked{}, Errors: []ReportError{}}
	for i, f := range res.Findings {
		rf := reportFinding(f, i+1)
		switch f.Severity {
		case model.SeverityError:
			r.Summary.Errors++
		case model.SeverityWarning:
			r.Summary.Warnings++
		default:
			r.Summary.Info++
		}
		r.Findings = append(r.Findings, rf)
	}
	for _, n := range res.NotChecked {
		r.NotChecked = append(r.NotChecked, ReportNotChecked{Check: n.Check, Subject: ReportSubject{Kind: n.Subject.Kind, Name: model.Printable(n.Subject.Name)},
			Needs: model.Printable(n.Needs), Operation: n.Failed.Operation, Code: model.Printable(n.Failed.Code), Message: model.Printable(n.Failed.Message)})
	}
	for _, e := range res.ScanErrors {
		r.Errors = append(r.Errors, ReportError{Part: model.Printable(e.Part), Operation: e.Operation, Code: e.Code, Message: model.Printable(e.Message)})
	}
	if withStats {
		st := snap.Stats
		r.Stats = &ReportStats{Calls: st.Calls, Throttled: st.Throttled, Retried: st.Retried,
			SecondsToFirstRules: st.FirstRules.Seconds(), SecondsToRepositories: st.FirstRepos.Seconds(),
			SecondsToComplete: st.Complete.Seconds(), Repositories: st.ReposScanned, Images: st.ImagesScanned}
		if r.Stats.Calls == nil {
			r.Stats.Calls = map[string]int{}
		}
		if r.Stats.Throttled == nil {
			r.Stats.Throttled = map[string]int{}
		}
	}
	return r
}

// Markdown renders the report for an incident ticket.
func (r Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# ptcdoctor report: %s in %s\n\n", mdText(r.Account), mdText(r.Region))
	fmt.Fprintf(&b, "Scanned %s as `%s`. **%s, %s, %d info.**\n\n", r.ScannedAt.Format(time.RFC3339), mdCode(r.Identity),
		plural(r.Summary.Errors, "error", "errors"), plural(r.Summary.Warnings, "warning", "warnings"), r.Summary.Info)
	if !r.Complete {
		b.WriteString("**Incomplete: some parts could not be read, so some checks said nothing about some subjects.**\n\n")
	}
	if len(r.Errors) > 0 {
		b.WriteString("## Not scanned\n\n")
		for _, e := range r.Errors {
			fmt.Fprintf(&b, "- %s: `%s` failed: %s %s\n", mdText(e.Part), mdCode(e.Operation), mdText(e.Code), mdText(e.Message))
		}
		b.WriteString("\n")
	}
	if len(r.NotChecked) > 0 {
		b.WriteString("## Not checked\n\n")
		for _, g := range r.NotCheckedGroups() {
			fmt.Fprintf(&b, "- `%s`: %s. `%s` failed: %s %s\n", mdCode(g.Check), mdText(g.Subjects()), mdCode(g.Operation), mdText(g.Code), mdText(g.Message))
		}
		b.WriteString("\n")
	}
	if len(r.Findings) == 0 && r.Complete {
		b.WriteString("No findings.\n")
	} else if len(r.Findings) == 0 {
		b.WriteString("No findings in what could be checked.\n")
	}
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "## %s. [%s] %s\n\n", mdText(f.ID), mdText(f.Severity), mdText(f.Title))
		fmt.Fprintf(&b, "Check `%s`, %s `%s`.\n\n%s\n\n", mdCode(f.Check), mdText(f.Subject.Kind), mdCode(f.Subject.Name), mdText(f.Explanation))
		if len(f.Evidence) > 0 {
			b.WriteString("Evidence:\n\n")
			for _, e := range f.Evidence {
				fmt.Fprintf(&b, "- `%s` → %s\n", mdCode(e.Call), mdText(e.Answer))
			}
			b.WriteString("\n")
		}
		for i, fx := range f.Fixes {
			fmt.Fprintf(&b, "Fix %d: %s", i+1, mdText(fx.Title))
			if fx.Destructive {
				b.WriteString(" (destructive)")
			}
			b.WriteString("\n\n")
			for _, s := range fx.Steps {
				// An indented code block: inert, as long as each step stays one line.
				fmt.Fprintf(&b, "    %s\n", model.Printable(s.Operation+" "+paramsLine(s.Params)+s.each()))
			}
			if fx.Manual != "" {
				b.WriteString(mdFenced(fx.Manual))
			}
			b.WriteString("\n")
		}
	}
	r.markdownPullFailures(&b)
	if r.Stats != nil {
		b.WriteString("## Scan\n\n")
		fmt.Fprintf(&b, "%s, %s in %.1f s (rules after %.2f s); %s, %d retried.\n",
			plural(r.Stats.Repositories, "repository", "repositories"), plural(r.Stats.Images, "image", "images"), r.Stats.SecondsToComplete, r.Stats.SecondsToFirstRules,
			plural(sum(r.Stats.Calls), "call", "calls"), r.Stats.Retried)
	}
	return b.String()
}

// markdownPullFailures renders the events' failed pulls (--events-file) as the text does:
// a section per cause, each image once with its pods, the kubelet's message, the verdict
// and the fix. Nothing when no events were given; "none" when none tells of a failed pull.
func (r Report) markdownPullFailures(b *strings.Builder) {
	if r.PullFailures == nil {
		return
	}
	b.WriteString("## Failed image pulls in the events\n\n")
	if len(r.PullFailures) == 0 {
		b.WriteString("None: no event tells of a failed image pull.\n\n")
		return
	}
	fmt.Fprintf(b, "%s.\n\n", plural(len(r.PullFailures), "cause", "causes"))
	for _, g := range r.PullFailures {
		// The same word as the JSON's cause: unexplained, back-off-only, or a cause id.
		fmt.Fprintf(b, "### `%s`: %s", mdCode(g.Cause), mdText(g.Title))
		if g.Check != "" {
			fmt.Fprintf(b, " (check `%s`)", mdCode(g.Check))
		}
		b.WriteString("\n\n")
		for _, p := range g.Pulls {
			fmt.Fprintf(b, "- `%s` (%s; %s)\n", mdCode(p.Image), plural(p.Events, "event", "events"), mdText(strings.Join(p.Objects, ", ")))
			if p.Message != "" {
				fmt.Fprintf(b, "  - the kubelet said: `%s`\n", mdCode(p.Message))
			}
			fmt.Fprintf(b, "  - %s\n", mdText(p.Verdict))
			if p.Fix != "" {
				fmt.Fprintf(b, "  - fix: %s\n", mdText(p.Fix))
			}
			for _, n := range p.Needs {
				fmt.Fprintf(b, "  - would settle it: %s\n", mdText(n))
			}
		}
		b.WriteString("\n")
	}
}

// mdText makes a text from outside inert in Markdown: printable, one line, no HTML.
func mdText(s string) string { return mdEscape(model.Printable(s)) }

// mdCode makes a text from outside safe inside a code span: a backquote would end it.
func mdCode(s string) string { return strings.ReplaceAll(model.Printable(s), "`", "'") }

// mdFenced puts lines in a fenced code block whose fence no line of them can close.
func mdFenced(text string) string {
	lines := strings.Split(text, "\n")
	longest := 0
	for i, l := range lines {
		lines[i] = model.Printable(l)
		run := 0
		for _, c := range []byte(l) {
			if c == '`' {
				run++
			} else {
				run = 0
			}
			longest = max(longest, run)
		}
	}
	fence := strings.Repeat("`", max(3, longest+1))
	return fence + "\n" + strings.Join(lines, "\n") + "\n" + fence + "\n"
}

// NotCheckedGroup is the subjects of one check (or of several alike) that one failed
// call left unjudged.
type NotCheckedGroup struct {
	Check, Operation, Code, Message string
	Names                           []string // the subjects, "kind name"
}

// Subjects names the group's subjects, the first few and how many more.
func (g NotCheckedGroup) Subjects() string { return firstFew(g.Names) }

// NotCheckedGroups gathers the not-checked subjects by check and failed call, in order,
// for the text and Markdown forms (the JSON lists every subject).
func (r Report) NotCheckedGroups() []NotCheckedGroup {
	var out []NotCheckedGroup
	at := map[string]int{}
	named := map[string]bool{}
	for _, n := range r.NotChecked {
		// Per-subject failures differ by their subject (and AWS's message names it):
		// group by the call and its error code, and show the first message.
		k := n.Check + "|" + n.Operation + "|" + n.Code
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, NotCheckedGroup{Check: n.Check, Operation: n.Operation, Code: n.Code, Message: n.Message})
		}
		name := n.Subject.Kind + " " + n.Subject.Name
		if n.Subject.Kind == "all" {
			name = n.Subject.Name
		}
		if id := r.findingOn(n.Check, n.Subject); id != "" {
			// A finding on this subject stands on reads that succeeded (a secret
			// DescribeSecret showed deleted, while its validation was throttled): the entry
			// says which part was not made, so that the report does not contradict itself.
			name += " (only its " + n.Operation + "; finding " + id + " rests on what was read)"
		}
		if k := k + "|" + name; !named[k] {
			named[k] = true
			// Two reads of one subject that failed alike (a repository probed under
			// two references) leave it unjudged once, not twice.
			out[i].Names = append(out[i].Names, name)
		}
	}
	// One failed read that stopped several checks alike is said once, naming them.
	var merged []NotCheckedGroup
	same := map[string]int{}
	for _, g := range out {
		k := g.Operation + "|" + g.Code + "|" + g.Message + "|" + strings.Join(g.Names, "\n")
		if i, ok := same[k]; ok {
			merged[i].Check += ", " + g.Check
			continue
		}
		same[k] = len(merged)
		merged = append(merged, g)
	}
	return merged
}

// findingOn returns the id of the report's finding of this check on this subject, if any.
func (r Report) findingOn(check string, subject ReportSubject) string {
	for _, f := range r.Findings {
		if f.Check == check && f.Subject == subject {
			return f.ID
		}
	}
	return ""
}

// TargetPlaceholder stands for each target in a step of the report that has several.
const TargetPlaceholder = "{target}"

// reportSteps puts a plan's steps in the report's shape, a run of steps that differ only
// in their target as one entry.
func reportSteps(steps []model.Step) []ReportStep {
	out := []ReportStep{}
	for _, st := range steps {
		rs := reportStep(st)
		if n := len(out); n > 0 {
			if last := &out[n-1]; sameButTarget(*last, rs) {
				if len(last.Targets) == 1 {
					*last = templated(*last)
				}
				last.Targets = append(last.Targets, rs.Targets[0])
				continue
			}
		}
		out = append(out, rs)
	}
	return out
}

func reportStep(st model.Step) ReportStep {
	params := map[string]string{}
	for k, v := range st.Params {
		params[k] = model.Printable(v)
	}
	return ReportStep{Kind: string(st.Kind), Operation: st.Operation, Targets: []string{model.Printable(st.Target)},
		Params: params, Summary: model.Printable(st.Summary), Destructive: st.Destructive, NeedsSecretValue: st.NeedsSecretValue}
}

// templated is a one-target step with its target replaced by the placeholder.
func templated(s ReportStep) ReportStep {
	t := s.Targets[0]
	params := make(map[string]string, len(s.Params))
	for k, v := range s.Params {
		params[k] = strings.ReplaceAll(v, t, TargetPlaceholder)
	}
	s.Params, s.Summary = params, strings.ReplaceAll(s.Summary, t, TargetPlaceholder)
	return s
}

// sameButTarget tells whether step b (one target) is group a with b's target in it: only
// then, and only when no value holds the placeholder's text itself (nor the target is
// empty), is b said as one more target of a, so that each step reads back exactly.
func sameButTarget(a, b ReportStep) bool {
	t := b.Targets[0]
	if t == "" || a.Targets[0] == "" || a.Kind != b.Kind || a.Operation != b.Operation || a.Destructive != b.Destructive ||
		a.NeedsSecretValue != b.NeedsSecretValue || len(a.Params) != len(b.Params) {
		return false
	}
	if len(a.Targets) == 1 {
		if strings.Contains(a.Summary, TargetPlaceholder) {
			return false
		}
		for _, v := range a.Params {
			if strings.Contains(v, TargetPlaceholder) {
				return false
			}
		}
		a = templated(a)
	}
	same := func(tpl, v string) bool {
		return !strings.Contains(v, TargetPlaceholder) && strings.ReplaceAll(tpl, TargetPlaceholder, t) == v
	}
	for k, v := range b.Params {
		tpl, ok := a.Params[k]
		if !ok || !same(tpl, v) {
			return false
		}
	}
	return same(a.Summary, b.Summary)
}

// Expand gives the step of each target, as the plan holds them (Printable strings).
func (s ReportStep) Expand() []ReportStep {
	if len(s.Targets) <= 1 {
		return []ReportStep{s}
	}
	out := make([]ReportStep, 0, len(s.Targets))
	for _, t := range s.Targets {
		e := s
		e.Targets = []string{t}
		e.Params = make(map[string]string, len(s.Params))
		for k, v := range s.Params {
			e.Params[k] = strings.ReplaceAll(v, TargetPlaceholder, t)
		}
		e.Summary = strings.ReplaceAll(s.Summary, TargetPlaceholder, t)
		out = append(out, e)
	}
	return out
}

// each names a step's targets when it has several, for the Markdown form.
func (s ReportStep) each() string {
	if len(s.Targets) <= 1 {
		return ""
	}
	return fmt.Sprintf(" (%s = each of %d: %s)", TargetPlaceholder, len(s.Targets), firstFew(s.Targets))
}

// namedOnce names a long list's first few in an explanation whose evidence lists them all.
func namedOnce(names []string) string {
	if len(names) > 5 {
		return firstFew(names) + " (all in the evidence)"
	}
	return firstFew(names)
}

func firstFew(names []string) string {
	if len(names) > 5 {
		return strings.Join(names[:5], ", ") + fmt.Sprintf(" and %d more", len(names)-5)
	}
	return strings.Join(names, ", ")
}

func paramsLine(p map[string]string) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		v := p[k]
		if len(v) > 80 {
			v = v[:77] + "..."
		}
		parts = append(parts, fmt.Sprintf("%s=%q", k, v))
	}
	return strings.Join(parts, " ")
}

// mdEscape makes a text inert in Markdown: every character that could open a link, an
// image, emphasis, a code span, a table cell or HTML is escaped (CommonMark's backslash
// escapes; < > & as entities, so that no tag or entity of the text's own survives), and
// so is a line start that would make a list item, a heading or a quote.
func mdEscape(s string) string {
	s = mdInline.Replace(s)
	if i := len(s) - len(strings.TrimLeft(s, " ")); i < len(s) {
		// What remains at the start that a line could begin a block with: a list
		// marker ("- ", "+ ", "1. ", "1) "); # > and * are escaped above already.
		rest := s[i:]
		switch {
		case rest[0] == '-' || rest[0] == '+' || rest[0] == '=':
			s = s[:i] + `\` + rest
		default:
			j := 0
			for j < len(rest) && j < 9 && rest[j] >= '0' && rest[j] <= '9' {
				j++
			}
			if j > 0 && j < len(rest) && (rest[j] == '.' || rest[j] == ')') {
				s = s[:i] + rest[:j] + `\` + rest[j:]
			}
		}
	}
	return s
}

var mdInline = strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "(", `\(`, ")", `\)`,
	"#", `\#`, "|", `\|`, "!", `\!`, "~", `\~`, "<", "&lt;", ">", "&gt;", "&", "&amp;")

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// reportFinding puts one finding into the report's shape, numbered.
func reportFinding(f model.Finding, number int) ReportFinding {
	rf := ReportFinding{ID: f.ID(), Key: model.Printable(f.Key()), Number: number, Check: f.Check, Severity: string(f.Severity),
		Subject: ReportSubject{Kind: f.Subject.Kind, Name: model.Printable(f.Subject.Name)},
		Title:   model.Printable(f.Title), Explanation: model.Printable(f.Explanation), Evidence: []ReportEvidence{}, Fixes: []ReportFix{}}
	for _, e := range f.Evidence {
		rf.Evidence = append(rf.Evidence, ReportEvidence{Call: model.Printable(e.Call), Answer: model.Printable(e.Answer)})
	}
	for _, fx := range f.Fixes {
		rf.Fixes = append(rf.Fixes, reportFix(fx))
	}
	return rf
}

func reportFix(fx model.Fix) ReportFix {
	return ReportFix{Title: model.Printable(fx.Title), Destructive: fx.Plan.Destructive(), Manual: fx.Manual, Steps: reportSteps(fx.Plan.Steps)}
}
