package diagnose

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// --- credentials ---

func checkCredentials(d *diagnosis) []model.Finding {
	var out []model.Finding
	for _, r := range d.snap.Rules {
		if r.CredentialArn == "" {
			continue
		}
		var why []string
		var ev []model.Evidence
		subject := model.Subject{Kind: "rule", Name: r.Prefix}
		sec := r.Secret
		secretRead := sec != nil && (sec.Error == nil || otherRegion(sec))
		if sec != nil {
			switch {
			case otherRegion(sec):
				why = append(why, fmt.Sprintf("the secret %s is in %s; ECR reads a rule's secret only from the registry's own region, %s", sec.Name, sec.Region, d.snap.Region))
				ev = append(ev, model.Evidence{Call: "credentialArn of rule " + r.Prefix, Answer: r.CredentialArn})
			case sec.Error != nil:
				d.skip(subject, *sec.Error) // what the secret is like is unknown: no evidence of it
			case !sec.Exists:
				why = append(why, "the secret "+sec.ARN+" does not exist")
				ev = append(ev, model.Evidence{Call: "secretsmanager:DescribeSecret " + sec.ARN, Answer: "ResourceNotFoundException"})
			case sec.Deleted:
				why = append(why, "the secret "+sec.Name+" is scheduled for deletion")
				ev = append(ev, model.Evidence{Call: "secretsmanager:DescribeSecret " + sec.ARN, Answer: "DeletedDate is set"})
			case sec.CustomerKey():
				why = append(why, "the secret "+sec.Name+" is encrypted with a customer managed KMS key; ECR can only use secrets encrypted with the default aws/secretsmanager key")
				ev = append(ev, model.Evidence{Call: "secretsmanager:DescribeSecret " + sec.ARN, Answer: "KmsKeyId " + sec.KMSKeyID})
			}
		}
		if v := r.Validation; v != nil {
			if v.Error != nil {
				d.skip(subject, *v.Error)
			} else if !v.IsValid {
				why = append(why, "ValidatePullThroughCacheRule says the rule is not valid: "+v.Failure)
				ev = append(ev, model.Evidence{Call: "ecr:ValidatePullThroughCacheRule " + r.Prefix, Answer: "isValid=false, failure=" + v.Failure})
			} else {
				ev = append(ev, model.Evidence{Call: "ecr:ValidatePullThroughCacheRule " + r.Prefix, Answer: "isValid=true"})
			}
		}
		if len(why) == 0 {
			continue
		}
		name := r.CredentialArn
		if sec != nil && sec.Name != "" {
			name = sec.Name
		}
		f := model.Finding{Subject: subject,
			Title: fmt.Sprintf("The credentials of rule %s/ cannot be used", r.Prefix),
			Explanation: "Pulls through " + r.Prefix + "/ of images not cached yet, and the 24-hour refreshes of cached tags, fail while " +
				strings.TrimSuffix(strings.Join(why, "; and "), ".") + ". Cached images are still served.",
			Evidence: ev}
		if sec != nil && sec.Exists && !sec.CustomerKey() && sec.Error == nil {
			f.Fixes = append(f.Fixes, model.Fix{Title: "Store new credentials in " + name + ", then validate the rule again",
				Plan: model.Plan{Title: "New credentials for " + r.Prefix + "/", Steps: []model.Step{putSecretStep(sec.ARN, name)}}})
		}
		if secretRead && (sec.CustomerKey() || !sec.Exists || sec.Error != nil) {
			f.Fixes = append(f.Fixes, model.Fix{Title: "Move the credentials to a secret ECR can read",
				Manual: fmt.Sprintf("Create a secret named ecr-pullthroughcache/%s in %s, encrypted with the default aws/secretsmanager key, holding {\"username\": \"...\", \"accessToken\": \"...\"}; then point the rule at it:\n  aws ecr update-pull-through-cache-rule --ecr-repository-prefix %s --credential-arn <the new secret's ARN>",
					r.Prefix, d.snap.Region, r.Prefix)})
		}
		out = append(out, f)
	}
	return out
}

// otherRegion reports whether the secret was not looked up because it is in another
// region than the registry: that is a finding, not a failed read.
func otherRegion(sec *model.SecretRef) bool {
	return sec.Error != nil && sec.Error.Code == "" && strings.Contains(sec.Error.Message, "is in region")
}

// --- permissions ---

