package diagnose

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// Explanation is the causal chain of one reference: each link checked in the order a pull
// goes through them, then a verdict and the fixes for the first link that breaks.
type Explanation struct {
	Ref     model.Ref
	Steps   []ExplainStep
	Verdict string
	Fixes   []model.Fix
	// Findings are the diagnosis findings about this reference, with their fixes.
	Findings []model.Finding
}

// ExplainStep is one link of the chain.
type ExplainStep struct {
	Name     string
	Status   string // ok, warning, failed, skipped
	Detail   string
	Evidence []model.Evidence
}

// Explain walks one reference through the pull: registry and region, rule, upstream
// reference, the upstream's answer, the pull budget, the secret and its validation, the
// permissions, the template, and the cache, every platform.
func Explain(ctx context.Context, snap *model.Snapshot, prober Prober, ref model.Ref, opts Options) Explanation {
	opts.Refs = []model.Ref{ref}
	d := &diagnosis{ctx: ctx, snap: snap, probe: newMemo(prober), opts: opts}
	if d.opts.ProbeLimit == 0 {
		d.opts.ProbeLimit = 200
	}
	if len(d.opts.Principals) == 0 && snap.Identity.ARN != "" {
		d.opts.Principals = []string{snap.Identity.ARN}
	}
	ex := Explanation{Ref: ref}
	add := func(name, status, detail string, ev ...model.Evidence) {
		ex.Steps = append(ex.Steps, ExplainStep{Name: name, Status: status, Detail: detail, Evidence: ev})
	}
	add("registry and region", "ok", fmt.Sprintf("%s (account %s, %s)", ref.Registry, snap.AccountID, snap.Region))

	rule := snap.Rule(ref.RulePrefix)
	if pe := snap.PartFailed(model.PartRules); pe != nil && rule == nil {
		// Which rule covers the reference is not known: nothing after this link can be said.
		add("rule", StatusNotChecked, "the rules could not be read ("+failedCall(*pe)+"): which rule covers "+ref.Repository+" is not known")
		ex.finish(d, "Not checked: the pull through cache rules could not be read, so the chain cannot be followed.")
		return ex
	}
	if rule == nil {
		if repo := snap.Repository(ref.Repository); repo != nil {
			// A repository no rule covers (a private one, made by hand, or left when its
			// rule was deleted) is pulled as it is: ECR serves what it holds and answers a
			// tag it lacks with "manifest unknown".
			add("rule", "skipped", "no pull through cache rule covers "+ref.Repository+": it is pulled as it is, never through a cache")
			ex.privateImage(d, ref)
			return ex
		}
		detail := "no pull through cache rule covers " + ref.Repository + " (rules: " + rulePrefixes(snap) + ")"
		if near := nearestPrefix(snap.Rules, ref.Repository); near != "" {
			detail += "; did you mean " + near + "/?"
		}
		add("rule", "failed", detail)
		ex.finish(d, "No rule covers this reference, so ECR will not pull it through: the repository does not exist and never will.")
		return ex
	}
	add("rule", "ok", fmt.Sprintf("%s/ → %s (%s)", rule.Prefix, rule.UpstreamURL, rule.UpstreamRegistry))

	up := ref.Upstream
	unread := len(d.notChecked)
	if _, ok := d.libraryMismatch(ref.Repository, orDefault(ref.Tag, "latest"), nil); ok {
		add("upstream reference", "failed", up+": a Docker Hub name that needs, or must not have, library/")
	} else if len(d.notChecked) > unread {
		// The upstream did not answer for the name or its library/ twin: not a pass.
		add("upstream reference", StatusNotChecked, up+": whether it needs, or must not have, library/ is not known: "+failedCall(d.notChecked[unread].Failed))
	} else {
		add("upstream reference", "ok", up)
	}

	var probe model.UpstreamProbe
	if ref.Tag != "" {
		probe = d.probe.Upstream(ctx, *rule, upstreamRef(rule, ref.Repository, ref.Tag))
	} else {
		probe = d.probe.Upstream(ctx, *rule, rule.UpstreamURL+"/"+model.UpstreamPath(rule, ref.Repository)+"@"+ref.Digest)
	}
	who := "with the rule's credentials"
	if probe.Anonymous {
		who = "anonymously: " + probe.Why
	}
	// The cache is asked first: what it holds decides whether an upstream failure fails
	// the pull (ECR serves the cached image when it cannot refresh it).
	cache := d.probe.Cache(ctx, ref.Repository, ref.Identifier())
	switch {
	case probe.Exists && probe.Class == "":
		detail := "the upstream has it (" + who + "): " + short(probe.Digest)
		if len(probe.Platforms) > 0 {
			detail += ", " + strings.Join(probe.Platforms, ", ")
		}
		add("upstream has it", "ok", detail, upstreamEvidence(probe))
	case probe.Exists:
		add("upstream has it", "warning", "the upstream has it, but "+probe.Message, upstreamEvidence(probe))
	case isFailure(probe):
		// No answer reached this machine: that says nothing of what ECR, from AWS, would get.
		add("upstream has it", StatusNotChecked, "the upstream could not be asked: "+probeFailureText(probe))
	case cache.Cached:
		add("upstream has it", "warning", fmt.Sprintf("the upstream answered %s (%s); the cache still serves its copy, which will not be refreshed", probe.Class, who), upstreamEvidence(probe))
	default:
		add("upstream has it", "failed", fmt.Sprintf("the upstream answered %s (%s)", probe.Class, who), upstreamEvidence(probe))
	}

	// The budget is the rule's only when the rule's own answer came back: an answer given
	// anonymously because the secret could not be read shows this machine's budget, and
	// no answer shows none. Neither is "no limit" (doctor: upstream-rate-limit not checked).
	if probe.SecretError != nil {
		add("pull budget", StatusNotChecked, "the rule's budget could not be read: "+failedCall(*probe.SecretError)+" (an anonymous answer shows this machine's budget, not the rule's)")
	} else if isFailure(probe) {
		add("pull budget", StatusNotChecked, "the upstream could not be asked: "+probeFailureText(probe))
	} else if rl := probe.RateLimit; rl != nil {
		switch {
		case rl.Remaining == 0 || probe.Class == "rate-limited":
			add("pull budget", "failed", fmt.Sprintf("spent: 0 of %d left in the %ds window (source %s)", rl.Limit, rl.WindowSeconds, sourceOf(rl)))
		case rl.Remaining*5 < rl.Limit:
			add("pull budget", "warning", fmt.Sprintf("low: %d of %d left in the %ds window (source %s)", rl.Remaining, rl.Limit, rl.WindowSeconds, sourceOf(rl)))
		default:
			add("pull budget", "ok", fmt.Sprintf("%d of %d left in the %ds window", rl.Remaining, rl.Limit, rl.WindowSeconds))
		}
	} else {
		add("pull budget", "skipped", "the upstream reports no pull limit")
	}

	if rule.CredentialArn == "" {
		add("secret and validation", "skipped", "the rule uses no credentials")
	} else {
		cd := &diagnosis{ctx: ctx, snap: &model.Snapshot{Rules: []model.Rule{*rule}, Region: snap.Region}}
		creds := checkCredentials(cd)
		switch {
		case len(creds) > 0:
			add("secret and validation", "failed", creds[0].Explanation, creds[0].Evidence...)
		case len(cd.notChecked) > 0:
			add("secret and validation", StatusNotChecked, "could not be read: "+failedCall(cd.notChecked[0].Failed))
		default:
			add("secret and validation", "ok", "the secret is readable by ECR and ValidatePullThroughCacheRule says valid")
		}
	}

	repo := snap.Repository(ref.Repository)
	actions := []string{"ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability", "ecr:BatchImportUpstreamImage"}
	tpl := model.TemplateFor(snap.Templates, ref.Repository)
	if repo == nil {
		actions = append(actions, "ecr:CreateRepository")
		if tpl != nil && len(tpl.ResourceTags) > 0 {
			actions = append(actions, "ecr:TagResource")
		}
	}
	firstPullsOnly := map[string][]string{} // a permissions step that fails only the pulls that import: its missing actions
	for _, principal := range d.opts.Principals {
		p := d.probe.Permissions(ctx, principal, repoARN(snap, ref.Repository), snap.RegistryPolicy, actions)
		switch {
		case p.Error != nil:
			add("permissions of "+p.Principal, StatusNotChecked, "could not simulate: "+failedCall(*p.Error))
		case len(p.Missing) > 0:
			add("permissions of "+p.Principal, "failed", "lacks "+strings.Join(p.Missing, ", ")+": "+permissionsExplanation(p.Missing))
			if onlyImportActions(p.Missing) {
				firstPullsOnly["permissions of "+p.Principal] = p.Missing
			}
		default:
			add("permissions of "+p.Principal, "ok", "may "+strings.Join(actions, ", "))
		}
	}

	switch {
	case repo == nil && snap.PartFailed(model.PartTemplates) != nil:
		// No template seen is not "none": the read failed.
		add("creation template", StatusNotChecked, "the templates could not be read: "+failedCall(*snap.PartFailed(model.PartTemplates)))
	case repo == nil && snap.PartFailed(model.PartRepositories) != nil:
		// Whether ECR will create the repository (and so apply a template) is not known.
		add("creation template", StatusNotChecked, "the repositories could not be listed: "+failedCall(*snap.PartFailed(model.PartRepositories)))
	case repo != nil:
		add("creation template", "skipped", "the repository exists; templates apply only when ECR creates it")
	case tpl == nil:
		add("creation template", "warning", "none: the repository will be created with ECR's defaults (no lifecycle policy)")
	case tpl.CustomRoleArn == "" && (len(tpl.ResourceTags) > 0 || strings.HasPrefix(tpl.EncryptionType, "KMS")):
		add("creation template", "failed", "the template "+tpl.Prefix+" sets tags or KMS without a customRoleArn: ECR cannot create the repository")
	case strings.HasPrefix(tpl.ImageTagMutability, "IMMUTABLE"):
		add("creation template", "warning", "the template "+tpl.Prefix+" makes tags immutable: the cache will never refresh them")
	default:
		add("creation template", "ok", "the template "+tpl.Prefix+" will shape the repository")
	}

	switch {
	case cache.Error != nil:
		add("cached", StatusNotChecked, "could not look: "+failedCall(*cache.Error))
	case cache.Cached && cache.Archived:
		// An archived image is described but cannot be pulled (archive-image.html).
		add(StepCached, "failed", "archived: ECR answers a pull of "+short(cache.Digest)+" with 404 until it is restored (aws ecr update-image-storage-class --target-storage-class STANDARD)")
	case cache.Cached:
		var missing []string
		for _, c := range cache.Children {
			if !c.Present {
				missing = append(missing, c.Platform)
			}
		}
		if len(missing) > 0 {
			add(StepCached, "failed", "the index is cached without "+strings.Join(missing, ", "))
		} else {
			add(StepCached, "ok", "cached: "+short(cache.Digest))
		}
		if ref.Tag != "" && ref.Digest == "" && probe.Exists && probe.Digest != "" && cache.Digest != "" && probe.Digest != cache.Digest {
			add("cached tag is current", "warning", "stale: the cache serves "+short(cache.Digest)+" for "+ref.Tag+", the upstream's "+ref.Tag+" is now "+
				short(probe.Digest)+"; ECR checks the upstream again at the next pull once 24 hours have passed since it last checked", upstreamEvidence(probe))
		}
	case ref.Tag == "":
		add(StepCached, "failed", "not cached, and a first pull by digest does not fill the cache")
	case cache.RepositoryExists && repo != nil && len(repo.Images) == 0:
		add(StepCached, "warning", "no platform of it is cached: the repository is empty (a failed first pull left it)")
	default:
		add(StepCached, "warning", "not cached yet: the next pull fetches it from the upstream")
	}
	ex.finish(d, cachedVerdict(ex.Steps, firstPullsOnly))
	return ex
}

