package diagnose

import (
	"time"
)

// FleetSchemaVersion is the version of the fleet report (`doctor --json` over several
// account-regions). It is a report of reports: each target's is a Report of SchemaVersion.
// 3: the fleet report (targets, summary, crossAccount, skipped). See README.md.
// 5: the targets' reports are version 4 (a fix's steps grouped by what differs only in
// their target); the fleet's own fields are as in 3. Odd versions are fleets, even ones
// single account-regions.
const FleetSchemaVersion = 5

// FleetReport is the JSON report of `ptcdoctor doctor --json` over a fleet.
type FleetReport struct {
	SchemaVersion int       `json:"schemaVersion"`
	Tool          string    `json:"tool"`
	Kind          string    `json:"kind"` // "fleet"
	ScannedAt     time.Time `json:"scannedAt"`
	// Complete is false when any target failed or is incomplete: then "no finding" does
	// not mean "nothing wrong" across the fleet.
	Complete bool          `json:"complete"`
	Summary  FleetSummary  `json:"summary"`
	Targets  []FleetTarget `json:"targets"`
	// CrossAccount are the findings only the fleet view can make (fleet_checks.go): a
	// subject in one account judged against another's.
	CrossAccount []ReportFinding `json:"crossAccount"`
	// CrossAccountNotChecked are the cross-account judgements a failed target left open.
	CrossAccountNotChecked []FleetNotChecked `json:"crossAccountNotChecked"`
	Skipped                []FleetSkipped    `json:"skipped"`
}

// FleetSummary counts the targets by state and the findings by severity over the fleet
// (the targets' and the cross-account ones).
type FleetSummary struct {
	Targets    int `json:"targets"`
	Complete   int `json:"complete"`
	Incomplete int `json:"incomplete"`
	Failed     int `json:"failed"`
	Errors     int `json:"errors"`
	Warnings   int `json:"warnings"`
	Info       int `json:"info"`
}

// Target states.
const (
	TargetComplete   = "complete"
	TargetIncomplete = "incomplete"
	TargetFailed     = "failed"
)

// FleetTarget is one account-region: its report, or why it has none.
type FleetTarget struct {
	Target      string  `json:"target"` // how it was named, with its region
	Source      string  `json:"source"` // "profile prod", "account 222222222222"
	Account     string  `json:"account"`
	AccountName string  `json:"accountName,omitempty"`
	Region      string  `json:"region"`
	State       string  `json:"state"`
	Error       string  `json:"error,omitempty"` // why it could not be scanned (state failed)
	Seconds     float64 `json:"seconds"`
	Report      *Report `json:"report,omitempty"`
}

// FleetNotChecked is a cross-account check that could not judge, and why.
type FleetNotChecked struct {
	Check   string `json:"check"`
	Subject string `json:"subject"`
	Reason  string `json:"reason"`
}

// FleetSkipped is an account-region left out when the targets were found (a region not
// enabled for the account).
type FleetSkipped struct {
	Source string `json:"source"`
	Region string `json:"region"`
	Reason string `json:"reason"`
}

// NewFleetReport sums up the targets (in the order given) and the cross-account findings.
func NewFleetReport(started time.Time, targets []FleetTarget, cross []ReportFinding, crossNotChecked []FleetNotChecked, skipped []FleetSkipped) FleetReport {
	r := FleetReport{SchemaVersion: FleetSchemaVersion, Tool: "ptcdoctor", Kind: "fleet", ScannedAt: started.UTC(),
		Targets: targets, CrossAccount: cross, CrossAccountNotChecked: crossNotChecked, Skipped: skipped}
	if r.Targets == nil {
		r.Targets = []FleetTarget{}
	}
	if r.CrossAccount == nil {
		r.CrossAccount = []ReportFinding{}
	}
	if r.CrossAccountNotChecked == nil {
		r.CrossAccountNotChecked = []FleetNotChecked{}
	}
	if r.Skipped == nil {
		r.Skipped = []FleetSkipped{}
	}
	s := &r.Summary
	s.Targets = len(targets)
	for _, t := range targets {
		switch t.State {
		case TargetComplete:
			s.Complete++
		case TargetIncomplete:
			s.Incomplete++
		default:
			s.Failed++
		}
		if t.Report != nil {
			s.Errors += t.Report.Summary.Errors
			s.Warnings += t.Report.Summary.Warnings
			s.Info += t.Report.Summary.Info
		}
	}
	for _, f := range cross {
		switch f.Severity {
		case "error":
			s.Errors++
		case "warning":
			s.Warnings++
		default:
			s.Info++
		}
	}
	r.Complete = s.Incomplete == 0 && s.Failed == 0 && len(crossNotChecked) == 0
	return r
}
