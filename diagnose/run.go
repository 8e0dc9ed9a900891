package diagnose

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// Prober is what the checks need from the outside world: read-only questions to an
// upstream, the cache, and IAM. ecrops.Account answers them; tests may answer them too.
type Prober interface {
	ProbeUpstream(ctx context.Context, rule model.Rule, upstreamRef string) model.UpstreamProbe
	ProbeCache(ctx context.Context, repo, tagOrDigest string) model.CacheProbe
	ProbePermissions(ctx context.Context, principal, repoARN, registryPolicy string, actions []string) model.PermissionProbe
}

// Options narrow and feed a diagnosis.
type Options struct {
	// Refs are references to check besides the account's own repositories.
	Refs []model.Ref
	// Principals are the IAM principals that pull (node roles, CI roles); the caller when empty.
	Principals []string
	// Checks limits the diagnosis to these check ids; all when empty.
	Checks []string
	// ProbeLimit caps the upstream probes of cached tags (stale-tag); 0 means 200.
	ProbeLimit int
	// ConsumerAccounts are the AWS accounts that pull from this registry's caches besides
	// its own (cross-account). The cross-account check also learns them from the registry
	// policy's and the cache repositories' policies' principals.
	ConsumerAccounts []string
	// Now is the time the diagnosis is made at; time.Now when nil.
	Now func() time.Time
}

// Result is a diagnosis: the findings, and the subjects the checks could not judge.
type Result struct {
	Findings []model.Finding
	// NotChecked lists, check by check, what could not be judged and the read that failed.
	NotChecked []model.NotChecked
	// ScanErrors are the parts of the scan that could not be read (the snapshot's Errors).
	ScanErrors []model.PartError
}

// Complete reports whether every part of the scan, and every probe the checks needed,
// was read. A runbook trusts "nothing found" only from a complete diagnosis (exit 0).
func (r Result) Complete() bool { return len(r.NotChecked) == 0 && len(r.ScanErrors) == 0 }

// Run applies the checks to a snapshot and returns the findings, errors first. It is
// Diagnose without the list of what could not be checked; prefer Diagnose.
func Run(ctx context.Context, snap *model.Snapshot, prober Prober, opts Options) []model.Finding {
	return Diagnose(ctx, snap, prober, opts).Findings
}

// Diagnose applies the checks to a snapshot. A check whose declared parts of the
// snapshot could not be read does not run and is listed as not checked; within a
// check, each subject whose own reads or probes failed is listed, instead of a finding.
func Diagnose(ctx context.Context, snap *model.Snapshot, prober Prober, opts Options) Result {
	d := newDiagnosis(ctx, snap, prober, opts)
	for _, c := range Catalog {
		if len(opts.Checks) > 0 && !contains(opts.Checks, c.ID) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		d.check = c.ID
		if !d.read(everySubject, c.parts()...) {
			continue
		}
		var fs []model.Finding
		for _, f := range c.run(d) {
			f.Check = c.ID
			if f.Severity == "" {
				f.Severity = c.Severity
			}
			fs = append(fs, f)
		}
		d.findings = append(d.findings, d.withoutStandInWrites(distinctKeys(fs))...)
	}
	sort.SliceStable(d.findings, func(i, j int) bool {
		return d.findings[i].Severity.Rank() < d.findings[j].Severity.Rank()
	})
	return Result{Findings: d.findings, NotChecked: d.notChecked, ScanErrors: append([]model.PartError(nil), snap.Errors...)}
}

// everySubject is the subject of a check that could not run at all.
var everySubject = model.Subject{Kind: "all", Name: "every subject of the check"}

// distinctKeys keeps every finding's key unique within its check. A check that says two
// things of one subject sets Distinct; this is the safety net for one that did not.
func distinctKeys(fs []model.Finding) []model.Finding {
	seen := map[string]int{}
	for i := range fs {
		k := fs[i].Key()
		seen[k]++
		if n := seen[k]; n > 1 {
			fs[i].Distinct += fmt.Sprintf("#%d", n)
		}
	}
	return fs
}