// onlyImportActions reports whether the missing actions are only those ECR needs to
// bring an image in (import it, create its repository, tag it): reads of what is
// cached do not need them.
func onlyImportActions(missing []string) bool {
	for _, a := range missing {
		if a != "ecr:BatchImportUpstreamImage" && a != "ecr:CreateRepository" && a != "ecr:TagResource" {
			return false
		}
	}
	return true
}

// StepCached names the link that says whether the image is in the cache with every
// platform of its index; the other files match on it.
const StepCached = "cached for every platform"

// cachedVerdict is the verdict when the image is cached, every platform, and the only
// links that fail are principals that cannot import: what is cached pulls now; a first
// pull of another tag, and the refresh of this one, will fail. "" otherwise.
func cachedVerdict(steps []ExplainStep, firstPullsOnly map[string][]string) string {
	cached := false
	var who, missing []string
	for _, s := range steps {
		switch {
		case s.Name == StepCached && s.Status == "ok":
			cached = true
		case s.Status != "failed":
		case firstPullsOnly[s.Name] != nil:
			who = append(who, strings.TrimPrefix(s.Name, "permissions of "))
			for _, a := range firstPullsOnly[s.Name] {
				if !slices.Contains(missing, a) {
					missing = append(missing, a)
				}
			}
		default:
			return ""
		}
	}
	if !cached || len(who) == 0 {
		return ""
	}
	return "Pulls of what is cached work now; first pulls and refreshes will fail: " + strings.Join(who, ", ") + " lacks " +
		strings.Join(missing, ", ") + ", which ECR needs to bring an image in from the upstream."
}

