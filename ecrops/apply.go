package ecrops

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// ApplyOptions are what a plan needs that the plan does not hold.
type ApplyOptions struct {
	// SecretValues are the values of secrets that steps write, by the step's Target.
	// They are used in memory for the one call and never journaled or logged.
	SecretValues map[string]string
	// Progress is told about each step as it starts and ends.
	Progress func(StepResult)
	// Force writes even where the state differs from what the plan expected: only for
	// a person who read the difference (undo --force). A step's own refusals (a
	// repository that holds images) still stop it.
	Force bool
	// Undo of a plan journaled without its account and region (undo --force): see
	// UndoOptions.Unrecorded.
	Unrecorded bool
	// Stop, once done, stops the plan between steps: the step under way finishes
	// (its call is never cut, so its outcome is journaled), no later step starts,
	// and the journal records where the plan stopped. Apply then returns ErrStopped.
	Stop context.Context
}

// ErrStopped is returned by Apply when ApplyOptions.Stop ended it between steps.
var ErrStopped = errors.New("stopped between steps, as asked")

// StepResult is what became of one step.
type StepResult struct {
	Index     int
	Step      model.Step
	Status    string // running, done, failed, not-run
	RequestID string
	Err       error
}

// Difference is one way the account is not as a plan expected it.
type Difference struct {
	Key, Want, Have string
}

// String says the difference in words: a rule that now covers a repository, the
// statements a policy gained or lost, or the value before and now.
func (d Difference) String() string {
	if name, ok := strings.CutPrefix(d.Key, premiseCoveringRule); ok {
		if d.Have == "" {
			return fmt.Sprintf("the rule %s/ that covered %s is gone", d.Want, name)
		}
		return fmt.Sprintf("the pull through cache rule %s/ now covers %s", d.Have, name)
	}
	if ref, ok := strings.CutPrefix(d.Key, model.ExpectUpstreamServes); ok {
		_, ref, _ = strings.Cut(ref, " ")
		if d.unconfirmed() {
			return fmt.Sprintf("the upstream could not be asked whether it serves %s now (%s), so whether what is deleted could be pulled back is not known", ref, d.Have)
		}
		return fmt.Sprintf("the upstream does not serve %s now with the rule's credentials (%s), so what is deleted could not be pulled back", ref, d.Have)
	}
	if added, removed, ok := statementChanges(d.Want, d.Have); ok {
		var parts []string
		for _, x := range added {
			parts = append(parts, "+ "+x)
		}
		for _, x := range removed {
			parts = append(parts, "- "+x)
		}
		return fmt.Sprintf("%s changed: %s", d.Key, strings.Join(parts, "; "))
	}
	return fmt.Sprintf("%s was %q, is %q now", d.Key, short(d.Want), short(d.Have))
}

// unconfirmed reports whether a difference is a premise that could not be read rather
// than one read and found otherwise: the upstream answered 5xx, did not answer, or could
// not be asked with the rule's credentials. Not "the account changed".
func (d Difference) unconfirmed() bool {
	if !strings.HasPrefix(d.Key, model.ExpectUpstreamServes) {
		return false
	}
	h := d.Have
	return strings.HasPrefix(h, "not asked") || h == "" || h[0] == '5' || h[0] < '0' || h[0] > '9'
}

// PreconditionError says that the account changed since the plan was made, or that what
// the step rests on could not be confirmed now.
type PreconditionError struct {
	Step       model.Step
	Key        string // the first difference's key, value expected and value found
	Want, Have string
	Diffs      []Difference // every difference
	Refusal    error        // a check that refuses the write whatever was expected
}

func (e *PreconditionError) Error() string {
	if e.Refusal != nil {
		return fmt.Sprintf("%s %s: %v; nothing was written", e.Step.Operation, e.Step.Target, e.Refusal)
	}
	var what []string
	changed := false
	for _, d := range e.Diffs {
		what = append(what, d.String())
		changed = changed || !d.unconfirmed()
	}
	why := "what it rests on could not be confirmed now"
	if changed {
		why = "the account changed since the plan was made"
	}
	return fmt.Sprintf("%s %s: %s (%s); nothing was written",
		e.Step.Operation, e.Step.Target, why, strings.Join(what, "; "))
}

