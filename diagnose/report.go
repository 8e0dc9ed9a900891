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
const SchemaVersion = 2

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

type ReportStep struct {
	Kind             string            `json:"kind"`
	Operation        string            `json:"operation"`
	Target           string            `json:"target"`
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
	fmt.Fprintf(&b, "# ptcdoctor report: %s in %s\n\n", r.Account, r.Region)
	fmt.Fprintf(&b, "Scanned %s as `%s`. **%s, %s, %d info.**\n\n", r.ScannedAt.Format(time.RFC3339), r.Identity,
		plural(r.Summary.Errors, "error", "errors"), plural(r.Summary.Warnings, "warning", "warnings"), r.Summary.Info)
	if !r.Complete {
		b.WriteString("**Incomplete: some parts could not be read, so some checks said nothing about some subjects.**\n\n")
	}
	if len(r.Errors) > 0 {
		b.WriteString("## Not scanned\n\n")
		for _, e := range r.Errors {
			fmt.Fprintf(&b, "- %s: `%s` failed: %s %s\n", mdEscape(e.Part), e.Operation, e.Code, mdEscape(e.Message))
		}
		b.WriteString("\n")
	}
	if len(r.NotChecked) > 0 {
		b.WriteString("## Not checked\n\n")
		for _, g := range r.NotCheckedGroups() {
			fmt.Fprintf(&b, "- `%s`: %s. `%s` failed: %s %s\n", g.Check, mdEscape(g.Subjects()), g.Operation, g.Code, mdEscape(g.Message))
		}
		b.WriteString("\n")
	}
	if len(r.Findings) == 0 && r.Complete {
		b.WriteString("No findings.\n")
	} else if len(r.Findings) == 0 {
		b.WriteString("No findings in what could be checked.\n")
	}
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "## %s. [%s] %s\n\n", f.ID, f.Severity, mdEscape(f.Title))
		fmt.Fprintf(&b, "Check `%s`, %s `%s`.\n\n%s\n\n", f.Check, f.Subject.Kind, f.Subject.Name, mdEscape(f.Explanation))
		if len(f.Evidence) > 0 {
			b.WriteString("Evidence:\n\n")
			for _, e := range f.Evidence {
				fmt.Fprintf(&b, "- `%s` → %s\n", strings.ReplaceAll(e.Call, "`", "'"), mdEscape(e.Answer))
			}
			b.WriteString("\n")
		}
		for i, fx := range f.Fixes {
			fmt.Fprintf(&b, "Fix %d: %s", i+1, mdEscape(fx.Title))
			if fx.Destructive {
				b.WriteString(" (destructive)")
			}
			b.WriteString("\n\n")
			for _, s := range fx.Steps {
				fmt.Fprintf(&b, "    %s %s\n", s.Operation, paramsLine(s.Params))
			}
			if fx.Manual != "" {
				b.WriteString("```\n" + fx.Manual + "\n```\n")
			}
			b.WriteString("\n")
		}
	}
	if r.Stats != nil {
		b.WriteString("## Scan\n\n")
		fmt.Fprintf(&b, "%s, %s in %.1f s (rules after %.2f s); %s, %d retried.\n",
			plural(r.Stats.Repositories, "repository", "repositories"), plural(r.Stats.Images, "image", "images"), r.Stats.SecondsToComplete, r.Stats.SecondsToFirstRules,
			plural(sum(r.Stats.Calls), "call", "calls"), r.Stats.Retried)
	}
	return b.String()
}

// NotCheckedGroup is the subjects of one check (or of several alike) that one failed
// call left unjudged.
type NotCheckedGroup struct {
	Check, Operation, Code, Message string
	Names                           []string // the subjects, "kind name"
}

// Subjects names the group's subjects, the first few and how many more.
func (g NotCheckedGroup) Subjects() string {
	if len(g.Names) > 5 {
		return strings.Join(g.Names[:5], ", ") + fmt.Sprintf(" and %d more", len(g.Names)-5)
	}
	return strings.Join(g.Names, ", ")
}

// NotCheckedGroups gathers the not-checked subjects by check and failed call, in order,
// for the text and Markdown forms (the JSON lists every subject).
func (r Report) NotCheckedGroups() []NotCheckedGroup {
	var out []NotCheckedGroup
	at := map[string]int{}
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
		out[i].Names = append(out[i].Names, name)
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

func mdEscape(s string) string {
	return strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(s)
}

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
		rfx := ReportFix{Title: model.Printable(fx.Title), Destructive: fx.Plan.Destructive(), Manual: fx.Manual, Steps: []ReportStep{}}
		for _, s := range fx.Plan.Steps {
			params := map[string]string{}
			for k, v := range s.Params {
				params[k] = model.Printable(v)
			}
			rfx.Steps = append(rfx.Steps, ReportStep{Kind: string(s.Kind), Operation: s.Operation, Target: model.Printable(s.Target),
				Params: params, Summary: model.Printable(s.Summary), Destructive: s.Destructive, NeedsSecretValue: s.NeedsSecretValue})
		}
		rf.Fixes = append(rf.Fixes, rfx)
	}
	return rf
}
