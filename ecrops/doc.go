// Package ecrops holds all of ptcdoctor's I/O to AWS and to container registries: the
// scan of an account into a model.Snapshot, the read-only probes, the repair steps, the
// journal of writes and the read-only guard. A part of the scan that fails is recorded
// in the snapshot under the model.Part* names; a probe that sent credentials masks them in
// every text it keeps, so that an upstream echoing them cannot pass them on.
//
// The scan reads, besides rules, templates and repositories, the repository policy and
// tags of each cache repository a creation template covers (settings.go), which the
// template checks compare. Probes never assume a tag: UpstreamTags lists an upstream
// repository's tags (tags.go).
//
// Every write re-reads its target and its premises (model.ExpectCoveringRule; and
// model.ExpectUpstreamServes: a cached tag is deleted only while its upstream, asked with
// the rule's credentials, serves it back with pulls left) just before the call; a cached
// tag is deleted only while it names the image its finding was about, read again inside
// the write itself (BatchDeleteImage takes no condition; one round trip stays open); a plan
// that added registry-policy statements checks at its end that another writer's put did
// not drop them (keepStatements); credentials are tried against their upstream before they are stored;
// the journal holds each call's intent and before-image (written and synced before the
// call) and the state it left, so that an undo refuses over later changes and a plan
// killed mid-call can still be undone (undo.go). A plan asked to stop
// (ApplyOptions.Stop) stops between steps, never in a call, and journals where.
// Each journal line records where its write was made (place.go: the caller's account, as
// GetCallerIdentity answers, the region, the profile or role): one journal serves every
// account a machine writes to, and an undo, planned (UndoPlan) or applied (Apply of a
// plan with UndoOf), is refused before any write in another account or region, and for
// lines that do not say where unless the person says they checked (UndoOptions).
//
// A fleet (fleet.go) refines the architecture's one Account into many: FleetConfig names
// account-regions from profiles, a role assumed in given accounts or in an Organization's
// (credentials from the SDK's providers, stscreds on the base credentials), and regions by
// list or where ECR has rules; Targets resolves them (FleetAccounts then AccountTargets,
// for a caller that lists the accounts before their regions are found), and EachTarget opens each as an
// Account of its own (its own meter, rate limits and calls in flight) and works on a
// bounded number at once, reporting each as it finishes. A target that cannot be opened is
// reported with its error; the others go on. The targets of one Targets call share what
// need not be theirs alone: the SDK configuration of each source of credentials, loaded
// once, with its HTTP client (one pool of connections: calls are signed per account), and
// one pool for the registries, at most 64 connections to a host. While EachTarget (or a
// FleetRun over several) runs, its targets share what the probes learn (probeshare.go):
// each registry's answer to the anonymous ping, and each upstream probe's answer by
// reference and credentials (anonymous, or a keyed hash of user and token held in memory
// for the run), each asked once for the fleet and counted by the target that asked it. A
// target's scan start keeps the run's answers (the others use them); the next run, and
// any write, start afresh; a write's premise (model.ExpectUpstreamServes) never takes a
// kept answer.
//
// Every call is counted per operation (Account.Calls), AWS's and the registries' alike.
// Registry calls share one transport per account (per fleet, above), which learns each registry's answer to
// the anonymous ping once per scan, and a registry whose ping failed twice as failing, so
// that its later probes are each "not checked" with that failed call at once, neither
// asked again nor retried (upstream.go). A scan stores images compactly in model's
// compact types (a sha256 digest as its bytes, times as seconds), nothing kept of the
// SDK's page buffers: a page's tags copied out together, the few shared strings (media
// types, platforms, policies a template gave many repositories) interned; a repository's
// pages are joined once into a slice of their number (scan.go).
package ecrops
