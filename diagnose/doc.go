// Package diagnose holds the checks: a model.Snapshot and probe results in, findings
// with their fixes out. It does no I/O of its own.
package diagnose