func checkPermissions(d *diagnosis) []model.Finding {
	var out []model.Finding
	if len(d.opts.Principals) == 0 {
		// The caller is the principal by default; who that is could not be read.
		d.read(model.Subject{Kind: "principal", Name: "the caller"}, model.PartIdentity)
	}
	for _, principal := range d.opts.Principals {
		// One finding a principal: the rules it cannot pull through, grouped by what it lacks.
		type gap struct {
			missing []string
			rules   []string
			ev      []model.Evidence
		}
		gaps := map[string]*gap{}
		var order []string
		iamARN := principal
		failed := false
		for _, r := range d.snap.Rules {
			prefix := r.Prefix + "/"
			if r.Prefix == "ROOT" {
				prefix = ""
			}
			resource := repoARN(d.snap, prefix+"*")
			actions := []string{"ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
				"ecr:BatchCheckLayerAvailability", "ecr:BatchImportUpstreamImage", "ecr:CreateRepository"}
			if tpl := model.TemplateFor(d.snap.Templates, prefix+"x"); tpl != nil && len(tpl.ResourceTags) > 0 {
				actions = append(actions, "ecr:TagResource")
			}
			p, ok := d.permissions(principal, resource, actions)
			iamARN = p.Principal
			if !ok {
				failed = true
				break
			}
			if len(p.Missing) == 0 {
				continue
			}
			key := strings.Join(p.Missing, ",")
			g := gaps[key]
			if g == nil {
				g = &gap{missing: p.Missing}
				gaps[key] = g
				order = append(order, key)
			}
			g.rules = append(g.rules, r.Prefix)
			for _, a := range p.Missing {
				ans := p.Decisions[a]
				if p.RegistryPolicy[a] {
					ans += " (the registry policy grants it, but something denies it)"
				}
				g.ev = append(g.ev, model.Evidence{Call: "iam:SimulatePrincipalPolicy " + a + " on " + resource, Answer: ans + "; registry policy: no grant"})
			}
		}
		if failed {
			continue // not checked, with the simulation's error
		}
		for _, key := range order {
			g := gaps[key]
			var prefixes, resources []string
			for _, p := range g.rules {
				prefixes = append(prefixes, p+"/")
				resources = append(resources, repoARN(d.snap, strings.TrimPrefix(p+"/", "ROOT/")+"*"))
			}
			f := model.Finding{Subject: model.Subject{Kind: "principal", Name: iamARN}, Distinct: key + " on " + strings.Join(prefixes, ","),
				Title:       fmt.Sprintf("%s cannot pull through %s: it lacks %s", iamARN, strings.Join(prefixes, ", "), strings.Join(g.missing, ", ")),
				Explanation: permissionsExplanation(g.missing),
				Evidence:    g.ev}
			if fx, ok := registryPolicyFix(iamARN, g.missing, prefixes, resources); ok {
				f.Fixes = append(f.Fixes, fx)
			}
			f.Fixes = append(f.Fixes, model.Fix{Title: "Or attach this IAM policy to " + iamARN, Manual: iamPolicyFor(g.missing, resources)})
			out = append(out, f)
		}
	}
	return out
}

func permissionsExplanation(missing []string) string {
	var parts []string
	for _, a := range missing {
		switch a {
		case "ecr:BatchImportUpstreamImage":
			parts = append(parts, "without ecr:BatchImportUpstreamImage, a pull of an image that is not cached yet fails with \"Requested image not found\" even though the upstream has it")
		case "ecr:CreateRepository":
			parts = append(parts, "without ecr:CreateRepository, the first pull of an image whose cache repository does not exist yet fails with \"The repository ... does not exist\"")
		case "ecr:GetAuthorizationToken":
			parts = append(parts, "without ecr:GetAuthorizationToken no login to the registry works, so no pull does (only an IAM policy grants it: it is not an action on a repository)")
		case "ecr:TagResource":
			parts = append(parts, "the creation template adds tags, so creating the repository needs ecr:TagResource too")
		default:
			parts = append(parts, "without "+a+" no pull works at all")
		}
	}
	return strings.Join(parts, "; ") + ". These may come from the principal's IAM policy or from the registry policy."
}

// registryPolicyFix grants, in one registry policy statement merged with what is there,
// the missing actions a registry policy can grant. What it cannot (GetAuthorizationToken)
// stays a manual step, with the identity policy to attach, and then the plan's title
// promises no pull.
func registryPolicyFix(principal string, missing, prefixes, resources []string) (model.Fix, bool) {
	var grant, identity []string
	for _, a := range missing {
		if notOnARepository[a] {
			identity = append(identity, a)
		} else {
			grant = append(grant, a)
		}
	}
	if len(grant) == 0 {
		return model.Fix{}, false
	}
	on := strings.Join(prefixes, ", ")
	step := model.Step{Kind: model.StepAddRegistryPolicyStatement, Operation: "ecr:PutRegistryPolicy", Target: "registry policy",
		Params:  map[string]string{"statement": registryGrant(principal, grant, resources)},
		Summary: "Add one statement granting " + principal + " " + strings.Join(grant, ", ") + " on " + strings.Join(resources, ", ")}
	fx := model.Fix{Title: "Grant " + strings.Join(grant, ", ") + " in the registry policy (merged with what is there)",
		Plan: model.Plan{Title: "Let " + principal + " pull through " + on, Steps: []model.Step{step}}}
	if len(identity) > 0 {
		fx.Title += "; " + strings.Join(identity, ", ") + " only an IAM policy grants"
		fx.Plan.Title = "Grant " + principal + " " + strings.Join(grant, ", ") + " on " + on +
			" (not enough to pull: " + strings.Join(identity, ", ") + " must come from an IAM policy)"
		fx.Manual = "A registry policy cannot grant " + strings.Join(identity, ", ") + " (it is not an action on a repository): attach this IAM policy to " +
			principal + " as well:\n" + iamPolicyFor(identity, nil)
	}
	return fx, true
}

// --- name-mismatch ---

// handMadeHints are words in a repository name that say someone meant it to be a cache.
var handMadeHints = []string{"proxy", "cache", "mirror", "hub", "docker", "ghcr", "quay", "upstream", "pullthrough"}