func newDiagnosis(ctx context.Context, snap *model.Snapshot, prober Prober, opts Options) *diagnosis {
	d := &diagnosis{ctx: ctx, snap: snap, probe: newMemo(prober), opts: opts}
	if d.opts.Now == nil {
		d.opts.Now = time.Now
	}
	if d.opts.ProbeLimit == 0 {
		d.opts.ProbeLimit = 200
	}
	if len(d.opts.Principals) == 0 && snap.Identity.ARN != "" {
		d.opts.Principals = []string{snap.Identity.ARN}
	}
	return d
}

// diagnosis is one run: the snapshot, the probes so far, the options, and what the
// checks found and could not check.
type diagnosis struct {
	ctx   context.Context
	snap  *model.Snapshot
	probe *memo
	opts  Options
	// stale is the stale-tag probes, made once: the rate-limit check reads their answers too.
	stale *staleRun

	check      string // the check running now
	mu         sync.Mutex
	findings   []model.Finding
	notChecked []model.NotChecked
	skipped    map[string]bool
	// standIn are the subjects (check|kind|name) judged on an anonymous answer that stood
	// in for the rule's credentials, with the failed read of the secret.
	standIn map[string]model.PartError
}

// withoutStandInWrites takes from each finding judged on an anonymous stand-in answer
// (the rule's secret unreadable) every fix that deletes or overwrites: an unreadable
// secret is a failed read, and no such write rests on one. The finding stays, labelled.
func (d *diagnosis) withoutStandInWrites(fs []model.Finding) []model.Finding {
	for i := range fs {
		f := &fs[i]
		pe, ok := d.standIn[f.Check+"|"+f.Subject.Kind+"|"+f.Subject.Name]
		if !ok {
			continue
		}
		var kept []model.Fix
		var dropped []string
		for _, fx := range f.Fixes {
			if overwrites(fx.Plan) {
				dropped = append(dropped, fx.Title)
				continue
			}
			kept = append(kept, fx)
		}
		f.Explanation += " This rests on an anonymous answer of the upstream: the rule's secret could not be read (" + pe.Operation + " failed: " + strings.TrimSpace(pe.Code+" "+pe.Message) + ")."
		if len(dropped) > 0 {
			kept = append(kept, model.Fix{Title: "Not offered: " + strings.Join(dropped, "; "),
				Manual: "A fix that deletes or overwrites never rests on a failed read. Let this principal read the rule's secret (" + pe.Operation + "), then run ptcdoctor doctor again."})
		}
		f.Fixes = kept
	}
	return fs
}

// overwrites reports whether a plan deletes or replaces something that is there.
func overwrites(p model.Plan) bool {
	for _, s := range p.Steps {
		switch {
		case s.Destructive, s.NeedsSecretValue:
			return true
		case strings.HasPrefix(string(s.Kind), "delete-"), strings.HasPrefix(string(s.Kind), "update-"),
			strings.HasPrefix(string(s.Kind), "put-"), strings.HasPrefix(string(s.Kind), "remove-"),
			strings.HasPrefix(string(s.Kind), "set-"):
			return true
		}
	}
	return false
}

// skip records that the running check could not judge a subject, and the read that
// failed. The check then says nothing of that subject.
func (d *diagnosis) skip(subject model.Subject, failed model.PartError) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := d.check + "|" + subject.Kind + "|" + subject.Name + "|" + failed.Part + "|" + failed.Operation
	if d.skipped[k] {
		return
	}
	if d.skipped == nil {
		d.skipped = map[string]bool{}
	}
	d.skipped[k] = true
	d.notChecked = append(d.notChecked, model.NotChecked{Check: d.check, Subject: subject, Needs: failed.Part, Failed: failed})
}

// read reports whether these parts of the snapshot were read (model.Part* names); each
// one that was not is recorded against the subject.
func (d *diagnosis) read(subject model.Subject, parts ...string) bool {
	ok := true
	for _, part := range parts {
		if pe := d.snap.PartFailed(part); pe != nil {
			d.skip(subject, *pe)
			ok = false
		}
	}
	return ok
}

// imagesRead reports whether a repository's images were listed, recording the subject
// as not checked otherwise.
func (d *diagnosis) imagesRead(subject model.Subject, repo model.Repository) bool {
	return d.held(subject, repo.ImagesKnown, "DescribeImages", model.PartImages(repo.Name))
}