func short(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

// Apply carries out a plan: it refuses at once in read-only mode, before any network
// traffic; it re-reads every step's preconditions before the first write and stops with
// nothing written when one changed; it tries every token the plan would store against
// its upstream (see tryCredentials); then, step by step, it reads the state and the
// step's premises again, journals the intent with that state, writes, reads the state
// the write left, and journals the outcome. It stops at the first failure. Runs on one
// machine take turns step by step (a lock beside the journal), so that two of them
// never both re-check and then write.
func (a *Account) Apply(ctx context.Context, plan model.Plan, opts ApplyOptions) ([]StepResult, error) {
	if a.cfg.ReadOnly {
		return nil, ErrReadOnly
	}
	// Where the writes land, for the journal; an undo lands only where its plan ran.
	place, err := a.Place(ctx)
	if err != nil {
		return nil, err
	}
	if plan.UndoOf != "" {
		entries, err := a.journal.Entries()
		if err != nil && len(entries) == 0 {
			return nil, err
		}
		if err := checkPlace(place, entries, plan.UndoOf, opts.Unrecorded, true); err != nil {
			return nil, err
		}
	}
	results := make([]StepResult, len(plan.Steps))
	for i, s := range plan.Steps {
		results[i] = StepResult{Index: i, Step: s, Status: "not-run"}
	}
	touched := map[string]bool{}
	for i, s := range plan.Steps {
		impl, ok := stepImpls[s.Kind]
		if !ok {
			return results, fmt.Errorf("step %d: ptcdoctor cannot carry out %q", i+1, s.Kind)
		}
		if s.NeedsSecretValue && opts.SecretValues[s.Target] == "" {
			return results, fmt.Errorf("step %d (%s %s) needs the secret's value, and none was given", i+1, s.Operation, s.Target)
		}
		// A target an earlier step changes is checked at its turn only.
		if touched[s.Target] {
			continue
		}
		touched[s.Target] = true
		if _, err := a.checkStep(ctx, impl, s, opts.Force); err != nil {
			return results, err
		}
	}
	if err := a.tryCredentials(ctx, plan, opts.SecretValues); err != nil {
		return results, err
	}
	id := newPlanID()
	defer a.forgetAfterWrite() // a step may have changed a secret, or what an answer rested on
	for i := range plan.Steps {
		if opts.Stop != nil && opts.Stop.Err() != nil {
			return results, a.stopped(id, place, plan, i)
		}
		if err := a.applyStep(ctx, id, place, plan, i, opts, &results[i]); err != nil {
			return results, err
		}
	}
	if err := a.keepStatements(ctx, plan, results); err != nil {
		return results, err
	}
	if plan.UndoOf != "" {
		// Undone: a plan that never finished is seen to, and no longer warned about.
		if err := a.journal.Ack(plan.UndoOf, "undone by plan "+id); err != nil && !errors.Is(err, ErrNotUnfinished) {
			return results, err
		}
	}
	return results, nil
}

// stopped journals that the plan stopped before step i (after it wrote something:
// before its first step, nothing of it is in the journal to be told apart).
func (a *Account) stopped(id string, place Place, plan model.Plan, i int) error {
	if i == 0 {
		return fmt.Errorf("%w: nothing was written", ErrStopped)
	}
	done := "step 1 was done"
	if i > 1 {
		done = fmt.Sprintf("steps 1-%d were done", i)
	}
	s := plan.Steps[i]
	entry := JournalEntry{Time: time.Now().UTC(), Plan: id, PlanTitle: plan.Title, Step: i, Kind: s.Kind,
		Operation: s.Operation, Target: s.Target, Phase: "stopped", UndoOf: plan.UndoOf,
		Error: "not run: the plan was stopped before this step; " + done}
	entry.setPlace(place)
	err := a.journal.Append(entry)
	if err != nil {
		return fmt.Errorf("%w: step %d of %d and after not run; %s, and the journal could not record the stop: %v", ErrStopped, i+1, len(plan.Steps), done, err)
	}
	return fmt.Errorf("%w: step %d of %d and after not run; %s (plan %s in the journal)", ErrStopped, i+1, len(plan.Steps), done, id)
}

// applyStep is one step of Apply, under the machine's write lock.
func (a *Account) applyStep(ctx context.Context, id string, place Place, plan model.Plan, i int, opts ApplyOptions, result *StepResult) error {
	s := plan.Steps[i]
	impl := stepImpls[s.Kind]
	unlock, err := a.journal.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	before, err := a.checkStep(ctx, impl, s, opts.Force)
	if err != nil {
		return err
	}
	entry := JournalEntry{Time: time.Now().UTC(), Plan: id, PlanTitle: plan.Title, Step: i, Kind: s.Kind,
		Operation: s.Operation, Target: s.Target, Params: s.Params, Before: before, UndoOf: plan.UndoOf}
	entry.setPlace(place)
	entry.Phase = "intent"
	if err := a.journal.Append(entry); err != nil {
		return fmt.Errorf("%w; nothing more was written", err)
	}
	result.Status = "running"
	if opts.Progress != nil {
		opts.Progress(*result)
	}
	if testHookBeforeWrite != nil {
		testHookBeforeWrite(s)
	}
	md, werr := impl.write(ctx, a, s, opts.SecretValues[s.Target])
	werr = maskValueIn(werr, opts.SecretValues[s.Target])
	if testHookWritten != nil && werr == nil {
		testHookWritten(s)
	}
	entry.Time, entry.RequestID = time.Now().UTC(), requestID(md)
	if werr != nil {
		entry.Phase, entry.Error = "failed", model.Printable(werr.Error())
		result.Status, result.Err = "failed", werr
	} else {
		entry.Phase = "done"
		result.Status = "done"
		after, rerr := impl.read(ctx, a, s)
		if rerr == nil {
			entry.After = after
		} else {
			entry.Note = "the state this write left could not be read: " + model.Printable(rerr.Error())
		}
		if impl.inverse != nil {
			entry.Inverse = impl.inverse(s, before, after)
			switch {
			case entry.Inverse == nil:
			case rerr == nil:
				entry.Inverse.Expect = after // undo refuses once someone changed it since
			default:
				// Unseen is not unchanged: the undo refuses, showing why, until a person
				// who read it forces it.
				entry.Inverse.Expect = map[string]string{afterNotRead: "not read (" + model.Printable(rerr.Error()) + ")"}
			}
		}
	}
	result.RequestID = entry.RequestID
	jerr := a.journal.Append(entry)
	if opts.Progress != nil {
		opts.Progress(*result)
	}
	if werr != nil {
		return fmt.Errorf("step %d, %s %s: %w", i+1, s.Operation, s.Target, werr)
	}
	if jerr != nil {
		return fmt.Errorf("step %d was written but the journal could not record it: %w", i+1, jerr)
	}
	return nil
}

// keepStatements reads the registry policy once the plan's steps are done, and checks that
// every statement the plan added is still there: another machine's put, landing after one
// step's own check, replaces the whole policy and may have dropped an earlier step's
// statement. What is missing is merged again, all in one put; if it is still missing,
// the plan failed, and says which statements.
func (a *Account) keepStatements(ctx context.Context, plan model.Plan, results []StepResult) error {
	var added []string
	for i, s := range plan.Steps {
		if s.Kind == model.StepAddRegistryPolicyStatement && results[i].Status == "done" {
			added = append(added, s.Param("statement"))
		}
	}
	if len(added) == 0 {
		return nil
	}
	missing := func(policy string) []string {
		var out []string
		for _, st := range added {
			if addedStatement(st, "", policy) == "" { // there, its Sid perhaps renamed by the merge
				out = append(out, st)
			}
		}
		return out
	}
	unlock, err := a.journal.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	now, err := readRegistryPolicy(ctx, a, model.Step{})
	if err != nil {
		return fmt.Errorf("reading the registry policy to check the statements this plan added: %w", err)
	}
	lost := missing(now["policy"])
	if len(lost) == 0 {
		return nil
	}
	_, err = a.changeRegistryPolicy(ctx, func(policy string) (string, error) {
		for _, st := range missing(policy) {
			var err error
			if policy, err = MergeStatement(policy, st); err != nil {
				return "", err
			}
		}
		return policy, nil
	})
	if err == nil {
		if now, err = readRegistryPolicy(ctx, a, model.Step{}); err == nil && len(missing(now["policy"])) == 0 {
			return nil
		}
	}
	var sids []string
	for _, st := range lost {
		sids = append(sids, statementName(st))
	}
	return fmt.Errorf("another writer's put of the registry policy dropped %d statement(s) this plan added (%s), and merging them again did not keep them (%v); run the fix again",
		len(lost), strings.Join(sids, ", "), err)
}

// statementName names a statement by its Sid, or by its text.
func statementName(statement string) string {
	var st struct{ Sid string }
	if json.Unmarshal([]byte(statement), &st) == nil && st.Sid != "" {
		return st.Sid
	}
	return short(statement)
}

// maskValueIn hides a secret value the step sent, should the answer echo it (an
// emulator's validation message, a proxy's error page): the error is shown, printed and
// journaled, the value never.
func maskValueIn(err error, value string) error {
	if err == nil || value == "" {
		return err
	}
	var c struct {
		Username    string `json:"username"`
		AccessToken string `json:"accessToken"`
	}
	_ = json.Unmarshal([]byte(value), &c)
	msg := strings.ReplaceAll(err.Error(), value, "****")
	msg = secrets{user: c.Username, token: c.AccessToken}.mask(msg)
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}

// afterNotRead is the premise an undo carries when the state its write left was not read:
// no read ever has it, so the undo refuses unless forced.
const afterNotRead = "the state this write left"

// testHookWritten, when set by a test, runs after a write succeeded and before its
// outcome is journaled: the moment a killed process leaves behind.
var testHookWritten func(model.Step)

// testHookBeforeWrite, when set by a test, runs after a step's check and journaled intent,
// just before its write: where another writer's change would fall.
var testHookBeforeWrite func(model.Step)

// checkStep reads the state a step changes, and the premises it names, and compares
// them with what the plan expected; it returns the state (the step's before-image).
func (a *Account) checkStep(ctx context.Context, impl stepImpl, s model.Step, force bool) (map[string]string, error) {
	now, err := impl.read(ctx, a, s)
	if err != nil {
		return nil, fmt.Errorf("reading the state before %s %s: %w", s.Operation, s.Target, err)
	}
	premises, err := a.readPremises(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("reading what %s %s rests on: %w", s.Operation, s.Target, err)
	}
	var diffs []Difference
	for _, k := range sortedKeys(s.Expect) {
		have, ok := premises[k]
		if !ok {
			have = now[k]
		}
		if !sameValue(have, s.Expect[k]) {
			diffs = append(diffs, Difference{Key: k, Want: s.Expect[k], Have: have})
		}
	}
	if len(diffs) > 0 && !force {
		return nil, &PreconditionError{Step: s, Key: diffs[0].Key, Want: diffs[0].Want, Have: diffs[0].Have, Diffs: diffs}
	}
	if impl.check != nil {
		if err := impl.check(s, now); err != nil {
			return nil, &PreconditionError{Step: s, Refusal: err}
		}
	}
	return now, nil
}

// Check reads the account as Apply would before its first write, and returns the
// differences from what each step expects (nil for a step whose state is as expected),
// writing nothing: what undo --dry-run shows.
func (a *Account) Check(ctx context.Context, plan model.Plan) []error {
	out := make([]error, len(plan.Steps))
	touched := map[string]bool{}
	for i, s := range plan.Steps {
		impl, ok := stepImpls[s.Kind]
		if !ok || touched[s.Target] {
			continue
		}
		touched[s.Target] = true
		_, out[i] = a.checkStep(ctx, impl, s, false)
	}
	return out
}

// The premises a step can rest on beyond its target's state (see
// model.ExpectCoveringRule), read again with the target's state.
const premiseCoveringRule = model.ExpectCoveringRule

func (a *Account) readPremises(ctx context.Context, s model.Step) (map[string]string, error) {
	var names, upstreams []string
	for k := range s.Expect {
		if name, ok := strings.CutPrefix(k, premiseCoveringRule); ok {
			names = append(names, name)
		}
		if ref, ok := strings.CutPrefix(k, model.ExpectUpstreamServes); ok {
			upstreams = append(upstreams, ref)
		}
	}
	if len(names)+len(upstreams) == 0 {
		return nil, nil
	}
	rules, err := a.listRules(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, n := range names {
		out[premiseCoveringRule+n] = ""
		if r := model.RuleFor(rules, n); r != nil {
			out[premiseCoveringRule+n] = r.Prefix
		}
	}
	for _, u := range upstreams {
		out[model.ExpectUpstreamServes+u] = a.upstreamServes(ctx, rules, u)
	}
	return out, nil
}

// upstreamServes asks a rule's upstream, with the rule's credentials, whether it serves a
// reference now ("prefix reference"): model.UpstreamServes, or what it answered instead.
// An anonymous answer (the secret unreadable) does not stand in for the rule's own.
func (a *Account) upstreamServes(ctx context.Context, rules []model.Rule, premise string) string {
	prefix, ref, _ := strings.Cut(premise, " ")
	var rule *model.Rule
	for i := range rules {
		if rules[i].Prefix == prefix {
			rule = &rules[i]
		}
	}
	if rule == nil {
		return "the rule " + prefix + "/ is gone"
	}
	p := a.probeUpstream(ctx, *rule, ref, nil) // afresh: never an answer a run kept
	switch {
	case p.SecretError != nil:
		return "not asked with the rule's credentials: its secret could not be read (" + p.SecretError.Operation + ": " + p.SecretError.Message + ")"
	case !p.Exists:
		return model.Printable(strings.TrimSpace(fmt.Sprintf("%s %s: %s", statusText(p.Status), p.Class, p.Message)))
	case p.RateLimit != nil && p.RateLimit.Remaining <= 0:
		return fmt.Sprintf("200, but no pulls left (ratelimit-remaining: 0 of %d)", p.RateLimit.Limit)
	}
	return model.UpstreamServes
}

func statusText(code int) string {
	if code == 0 {
		return ""
	}
	return fmt.Sprint(code)
}

// sameValue compares two values of a state: equal text, or the same JSON document
// (AWS may give a policy back with its keys in another order).
func sameValue(a, b string) bool {
	if a == b {
		return true
	}
	if !strings.HasPrefix(strings.TrimSpace(a), "{") || !strings.HasPrefix(strings.TrimSpace(b), "{") {
		return false
	}
	return samePolicy(a, b)
}

// sameState reports whether two states read of one target are the same.
func sameState(a, b map[string]string) bool {
	for k, v := range a {
		if !sameValue(v, b[k]) {
			return false
		}
	}
	for k, v := range b {
		if !sameValue(v, a[k]) {
			return false
		}
	}
	return true
}

func newPlanID() string {
	var b [6]byte
	rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

// CredentialsError says that credentials a plan would store were refused by their
// upstream, or could not be tried: nothing was written.
type CredentialsError struct {
	Secret, Upstream, Username string
	Why                        string
	// Untried is set when the upstream gave no verdict on them (a server error, no
	// answer, a rate limit): not refused, just not known to work.
	Untried bool
}

func (e *CredentialsError) Error() string {
	if e.Untried {
		return fmt.Sprintf("the credentials of %s that would be stored in %s could not be tried: %s did not answer (%s); nothing was written, try again once it does",
			model.Printable(e.Username), e.Secret, e.Upstream, e.Why)
	}
	if e.Upstream == "" {
		return fmt.Sprintf("the credentials for %s were not stored: %s; nothing was written", e.Secret, e.Why)
	}
	return fmt.Sprintf("%s refused the credentials of %s that would be stored in %s (%s); nothing was written",
		e.Upstream, model.Printable(e.Username), e.Secret, e.Why)
}

// tryCredentials tries, before the first write, every token a plan would store: against
// the upstream of each rule that uses (or that the plan points at) the secret, with the
// user name stored beside it. A token no upstream accepted, or one that could not be
// tried, is not stored. And a value given once goes into one secret only: the same
// token for two secrets is a token meant for one of them.
func (a *Account) tryCredentials(ctx context.Context, plan model.Plan, values map[string]string) error {
	var secrets []string
	for _, s := range plan.Steps {
		if s.NeedsSecretValue && !contains(secrets, s.Target) {
			secrets = append(secrets, s.Target)
		}
	}
	if len(secrets) == 0 {
		return nil
	}
	for i, x := range secrets {
		for _, y := range secrets[i+1:] {
			if values[x] == values[y] {
				return &CredentialsError{Secret: x + " and " + y, Why: "one token was given for two secrets; a token applies to one secret, so store each with its own"}
			}
		}
	}
	rules, err := a.listRules(ctx)
	if err != nil {
		return &CredentialsError{Secret: strings.Join(secrets, ", "), Why: "the rules that use the secret could not be listed to try the token against their upstream: " + err.Error()}
	}
	for _, secret := range secrets {
		var value struct {
			Username    string `json:"username"`
			AccessToken string `json:"accessToken"`
		}
		if json.Unmarshal([]byte(values[secret]), &value) != nil || value.Username == "" || value.AccessToken == "" {
			return &CredentialsError{Secret: secret, Why: `the value is not {"username": ..., "accessToken": ...}`}
		}
		upstreams, err := a.upstreamsOf(ctx, secret, plan, rules)
		if err != nil {
			return &CredentialsError{Secret: secret, Why: err.Error()}
		}
		if len(upstreams) == 0 {
			return &CredentialsError{Secret: secret, Why: "no rule uses this secret, and the plan points none at it, so there is no upstream to try the token against"}
		}
		for _, u := range upstreams {
			if p := a.CheckCredentials(ctx, u, value.Username, value.AccessToken); !p.Exists {
				why := strings.TrimSpace(statusText(p.Status) + " " + p.Class + " " + p.Message)
				switch p.Class {
				case "unauthorized", "forbidden":
					return &CredentialsError{Secret: secret, Upstream: u, Username: value.Username, Why: why}
				}
				// No verdict on the credentials: a server error, no answer, a rate limit.
				return &CredentialsError{Secret: secret, Upstream: u, Username: value.Username, Why: why, Untried: true}
			}
		}
	}
	return nil
}

// upstreamsOf names the upstream registries a secret serves: those of the rules that
// use it now, and of the rules the plan creates or points at it.
func (a *Account) upstreamsOf(ctx context.Context, secret string, plan model.Plan, rules []model.Rule) ([]string, error) {
	arn := secret
	if !strings.HasPrefix(secret, "arn:") {
		st, err := readSecret(ctx, a, model.Step{Target: secret})
		if err != nil {
			return nil, fmt.Errorf("reading the secret: %w", err)
		}
		arn = st["arn"]
	}
	var out []string
	add := func(u string) {
		if u != "" && !contains(out, u) {
			out = append(out, u)
		}
	}
	for _, r := range rules {
		if r.CredentialArn != "" && (r.CredentialArn == arn || r.CredentialArn == secret) {
			add(r.UpstreamURL)
		}
	}
	for _, s := range plan.Steps {
		if s.Param("credentialSecretName") != secret && (s.Param("credentialArn") == "" || s.Param("credentialArn") != arn && s.Param("credentialArn") != secret) {
			continue
		}
		switch s.Kind {
		case model.StepCreateRule:
			add(s.Param("upstreamRegistryUrl"))
		case model.StepUpdateRule:
			for _, r := range rules {
				if r.Prefix == s.Target {
					add(r.UpstreamURL)
				}
			}
		}
	}
	return out, nil
}