func checkNameMismatch(d *diagnosis) []model.Finding {
	var out []model.Finding
	seen := map[string]bool{}
	// The account's repositories.
	for _, repo := range d.snap.Repositories {
		if f, ok := d.libraryMismatch(repo.Name, repoTag(repo), &repo); ok {
			seen[repo.Name] = true
			out = append(out, f)
			continue
		}
		if f, ok := d.repoPrefixMismatch(repo); ok {
			seen[repo.Name] = true
			out = append(out, f)
			continue
		}
		if repo.RulePrefix == "" && !isOrphan(d.snap, repo) && looksMeantAsCache(repo.Name) && d.imagesRead(model.Subject{Kind: "repository", Name: repo.Name}, repo) {
			out = append(out, model.Finding{Severity: model.SeverityWarning, Subject: model.Subject{Kind: "repository", Name: repo.Name},
				Title: "The repository " + repo.Name + " looks meant as a cache, but no rule covers it",
				Explanation: "A repository is a pull through cache only under a rule's prefix (prefix/image:tag), and ECR creates such repositories itself. " +
					repo.Name + " was made by hand and no rule covers it, so pulls of " + repo.Name + "/<image> fail with \"repository does not exist\", pulls of a tag it lacks with \"manifest unknown\", and nothing is ever pulled into it.",
				Evidence: []model.Evidence{{Call: "ecr:DescribePullThroughCacheRules", Answer: "prefixes: " + rulePrefixes(d.snap)},
					{Call: "ecr:DescribeImages " + repo.Name, Answer: plural(len(repo.Images), "image", "images")}},
				Fixes: []model.Fix{meantRuleFix(d.snap, repo.Name)}})
		}
	}
	// The references to check.
	for _, ref := range d.opts.Refs {
		if seen[ref.Repository] {
			continue
		}
		if ref.RulePrefix == "" {
			if near, first, fixed, how := nearRule(d.snap.Rules, ref.Repository); near != "" {
				names := " names a repository that does not exist and never will."
				if d.snap.Repository(ref.Repository) != nil {
					// It exists (made by hand): ECR serves what it holds and answers a tag it lacks
					// with "manifest unknown", but never pulls anything into it.
					names = " names a repository that exists but that no rule fills: a tag it lacks fails with \"manifest unknown\"."
				}
				out = append(out, model.Finding{Subject: model.Subject{Kind: "reference", Name: ref.Input},
					Title:       fmt.Sprintf("%s/ is not a rule's prefix; did you mean %s/?", first, near),
					Explanation: "No pull through cache rule has the prefix " + first + "/, so " + ref.CacheURI() + names + " The rule " + near + "/ " + how + ".",
					Evidence:    []model.Evidence{{Call: "ecr:DescribePullThroughCacheRules", Answer: "prefixes: " + rulePrefixes(d.snap)}},
					Fixes:       []model.Fix{{Title: "Use " + cacheRef(d.snap, fixed, ref.Identifier()), Manual: "Change the reference to " + cacheRef(d.snap, fixed, ref.Identifier())}}})
			}
			continue
		}
		if f, ok := d.libraryMismatch(ref.Repository, orDefault(ref.Tag, "latest"), nil); ok {
			f.Subject = model.Subject{Kind: "reference", Name: ref.Input}
			out = append(out, f)
			seen[ref.Repository] = true
			continue
		}
		if f, ok := d.upstreamPrefixMismatch(ref); ok {
			out = append(out, f)
		}
	}
	return out
}

// libraryMismatch finds a Docker Hub name that needs, or must not have, library/. For
// one of the account's repositories, inRepo is it: an empty one may be deleted.
func (d *diagnosis) libraryMismatch(repo, tag string, inRepo *model.Repository) (model.Finding, bool) {
	r := model.RuleFor(d.snap.Rules, repo)
	if r == nil || r.UpstreamRegistry != "docker-hub" {
		return model.Finding{}, false
	}
	path := model.UpstreamPath(r, repo)
	var fixedPath, why string
	switch {
	case !strings.Contains(path, "/"):
		fixedPath = "library/" + path
		why = "Docker Hub's official images live under library/: " + path + " is library/" + path + ". ECR does not add library/, so the upstream answers 401 for " + path + " and ECR answers the pull with 403 Forbidden."
	case strings.HasPrefix(path, "library/") && strings.Count(path, "/") >= 2:
		fixedPath = strings.TrimPrefix(path, "library/")
		why = "library/ holds only Docker Hub's official images, which have one-segment names; " + path + " does not exist, and Docker Hub's 401 for it reaches you as \"The authentication to the upstream registry failed\"."
	default:
		return model.Finding{}, false
	}
	fixedRepo := strings.TrimSuffix(repo, path) + fixedPath
	if r.UpstreamPrefix != "" && r.UpstreamPrefix != "ROOT" {
		return model.Finding{}, false
	}
	subject := model.Subject{Kind: "repository", Name: repo}
	wrong, okWrong := d.upstream(subject, *r, r.UpstreamURL+"/"+path+":"+tag, false)
	right, okRight := d.upstream(subject, *r, r.UpstreamURL+"/"+fixedPath+":"+tag, false)
	var listed []model.Evidence
	if okWrong && okRight && !wrong.Exists && right.Class == "not-found" {
		// The fixed name may lack this tag (no latest): ask its tag list for one it has.
		if t, ev, ok := d.existingTag(subject, *r, fixedPath, tag); ok && t != tag {
			tag, listed = t, []model.Evidence{ev}
			wrong, okWrong = d.upstream(subject, *r, r.UpstreamURL+"/"+path+":"+tag, false)
			right, okRight = d.upstream(subject, *r, r.UpstreamURL+"/"+fixedPath+":"+tag, false)
		}
	}
	if !okWrong || !okRight || wrong.Exists || (!right.Exists && right.Class != "rate-limited") {
		return model.Finding{}, false // the name works, or the fixed one does not either
	}
	f := model.Finding{Subject: subject,
		Title:       fmt.Sprintf("%s cannot work: use %s", cacheRef(d.snap, repo, tag), cacheRef(d.snap, fixedRepo, tag)),
		Explanation: why,
		Evidence:    append([]model.Evidence{upstreamEvidence(wrong), upstreamEvidence(right)}, listed...)}
	var steps []model.Step
	if inRepo != nil && inRepo.ImagesKnown && len(inRepo.Images) == 0 {
		steps = append(steps, deleteEmptyRepoStep(repo))
	}
	steps = append(steps, warmStep(fixedRepo, tag))
	f.Fixes = append(f.Fixes, model.Fix{Title: "Pull " + cacheRef(d.snap, fixedRepo, tag) + " instead",
		Plan: model.Plan{Title: "Use " + fixedRepo, Steps: steps}})
	f.Fixes = append(f.Fixes, model.Fix{Title: "Change the references that use " + repo,
		Manual: "Replace " + cacheRef(d.snap, repo, tag) + " with " + cacheRef(d.snap, fixedRepo, tag) + " in manifests, Helm values and Dockerfiles."})
	return f, true
}

