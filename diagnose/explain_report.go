package diagnose

import (
	"reflect"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// The JSON of `ptcdoctor explain --json` (a reference) and `explain --error … --json` (a
// pasted line): one document shape for both, described in README.md beside this file.

// ExplainSchemaVersion is the version of explain's JSON. As with the report, it changes
// only when a field changes meaning or goes away.
const ExplainSchemaVersion = 1

// Kinds of explain's JSON document.
const (
	ExplainKindReference = "explain"
	ExplainKindError     = "explain-error"
)

// ExplainReport is explain's JSON document.
type ExplainReport struct {
	SchemaVersion int    `json:"schemaVersion"`
	Tool          string `json:"tool"`
	Kind          string `json:"kind"`
	// Account, Region and Identity name the account the chain was walked against; empty
	// when none was read (explain --error from the line alone).
	Account  string `json:"account"`
	Region   string `json:"region"`
	Identity string `json:"identity"`
	// Complete is false when something explain needed could not be read: a link of the
	// chain (its status "not checked"), or the account itself (Error.AccountNotRead).
	Complete bool `json:"complete"`
	// Error is the pasted line, how it was read and the cause named (explain --error only).
	Error *ErrorReport `json:"error,omitempty"`
	// Reference is the reference walked, mapped through the rules; absent when none was.
	Reference *ExplainReference `json:"reference,omitempty"`
	// Chain is the links walked, in the order a pull goes through them ([] when none).
	Chain []ExplainLink `json:"chain"`
	// Verdict is what explain concludes: the chain's verdict for a reference, the cause
	// in words for a line (the chain's own verdict is then Error.ChainVerdict).
	Verdict string `json:"verdict"`
	// Fixes are the fixes offered for what failed, each with the finding it belongs to.
	Fixes []ExplainFix `json:"fixes"`
	// Findings are the diagnosis's findings about the reference, its repository and rule.
	Findings []ReportFinding `json:"findings"`
}

// ErrorReport is what explain --error read in a line and concluded.
type ErrorReport struct {
	Line string `json:"line"`
	// Recognised is false when the line is no pull failure ptcdoctor knows (exit 4).
	Recognised bool     `json:"recognised"`
	Shape      string   `json:"shape"`
	Matched    string   `json:"matched"`
	Reference  string   `json:"reference"`
	Candidates []string `json:"candidates"`
	// Cause is nil when not settled; Confirmed says the chain on the account shows it
	// failing now (else it is the line's own reading).
	Cause        *ReportCause `json:"cause"`
	Confirmed    bool         `json:"confirmed"`
	Fix          string       `json:"fix"`
	ChainVerdict string       `json:"chainVerdict"`
	AlsoFailing  []string     `json:"alsoFailing"`
	Needs        []string     `json:"needs"`
	Notes        []string     `json:"notes"`
	// AccountNotRead says why the account, needed to confirm the cause, could not be read.
	AccountNotRead string `json:"accountNotRead,omitempty"`
}

// ReportCause is one of explain --error's causes (Causes).
type ReportCause struct {
	ID    string `json:"id"`
	Check string `json:"check"`
	Title string `json:"title"`
}

// ExplainReference is a reference as given and as mapped through the account's rules.
type ExplainReference struct {
	Input        string `json:"input"`
	CacheURI     string `json:"cacheUri"`
	Repository   string `json:"repository"`
	Tag          string `json:"tag"`
	Digest       string `json:"digest"`
	RulePrefix   string `json:"rulePrefix"`
	Upstream     string `json:"upstream"`
	FromUpstream bool   `json:"fromUpstream"`
}

// ExplainLink is one link of the chain.
type ExplainLink struct {
	Link     string           `json:"link"`
	Status   string           `json:"status"` // ok, warning, failed, skipped, not checked
	Detail   string           `json:"detail"`
	Evidence []ReportEvidence `json:"evidence"`
}

// ExplainFix is a fix with the finding it belongs to: `ptcdoctor fix --finding FINDING
// --fix NUMBER` (with the scope in Apply) applies exactly it.
type ExplainFix struct {
	ReportFix
	Finding string `json:"finding"`
	Number  int    `json:"number"`
	// Apply is the command that shows the plan (--dry-run); set by the command line,
	// which knows the account's flags. Empty for a fix to do by hand.
	Apply string `json:"apply,omitempty"`
}

// FixSource names the finding a fix of the explanation belongs to, and its place among
// that finding's fixes, from 1: what `fix --finding ID --fix N` takes to apply exactly it.
func (ex Explanation) FixSource(fx model.Fix) (string, int, bool) {
	for _, f := range ex.Findings {
		for i, x := range f.Fixes {
			if reflect.DeepEqual(x, fx) {
				return f.ID(), i + 1, true
			}
		}
	}
	return "", 0, false
}

// NewExplainReport puts an explanation of a reference into explain's JSON.
func NewExplainReport(snap *model.Snapshot, ex Explanation) ExplainReport {
	r := newExplainReport(ExplainKindReference, snap)
	r.addExplanation(ex, ex.Fixes)
	r.Verdict = model.Printable(ex.Verdict)
	r.Complete = !ex.NotChecked()
	return r
}

// NewErrorReport puts explain --error's verdict on a line into explain's JSON. snap is the
// account's snapshot, nil when none was read; notRead says why the account could not be
// read when it was needed; recognised is false for a line ptcdoctor does not know.
func NewErrorReport(snap *model.Snapshot, v ErrorVerdict, recognised bool, notRead string) ExplainReport {
	r := newExplainReport(ExplainKindError, snap)
	rd := v.Reading
	e := &ErrorReport{Line: rd.Line, Recognised: recognised, Shape: rd.Shape, Matched: model.Printable(rd.Matched),
		Reference: model.Printable(rd.Reference), Candidates: orNoStrings(rd.Candidates), Confirmed: v.Confirmed,
		Fix: model.Printable(v.Fix), AlsoFailing: printables(v.AlsoFailing), Needs: printables(v.Needs), Notes: printables(v.Notes),
		AccountNotRead: model.Printable(notRead)}
	if v.Cause.ID != "" {
		e.Cause = &ReportCause{ID: v.Cause.ID, Check: v.Cause.Check, Title: v.Cause.Title}
	}
	if v.Explanation != nil {
		r.addExplanation(*v.Explanation, v.Fixes)
		e.ChainVerdict = model.Printable(v.Explanation.Verdict)
	} else if v.Ref != nil {
		r.Reference = explainReference(*v.Ref)
	}
	r.Error, r.Verdict = e, model.Printable(v.Verdict)
	r.Complete = notRead == "" && (v.Explanation == nil || !v.Explanation.NotChecked())
	return r
}

func newExplainReport(kind string, snap *model.Snapshot) ExplainReport {
	r := ExplainReport{SchemaVersion: ExplainSchemaVersion, Tool: "ptcdoctor", Kind: kind,
		Chain: []ExplainLink{}, Fixes: []ExplainFix{}, Findings: []ReportFinding{}}
	if snap != nil {
		r.Account, r.Region, r.Identity = snap.AccountID, snap.Region, model.Printable(snap.Identity.ARN)
	}
	return r
}

// addExplanation puts the chain, its findings and the fixes offered (ex.Fixes for a
// reference; for a line, only those of the link it failed at) into the report.
func (r *ExplainReport) addExplanation(ex Explanation, fixes []model.Fix) {
	r.Reference = explainReference(ex.Ref)
	for _, s := range ex.Steps {
		l := ExplainLink{Link: model.Printable(s.Name), Status: s.Status, Detail: model.Printable(s.Detail), Evidence: []ReportEvidence{}}
		for _, e := range s.Evidence {
			l.Evidence = append(l.Evidence, ReportEvidence{Call: model.Printable(e.Call), Answer: model.Printable(e.Answer)})
		}
		r.Chain = append(r.Chain, l)
	}
	for i, f := range ex.Findings {
		r.Findings = append(r.Findings, reportFinding(f, i+1))
	}
	for _, fx := range fixes {
		id, n, _ := ex.FixSource(fx)
		r.Fixes = append(r.Fixes, ExplainFix{ReportFix: reportFix(fx), Finding: id, Number: n})
	}
}

func explainReference(ref model.Ref) *ExplainReference {
	out := &ExplainReference{Input: model.Printable(ref.Input), Repository: model.Printable(ref.Repository), Tag: model.Printable(ref.Tag),
		Digest: model.Printable(ref.Digest), RulePrefix: ref.RulePrefix, Upstream: model.Printable(ref.Upstream), FromUpstream: ref.FromUpstream}
	if ref.Repository != "" {
		out.CacheURI = model.Printable(ref.CacheURI())
	}
	return out
}

func printables(in []string) []string {
	out := []string{}
	for _, s := range in {
		out = append(out, model.Printable(s))
	}
	return out
}

func orNoStrings(in []string) []string {
	if in == nil {
		return []string{}
	}
	return in
}
