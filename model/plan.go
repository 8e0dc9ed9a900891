package model

import (
	"fmt"
	"sort"
	"strings"
)

// A Plan is a repair: ordered steps, each one write to AWS (or one pull, to warm the
// cache) with its input, shown in full before anything runs.
type Plan struct {
	Title string
	Steps []Step
	// UndoOf names the journaled plan this one undoes, so that the journal
	// knows it is undone and no second undo is offered.
	UndoOf string `json:",omitempty"`
}

// StepKind names a repair step that ecrops knows how to carry out.
type StepKind string

const (
	StepCreateRule                 StepKind = "create-rule"
	StepUpdateRule                 StepKind = "update-rule"
	StepDeleteRule                 StepKind = "delete-rule"
	StepCreateSecret               StepKind = "create-secret"
	StepPutSecretValue             StepKind = "put-secret-value"
	StepCreateTemplate             StepKind = "create-template"
	StepUpdateTemplate             StepKind = "update-template"
	StepDeleteTemplate             StepKind = "delete-template"
	StepPutLifecyclePolicy         StepKind = "put-lifecycle-policy"
	StepDeleteLifecyclePolicy      StepKind = "delete-lifecycle-policy"
	StepDeleteEmptyRepository      StepKind = "delete-empty-repository"
	StepDeleteRepository           StepKind = "delete-repository" // with its images: always typed to confirm
	StepDeleteCachedTag            StepKind = "delete-cached-tag"
	StepWarmReference              StepKind = "warm-reference"
	StepAddRegistryPolicyStatement StepKind = "add-registry-policy-statement"
	// StepRemoveRegistryPolicyStatement takes one statement out, leaving the others.
	StepRemoveRegistryPolicyStatement StepKind = "remove-registry-policy-statement"
	StepPutRegistryPolicy             StepKind = "put-registry-policy"
	StepDeleteRegistryPolicy          StepKind = "delete-registry-policy"
	// Aligning an existing repository with its creation template.
	StepSetRepositoryPolicy    StepKind = "set-repository-policy"
	StepDeleteRepositoryPolicy StepKind = "delete-repository-policy"
	StepPutImageTagMutability  StepKind = "put-image-tag-mutability"
	StepTagRepository          StepKind = "tag-repository"
)

// Step is one call. Params are its input as the person will see it; a secret value is
// never among them (a step that needs one says so with NeedsSecretValue, and the value is
// given when the plan is applied).
type Step struct {
	Kind      StepKind
	Operation string // the AWS operation, e.g. "ecr:CreatePullThroughCacheRule"
	Target    string // the rule prefix, repository, secret or reference it changes
	Params    map[string]string
	Summary   string
	// Expect is the state the plan was made against ("exists": "false", "credentialArn":
	// "...", "images": "0", "digest": "sha256:..."). It is read again just before the
	// write, and the plan stops, with nothing written, when it changed.
	// A key that starts with ExpectCoveringRule names a premise beyond the target.
	Expect map[string]string
	// Destructive steps delete something; they are confirmed by typing Target.
	Destructive      bool
	NeedsSecretValue bool
}

// ExpectCoveringRule starts a key of Expect that names a repository (or "prefix/" for
// a template) and expects the prefix of the pull through cache rule that covers it, as
// RuleFor finds it ("" for none): the rules are listed again just before the write, so
// that an orphan's deletion stops when a rule for it was created meanwhile.
const ExpectCoveringRule = "coveringRule:"

// ExpectUpstreamServes starts a key of Expect that names a rule prefix and an upstream
// reference ("docker-hub registry-1.docker.io/library/alpine:latest") and expects
// UpstreamServes: the upstream is asked again, with the rule's credentials, just before
// the write, so that a cached tag is deleted only while the upstream will serve it back
// (200, with pulls left in its rate-limit window).
const ExpectUpstreamServes = "upstreamServes:"

// UpstreamServes is the value of an ExpectUpstreamServes premise that holds.
const UpstreamServes = "200 with pulls left"

// Param returns one of the step's inputs.
func (s Step) Param(k string) string { return s.Params[k] }

// String shows the step as the call it makes: operation and every input, sorted.
func (s Step) String() string {
	keys := make([]string, 0, len(s.Params))
	for k := range s.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%s", s.Operation)
	for _, k := range keys {
		v := s.Params[k]
		if len(v) > 120 {
			v = v[:117] + "..."
		}
		fmt.Fprintf(&b, " %s=%q", k, v)
	}
	if s.NeedsSecretValue {
		b.WriteString(" SecretString=<asked for when applied, never shown>")
	}
	return b.String()
}

// Destructive reports whether any step of the plan deletes something.
func (p Plan) Destructive() bool {
	for _, s := range p.Steps {
		if s.Destructive {
			return true
		}
	}
	return false
}
