// Package diagnose holds the checks: a model.Snapshot and probe results in, findings
// with their fixes out, and the subjects the checks could not judge (not checked). Each
// check declares what it stands on (Check.Needs); a failed or missing read becomes a
// not-checked entry, never a finding. It does no I/O of its own.
//
// The node side (what containerd, the Docker daemon, the kubelet, Bottlerocket and kops
// are configured with) is judged by its subpackage nodes, which imports only model;
// setup's node snippets come from there, so that what setup prints is what nodes accepts.
package diagnose