// meantRuleFix says how to create the rule a hand-made repository was meant to be: for
// the upstream its name names (ghcr-proxy: GitHub Container Registry), else Docker Hub.
func meantRuleFix(snap *model.Snapshot, name string) model.Fix {
	u, _ := UpstreamByID("docker-hub")
	lower := strings.ToLower(name)
	for _, h := range []struct{ hint, id string }{{"ghcr", "github-container-registry"}, {"github", "github-container-registry"},
		{"gitlab", "gitlab-container-registry"}, {"quay", "quay"}, {"k8s", "k8s"}, {"kubernetes", "k8s"},
		{"chainguard", "chainguard"}, {"cgr", "chainguard"}, {"ecr-public", "ecr-public"}} {
		if strings.Contains(lower, h.hint) {
			u, _ = UpstreamByID(h.id)
			break
		}
	}
	as := snap.RegistryURI() + "/" + name + "/<image path>:<tag>"
	if u.ID == "docker-hub" {
		as = snap.RegistryURI() + "/" + name + "/library/<image>:<tag>"
	}
	return model.Fix{Title: "Create the rule that was meant",
		Manual: fmt.Sprintf("To pull %s images as %s, create a rule with the prefix %s:\n  ptcdoctor setup --upstream %s --prefix %s\nThen pull through %s/<image path>; the repository %s itself can be deleted once nothing uses it.",
			u.Name, as, name, u.ID, name, snap.RegistryURI()+"/"+name, name)}
}

func looksMeantAsCache(name string) bool {
	lower := strings.ToLower(name)
	for _, h := range handMadeHints {
		if strings.Contains(lower, h) {
			return true
		}
	}
	return false
}

// nearestPrefix finds the rule prefix a repository name nearly has (see nearRule).
func nearestPrefix(rules []model.Rule, repo string) string {
	near, _, _, _ := nearRule(rules, repo)
	return near
}