// privateImage ends the chain of a repository no rule covers: the image is there or not.
func (ex *Explanation) privateImage(d *diagnosis, ref model.Ref) {
	c := d.probe.Cache(d.ctx, ref.Repository, ref.Identifier())
	step := ExplainStep{Name: "in the repository"}
	switch {
	case c.Error != nil:
		step.Status, step.Detail = StatusNotChecked, "could not look: "+failedCall(*c.Error)
	case c.Cached:
		step.Status, step.Detail = "ok", "the repository holds it: "+short(c.Digest)+"; nothing ever refreshes it from an upstream"
	default:
		step.Status, step.Detail = "failed", ref.Repository+" does not hold "+ref.Identifier()+" (ECR answers \"manifest unknown\"), and no rule will pull it from an upstream: push it, or pull a tag it holds"
	}
	ex.Steps = append(ex.Steps, step)
	ex.finish(d, "")
}

// finish writes the verdict from the first failed step and gathers the fixes the checks
// offer for this reference.
func (ex *Explanation) finish(d *diagnosis, verdict string) {
	findings := Run(d.ctx, d.snap, d.probe.p, Options{Refs: []model.Ref{ex.Ref}, Principals: d.opts.Principals,
		Checks: []string{"name-mismatch", "negative-cache", "missing-manifest", "credentials", "permissions", "creation-template", "upstream-rate-limit", "stale-tag"}})
	for _, f := range findings {
		if ex.concerns(f) {
			ex.Findings = append(ex.Findings, f)
		}
	}
	if verdict == "" {
		for _, s := range ex.Steps {
			if s.Status == "failed" {
				verdict = "The pull fails at \"" + s.Name + "\": " + s.Detail
				break
			}
		}
	}
	// A link that could not be read is not passed: with nothing failing elsewhere, the
	// pull is not judged, and no fix is offered on a chain only partly seen.
	notJudged := false
	if verdict == "" {
		var unread []string
		for _, s := range ex.Steps {
			if s.Status == StatusNotChecked {
				unread = append(unread, "\""+s.Name+"\" could not be checked ("+s.Detail+")")
			}
		}
		if len(unread) > 0 {
			notJudged = true
			verdict = "Whether the pull works could not be judged: " + strings.Join(unread, "; ") + ". Run explain again once it can be read."
		}
	}
	if verdict == "" {
		verdict = "Nothing on the path of this reference is broken."
		for _, s := range ex.Steps {
			if s.Name == "cached tag is current" && s.Status == "warning" {
				verdict = "The pull works but serves a stale image: " + s.Detail
				break
			}
		}
		for _, s := range ex.Steps {
			if s.Status == "warning" && !strings.HasPrefix(verdict, "The pull works but") {
				verdict = "The pull should work, with a warning at \"" + s.Name + "\": " + s.Detail
				break
			}
		}
	}
	ex.Verdict = verdict
	// The fixes of the link that breaks first come first.
	if first := firstFailedCheck(ex.Steps); first != "" {
		sort.SliceStable(ex.Findings, func(i, j int) bool {
			return ex.Findings[i].Check == first && ex.Findings[j].Check != first
		})
	}
	for _, f := range ex.Findings {
		if notJudged {
			break
		}
		if f.Severity == model.SeverityError || len(ex.Fixes) == 0 {
			ex.Fixes = append(ex.Fixes, f.Fixes...)
		}
	}
}

