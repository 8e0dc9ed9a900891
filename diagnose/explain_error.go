package diagnose

import (
	"context"
	"fmt"
	"strings"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// explain --error: a pasted line is read (explain_read.go), its reference is walked
// through the same chain as `explain REF` when an account can be read, and the verdict
// names the cause the chain confirms. Without an account, a line that allows several
// causes says what would settle it.

// Cause is one reason a pull fails, with the check of the catalog that finds it ("" when
// the cause lies outside the account: the client, the network, the upstream).
type Cause struct {
	ID    string
	Check string
	Title string
}

// Causes are the causes explain --error names. Their ids are stable: the corpus of real
// error lines under testdata/errors/ names them.
var Causes = []Cause{
	{"library-prefix", "name-mismatch", "A Docker Hub official image pulled without library/"},
	{"library-before-org", "name-mismatch", "library/ put before a Docker Hub name that has an owner"},
	{"no-rule", "name-mismatch", "No pull through cache rule covers the prefix"},
	{"name-not-upstream", "", "The upstream does not have this repository or tag"},
	{"private-image-missing", "", "A private repository (no rule covers it) lacks the tag"},
	{"missing-import-permission", "permissions", "The pulling principal lacks ecr:BatchImportUpstreamImage"},
	{"missing-create-permission", "permissions", "The pulling principal lacks ecr:CreateRepository"},
	{"iam-permission", "permissions", "The principal lacks an ECR permission"},
	{"template-cannot-create", "creation-template", "The creation template cannot create the repository"},
	{"cross-account-policy", "creation-template", "Cache repositories grant other accounts nothing"},
	{"digest-first-pull", "missing-manifest", "A first pull by digest does not fill the cache"},
	{"missing-platform", "missing-manifest", "The index is cached without this platform's manifest"},
	{"upstream-credentials", "credentials", "The upstream refuses the rule's credentials"},
	{"secret-unusable", "credentials", "ECR cannot use the rule's Secrets Manager secret"},
	{"rule-needs-credentials", "", "The upstream needs credentials and the rule has none"},
	{"unsupported-upstream", "", "ECR cannot pull through from this upstream"},
	{"pull-budget-spent", "upstream-rate-limit", "The rule's upstream pull budget is spent"},
	{"abuse-limit", "", "Docker Hub's abuse limit, not the pull budget"},
	{"bypassed-cache", "", "The pull went to the upstream directly, never through the cache"},
	{"uncached-layer-redirect", "missing-manifest", "A layer not cached yet was redirected to the upstream's CDN"},
	{"cdn-unreachable", "", "The client could not reach the upstream's CDN"},
	{"registry-unreachable", "", "The client could not reach the registry"},
	{"ecr-login", "", "The client has no valid ECR credentials"},
	{"mirror-credentials", "", "The mirror is asked without credentials for it"},
	{"mirror-not-found", "", "The mirror does not have what it was asked for"},
	{"public-ecr-stale-login", "", "A stale login for public.ecr.aws"},
	{"upstream-unavailable", "", "The upstream did not answer ECR"},
	{"kms-error", "", "The repository's KMS key cannot be used"},
	{"image-archived", "", "The image is archived"},
	{"tag-listing", "", "A tool listed tags: ECR lists only what it has cached"},
	{"ecr-throttled", "", "ECR throttled the requests (its API request rate)"},
	{"rule-secret-missing", "", "The secret ARN given to the rule names no secret ECR finds"},
	{"mirror-override-path", "", "The node's mirror (hosts.toml) lacks override_path = true"},
	{"platform-not-published", "", "The image has no manifest for this node's platform"},
	{"back-off", "", "A back-off: the first failed pull holds the cause"},
}

// CauseByID finds a cause of the catalogue.
func CauseByID(id string) (Cause, bool) {
	for _, c := range Causes {
		if c.ID == id {
			return c, true
		}
	}
	return Cause{}, false
}

// ErrorVerdict is what explain --error concludes about one line.
type ErrorVerdict struct {
	Reading ErrorReading
	// Cause is the cause named ("" when the line alone cannot tell and no account was read).
	Cause Cause
	// Verdict says the cause in words, for exactly the reference of the line.
	Verdict string
	// Fix is what to do, aimed at the reference.
	Fix string
	// Fixes are the plans the checklist offers, when it was walked.
	Fixes []model.Fix
	// Ref is the line's reference mapped through the account's rules, when it could be.
	Ref *model.Ref
	// Explanation is the chain walked for Ref, when it was.
	Explanation *Explanation
	// Confirmed is set when the chain walked shows the named cause failing now: a
	// finding on the account, as `explain REF` finds one. Otherwise the cause is the
	// line's own reading.
	Confirmed bool
	// AlsoFailing are links of the chain that fail for causes the line does not allow:
	// true of the account, but not why this line failed.
	AlsoFailing []string
	// Needs say what would settle the cause, when the line and the account did not.
	Needs []string
	// Notes say how the line was read where it could be read more than one way.
	Notes []string
}

// Account is what explaining a line against an account needs.
type Account struct {
	Snap   *model.Snapshot
	Prober Prober
	Opts   Options
}

// ExplainError explains a pasted error line: from the line alone when acct is nil, else
// against the account, walking the chain of `explain REF` for the line's reference. ok is
// false when the line is not a pull failure ptcdoctor knows.
func ExplainError(ctx context.Context, acct *Account, text string) (ErrorVerdict, bool) {
	r, ok := ReadError(text)
	v := ErrorVerdict{Reading: r}
	if !ok {
		return v, false
	}
	if r.InvalidReference != "" {
		// Neither a cause nor the account's chain can rest on a name that is none.
		v.Verdict = "The line's image, " + r.InvalidReference + ", is not an image reference: ptcdoctor cannot tell which registry or repository the pull asked for, and names no cause."
		v.Needs = []string{"the image as the pod spec or the command wrote it: a stray character (a backtick, a space, a shell command) in the image field, or the template that fills it, makes the name unpullable"}
		return v, true
	}
	// Mapped through the account's rules, the reference names its cache path and rule.
	if acct != nil && acct.Snap != nil && r.Reference != "" {
		if ref, note, err := mapReference(acct.Snap, r.Reference); err == nil {
			v.Ref = &ref
			if note != "" {
				v.Notes = append(v.Notes, note)
			}
		} else {
			v.Needs = append(v.Needs, err.Error())
		}
	}
	cands := r.Candidates
	if len(cands) > 1 || needsChain(cands[0]) {
		// The chain walks the cache path: a cache URI's, or an upstream reference's that
		// a rule maps (a node's mirror sends it there).
		if v.Ref != nil && v.Ref.Repository != "" && (!v.Ref.FromUpstream || v.Ref.RulePrefix != "") {
			ex := Explain(ctx, acct.Snap, acct.Prober, *v.Ref, acct.Opts)
			v.Explanation = &ex
			c, also := causeFromChain(ex, r, cands)
			v.AlsoFailing = also
			switch {
			case c != "":
				cands, v.Confirmed = []string{c}, true
				v.Fixes = fixesFor(ex, c)
			case len(cands) > 1:
				v.Needs = append(v.Needs, "the chain for "+v.Ref.CacheURI()+" shows none of the line's causes failing now: the line's cause is gone, or lies on the client")
				cands = nil
			default:
				v.Notes = append(v.Notes, "the chain for "+v.Ref.CacheURI()+" does not show this cause failing now: it is read from the line alone (it may have passed)")
			}
		} else if len(cands) > 1 {
			v.Needs = append(v.Needs, needsFor(r, acct)...)
			cands = nil
		}
	}
	if len(cands) == 1 {
		v.Cause, _ = CauseByID(cands[0])
		if needsChain(cands[0]) && v.Explanation == nil && acct == nil {
			// The line names a cause in the account; only the account can confirm it.
			v.Needs = append(v.Needs, needsFor(r, acct)...)
		}
	}
	v.Verdict, v.Fix = words(v)
	return v, true
}

// needsChain reports whether a cause found from the line alone must still be confirmed
// by the chain (it blames the account, so the account may contradict it).
func needsChain(id string) bool {
	switch id {
	case "library-prefix", "library-before-org", "no-rule", "missing-import-permission", "missing-create-permission",
		"template-cannot-create", "digest-first-pull", "pull-budget-spent", "upstream-credentials", "secret-unusable":
		return true
	}
	return false
}

// mapReference maps the line's reference through the rules. A masked account
// (<awsid>.dkr.ecr…) is read as the account being explained, in the line's region.
func mapReference(snap *model.Snapshot, ref string) (model.Ref, string, error) {
	note := ""
	if maskedAccount.MatchString(ref) {
		host, rest, _ := strings.Cut(ref, "/")
		if m := ecrHostRE.FindStringSubmatch(host); m != nil && m[1] == snap.Region {
			ref = model.RegistryHost(snap.AccountID, snap.Region) + "/" + rest
			note = "the line masks the account id; it is read as " + snap.AccountID + ", the account explained"
		}
	}
	out, err := model.ParseRef(ref, snap.AccountID, snap.Region, snap.Rules)
	if err != nil && out.Repository == "" {
		if strings.Contains(err.Error(), "is in the registry") || strings.Contains(err.Error(), "is in region") {
			return out, "", fmt.Errorf("%s: explain it with credentials for that registry (--profile, --region)", err.Error())
		}
		return out, "", err
	}
	return out, note, nil
}

// causeFromChain names the cause the chain confirms among the line's candidates: the
// first failing link whose cause the line allows. The other failing links are returned
// as also failing: true of the account, but the line did not fail for them.
func causeFromChain(ex Explanation, r ErrorReading, cands []string) (string, []string) {
	cause := ""
	var also []string
	for _, s := range ex.Steps {
		if s.Status != "failed" {
			continue
		}
		shown := stepCauses(s, ex, r)
		hit := ""
		for _, c := range shown {
			if contains(cands, c) {
				hit = c
				break
			}
		}
		switch {
		case hit != "" && cause == "":
			cause = hit
		case hit == "" || hit != cause:
			also = append(also, s.Name+": "+s.Detail)
		}
	}
	return cause, also
}

// stepCauses are the causes a failing link shows, the likeliest first.
func stepCauses(s ExplainStep, ex Explanation, r ErrorReading) []string {
	switch {
	case s.Name == "in the repository":
		return []string{"private-image-missing"}
	case s.Name == "rule":
		return []string{"no-rule"}
	case s.Name == "upstream reference":
		if strings.Count(strings.TrimPrefix(ex.Ref.Repository, ex.Ref.RulePrefix+"/"), "/") >= 2 {
			return []string{"library-before-org"}
		}
		return []string{"library-prefix"}
	case s.Name == "upstream has it":
		switch {
		case strings.Contains(s.Detail, "rate-limited"):
			return []string{"pull-budget-spent"}
		case strings.Contains(s.Detail, "not-found"):
			return []string{"name-not-upstream"}
		case strings.Contains(s.Detail, "unauthorized") || strings.Contains(s.Detail, "forbidden"):
			return []string{refusedUpstream(ex)}
		case strings.Contains(s.Detail, "network") || strings.Contains(s.Detail, "server-error"):
			return []string{"upstream-unavailable"}
		}
		return []string{"name-not-upstream"}
	case s.Name == "pull budget":
		return []string{"pull-budget-spent"}
	case s.Name == "secret and validation":
		if r.Shape == "secret-unusable" || secretItselfFails(s) {
			return []string{"secret-unusable", "upstream-credentials"}
		}
		return []string{"upstream-credentials", "secret-unusable"}
	case strings.HasPrefix(s.Name, "permissions"):
		create, imp := strings.Contains(s.Detail, "ecr:CreateRepository"), strings.Contains(s.Detail, "ecr:BatchImportUpstreamImage")
		switch {
		case create && imp && repoMissingRE.MatchString(r.Line):
			// Both lacking: the line says which one struck first.
			return []string{"missing-create-permission", "missing-import-permission", "iam-permission"}
		case create && imp:
			return []string{"missing-import-permission", "missing-create-permission", "iam-permission"}
		case create:
			return []string{"missing-create-permission", "iam-permission"}
		case imp:
			return []string{"missing-import-permission", "iam-permission"}
		}
		return []string{"iam-permission"}
	case s.Name == "creation template":
		return []string{"template-cannot-create"}
	case s.Name == StepCached:
		switch {
		case strings.Contains(s.Detail, "archived"):
			return []string{"image-archived"}
		case ex.Ref.Tag == "":
			return []string{"digest-first-pull"}
		}
		return []string{"missing-platform"}
	}
	return nil
}

// secretItselfFails reports whether the secret link fails for the secret itself (gone,
// scheduled for deletion, in another region, a customer managed key), not only for what
// the upstream said of its credentials: ECR then sends the upstream nothing, and the
// cause of a refusal is the secret. Its evidence says which: credentials' findings cite
// the secret's own reads only for such a secret.
func secretItselfFails(s ExplainStep) bool {
	for _, e := range s.Evidence {
		if strings.HasPrefix(e.Call, "secretsmanager:DescribeSecret ") || strings.HasPrefix(e.Call, "credentialArn of rule ") {
			return true
		}
	}
	return false
}

// fixesFor keeps the chain's fixes for the confirmed cause's link: a fix for a link the
// line did not fail at is not this line's fix.
func fixesFor(ex Explanation, cause string) []model.Fix {
	c, _ := CauseByID(cause)
	if c.Check == "" {
		return nil
	}
	var out []model.Fix
	for _, f := range ex.Findings {
		if f.Check == c.Check {
			out = append(out, f.Fixes...)
		}
	}
	return out
}

// refusedUpstream names why the upstream refused the rule: Docker Hub answers 401 for a
// repository that does not exist, so a refusal is the credentials' fault only when the
// chain shows the credentials failing too.
func refusedUpstream(ex Explanation) string {
	path := strings.TrimPrefix(ex.Ref.Repository, ex.Ref.RulePrefix+"/")
	for _, s := range ex.Steps {
		if s.Name == "secret and validation" && s.Status == "failed" {
			return "upstream-credentials"
		}
	}
	switch {
	case strings.HasPrefix(path, "library/") && strings.Count(path, "/") >= 2:
		return "library-before-org"
	case !strings.Contains(path, "/") && strings.HasPrefix(ex.Ref.Upstream, model.DockerHubRegistry+"/"):
		return "library-prefix"
	}
	return "name-not-upstream"
}

// needsFor says what would settle a line that allows several causes.
func needsFor(r ErrorReading, acct *Account) []string {
	var out []string
	switch {
	case r.Reference == "":
		out = append(out, "the image reference: paste the whole line, with the image it names")
	case acct == nil:
		reg := "the account"
		if h := refHost(r.Reference); isECRHost(h) {
			reg = h
		}
		out = append(out, "the account: run explain --error with credentials for "+reg+" (--profile, --region) to walk the checklist for "+model.Printable(r.Reference))
	}
	if acct == nil {
		out = append(out, "the role that pulls (the node role on EKS): --principal <its ARN>")
	}
	return out
}

// words writes the verdict and the fix, for exactly the line's reference.
func words(v ErrorVerdict) (string, string) {
	r := v.Reading
	ref := model.Printable(r.Reference)
	cache := ""
	if v.Ref != nil && v.Ref.Repository != "" {
		cache = v.Ref.CacheURI()
	}
	if ref == "" {
		ref = "the image"
	}
	chainSays, who := "", "the role that pulls"
	if v.Explanation != nil && v.Confirmed {
		// The link that confirms the cause, not merely the first that fails.
		for _, s := range v.Explanation.Steps {
			if s.Status == "failed" && contains(stepCauses(s, *v.Explanation, r), v.Cause.ID) {
				chainSays = " (the chain fails at \"" + s.Name + "\")"
				if p, ok := strings.CutPrefix(s.Name, "permissions of "); ok {
					who = p
				}
				break
			}
		}
	}
	switch v.Cause.ID {
	case "":
		return "The line alone fits several causes; what would settle it is below.", ""
	case "library-prefix":
		return ref + " names a Docker Hub official image without library/: Docker Hub answers 401 for it and ECR answers 403" + chainSays + ".",
			"Pull " + withLibrary(v, "library/") + " instead."
	case "library-before-org":
		return ref + " puts library/ before a name that has an owner; library/ holds only one-segment official images, so Docker Hub answers 401 and ECR says the upstream authentication failed" + chainSays + ".",
			"Pull " + withLibrary(v, "") + " instead."
	case "no-rule":
		return "No pull through cache rule covers the prefix of " + ref + ", so ECR never creates the repository" + chainSays + ".",
			"Put a rule's prefix in front of the image path of " + ref + " (ptcdoctor doctor --check name-mismatch --image " + ref + " names the nearest), or create the rule: ptcdoctor setup."
	case "name-not-upstream":
		return "The upstream has no " + upstreamOf(v) + chainSays + ".", "Correct the name or the tag of " + ref + " to one the upstream has (" + upstreamOf(v) + " does not exist)."
	case "private-image-missing":
		return "No rule covers " + ref + ": it is a private repository, and it does not hold this tag" + chainSays + ".", "Push the tag, or pull one the repository holds."
	case "missing-import-permission":
		return "The pulling principal lacks ecr:BatchImportUpstreamImage, so ECR does not import " + ref + " and answers \"not found\"" + chainSays + ".",
			"Grant ecr:BatchImportUpstreamImage to " + who + " (AmazonEC2ContainerRegistryPullOnly has it): ptcdoctor fix --check permissions."
	case "missing-create-permission":
		return "The pulling principal lacks ecr:CreateRepository, so the first pull of " + ref + " cannot create its cache repository" + chainSays + ".",
			"Grant ecr:CreateRepository on the rule's prefix to " + who + ": ptcdoctor fix --check permissions."
	case "iam-permission":
		what := "an ECR action"
		if r.Action != "" {
			what = r.Action
		}
		who := "the principal"
		if r.Principal != "" {
			who = model.Printable(r.Principal)
		}
		return who + " is not allowed " + what + chainSays + ".", "Grant " + what + " to " + who + " (identity policy or repository policy)."
	case "template-cannot-create":
		return "The creation template that applies to " + ref + " sets tags or KMS without a customRoleArn, so ECR cannot create the repository" + chainSays + ".",
			"ptcdoctor fix --check creation-template: remove the template's tags, or give it a repository creation role."
	case "cross-account-policy":
		return "Another account pulled from a cache repository whose repository policy grants it nothing: repositories made by a pull through cache get the template's repositoryPolicy, or none.",
			"Give the creation template a repositoryPolicy that grants the consuming accounts ecr:BatchGetImage (and set it on the repositories already made)."
	case "digest-first-pull":
		return ref + " is pinned by digest and not cached: a first pull by digest does not fill a pull through cache" + chainSays + ".",
			"Pull the tag that points at this digest through the cache once: ptcdoctor fix --image " + pick(cache, ref) + "."
	case "missing-platform":
		return "The index of " + ref + " is cached without the manifest of this node's platform" + chainSays + ".", "Pull " + pick(cache, ref) + " by tag through the cache, every platform: ptcdoctor fix --image " + pick(cache, ref) + "."
	case "upstream-credentials":
		return "The upstream refuses the credentials of the rule that covers " + ref + chainSays + ".", "Store a valid token in the rule's secret, then aws ecr validate-pull-through-cache-rule: ptcdoctor fix --check credentials."
	case "secret-unusable":
		return "ECR could not use the rule's Secrets Manager secret to pull " + ref + " (deleted, in another region, a customer managed KMS key, or not {\"username\", \"accessToken\"})" + chainSays + ".",
			"ptcdoctor doctor --check credentials."
	case "rule-needs-credentials":
		return "This upstream (Docker Hub, GHCR, GitLab, ACR, Chainguard) needs credentials: a rule for it needs a Secrets Manager secret named ecr-pullthroughcache/….",
			"ptcdoctor setup --upstream <registry>: it stores the secret and creates the rule with its ARN."
	case "unsupported-upstream":
		return "ECR pulls through only from its listed upstreams (Docker Hub, ECR Public, Quay, registry.k8s.io, GHCR, GitLab, ACR, Chainguard, ECR); this URL is none of them.",
			"Mirror that registry's images into ECR with a copy job instead."
	case "pull-budget-spent":
		window := "the window its ratelimit-* headers give (w= seconds)"
		switch {
		case r.RateLimit != "":
			window = "the window of " + r.RateLimit
		case v.Explanation != nil:
			for _, s := range v.Explanation.Steps {
				if s.Name == "pull budget" && strings.Contains(s.Detail, "window") {
					window = "the window Docker Hub's headers gave the probe (" + s.Detail + ")"
				}
			}
		}
		return "The Docker Hub pull budget of the rule that covers " + ref + " is spent; first pulls fail until pulls age out of " + window + chainSays + ".",
			"Put the credentials of a paid Docker plan on the rule, or wait: ptcdoctor doctor --check upstream-rate-limit."
	case "abuse-limit":
		return "Docker Hub's abuse limit (a bare 429, HAP429) struck: it counts requests per address, whatever the plan, and is not the pull budget.",
			"Spread the pulls out, or pull through the cache so that nodes stop asking Docker Hub."
	case "bypassed-cache":
		fix := "Pull through the cache instead (point the reference or the node's mirror at it: ptcdoctor setup prints both)."
		if v.Ref != nil && v.Ref.FromUpstream && v.Ref.RulePrefix != "" {
			fix = "Pull " + v.Ref.CacheURI() + " instead, or set the node's mirror for " + refHost(r.Reference) + " to the cache."
		}
		switch r.Shape {
		case "network":
			return "The client could not reach " + upstreamHostOf(r) + ": it asked the upstream directly (no mirror to the cache took the pull, or it was bypassed) and has no route there (no egress from a private subnet, or DNS).",
				fix + " Or give the client egress to " + upstreamHostOf(r) + "."
		case "rate-limited":
			return "Docker Hub's pull rate limit struck this client: the request went to " + upstreamHostOf(r) + " directly, so the pull never touched the cache and spent the budget of this client's address or login, not the rule's.", fix
		}
		return "The request went to " + upstreamHostOf(r) + " directly: the pull never touched the cache, and what failed is the upstream's answer to this client.", fix
	case "uncached-layer-redirect":
		return "ECR redirected a layer of " + ref + " that it has not cached yet to the upstream's CDN, and this client has no route to it (a private subnet).",
			"Warm " + pick(cache, ref) + " from a host with internet access (ptcdoctor fix --image " + pick(cache, ref) + "), or give the first pull a NAT route."
	case "cdn-unreachable":
		return "The client was sent to the upstream's CDN for a layer and could not reach it.", "Pulled through the cache: warm the image from a host with egress. Pulled directly: give the client a route, or pull through the cache."
	case "registry-unreachable":
		return "The client could not reach " + pick(firstHost(r), "the registry") + ".", "Check the route (ECR interface endpoints ecr.api and ecr.dkr, the S3 gateway endpoint, or NAT) and DNS."
	case "ecr-login":
		return "The client sent no valid ECR token for " + pick(ecrHostOf(r), "the registry") + " (never logged in, the 12-hour token expired, or the credential provider does not match this host).",
			"aws ecr get-login-password | docker login --username AWS --password-stdin " + pick(ecrHostOf(r), "<registry>") + "; on nodes, the kubelet credential provider must match the host."
	case "mirror-credentials":
		return "The node pulls " + ref + " through a mirror (" + pick(otherHost(r), "the mirror") + ") without credentials for it: the credentials are looked up for the original registry.",
			"Give the node credentials for the mirror's host (kubelet credential provider matchImages, Bottlerocket container-registry.credentials, kops useECRCredentialsForMirrors)."
	case "mirror-not-found":
		return "The mirror (" + pick(otherHost(r), "the mirror") + ") does not have " + ref + ".", "Check that the mirror's path maps to the right rule prefix (ptcdoctor nodes reads the node's hosts.toml)."
	case "mirror-override-path":
		return "The node's mirror for " + pick(refHost(r.Reference), "the registry") + " asks " + pick(otherHost(r), "the mirror") + " for " + model.Printable(strings.TrimRight(overridePathRE.FindString(r.Line), ":,;.")) + ": /v2/ twice. Its hosts.toml server URL names the rule prefix, and without override_path = true containerd puts /v2/ in front of the path again, so ECR answers 404.",
			"Set override_path = true under the [host.\"https://<account>.dkr.ecr.<region>.amazonaws.com/v2/<prefix>\"] table of the node's hosts.toml; check the node's files with ptcdoctor nodes (ptcdoctor setup prints a hosts.toml that passes it)."
	case "ecr-throttled":
		if isPublicECR(refHost(r.Reference)) || contains(r.Hosts, "public.ecr.aws") {
			return "ECR Public throttled the requests (\"Rate exceeded\": about 1 request a second per address without a login, 10 with one), not Docker Hub's pull limit.",
				"Log in to ECR Public (aws ecr-public get-login-password --region us-east-1 | docker login --username AWS --password-stdin public.ecr.aws), retry with backoff, or pull through the cache (a rule for public.ecr.aws)."
		}
		return "ECR throttled the requests (\"Rate exceeded\" is ECR's own API rate quota, per account and region, not Docker Hub's pull limit): too many pulls of " + ref + " at once, by many nodes or a tight retry loop.",
			"Retry with backoff and spread the pulls out (stagger a rollout); if it persists, ask Service Quotas for a higher rate of BatchGetImage / GetDownloadUrlForLayer in this region."
	case "rule-secret-missing":
		return "The Secrets Manager secret ARN given to the pull through cache rule names no secret ECR can find: deleted, mistyped, in another region or account, or not named ecr-pullthroughcache/….",
			"Create the secret (name ecr-pullthroughcache/<something>, {\"username\", \"accessToken\"}) in the rule's region and pass its full ARN: ptcdoctor setup --upstream <registry> does both."
	case "platform-not-published":
		return ref + " has no manifest for this node's platform (the image's index lists others only).",
			"Pull a tag that publishes this platform (docker manifest inspect lists them), or schedule the pod on nodes of a platform it has."
	case "back-off":
		return "This is the kubelet backing off after failed pulls of " + ref + ": it waits before trying again and says nothing of why. The first error holds the cause: the ErrImagePull event's message (\"Failed to pull image …: …\").",
			"Paste that message: kubectl describe pod <pod> (Events), or kubectl get events --field-selector reason=Failed; then ptcdoctor explain --error '<that message>'."
	case "public-ecr-stale-login":
		return "A stale or expired login for public.ecr.aws is sent with the pull; ECR Public needs none, and answers 403 for a bad one. This is not about library/.",
			"docker logout public.ecr.aws (helm registry logout public.ecr.aws), then pull again."
	case "upstream-unavailable":
		return "The upstream did not answer ECR (UpstreamUnavailable); cached images are still served.", "Retry later; ptcdoctor doctor lists an upstream that does not answer from here either under NOT CHECKED."
	case "kms-error":
		return "The repository of " + ref + " is encrypted with a KMS key that ECR or the puller cannot use (disabled, pending deletion, or no kms:Decrypt).",
			"Enable the key, or grant kms:Decrypt on it to the role that pulls."
	case "image-archived":
		return ref + " is archived: archived images cannot be pulled (ECR answers 404) until restored.",
			"Restore it: aws ecr update-image-storage-class --target-storage-class STANDARD for exactly this image."
	case "tag-listing":
		return "A tool listed the repository's tags (helm dependency update, Flux, skopeo inspect): ECR lists only what it has cached, never the upstream's tags.",
			"Pin the version and pull it once by that tag (helm pull --version …) to cache it."
	}
	return v.Cause.Title + ".", ""
}

func pick(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func firstHost(r ErrorReading) string {
	if len(r.Hosts) > 0 {
		return model.Printable(r.Hosts[0])
	}
	return ""
}

func ecrHostOf(r ErrorReading) string {
	for _, h := range append([]string{refHost(r.Reference)}, r.Hosts...) {
		if isECRHost(h) {
			return model.Printable(h)
		}
	}
	return ""
}

func otherHost(r ErrorReading) string {
	rh := refHost(r.Reference)
	for _, h := range r.Hosts {
		if h != rh {
			return model.Printable(h)
		}
	}
	return ""
}

func upstreamHostOf(r ErrorReading) string {
	for _, h := range r.Hosts {
		if isUpstreamHost(h) {
			return model.Printable(h)
		}
	}
	if h := refHost(r.Reference); h == "docker.io" || (h == "" && budgetTextRE.MatchString(r.Line)) {
		return model.DockerHubRegistry
	} else if h != "" {
		return model.Printable(h)
	}
	return "the upstream"
}

func upstreamOf(v ErrorVerdict) string {
	if v.Ref != nil && v.Ref.Upstream != "" {
		return v.Ref.Upstream
	}
	return pick(model.Printable(v.Reading.Reference), "such image")
}

// withLibrary is the reference with library/ added or taken away after the rule prefix.
func withLibrary(v ErrorVerdict, add string) string {
	if v.Ref == nil || v.Ref.RulePrefix == "" {
		if add != "" {
			return "<prefix>/library/<image>"
		}
		return "<prefix>/<owner>/<image>"
	}
	path := strings.TrimPrefix(v.Ref.Repository, v.Ref.RulePrefix+"/")
	fixed := v.Ref.RulePrefix + "/" + add + strings.TrimPrefix(path, "library/")
	out := v.Ref.Registry + "/" + fixed
	if v.Ref.Tag != "" {
		out += ":" + v.Ref.Tag
	}
	if v.Ref.Digest != "" {
		out += "@" + v.Ref.Digest
	}
	return out
}
