// Package ui is ptcdoctor's terminal interface: bubbletea screens over the model, the
// checks and an Engine. It never calls AWS itself: every call goes through the Engine,
// in a tea.Cmd, and comes back as a message that carries the id of the scan, probe, plan
// or explanation it answers, so the interface never waits on the network and a stale
// answer is dropped. A screen left for good is closed: its requests are cancelled. A
// plan being applied (a fix or an undo) is stopped, when asked (esc, q), between its
// steps, never in a call, so the journal knows every call's outcome.
//
// App (app.go) is a router: it keeps the chrome (header, tabs, one status line with a
// lifetime, footer, chrome.go and status.go), the way back and the mode (normal,
// filter, command, question). Each screen is a component (common.go: Update, View,
// SetSize, its own keys for the footer and the help) in a file of its own: the rules,
// repositories, images, findings and journal are one list component (list.go: columns
// named, the cursor held by row id) with what their rows lead to; the plan (its phases
// a type), explain, describe, help and setup screens own their inputs. Screens share
// a common value: the context, the engine, styles and keys, and what the account was
// last seen to hold.
//
// Over a fleet (Options.Fleet, a FleetEngine), the interface opens on the fleet screen
// (fleet.go): one row per account-region (or per account while its regions are looked
// for), filled as each target's scan ends, then the cross-account findings and what they
// could not judge. Until a target is entered there is no Engine behind the tabs
// (the one-account keys say so); enter opens one, in the background, and puts it there,
// and F or :fleet comes back with it kept.
package ui

import (
	"context"
	"time"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// Engine is what the interface needs of the account. cmd/ptcdoctor adapts ecrops.Account
// to it; tests give a fake.
type Engine interface {
	diagnose.Prober
	// Scan reads the registry, reporting progress as it goes.
	Scan(ctx context.Context, progress func(Progress)) (*model.Snapshot, error)
	// Apply carries out a plan; secrets are the values of steps that need one, by target.
	// ctx's end stops the plan between steps: the step under way finishes, the next
	// does not start, and the journal records where it stopped.
	Apply(ctx context.Context, plan model.Plan, secrets map[string]string) ([]StepOutcome, error)
	ReadOnly() bool
	SetReadOnly(bool)
	// Journal lists the writes made, newest last.
	Journal() ([]JournalRow, error)
	// UndoPlan builds the plan that reverses a journaled plan; it may read the
	// account (a step that never recorded its outcome), until ctx ends.
	UndoPlan(ctx context.Context, planID string) (model.Plan, error)
	// Header says which account this is, for the header line.
	Header() Header
	// CheckCredentials tries an upstream user name and token, before anything is stored.
	CheckCredentials(ctx context.Context, registryURL, username, token string) model.UpstreamProbe
	// ValidateRule asks ValidatePullThroughCacheRule.
	ValidateRule(ctx context.Context, prefix string) model.Validation
	// Warm pulls a tag through the cache, every platform.
	Warm(ctx context.Context, repo, tag string) (string, error)
	// RuleSecrets lists the ecr-pullthroughcache/ secrets, with their metadata.
	RuleSecrets(ctx context.Context) ([]model.SecretRef, error)
}

// Progress is a scan's progress.
type Progress struct {
	Stage      string
	Snapshot   *model.Snapshot // rules and repositories, before the images are read
	ReposDone  int
	ReposTotal int
	Images     int
}

// StepOutcome is what became of one step of an applied plan.
type StepOutcome struct {
	Step      model.Step
	Status    string
	RequestID string
	Err       string
}

// JournalRow is one write of the journal; Title is its plan's.
type JournalRow struct {
	Plan, Title, Operation, Target, Outcome, RequestID string
	Step                                               int
	When                                               time.Time
	Undoable                                           bool
	// Elsewhere says the write was made in another account or region than the one on
	// screen ("ran in 111111111111 us-east-1"), or that the journal did not record where;
	// "" when it was made here. The engine refuses to undo such a plan here.
	Elsewhere string
}

// Header is the account the interface shows.
type Header struct {
	Account, Region, Identity, Profile string
	Demo                               bool
}