// stepChecks names the check that speaks of each link of the chain.
var stepChecks = map[string]string{"rule": "name-mismatch", "upstream reference": "name-mismatch", "upstream has it": "credentials",
	"pull budget": "upstream-rate-limit", "secret and validation": "credentials", "creation template": "creation-template",
	StepCached: "missing-manifest", "cached tag is current": "stale-tag"}

func firstFailedCheck(steps []ExplainStep) string {
	for _, s := range steps {
		if s.Status != "failed" {
			continue
		}
		if strings.HasPrefix(s.Name, "permissions") {
			return "permissions"
		}
		return stepChecks[s.Name]
	}
	return ""
}

// concerns reports whether a finding is about this reference, its repository or its rule.
func (ex *Explanation) concerns(f model.Finding) bool {
	r := ex.Ref
	switch f.Subject.Kind {
	case "reference":
		return f.Subject.Name == r.Input
	case "repository":
		return f.Subject.Name == r.Repository
	case "image":
		// Exactly this tag: v3.5 is not v3.5.16.
		return f.Subject.Name == r.Repository+":"+r.Identifier()
	case "rule":
		return f.Subject.Name == r.RulePrefix
	case "principal":
		return strings.Contains(f.Title, " "+r.RulePrefix+"/")
	case "template":
		return strings.HasPrefix(r.Repository, f.Subject.Name+"/")
	}
	return false
}

// StatusNotChecked marks a link of the chain whose read failed: nothing is concluded
// about it, and explain exits 3.
const StatusNotChecked = "not checked"

// NotChecked reports whether some link of the chain could not be read.
func (ex Explanation) NotChecked() bool {
	for _, s := range ex.Steps {
		if s.Status == StatusNotChecked {
			return true
		}
	}
	return false
}

func failedCall(pe model.PartError) string {
	return pe.Operation + " failed: " + strings.TrimSpace(pe.Code+" "+pe.Message)
}

func isFailure(p model.UpstreamProbe) bool {
	_, failed := probeFailure(p)
	return failed || (p.SecretError != nil && !p.Exists)
}

func probeFailureText(p model.UpstreamProbe) string {
	if pe, failed := probeFailure(p); failed {
		return failedCall(pe)
	}
	return "the rule's secret could not be read: " + failedCall(*p.SecretError)
}