// lifecycleRead reports whether a repository's lifecycle policy was read, recording the
// subject as not checked otherwise.
func (d *diagnosis) lifecycleRead(subject model.Subject, repo model.Repository) bool {
	return d.held(subject, repo.LifecycleKnown, "GetLifecyclePolicy", model.PartLifecycle(repo.Name))
}

// held reports whether the snapshot holds what a check needs of a subject (known). When
// it does not, the subject is recorded as not checked: with the failed call of each part
// that failed, or, when no read of them failed (the scan did not get to it), as not read
// by operation, the call that reads the first part.
func (d *diagnosis) held(subject model.Subject, known bool, operation string, parts ...string) bool {
	if known {
		return true
	}
	if d.read(subject, parts...) {
		d.skip(subject, model.PartError{Part: parts[0], Operation: operation, Message: "not read"})
	}
	return false
}

// upstream asks the rule's upstream about a reference. ok is false, and the subject is
// recorded as not checked, when the answer cannot be judged: none came (network, server
// error), or the rule's secret could not be read and the anonymous answer is not a
// success, or is not what the rule's own credentials get (ownCredentials).
func (d *diagnosis) upstream(subject model.Subject, rule model.Rule, ref string, ownCredentials bool) (model.UpstreamProbe, bool) {
	p := d.probe.Upstream(d.ctx, rule, ref)
	return p, d.judge(subject, p, ownCredentials)
}

// judge reports whether an upstream answer, made already, can be reasoned from (see
// upstream), recording the subject as not checked when it cannot.
func (d *diagnosis) judge(subject model.Subject, p model.UpstreamProbe, ownCredentials bool) bool {
	if failed, ok := probeFailure(p); ok {
		d.skip(subject, failed)
		return false
	}
	if p.SecretError != nil && (ownCredentials || !p.Exists) {
		d.skip(subject, *p.SecretError)
		return false
	}
	if p.SecretError != nil {
		d.mu.Lock()
		if d.standIn == nil {
			d.standIn = map[string]model.PartError{}
		}
		d.standIn[d.check+"|"+subject.Kind+"|"+subject.Name] = *p.SecretError
		d.mu.Unlock()
	}
	return true
}

// probeFailure words an upstream probe that got no answer as a failed read.
func probeFailure(p model.UpstreamProbe) (model.PartError, bool) {
	switch p.Class {
	case "network", "server-error", "invalid":
		pe := model.PartError{Part: "upstream " + p.Reference, Operation: "registry HEAD manifest", Message: p.Message}
		if p.Status != 0 {
			pe.Code = fmt.Sprint(p.Status)
		}
		return pe, true
	}
	return model.PartError{}, false
}

// cache looks a reference up in the cache; ok is false, and the subject recorded, when
// the look-up failed.
func (d *diagnosis) cache(subject model.Subject, repo, id string) (model.CacheProbe, bool) {
	c := d.probe.Cache(d.ctx, repo, id)
	if c.Error != nil {
		d.skip(subject, *c.Error)
		return c, false
	}
	return c, true
}

// permissions simulates a principal's pull-through actions; ok is false, and the
// principal (by the IAM ARN the probe simulated) recorded, when the simulation failed.
func (d *diagnosis) permissions(principal, resource string, actions []string) (model.PermissionProbe, bool) {
	p := d.probe.Permissions(d.ctx, principal, resource, d.snap.RegistryPolicy, actions)
	if p.Error != nil {
		d.skip(model.Subject{Kind: "principal", Name: orDefault(p.Principal, principal)}, *p.Error)
		return p, false
	}
	return p, true
}

// memo asks each question once per diagnosis.
type memo struct {
	p        Prober
	mu       sync.Mutex
	upstream map[string]model.UpstreamProbe
	askedBy  map[string]map[string]bool // rule prefix → the upstream answers' keys it asked for
	cache    map[string]model.CacheProbe
	perms    map[string]model.PermissionProbe
	asking   map[string]chan struct{} // the questions being asked now, closed when answered
}

func newMemo(p Prober) *memo {
	return &memo{p: p, upstream: map[string]model.UpstreamProbe{}, askedBy: map[string]map[string]bool{}, cache: map[string]model.CacheProbe{},
		perms: map[string]model.PermissionProbe{}, asking: map[string]chan struct{}{}}
}

