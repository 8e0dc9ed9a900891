// Package diagnose holds the checks: a model.Snapshot and probe results in, findings
// with their fixes out, and the subjects the checks could not judge (not checked). Each
// check declares what it stands on (Check.Needs); a failed or missing read becomes a
// not-checked entry, never a finding. A finding's key (check, subject, Distinct) gives
// it a stable short id; Recheck judges a fix by keys, for the CLI and the TUI alike:
// "fixed" only when the key is gone and every subject within the finding's scope (the
// repositories under an aggregated finding's prefix, say) was read again. A finding judged
// on an anonymous upstream answer standing in for an unreadable secret keeps no fix that
// deletes or overwrites (withoutStandInWrites). It does no I/O of its own. A Prober may also be a
// TagLister (an upstream repository's tag list): the name checks then ask it for a tag
// that exists instead of assuming latest. The hard cases of the checks are scenarios under
// the top-level testdata/scenarios/, each with its test in blindspots_test.go.
//
// Explain walks one reference through the chain a pull goes through. ExplainError reads a
// pasted error line (explain_read.go: its shape, reference and hosts, and the causes it
// allows) and, against an account, walks the same chain for the line's reference
// (explain_error.go): the line narrows the causes, the chain confirms one of them
// (ErrorVerdict.Confirmed) or none, and a link failing for a cause the line does not allow
// is only "also failing". ExplainEvents does that for every failed pull of Kubernetes
// events, grouped by cause, a back-off joined to the failure of its image (explain_events.go). The corpus of real error lines
// under testdata/errors/ names, for each line, the cause it must lead to. NewExplainReport
// and NewErrorReport put an explanation, or a line's verdict, into explain's JSON
// (explain_report.go; its own schemaVersion, described in README.md).
//
// The node side (what containerd, the Docker daemon, the kubelet, Bottlerocket and kops
// are configured with) is judged by its subpackage nodes, which imports only model;
// setup's node snippets come from there, so that what setup prints is what nodes accepts.
//
// Over a fleet, each account-region is diagnosed on its own; FleetChecks then judges what
// only the fleet view shows (fleet_checks.go: a rule against another account's registry
// policy, the same upstream configured differently across accounts) on the targets'
// views (FleetView: a snapshot's account, rules, templates, registry policy and its cache
// repositories' policies, without images and the rest, so that a finished target holds
// little until the fleet is done), not checked where a target it needs failed; FleetReport (fleet_report.go) is
// the report of reports, schemaVersion 5 (each target's report inside it is schema 4).
package diagnose
