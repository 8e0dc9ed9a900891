package diagnose

import "github.com/ptcdoctor/ptcdoctor/model"

// Check is one diagnosis, with a stable id that reports, runbooks and `--check` use.
type Check struct {
	ID          string
	Severity    model.Severity // the usual severity; a finding may say otherwise
	Title       string
	Description string
	// Needs are what the check stands on: parts of the snapshot and probes. When a
	// whole part (rules, templates, ...) could not be read, the check does not run and
	// is reported as not checked. Per-subject parts and probes are judged inside the
	// check, through the diagnosis's read, imagesRead, upstream, cache and permissions,
	// which record each subject they could not judge.
	Needs []Need
	run   func(d *diagnosis) []model.Finding
}

// Need is a part of the snapshot or a probe that a check stands on.
type Need string

// Whole parts of the snapshot: without one, a check that needs it says nothing at all.
const (
	NeedIdentity       Need = model.PartIdentity
	NeedRules          Need = model.PartRules
	NeedTemplates      Need = model.PartTemplates
	NeedRegistryPolicy Need = model.PartRegistryPolicy
	NeedRepositories   Need = model.PartRepositories
)

// Parts of the snapshot per subject, and probes: without one, a check says nothing of
// the subjects it concerns, and names them.
const (
	NeedImages      Need = "images (DescribeImages)"
	NeedIndexes     Need = "index manifests (BatchGetImage)"
	NeedLifecycle   Need = "lifecycle policies (GetLifecyclePolicy)"
	NeedSecrets     Need = "secrets' metadata (DescribeSecret)"
	NeedValidation  Need = "rule validation (ValidatePullThroughCacheRule)"
	NeedSecretRead  Need = "secret read (GetSecretValue)"
	NeedUpstream    Need = "upstream probe"
	NeedPermissions Need = "permission simulation (SimulatePrincipalPolicy)"
	NeedCache       Need = "cache probe (DescribeImages, BatchGetImage)"
)

// wholeParts are the needs the diagnosis checks before a check runs.
var wholeParts = []Need{NeedRules, NeedTemplates, NeedRegistryPolicy, NeedRepositories}

// parts are the whole parts of the snapshot the check needs, by their names in the
// snapshot's Errors.
func (c Check) parts() []string {
	var out []string
	for _, n := range c.Needs {
		for _, w := range wholeParts {
			if n == w {
				out = append(out, string(n))
			}
		}
	}
	return out
}

// Catalog is every check, in the order they run. `ptcdoctor doctor --list-checks` prints it.
var Catalog = []Check{
	{"credentials", model.SeverityError, "The rule's credentials cannot be used",
		"A rule's secret is missing, in another region, encrypted with a customer managed KMS key, or not {\"username\", \"accessToken\"}; ValidatePullThroughCacheRule says invalid; or the upstream refuses the credentials.", []Need{NeedRules, NeedSecrets, NeedValidation}, checkCredentials},
	{"permissions", model.SeverityError, "The pulling principal cannot pull through",
		"The principal that pulls lacks ecr:BatchImportUpstreamImage, ecr:CreateRepository (for a repository that does not exist yet), ecr:TagResource (when the template adds tags), or the pull actions.", []Need{NeedRules, NeedTemplates, NeedRegistryPolicy, NeedIdentity, NeedPermissions}, checkPermissions},
	{"name-mismatch", model.SeverityError, "A name that cannot work as written",
		"A Docker Hub official image without library/; library/ before a multi-segment name; a prefix no rule has but one nearly has; an upstreamRepositoryPrefix mapping to a path the upstream lacks; a repository made by hand under a name meant to be a cache.", []Need{NeedRules, NeedRepositories, NeedTemplates, NeedImages, NeedUpstream, NeedSecretRead}, checkNameMismatch},
	{"upstream-rate-limit", model.SeverityWarning, "The upstream pull budget is spent or low",
		"The upstream's pull window (Docker Hub's ratelimit-* headers), for the rule's credentials or anonymously from this machine, is spent (429) or under 20%.", []Need{NeedRules, NeedUpstream, NeedSecretRead, NeedCache}, checkRateLimit},
	{"negative-cache", model.SeverityWarning, "Traces of a failed first pull",
		"A cache repository with no images; a reference whose repository is empty while the upstream has it now. ECR documents no negative cache: this is what was seen instead.", []Need{NeedRules, NeedRepositories, NeedImages, NeedUpstream, NeedSecretRead}, checkNegativeCache},
	{"missing-manifest", model.SeverityWarning, "Something that should be cached is not",
		"A cached index missing some platforms' manifests; a watched reference not cached; a digest-pinned reference whose manifest is not cached (a first pull by digest does not fill the cache).", []Need{NeedRules, NeedRepositories, NeedImages, NeedIndexes, NeedCache}, checkMissingManifest},
	{"creation-template", model.SeverityWarning, "New cache repositories will be made wrong",
		"A rule prefix without a creation template (defaults: no lifecycle); a template with immutable tags (blocks refresh); tags or KMS without a customRoleArn (creation fails); a template whose prefix matches no rule.", []Need{NeedRules, NeedTemplates}, checkTemplates},
	{"cross-account-pull", model.SeverityError, "Other accounts cannot pull from new cache repositories",
		"Accounts that pull from this registry's caches (named by --consumer-account, or granted pulling through in the registry policy, or pulling in a cache repository's policy) are not granted the pull actions by the repository policy of the creation template that makes the cache repositories (or no template gives them one).", []Need{NeedRules, NeedTemplates, NeedRegistryPolicy, NeedRepositories}, checkCrossAccount},
	{"template-drift", model.SeverityWarning, "A cache repository differs from its creation template",
		"A cache repository whose tag mutability, encryption, lifecycle policy, repository policy or resource tags differ from the template that covers it now (templates apply only at creation); the plan aligns what can be changed in place.", []Need{NeedRules, NeedTemplates, NeedRepositories, NeedLifecycle}, checkTemplateDrift},
	{"stale-tag", model.SeverityWarning, "A cached tag has moved upstream",
		"A cached mutable tag whose upstream digest differs: ECR looks again at the next pull once 24 hours have passed since it last checked.", []Need{NeedRules, NeedRepositories, NeedImages, NeedUpstream, NeedSecretRead}, checkStaleTags},
	{"no-lifecycle", model.SeverityWarning, "Cache repositories grow without bound",
		"Cache repositories without a lifecycle policy keep every image they ever cached.", []Need{NeedRules, NeedRepositories, NeedImages, NeedLifecycle, NeedTemplates}, checkNoLifecycle},
	{"orphan-repository", model.SeverityWarning, "Cached repositories no rule covers any more",
		"Repositories under a prefix whose pull through cache rule was deleted: they are never refreshed.", []Need{NeedRules, NeedRepositories, NeedTemplates, NeedImages}, checkOrphans},
	{"rule-quota", model.SeverityWarning, "Near the limit of 50 rules",
		"A registry can have at most 50 pull through cache rules per region; the quota cannot be raised.", []Need{NeedRules}, checkRuleQuota},
}

// CheckByID finds a check of the catalog.
func CheckByID(id string) (Check, bool) {
	for _, c := range Catalog {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}