// remember asks once per key: a probe's answer is looked up, or asked and kept. A question
// asked while the same one is in flight waits for its answer instead of asking again (the
// stale-tag check probes eight at once, and the same upstream reference under 50 rules
// was asked up to twice as often as needed). kind keeps the tables' keys apart.
func remember[V any](m *memo, table map[string]V, kind, key string, ask func() V) V {
	for {
		m.mu.Lock()
		if v, ok := table[key]; ok {
			m.mu.Unlock()
			return v
		}
		wait, busy := m.asking[kind+key]
		if !busy {
			done := make(chan struct{})
			m.asking[kind+key] = done
			m.mu.Unlock()
			v := ask()
			m.mu.Lock()
			table[key] = v
			delete(m.asking, kind+key)
			m.mu.Unlock()
			close(done)
			return v
		}
		m.mu.Unlock()
		if testHookWaiting != nil {
			testHookWaiting()
		}
		<-wait
	}
}

// testHookWaiting runs when a question waits for the same one in flight.
var testHookWaiting func()

func (m *memo) Upstream(ctx context.Context, rule model.Rule, ref string) model.UpstreamProbe {
	// The answer depends on the reference and the credentials sent, not on which rule
	// asks: rules that share an upstream and a secret (or have none) probe it once.
	key := rule.CredentialArn + "|" + ref
	m.mu.Lock()
	if m.askedBy[rule.Prefix] == nil {
		m.askedBy[rule.Prefix] = map[string]bool{}
	}
	m.askedBy[rule.Prefix][key] = true
	m.mu.Unlock()
	return remember(m, m.upstream, "upstream ", key, func() model.UpstreamProbe { return m.p.ProbeUpstream(ctx, rule, ref) })
}

func (m *memo) Cache(ctx context.Context, repo, id string) model.CacheProbe {
	return remember(m, m.cache, "cache ", repo+"|"+id, func() model.CacheProbe { return m.p.ProbeCache(ctx, repo, id) })
}

func (m *memo) Permissions(ctx context.Context, principal, repoARN, policy string, actions []string) model.PermissionProbe {
	return remember(m, m.perms, "permissions ", principal+"|"+repoARN+"|"+strings.Join(actions, ","), func() model.PermissionProbe {
		return m.p.ProbePermissions(ctx, principal, repoARN, policy, actions)
	})
}

// upstreamEvidence words an upstream probe as evidence.
func upstreamEvidence(p model.UpstreamProbe) model.Evidence {
	who := "with the rule's credentials"
	if p.Anonymous {
		who = "anonymously (" + p.Why + ")"
	}
	call := fmt.Sprintf("HEAD %s manifest, %s", p.Reference, who)
	if p.Exists {
		ans := fmt.Sprintf("200: %s (%s)", short(p.Digest), p.MediaType)
		if len(p.Platforms) > 0 {
			ans += ", platforms " + strings.Join(p.Platforms, ", ")
		}
		if p.Class != "" {
			ans += fmt.Sprintf("; the GET of the index answered %d %s", p.Status, p.Message)
		}
		return model.Evidence{Call: call, Answer: ans}
	}
	if p.Status == 0 {
		return model.Evidence{Call: call, Answer: p.Class + ": " + p.Message}
	}
	return model.Evidence{Call: call, Answer: fmt.Sprintf("%d %s: %s", p.Status, p.Class, p.Message)}
}

func short(digest string) string {
	if len(digest) > 19 {
		return digest[:19] + "…"
	}
	return digest
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func repoARN(snap *model.Snapshot, repo string) string {
	return fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s", snap.Region, snap.AccountID, repo)
}

// cacheRef is the cache URI of a repository and tag in this registry.
func cacheRef(snap *model.Snapshot, repo, tag string) string {
	return snap.RegistryURI() + "/" + repo + ":" + tag
}

// upstreamRef maps a cache repository and tag to the upstream reference, through the rule.
func upstreamRef(r *model.Rule, repo, tag string) string {
	return r.UpstreamURL + "/" + model.UpstreamPath(r, repo) + ":" + tag
}