func rulePrefixes(snap *model.Snapshot) string {
	var p []string
	for _, r := range snap.Rules {
		p = append(p, r.Prefix+"/")
	}
	if len(p) == 0 {
		return "(none)"
	}
	return strings.Join(p, ", ")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// --- negative-cache ---

func checkNegativeCache(d *diagnosis) []model.Finding {
	var out []model.Finding
	covered := map[string]bool{}
	for _, ref := range d.opts.Refs {
		if ref.RulePrefix == "" || ref.Tag == "" {
			continue
		}
		subject := model.Subject{Kind: "reference", Name: ref.Input}
		repo := d.snap.Repository(ref.Repository)
		if repo == nil || !d.imagesRead(subject, *repo) || len(repo.Images) > 0 || coveredByNameMismatch(d, repo.Name) {
			continue
		}
		r := d.snap.Rule(ref.RulePrefix)
		up, ok := d.upstream(subject, *r, upstreamRef(r, ref.Repository, ref.Tag), false)
		if !ok {
			covered[repo.Name] = true // not checked, under the reference's name
			continue
		}
		if !up.Exists {
			continue
		}
		covered[repo.Name] = true
		out = append(out, model.Finding{Subject: subject,
			Title: "The cache holds nothing for " + ref.CacheURI() + ", though the upstream has it now",
			Explanation: "The repository " + repo.Name + " exists but is empty: a first pull created it and failed. The upstream has " + up.Reference +
				" now, yet pulls may go on failing. ECR documents no negative cache; what was seen is an empty repository left by a failed first pull while the image exists upstream. Delete the empty repository and pull again.",
			Evidence: []model.Evidence{{Call: "ecr:DescribeImages " + repo.Name, Answer: "0 images; created " + repo.CreatedAt.UTC().Format("2006-01-02 15:04 MST")}, upstreamEvidence(up)},
			Fixes: []model.Fix{{Title: "Delete the empty repository, then pull " + ref.Tag + " through the cache",
				Plan: model.Plan{Title: "Clear the trace of the failed pull of " + ref.Repository, Steps: []model.Step{deleteEmptyRepoStep(repo.Name), warmStep(repo.Name, ref.Tag)}}}}})
	}
	for _, repo := range d.snap.Repositories {
		if !repo.IsCache() || covered[repo.Name] || coveredByNameMismatch(d, repo.Name) ||
			!d.imagesRead(model.Subject{Kind: "repository", Name: repo.Name}, repo) || len(repo.Images) > 0 {
			continue
		}
		out = append(out, model.Finding{Subject: model.Subject{Kind: "repository", Name: repo.Name},
			Title: "The cache repository " + repo.Name + " is empty: the trace of a failed first pull",
			Explanation: "ECR creates a cache repository on the first pull through it; this one holds no image, so that pull failed (a missing tag, missing permissions, bad credentials or a rate limit). " +
				"ECR documents no negative cache; an empty repository is what is seen. Check the reference with `ptcdoctor explain " + cacheRef(d.snap, repo.Name, "<tag>") + "`.",
			Evidence: []model.Evidence{{Call: "ecr:DescribeImages " + repo.Name, Answer: "0 images; created " + repo.CreatedAt.UTC().Format("2006-01-02 15:04 MST")}},
			Fixes: []model.Fix{{Title: "Delete the empty repository (a new pull creates it again)",
				Plan: model.Plan{Title: "Delete the empty repository " + repo.Name, Steps: []model.Step{deleteEmptyRepoStep(repo.Name)}}}}})
	}
	return out
}

// coveredByNameMismatch reports whether the empty repository is explained by a wrong name.
func coveredByNameMismatch(d *diagnosis, repo string) bool {
	r := model.RuleFor(d.snap.Rules, repo)
	if r == nil || r.UpstreamRegistry != "docker-hub" {
		return false
	}
	path := model.UpstreamPath(r, repo)
	return !strings.Contains(path, "/") || (strings.HasPrefix(path, "library/") && strings.Count(path, "/") >= 2)
}

// --- missing-manifest ---

func checkMissingManifest(d *diagnosis) []model.Finding {
	var out []model.Finding
	for _, repo := range d.snap.Repositories {
		subject := model.Subject{Kind: "repository", Name: repo.Name}
		if !repo.IsCache() || !d.imagesRead(subject, repo) || !d.read(subject, model.PartIndexes(repo.Name)) {
			continue
		}
		for _, img := range repo.Images {
			missing := img.MissingPlatforms()
			if len(missing) == 0 || len(img.Tags) == 0 {
				continue
			}
			tag := img.Tags[0]
			out = append(out, model.Finding{Subject: model.Subject{Kind: "image", Name: repo.Name + ":" + tag},
				Title: fmt.Sprintf("%s:%s is cached without %s", repo.Name, tag, strings.Join(missing, ", ")),
				Explanation: "The index is cached but not the manifests of " + strings.Join(missing, ", ") +
					". Clients on those platforms fetch the platform's manifest by digest, and a pull by digest of a manifest that is not cached does not fill the cache: they fail with \"manifest unknown\". A pull by tag caches the index and every manifest it references.",
				Evidence: []model.Evidence{{Call: "ecr:BatchGetImage " + repo.Name + "@" + short(img.Digest.String()) + " (by digest)", Answer: childrenSummary(img)}},
				Fixes: []model.Fix{{Title: "Pull " + tag + " through the cache by tag, every platform",
					Plan: model.Plan{Title: "Complete " + repo.Name + ":" + tag, Steps: []model.Step{warmStep(repo.Name, tag)}}}}})
		}
	}
	for _, ref := range d.opts.Refs {
		if ref.RulePrefix == "" {
			continue
		}
		subject := model.Subject{Kind: "reference", Name: ref.Input}
		repo := d.snap.Repository(ref.Repository)
		if repo != nil && (!d.imagesRead(subject, *repo) || len(repo.Images) == 0) {
			continue // negative-cache speaks of an empty one
		}
		id := ref.Identifier()
		c, ok := d.cache(subject, ref.Repository, id)
		if !ok || c.Cached {
			continue
		}
		if ref.Digest != "" {
			f := model.Finding{Severity: model.SeverityError, Subject: subject,
				Title: ref.CacheURI() + " is pinned by digest and not cached: the pull will fail",
				Explanation: "A first pull by digest does not fill a pull through cache; only a pull by tag does. Until the tag that points at " + short(ref.Digest) +
					" is pulled through the cache, pulls of this reference fail with \"manifest unknown\".",
				Evidence: []model.Evidence{{Call: "ecr:DescribeImages " + ref.Repository + " imageDigest=" + ref.Digest, Answer: notCachedAnswer(c)}}}
			if ref.Tag != "" {
				f.Fixes = append(f.Fixes, model.Fix{Title: "Pull " + ref.Tag + " through the cache by tag",
					Plan: model.Plan{Title: "Warm " + ref.Repository + ":" + ref.Tag, Steps: []model.Step{warmStep(ref.Repository, ref.Tag)}}})
			} else {
				f.Fixes = append(f.Fixes, model.Fix{Title: "Pull the tag that points at this digest", Manual: "Find the tag that points at " + ref.Digest + " upstream and pull " + cacheRef(d.snap, ref.Repository, "<that tag>") + " once."})
			}
			out = append(out, f)
			continue
		}
		out = append(out, model.Finding{Severity: model.SeverityInfo, Subject: subject,
			Title:       ref.CacheURI() + " is not cached yet",
			Explanation: "The first pull of it will go to the upstream (and spend upstream pull budget); warming it now makes that first pull fast and independent of the upstream.",
			Evidence:    []model.Evidence{{Call: "ecr:DescribeImages " + ref.Repository + " imageTag=" + ref.Tag, Answer: notCachedAnswer(c)}},
			Fixes: []model.Fix{{Title: "Pull it through the cache now",
				Plan: model.Plan{Title: "Warm " + ref.Repository + ":" + ref.Tag, Steps: []model.Step{warmStep(ref.Repository, ref.Tag)}}}}})
	}
	return out
}

func notCachedAnswer(c model.CacheProbe) string {
	if !c.RepositoryExists {
		return "RepositoryNotFoundException"
	}
	return "ImageNotFoundException"
}

func childrenSummary(img model.Image) string {
	var parts []string
	for _, c := range img.Children() {
		state := "cached"
		if !c.Present {
			state = "NOT cached"
		}
		parts = append(parts, c.Platform+" "+state)
	}
	return strings.Join(parts, ", ")
}

// --- creation-template ---

func checkTemplates(d *diagnosis) []model.Finding {
	var out []model.Finding
	for _, r := range d.snap.Rules {
		if ruleTemplate(d.snap.Templates, r.Prefix) == nil {
			if f, ok := appliedForFinding(d, r); ok {
				out = append(out, f)
				continue
			}
			out = append(out, model.Finding{Subject: model.Subject{Kind: "rule", Name: r.Prefix},
				Title:       "No creation template covers " + r.Prefix + "/: new cache repositories get ECR's defaults",
				Explanation: "Without a repository creation template, ECR creates cache repositories under " + r.Prefix + "/ with mutable tags, AES256, no repository policy and no lifecycle policy: they keep every image they ever cache.",
				Evidence:    []model.Evidence{{Call: "ecr:DescribeRepositoryCreationTemplates", Answer: "prefixes: " + templatePrefixes(d.snap)}},
				Fixes: []model.Fix{{Title: "Create a template for " + r.Prefix + "/ with a lifecycle policy",
					Plan: model.Plan{Title: "Creation template for " + r.Prefix + "/", Steps: []model.Step{createTemplateStep(r.Prefix)}}}}})
		}
	}
	for _, t := range d.snap.Templates {
		if !t.AppliesToPullThroughCache() {
			continue
		}
		if f, ok := templateMutabilityFinding(t); ok {
			out = append(out, f)
		}
		if t.CustomRoleArn == "" && (len(t.ResourceTags) > 0 || strings.HasPrefix(t.EncryptionType, "KMS")) {
			what := "resource tags"
			if strings.HasPrefix(t.EncryptionType, "KMS") {
				what = "KMS encryption"
			}
			out = append(out, model.Finding{Severity: model.SeverityError, Subject: model.Subject{Kind: "template", Name: t.Prefix}, Distinct: "no creation role",
				Title:       "The template " + t.Prefix + " sets " + what + " without a repository creation role: new repositories cannot be created",
				Explanation: "A creation template that adds tags or uses KMS needs a customRoleArn, \"otherwise the repository creation will fail\". Every first pull of a new image under " + t.Prefix + "/ fails with \"repository does not exist\".",
				Evidence:    []model.Evidence{{Call: "ecr:DescribeRepositoryCreationTemplates " + t.Prefix, Answer: fmt.Sprintf("resourceTags=%v encryption=%s customRoleArn=(none)", t.ResourceTags, orDefault(t.EncryptionType, "AES256"))}},
				Fixes: []model.Fix{
					{Title: "Remove the template's resource tags", Plan: model.Plan{Title: "No tags on new " + t.Prefix + "/ repositories", Steps: []model.Step{{
						Kind: model.StepUpdateTemplate, Operation: "ecr:UpdateRepositoryCreationTemplate", Target: t.Prefix,
						Params: map[string]string{"prefix": t.Prefix, "resourceTags": ""}, Summary: "Remove the template's resource tags",
						Expect: map[string]string{"exists": "true"}}}}},
					{Title: "Or give the template a repository creation role", Manual: "aws ecr update-repository-creation-template --prefix " + t.Prefix + " --custom-role-arn arn:aws:iam::" + d.snap.AccountID + ":role/<a role ECR can assume, allowed ecr:CreateRepository, ecr:TagResource and kms:*>"},
				}})
		}
		if t.Prefix != "ROOT" && d.snap.Rule(t.Prefix) == nil && model.RuleFor(d.snap.Rules, t.Prefix+"/x") == nil {
			out = append(out, model.Finding{Severity: model.SeverityInfo, Subject: model.Subject{Kind: "template", Name: t.Prefix}, Distinct: "matches no rule",
				Title:       "The template " + t.Prefix + " matches no pull through cache rule",
				Explanation: "It applies to pull through cache repositories under " + t.Prefix + "/, but no rule has that prefix, so it is never used for them. \"The repository prefix you specify during rule creation is what you should specify as your repository creation template prefix as well.\"",
				Evidence:    []model.Evidence{{Call: "ecr:DescribePullThroughCacheRules", Answer: "prefixes: " + rulePrefixes(d.snap)}},
				Fixes:       unusedTemplateFixes(d, t)})
		}
	}
	return out
}

// unusedTemplateFixes offers to delete a template no rule uses. Its premise is that no
// repository under its prefix will need it, not only that no rule covers it now: the
// repositories must have been read, and none may be there (leftovers of a deleted rule,
// which orphan-repository may offer to serve again by recreating that rule).
func unusedTemplateFixes(d *diagnosis, t model.Template) []model.Fix {
	if pe := d.snap.PartFailed(model.PartRepositories); pe != nil {
		return []model.Fix{{Title: "Deleting it is not offered", Manual: "The repositories could not be read (" + pe.Operation + " failed), so whether a repository under " +
			t.Prefix + "/ needs the template is not known; a deletion does not rest on a failed read."}}
	}
	var under []string
	for _, r := range d.snap.Repositories {
		if strings.HasPrefix(r.Name, t.Prefix+"/") {
			under = append(under, r.Name)
		}
	}
	if len(under) > 0 {
		return []model.Fix{{Title: "Deleting it is not offered", Manual: fmt.Sprintf("%s under %s/ (%s): if their rule is recreated, this template makes its new repositories. Decide them first (see orphan-repository).",
			plural(len(under), "repository is", "repositories are"), t.Prefix, strings.Join(under, ", "))}}
	}
	return []model.Fix{{Title: "Delete the unused template", Plan: model.Plan{Title: "Delete the template " + t.Prefix, Steps: []model.Step{{
		Kind: model.StepDeleteTemplate, Operation: "ecr:DeleteRepositoryCreationTemplate", Target: t.Prefix,
		Params: map[string]string{"prefix": t.Prefix}, Summary: "Delete the template " + t.Prefix, Destructive: true,
		Expect: map[string]string{"exists": "true", model.ExpectCoveringRule + t.Prefix + "/": ""}}}}}}
}

// ruleTemplate is the creation template ECR applies to the new repositories of the rule
// with this prefix: the longest prefix that covers them, else ROOT (for the ROOT rule, only
// ROOT), among those applied to pull through cache; nil for none.
func ruleTemplate(templates []model.Template, prefix string) *model.Template {
	return model.TemplateFor(templates, prefix+"/x")
}

func templatePrefixes(snap *model.Snapshot) string {
	var p []string
	for _, t := range snap.Templates {
		p = append(p, t.Prefix)
	}
	if len(p) == 0 {
		return "(none)"
	}
	return strings.Join(p, ", ")
}

// --- no-lifecycle ---

func checkNoLifecycle(d *diagnosis) []model.Finding {
	byRule := map[string][]*model.Repository{} // the snapshot's own: 5,000 repositories are no copy of each
	for i := range d.snap.Repositories {
		repo := &d.snap.Repositories[i]
		subject := model.Subject{Kind: "repository", Name: repo.Name}
		if !repo.IsCache() || !d.imagesRead(subject, *repo) || len(repo.Images) == 0 {
			continue
		}
		if !d.lifecycleRead(subject, *repo) {
			continue
		}
		if repo.LifecyclePolicy == "" {
			byRule[repo.RulePrefix] = append(byRule[repo.RulePrefix], repo)
		}
	}
	var out []model.Finding
	policy, summary := DefaultLifecycle.Policy(), DefaultLifecycle.Summary()
	for _, prefix := range sortedKeys(byRule) {
		repos := byRule[prefix]
		var names []string
		var steps []model.Step
		fromTemplate := 0
		for _, r := range repos {
			names = append(names, r.Name)
			// One rule with template-drift: a repository its template gives a policy gets
			// that policy, so that the fix of one check is no finding of the other.
			if t := model.TemplateFor(d.snap.Templates, r.Name); t != nil && t.LifecyclePolicy != "" {
				fromTemplate++
				steps = append(steps, putLifecycleStep(r.Name, t.LifecyclePolicy, "the creation template "+t.Prefix+"'s"))
				continue
			}
			steps = append(steps, putLifecycleStep(r.Name, policy, summary))
		}
		title := "Expire untagged images after 1 day, archive images not pulled for 90 days"
		switch {
		case fromTemplate == len(repos):
			title = "Give them their creation template's lifecycle policy"
		case fromTemplate > 0:
			title = "Give them their creation template's lifecycle policy, or where it has none, expire untagged images after 1 day and archive images not pulled for 90 days"
		}
		var size int64
		for _, r := range repos {
			for _, img := range r.Images {
				size += img.SizeBytes
			}
		}
		// Without a template, the creation-template finding offers one with this policy.
		if t := ruleTemplate(d.snap.Templates, prefix); t != nil && t.LifecyclePolicy == "" {
			steps = append(steps, model.Step{Kind: model.StepUpdateTemplate, Operation: "ecr:UpdateRepositoryCreationTemplate", Target: t.Prefix,
				Params:  map[string]string{"prefix": t.Prefix, "lifecyclePolicy": policy},
				Summary: "Give the template " + t.Prefix + " the same lifecycle policy, for repositories made later",
				Expect:  map[string]string{"lifecyclePolicy": ""}})
		}
		out = append(out, model.Finding{Subject: model.Subject{Kind: "rule", Name: prefix},
			Title:       fmt.Sprintf("%s under %s/ without a lifecycle policy", plural(len(repos), "cache repository", "cache repositories"), prefix),
			Explanation: "Without a lifecycle policy a cache repository keeps every image it ever cached, and storage grows without bound. " + namedOnce(names) + " " + verb(len(names), "holds", "hold") + " " + plural(int(size), "byte", "bytes") + " of images now.",
			Evidence:    []model.Evidence{{Call: "ecr:GetLifecyclePolicy", Answer: "LifecyclePolicyNotFoundException for " + strings.Join(names, ", ")}},
			Fixes: []model.Fix{{Title: title,
				Plan: model.Plan{Title: "Lifecycle policies under " + prefix + "/", Steps: steps}}}})
	}
	return out
}

// --- orphan-repository ---

// isOrphan reports whether a repository no rule covers is a leftover of a cache whose
// rule was deleted. It counts two shapes only:
//   - prefix/library/<name>: a Docker Hub official image's path under a first segment, the
//     shape a Docker Hub rule's repositories have and hand-made ones seldom do;
//   - prefix/<path> where a creation template for PULL_THROUGH_CACHE names that first
//     segment as its prefix (the template outlived its rule).
//
// It is narrow on purpose: the finding's fix force-deletes the repositories with their
// images, so it rests on a shape seen in the account, never on a guess from a name alone.
// A path of two segments, or a first segment other repositories share, is how teams name
// the repositories they push to; counting those would offer their deletion. A template's
// nested prefix (a/b) is not matched either, since leftovers are grouped, and deleted, by
// first segment. Leftovers of other shapes go unreported here.
func isOrphan(snap *model.Snapshot, repo model.Repository) bool {
	if repo.RulePrefix != "" || !strings.Contains(repo.Name, "/") {
		return false
	}
	first, rest, _ := strings.Cut(repo.Name, "/")
	if strings.HasPrefix(rest, "library/") {
		return true
	}
	for _, t := range snap.Templates {
		if t.Prefix == first && t.AppliesToPullThroughCache() {
			return true
		}
	}
	return false
}

func checkOrphans(d *diagnosis) []model.Finding {
	byPrefix := map[string][]model.Repository{}
	for _, repo := range d.snap.Repositories {
		// The last pulls are evidence, and the fix deletes the images: both need them read.
		if isOrphan(d.snap, repo) && d.imagesRead(model.Subject{Kind: "repository", Name: repo.Name}, repo) {
			first, _, _ := strings.Cut(repo.Name, "/")
			byPrefix[first] = append(byPrefix[first], repo)
		}
	}
	var out []model.Finding
	for _, prefix := range sortedKeys(byPrefix) {
		repos := byPrefix[prefix]
		var names []string
		var deletes []model.Step
		var newest string
		for _, r := range repos {
			names = append(names, r.Name)
			deletes = append(deletes, model.Step{Kind: model.StepDeleteRepository, Operation: "ecr:DeleteRepository (force)", Target: r.Name,
				Params: map[string]string{"repositoryName": r.Name, "force": "true"}, Summary: "Delete " + r.Name + " and its images", Destructive: true,
				// The premise, re-read before the call: still no rule covers it.
				Expect: map[string]string{"exists": "true", model.ExpectCoveringRule + r.Name: ""}})
			for _, img := range r.Images {
				if t := img.LastPull.Time().Format("2006-01-02"); !img.LastPull.IsZero() && t > newest {
					newest = t
				}
			}
		}
		f := model.Finding{Subject: model.Subject{Kind: "repository", Name: prefix + "/"},
			Title:       fmt.Sprintf("%s under %s/ %s cached by a rule that no longer exists", plural(len(repos), "repository", "repositories"), prefix, verb(len(repos), "was", "were")),
			Explanation: "No pull through cache rule covers " + prefix + "/ any more, so " + strings.Join(names, ", ") + " " + verb(len(names), "is", "are") + " never refreshed and pulls of tags not in them fail with \"manifest unknown: Requested image not found\". Either the rule was deleted by mistake (recreate it), or they are leftovers (delete them).",
			Evidence: []model.Evidence{{Call: "ecr:DescribePullThroughCacheRules", Answer: "prefixes: " + rulePrefixes(d.snap)},
				{Call: "ecr:DescribeImages", Answer: "last pull recorded: " + orDefault(newest, "never")}}}
		if hub := dockerHubRule(d.snap); hub != nil && strings.Contains(strings.Join(names, " "), "/library/") {
			f.Fixes = append(f.Fixes, model.Fix{Title: "Recreate the rule " + prefix + "/ for Docker Hub, with the credentials of " + hub.Prefix + "/",
				Plan: model.Plan{Title: "Recreate " + prefix + "/", Steps: []model.Step{{Kind: model.StepCreateRule, Operation: "ecr:CreatePullThroughCacheRule", Target: prefix,
					Params:  map[string]string{"ecrRepositoryPrefix": prefix, "upstreamRegistryUrl": hub.UpstreamURL, "upstreamRegistry": hub.UpstreamRegistry, "credentialArn": hub.CredentialArn},
					Summary: "Create the rule " + prefix + "/ → " + hub.UpstreamURL, Expect: map[string]string{"exists": "false"}}}}})
		}
		f.Fixes = append(f.Fixes, model.Fix{Title: "Delete the repositories and their images (type the name to confirm each)",
			Plan: model.Plan{Title: "Delete the leftovers under " + prefix + "/", Steps: deletes}})
		out = append(out, f)
	}
	return out
}

// dockerHubRule is the account's Docker Hub rule, whatever its prefix; nil for none.
func dockerHubRule(snap *model.Snapshot) *model.Rule {
	for i := range snap.Rules {
		if snap.Rules[i].UpstreamRegistry == "docker-hub" {
			return &snap.Rules[i]
		}
	}
	return nil
}

// --- rule-quota ---

func checkRuleQuota(d *diagnosis) []model.Finding {
	n := len(d.snap.Rules)
	if n < 45 {
		return nil
	}
	sev := model.SeverityWarning
	if n >= 50 {
		sev = model.SeverityError
	}
	return []model.Finding{{Severity: sev, Subject: model.Subject{Kind: "registry", Name: d.snap.RegistryURI()},
		Title:       fmt.Sprintf("%d of 50 pull through cache rules are used", n),
		Explanation: "The quota of 50 rules per registry and region cannot be raised. Share rules between teams (one prefix per upstream) before it is reached.",
		Evidence:    []model.Evidence{{Call: "ecr:DescribePullThroughCacheRules", Answer: plural(n, "rule", "rules")}}}}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// verb is the verb that agrees with n subjects: "holds" for one, "hold" for more.
func verb(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
