package diagnose

import (
	"context"
	"fmt"
	"regexp"
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
	if rule == nil {
		detail := "no pull through cache rule covers " + ref.Repository + " (rules: " + rulePrefixes(snap) + ")"
		if near := nearestPrefix(snap.Rules, ref.Repository); near != "" {
			detail += "; did you mean " + near + "/?"
		}
		if snap.Repository(ref.Repository) == nil {
			add("rule", "failed", detail)
			ex.finish(d, "No rule covers this reference, so ECR will not pull it through: the repository does not exist and never will.")
			return ex
		}
		// The repository exists (made by hand, or left when its rule was deleted): ECR serves
		// what it holds, like any repository, and answers a tag it lacks with "manifest
		// unknown: Requested image not found", not "repository does not exist".
		cache := d.probe.Cache(ctx, ref.Repository, ref.Identifier())
		switch {
		case cache.Error != nil:
			add("rule", "warning", detail+"; the repository exists, and whether it holds this image could not be read: "+cache.Error.Message)
			ex.finish(d, "")
		case cache.Cached:
			add("rule", "warning", detail+"; the repository exists and holds this image ("+short(cache.Digest)+"), so pulls work, but nothing ever refreshes it from an upstream")
			ex.finish(d, "")
		default:
			add("rule", "failed", detail+"; the repository exists but does not hold this image, and nothing pulls it through")
			ex.finish(d, "No rule covers this reference and its repository does not hold it: the pull fails with \"manifest unknown: Requested image not found\".")
		}
		return ex
	}
	add("rule", "ok", fmt.Sprintf("%s/ → %s (%s)", rule.Prefix, rule.UpstreamURL, rule.UpstreamRegistry))

	up := ref.Upstream
	if _, ok := d.libraryMismatch(ref.Repository, orDefault(ref.Tag, "latest"), nil, false); ok {
		add("upstream reference", "failed", up+": a Docker Hub name that needs, or must not have, library/")
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
	switch {
	case probe.Exists && probe.Class == "":
		detail := "the upstream has it (" + who + "): " + short(probe.Digest)
		if len(probe.Platforms) > 0 {
			detail += ", " + strings.Join(probe.Platforms, ", ")
		}
		add("upstream has it", "ok", detail, upstreamEvidence(probe))
	case probe.Exists:
		add("upstream has it", "warning", "the upstream has it, but "+probe.Message, upstreamEvidence(probe))
	default:
		add("upstream has it", "failed", fmt.Sprintf("the upstream answered %s (%s)", probe.Class, who), upstreamEvidence(probe))
	}

	if rl := probe.RateLimit; rl != nil {
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
		creds := checkCredentials(&diagnosis{ctx: ctx, snap: &model.Snapshot{Rules: []model.Rule{*rule}, Region: snap.Region}})
		if len(creds) > 0 {
			add("secret and validation", "failed", creds[0].Explanation, creds[0].Evidence...)
		} else {
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
	for _, principal := range d.opts.Principals {
		p := d.probe.Permissions(ctx, principal, repoARN(snap, ref.Repository), snap.RegistryPolicy, actions)
		switch {
		case p.Error != nil:
			add("permissions of "+p.Principal, "warning", "could not simulate: "+p.Error.Message)
		case len(p.Missing) > 0:
			add("permissions of "+p.Principal, "failed", "lacks "+strings.Join(p.Missing, ", ")+": "+permissionsExplanation(p.Missing))
		default:
			add("permissions of "+p.Principal, "ok", "may "+strings.Join(actions, ", "))
		}
	}

	switch {
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

	cache := d.probe.Cache(ctx, ref.Repository, ref.Identifier())
	switch {
	case cache.Error != nil:
		add("cached", "warning", "could not look: "+cache.Error.Message)
	case cache.Cached:
		var missing []string
		for _, c := range cache.Children {
			if !c.Present {
				missing = append(missing, c.Platform)
			}
		}
		if len(missing) > 0 {
			add("cached, every platform", "failed", "the index is cached without "+strings.Join(missing, ", "))
		} else {
			add("cached, every platform", "ok", "cached: "+short(cache.Digest))
		}
	case ref.Tag == "":
		add("cached, every platform", "failed", "not cached, and a first pull by digest does not fill the cache")
	case cache.RepositoryExists && repo != nil && len(repo.Images) == 0:
		add("cached, every platform", "warning", "not cached; the repository is empty (a failed first pull left it)")
	default:
		add("cached, every platform", "warning", "not cached yet: the next pull goes to the upstream")
	}
	ex.finish(d, "")
	return ex
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
	if verdict == "" {
		verdict = "Nothing on the path of this reference is broken."
		for _, s := range ex.Steps {
			if s.Status == "warning" {
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
		if f.Severity == model.SeverityError || len(ex.Fixes) == 0 {
			ex.Fixes = append(ex.Fixes, f.Fixes...)
		}
	}
}

// stepChecks names the check that speaks of each link of the chain.
var stepChecks = map[string]string{"rule": "name-mismatch", "upstream reference": "name-mismatch", "upstream has it": "credentials",
	"pull budget": "upstream-rate-limit", "secret and validation": "credentials", "creation template": "creation-template",
	"cached, every platform": "missing-manifest"}

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
		return strings.HasPrefix(f.Subject.Name, r.Repository+":")
	case "rule":
		return f.Subject.Name == r.RulePrefix
	case "principal":
		return strings.Contains(f.Title, " "+r.RulePrefix+"/")
	case "template":
		return strings.HasPrefix(r.Repository, f.Subject.Name+"/")
	}
	return false
}

// ErrorMeaning is what a pasted error message means.
type ErrorMeaning struct {
	Matched   string   // the part of the message that was recognised
	Meaning   string   // what it means, in ECR's terms
	Causes    []string // the likely causes, most likely first
	NextSteps []string // what to check next
	Reference string   // a cache URI found in the message, to explain
}

var errorPatterns = []struct {
	re        *regexp.Regexp
	meaning   string
	causes    []string
	nextSteps []string
}{
	{regexp.MustCompile(`(?i)toomanyrequests|too many requests|rate limit|\b429\b|UpstreamTooManyRequests`),
		"The upstream registry rate limited the pull (Docker Hub: the pull budget of the rule's account, or of anonymous pulls, is spent).",
		[]string{"the rule's Docker Hub account is on a plan with a pull limit and spent it in the 6-hour window", "many new images or platforms were pulled through at once"},
		[]string{"ptcdoctor doctor --check upstream-rate-limit", "put the credentials of a paid Docker plan on the rule"}},
	{regexp.MustCompile(`(?i)authentication to the upstream registry failed|UpstreamAccessDenied`),
		"The upstream refused the rule's credentials, or the path does not exist upstream (Docker Hub answers 401 for a repository that does not exist, which ECR reports as an authentication failure).",
		[]string{"the access token in the rule's secret expired or was revoked", "library/ was put before a multi-segment name (docker-hub/library/org/app)", "the secret is not {\"username\", \"accessToken\"}"},
		[]string{"aws ecr validate-pull-through-cache-rule --ecr-repository-prefix <prefix>", "ptcdoctor explain <the reference>"}},
	{regexp.MustCompile(`(?i)403 forbidden|status code \[manifests [^\]]*\]: 403`),
		"ECR answered 403 Forbidden for the manifest: for a Docker Hub rule, an official image pulled without library/.",
		[]string{"docker-hub/nginx instead of docker-hub/library/nginx", "the pulling principal lacks ecr:BatchGetImage"},
		[]string{"ptcdoctor explain <the reference>", "use <prefix>/library/<image> for Docker official images"}},
	{regexp.MustCompile(`(?i)no resource-based policy allows the ecr:BatchGetImage`),
		"A principal of another account pulled from a cache repository whose repository policy does not grant it.",
		[]string{"cache repositories are created without a repository policy unless the creation template sets one"},
		[]string{"give the creation template a repositoryPolicy granting the other account ecr:BatchGetImage", "ptcdoctor doctor --check creation-template"}},
	{regexp.MustCompile(`(?i)not authorized to perform: (ecr:[A-Za-z]+)`),
		"The principal lacks an IAM permission for this ECR action.",
		[]string{"the role's policy (for example AmazonEC2ContainerRegistryReadOnly) lacks the action; AmazonEC2ContainerRegistryPullOnly includes pull through"},
		[]string{"ptcdoctor doctor --check permissions --principal <the role's ARN>"}},
	{regexp.MustCompile(`(?i)does not exist in the registry with id|name unknown|repository .* not found`),
		"The repository does not exist, and ECR did not create it.",
		[]string{"no pull through cache rule covers the prefix (a typo: dockerhub/ for docker-hub/)", "the pulling principal lacks ecr:CreateRepository", "the creation template sets tags or KMS without a customRoleArn, so creation failed"},
		[]string{"ptcdoctor explain <the reference>", "ptcdoctor doctor --check permissions --principal <the role's ARN>"}},
	{regexp.MustCompile(`(?i)requested image not found|manifest unknown|manifest for .* not found|ImageNotFound`),
		"The cache does not have the image and did not import it.",
		[]string{"the tag does not exist upstream (yet)", "the pulling principal lacks ecr:BatchImportUpstreamImage", "the reference is pinned by digest and was never pulled by tag: a first pull by digest does not fill the cache", "a first pull failed before and left an empty repository",
			"no rule covers the repository (it was made by hand, or its rule was deleted), so only what it already holds can be pulled"},
		[]string{"ptcdoctor explain <the reference>"}},
	{regexp.MustCompile(`(?i)UnableToGetUpstreamImage|secrets manager secret`),
		"ECR could not use the rule's Secrets Manager secret.",
		[]string{"the secret was deleted, is in another region, or is encrypted with a customer managed KMS key", "the secret is not {\"username\", \"accessToken\"}"},
		[]string{"ptcdoctor doctor --check credentials"}},
	{regexp.MustCompile(`(?i)no basic auth credentials|authorization token has expired|401 unauthorized|denied: your authorization token`),
		"The client is not logged in to ECR, or its token (12 hours) expired.",
		[]string{"docker login was never run, or more than 12 hours ago", "the kubelet credential provider is not configured"},
		[]string{"aws ecr get-login-password --region <region> | docker login --username AWS --password-stdin <account>.dkr.ecr.<region>.amazonaws.com"}},
	{regexp.MustCompile(`(?i)production\.cloudflare\.docker\.com|i/o timeout|dial tcp .*:443`),
		"The client could not reach a host: layers not cached yet may be redirected to the upstream's CDN.",
		[]string{"the first pull of an image needs a route to the internet even with ECR VPC endpoints"},
		[]string{"warm the image from a host with egress: ptcdoctor fix --check missing-manifest"}},
	{regexp.MustCompile(`(?i)unable to locate any tags`),
		"A tool listed the repository's tags; ECR lists only the tags it has cached, never the upstream's.",
		[]string{"helm dependency update or Flux asked for tags of a chart not pulled through yet"},
		[]string{"pin the version and pull it once (helm pull) to cache it"}},
}

var cacheURIRE = regexp.MustCompile(`[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/[a-z0-9._/-]+(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(@sha256:[a-f0-9]{64})?`)

// ExplainError reads an error message pasted from docker, containerd or kubelet.
func ExplainError(text string) (ErrorMeaning, bool) {
	if len(text) > 16384 {
		text = text[:16384]
	}
	em := ErrorMeaning{}
	if m := cacheURIRE.FindString(text); m != "" {
		em.Reference = m
	}
	for _, p := range errorPatterns {
		if m := p.re.FindString(text); m != "" {
			em.Matched, em.Meaning, em.Causes = model.Printable(m), p.meaning, p.causes
			em.NextSteps = append([]string(nil), p.nextSteps...)
			if em.Reference != "" {
				for i, s := range em.NextSteps {
					em.NextSteps[i] = strings.ReplaceAll(s, "<the reference>", em.Reference)
				}
			}
			return em, true
		}
	}
	return em, false
}
