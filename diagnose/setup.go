package diagnose

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/ptcdoctor/ptcdoctor/diagnose/nodes"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// Setup plans a first pull through cache rule, or repairs one: the secret, the rule, its
// creation template and the registry policy statement for the principal that pulls, all
// checked as AWS would check them before anything is written.

// Upstream is one of the registries ECR can cache from.
type Upstream struct {
	ID            string // the upstreamRegistry enum
	Name          string
	URL           string // "" where the customer names it (ECR, Azure)
	DefaultPrefix string // the console's default cache prefix
	Credentials   bool   // the upstream needs a secret
	Canary        string // a small image to prove the rule with, as an upstream path:tag
}

// Upstreams are the nine upstreams of the facts page, with the console's default prefixes.
var Upstreams = []Upstream{
	{"docker-hub", "Docker Hub", "registry-1.docker.io", "docker-hub", true, "library/alpine:latest"},
	{"ecr-public", "Amazon ECR Public", "public.ecr.aws", "ecr-public", false, "docker/library/busybox:latest"},
	{"github-container-registry", "GitHub Container Registry", "ghcr.io", "github", true, ""},
	{"quay", "Quay", "quay.io", "quay", false, "prometheus/node-exporter:v1.8.0"},
	{"k8s", "Kubernetes", "registry.k8s.io", "kubernetes", false, "pause:3.10"},
	{"gitlab-container-registry", "GitLab Container Registry", "registry.gitlab.com", "gitlab", true, ""},
	{"azure-container-registry", "Azure Container Registry", "", "azure", true, ""},
	{"chainguard", "Chainguard", "cgr.dev", "chainguard", true, "chainguard/static:latest"},
	{"ecr", "Amazon ECR (private, another account or region)", "", "ecr", false, ""},
}

// UpstreamByID finds an upstream.
func UpstreamByID(id string) (Upstream, bool) {
	for _, u := range Upstreams {
		if u.ID == id {
			return u, true
		}
	}
	return Upstream{}, false
}

// SetupRequest is every answer of the setup flow.
type SetupRequest struct {
	Upstream       string // enum
	AzureRegistry  string // for azure-container-registry: the registry name (.azurecr.io is added)
	ECRAccount     string // for ecr: the upstream account
	ECRRegion      string // for ecr: the upstream region
	RoleArn        string // for ecr across accounts: the role ECR assumes
	Prefix         string
	UpstreamPrefix string

	SecretArn  string // an existing ecr-pullthroughcache/ secret
	SecretName string // a secret to create; its value is given when the plan is applied

	NoTemplate   bool
	UntaggedDays int // expire untagged images after; 0 means 1
	UnpulledDays int // archive images not pulled for; 0 means 90
	ArchivedDays int // expire images archived for; 0 means 90, the least ECR takes

	Principal string // the role or user that will pull; "" for none
	Canary    string // upstream path:tag to pull through once the rule exists
}

// lifecycle is the template's lifecycle policy, the defaults filling what was not asked.
func (r SetupRequest) lifecycle() Lifecycle {
	lc := DefaultLifecycle
	if r.UntaggedDays > 0 {
		lc.UntaggedDays = r.UntaggedDays
	}
	if r.UnpulledDays > 0 {
		lc.UnpulledDays = r.UnpulledDays
	}
	if r.ArchivedDays > 0 {
		lc.ArchivedDays = r.ArchivedDays
	}
	return lc
}

// URL is the upstream registry URL the request names.
func (r SetupRequest) URL() string {
	switch r.Upstream {
	case "azure-container-registry":
		return strings.TrimSuffix(r.AzureRegistry, ".azurecr.io") + ".azurecr.io"
	case "ecr":
		return model.RegistryHost(r.ECRAccount, r.ECRRegion)
	}
	u, _ := UpstreamByID(r.Upstream)
	return u.URL
}

var (
	prefixRE        = regexp.MustCompile(`^([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*/?|ROOT)$`)
	secretArnRE     = regexp.MustCompile(`^arn:aws(-\w+)*:secretsmanager:[a-zA-Z0-9-:]+:secret:ecr\-pullthroughcache/[a-zA-Z0-9/_+=.@-]+$`)
	secretNameRE    = regexp.MustCompile(`^ecr-pullthroughcache/[a-zA-Z0-9/_+=.@-]{1,490}$`)
	accountRE       = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE        = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	azureNameRE     = regexp.MustCompile(`^[a-z0-9]{5,50}$`)
	roleArnRE       = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[\w+=,.@/-]+$`)
	principalArnRE  = regexp.MustCompile(`^arn:aws(-[a-z]+)*:(iam::[0-9]{12}:(role|user)/[\w+=,.@/-]+|sts::[0-9]{12}:assumed-role/[\w+=,.@-]+/[\w+=,.@-]+)$`)
	canaryRE        = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)
	unsupportedRegs = []string{"cn-north-1", "cn-northwest-1", "us-gov-east-1", "us-gov-west-1"}
)

// ValidatePrefix checks a cache prefix as AWS does (2 to 30 characters, the repository
// name pattern, or ROOT) and against the rules already there.
func ValidatePrefix(prefix string, snap *model.Snapshot) error {
	p := strings.TrimSuffix(prefix, "/")
	if prefix != "ROOT" && (len(prefix) < 2 || len(prefix) > 30) {
		return fmt.Errorf("the prefix must be 2 to 30 characters (%q is %d)", prefix, len(prefix))
	}
	if !prefixRE.MatchString(prefix) {
		return fmt.Errorf("%q is not a valid prefix: lower-case letters, digits, and . _ - / between them (or ROOT)", model.Printable(prefix))
	}
	if snap != nil && snap.Rule(p) != nil {
		return fmt.Errorf("a rule with the prefix %s/ exists already", p)
	}
	return nil
}

// ValidationSnapshot is what a setup's answers are validated against: the account,
// or, when the prefix has a rule already (setup run again), the account without its
// rules, so that the existing prefix is taken and PlanSetup plans only what differs.
func ValidationSnapshot(snap *model.Snapshot, prefix string) *model.Snapshot {
	if snap == nil || snap.Rule(strings.TrimSuffix(prefix, "/")) == nil {
		return snap
	}
	return &model.Snapshot{AccountID: snap.AccountID, Region: snap.Region}
}

// Validate checks every answer before anything is planned; the errors say what to change.
func (r SetupRequest) Validate(snap *model.Snapshot) error {
	var errs []error
	u, ok := UpstreamByID(r.Upstream)
	if !ok {
		var ids []string
		for _, x := range Upstreams {
			ids = append(ids, x.ID)
		}
		return fmt.Errorf("--upstream %q: one of %s", r.Upstream, strings.Join(ids, ", "))
	}
	if snap != nil {
		for _, reg := range unsupportedRegs {
			if snap.Region == reg {
				errs = append(errs, fmt.Errorf("pull through cache rules cannot be created in %s", reg))
			}
		}
	}
	switch r.Upstream {
	case "azure-container-registry":
		if !azureNameRE.MatchString(strings.TrimSuffix(r.AzureRegistry, ".azurecr.io")) {
			errs = append(errs, errors.New("--azure-registry: the registry's name, 5 to 50 lower-case letters and digits"))
		}
	case "ecr":
		if !accountRE.MatchString(r.ECRAccount) || !regionRE.MatchString(r.ECRRegion) {
			errs = append(errs, errors.New("--ecr-account (12 digits) and --ecr-region name the upstream registry"))
		}
		if snap != nil && r.ECRAccount != snap.AccountID && r.RoleArn == "" {
			errs = append(errs, errors.New("an upstream in another account needs --role-arn: a role in this account that ECR assumes"))
		}
	}
	if r.RoleArn != "" && !roleArnRE.MatchString(r.RoleArn) {
		errs = append(errs, fmt.Errorf("--role-arn %q is not an IAM role ARN", model.Printable(r.RoleArn)))
	}
	if err := ValidatePrefix(r.Prefix, snap); err != nil {
		errs = append(errs, err)
	}
	if r.UpstreamPrefix != "" {
		if !prefixRE.MatchString(r.UpstreamPrefix) || (r.UpstreamPrefix != "ROOT" && (len(r.UpstreamPrefix) < 2 || len(r.UpstreamPrefix) > 30)) {
			errs = append(errs, fmt.Errorf("--upstream-prefix %q is not a valid prefix", model.Printable(r.UpstreamPrefix)))
		}
		if r.Prefix == "ROOT" && r.UpstreamPrefix != "ROOT" {
			errs = append(errs, errors.New("an upstream prefix can be set only when the cache prefix is not ROOT"))
		}
	}
	switch {
	case u.Credentials && r.SecretArn == "" && r.SecretName == "":
		errs = append(errs, fmt.Errorf("%s needs credentials: --secret-arn of an ecr-pullthroughcache/ secret, or --username and --token-stdin", u.Name))
	case r.SecretArn != "" && !secretArnRE.MatchString(r.SecretArn):
		errs = append(errs, fmt.Errorf("--secret-arn %q: ECR only uses secrets named ecr-pullthroughcache/...", model.Printable(r.SecretArn)))
	case r.SecretName != "" && !secretNameRE.MatchString(r.SecretName):
		errs = append(errs, fmt.Errorf("the secret's name %q must start with ecr-pullthroughcache/", model.Printable(r.SecretName)))
	case !u.Credentials && (r.SecretArn != "" || r.SecretName != ""):
		errs = append(errs, fmt.Errorf("%s takes no credentials", u.Name))
	}
	if r.UntaggedDays < 0 || r.UnpulledDays < 0 || r.UntaggedDays > 3650 || r.UnpulledDays > 3650 {
		errs = append(errs, errors.New("lifecycle days: 1 to 3650"))
	}
	if r.ArchivedDays != 0 && (r.ArchivedDays < MinArchivedDays || r.ArchivedDays > 3650) {
		errs = append(errs, fmt.Errorf("days in the archive before deletion: %d to 3650 (ECR keeps archived images %d days at least)", MinArchivedDays, MinArchivedDays))
	}
	if r.Principal != "" && !principalArnRE.MatchString(r.Principal) {
		errs = append(errs, fmt.Errorf("--principal %q is not an IAM role or user ARN", model.Printable(r.Principal)))
	}
	if r.Canary != "" && !canaryRE.MatchString(r.Canary) {
		errs = append(errs, fmt.Errorf("--canary %q: an upstream path and tag, like library/alpine:3.20", model.Printable(r.Canary)))
	}
	return errors.Join(errs...)
}

// SetupPlan is what setup will do, and what it found already there.
type SetupPlan struct {
	Plan model.Plan
	// Present lists what is already as the request wants it (when setup runs again).
	Present []string
}

// PlanSetup builds the plan for a request: a secret (when a new one is asked for), the
// rule, its creation template, and the registry policy statement. When the prefix has a
// rule already, only what differs from the request is planned.
func PlanSetup(snap *model.Snapshot, r SetupRequest) SetupPlan {
	prefix := strings.TrimSuffix(r.Prefix, "/")
	var out SetupPlan
	out.Plan.Title = "Pull through cache for " + r.URL() + " under " + prefix + "/"
	lc := r.lifecycle()
	steps := &out.Plan.Steps
	existing := snap.Rule(prefix)
	if r.SecretName != "" {
		*steps = append(*steps, model.Step{Kind: model.StepCreateSecret, Operation: "secretsmanager:CreateSecret", Target: r.SecretName,
			Params:  map[string]string{"name": r.SecretName, "description": "Credentials of the pull through cache rule " + prefix + "/ (made by ptcdoctor)"},
			Summary: "Create the secret " + r.SecretName + ` holding {"username", "accessToken"}, with the default aws/secretsmanager key`,
			Expect:  map[string]string{"exists": "false"}, NeedsSecretValue: true})
	}
	if existing == nil {
		params := map[string]string{"ecrRepositoryPrefix": prefix, "upstreamRegistryUrl": r.URL(), "upstreamRegistry": r.Upstream}
		if r.SecretArn != "" {
			params["credentialArn"] = r.SecretArn
		}
		if r.SecretName != "" {
			params["credentialSecretName"] = r.SecretName // its ARN is read when the step runs
		}
		if r.RoleArn != "" {
			params["customRoleArn"] = r.RoleArn
		}
		if r.UpstreamPrefix != "" {
			params["upstreamRepositoryPrefix"] = r.UpstreamPrefix
		}
		*steps = append(*steps, model.Step{Kind: model.StepCreateRule, Operation: "ecr:CreatePullThroughCacheRule", Target: prefix,
			Params: params, Summary: "Create the rule " + prefix + "/ → " + r.URL(), Expect: map[string]string{"exists": "false"}})
	} else {
		switch {
		case existing.UpstreamURL != r.URL():
			out.Present = append(out.Present, fmt.Sprintf("the rule %s/ caches %s, not %s; a rule's upstream cannot be changed: choose another prefix", prefix, existing.UpstreamURL, r.URL()))
		default:
			out.Present = append(out.Present, "the rule "+prefix+"/ → "+existing.UpstreamURL)
		}
		wantCred := r.SecretArn
		if (wantCred != "" && existing.CredentialArn != wantCred) || r.SecretName != "" {
			params := map[string]string{"ecrRepositoryPrefix": prefix, "credentialArn": wantCred}
			if r.SecretName != "" {
				params = map[string]string{"ecrRepositoryPrefix": prefix, "credentialSecretName": r.SecretName}
			}
			*steps = append(*steps, model.Step{Kind: model.StepUpdateRule, Operation: "ecr:UpdatePullThroughCacheRule", Target: prefix,
				Params: params, Summary: "Point the rule " + prefix + "/ at the new credentials", Expect: map[string]string{"credentialArn": existing.CredentialArn}})
		} else if existing.CredentialArn != "" {
			out.Present = append(out.Present, "its credentials "+existing.CredentialArn)
		}
	}
	if !r.NoTemplate {
		lifecycle := lc.Policy()
		var tpl *model.Template
		for i := range snap.Templates {
			if snap.Templates[i].Prefix == prefix {
				tpl = &snap.Templates[i]
			}
		}
		switch {
		case tpl == nil:
			st := createTemplateStep(prefix)
			st.Params["lifecyclePolicy"] = lifecycle
			st.Summary = "Create a creation template for " + prefix + "/: mutable tags, AES256, and a lifecycle policy: " + lc.Summary()
			*steps = append(*steps, st)
		default:
			params := map[string]string{"prefix": prefix}
			var what []string
			if tpl.ImageTagMutability != "MUTABLE" {
				params["imageTagMutability"] = "MUTABLE"
				what = append(what, "mutable tags")
			}
			if tpl.LifecyclePolicy == "" {
				params["lifecyclePolicy"] = lifecycle
				what = append(what, "a lifecycle policy ("+lc.Summary()+")")
			}
			if tpl.CustomRoleArn == "" && len(tpl.ResourceTags) > 0 {
				params["resourceTags"] = ""
				what = append(what, "no resource tags (it has no creation role)")
			}
			if len(what) == 0 {
				out.Present = append(out.Present, "the creation template "+prefix)
			} else {
				*steps = append(*steps, model.Step{Kind: model.StepUpdateTemplate, Operation: "ecr:UpdateRepositoryCreationTemplate", Target: prefix,
					Params: params, Summary: "Give the template " + prefix + " " + strings.Join(what, ", "), Expect: map[string]string{"exists": "true"}})
			}
		}
	}
	if r.Principal != "" {
		stmt := registryStatement(iamPrincipal(r.Principal), snap.AccountID, snap.Region, prefix)
		if policyHas(snap.RegistryPolicy, iamPrincipal(r.Principal), prefix) {
			out.Present = append(out.Present, "the registry policy statement for "+r.Principal)
		} else {
			*steps = append(*steps, model.Step{Kind: model.StepAddRegistryPolicyStatement, Operation: "ecr:PutRegistryPolicy", Target: "registry policy",
				Params:  map[string]string{"statement": stmt},
				Summary: "Let " + r.Principal + " create and import cache repositories under " + prefix + "/ (merged into the registry policy)"})
		}
	}
	sort.Strings(out.Present)
	return out
}

// policyHas reports whether the registry policy already grants the principal the import
// on the prefix (a statement setup would have added).
func policyHas(policy, principal, prefix string) bool {
	return policy != "" && strings.Contains(policy, principal) && strings.Contains(policy, "repository/"+prefix+"/*") &&
		strings.Contains(policy, "ecr:BatchImportUpstreamImage")
}

// iamPrincipal turns an assumed-role ARN into its role's ARN.
func iamPrincipal(arn string) string {
	if rest, ok := strings.CutPrefix(arn, "arn:aws:sts::"); ok {
		if acct, role, ok := strings.Cut(rest, ":assumed-role/"); ok {
			name, _, _ := strings.Cut(role, "/")
			return "arn:aws:iam::" + acct + ":role/" + name
		}
	}
	return arn
}

// NextSteps says how to use the rule: the pull URIs, a containerd mirror, a BuildKit
// mirror, and what to change in Kubernetes manifests.
func NextSteps(snap *model.Snapshot, r SetupRequest) string {
	prefix := strings.TrimSuffix(r.Prefix, "/")
	reg := snap.RegistryURI()
	base := reg + "/" + prefix
	if prefix == "ROOT" {
		base = reg
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Pull through the cache:\n")
	switch r.Upstream {
	case "docker-hub":
		fmt.Fprintf(&b, "  official images need library/:  %s/library/nginx:1.27     (not %s/nginx:1.27)\n", base, base)
		fmt.Fprintf(&b, "  other images, without library/: %s/bitnami/postgresql:16\n", base)
	default:
		fmt.Fprintf(&b, "  %s/<path on %s>:<tag>\n", base, r.URL())
	}
	fmt.Fprintf(&b, "  log in first: aws ecr get-login-password --region %s | docker login --username AWS --password-stdin %s\n", snap.Region, reg)
	// The node snippets come from diagnose/nodes, the package that judges them: what is
	// printed here passes ptcdoctor nodes (a test holds it).
	ns := hostsTomlDir(r.URL())
	fmt.Fprintf(&b, "\ncontainerd (/etc/containerd/certs.d/%s/hosts.toml):\n%s", ns, indent(nodes.HostsTOML(ns, reg, prefix), "  "))
	fmt.Fprintf(&b, "\nkubelet credential provider (the file --image-credential-provider-config names; on EKS /etc/eks/image-credential-provider/config.json):\n")
	fmt.Fprintf(&b, "  # The kubelet asks for credentials for the image a pod names (%s/...), not for the mirror:\n  # without %s in matchImages, pulls through the mirror reach ECR without a token.\n", ns, ns)
	b.WriteString(indent(nodes.CredentialProviderYAML([]string{ns}, snap.Region), "  "))
	fmt.Fprintf(&b, "\nBuildKit (buildkitd.toml, v0.12 or later):\n  [registry.\"%s\"]\n    mirrors = [\"%s\"]\n", dockerName(r.URL()), strings.TrimSuffix(base, "/"))
	fmt.Fprintf(&b, "\nKubernetes: change image references from %s/<path>:<tag> to %s/<path>:<tag>", dockerName(r.URL()), base)
	if r.Upstream == "docker-hub" {
		fmt.Fprintf(&b, " (nginx:1.27 becomes %s/library/nginx:1.27)", base)
	}
	b.WriteString(".\nDocker's registry-mirrors cannot take a path, so it cannot point at a cache prefix.\n")
	return b.String()
}

func indent(s, by string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(by + l)
		}
	}
	return b.String()
}

func hostsTomlDir(url string) string {
	if url == model.DockerHubRegistry {
		return "docker.io"
	}
	return url
}

func dockerName(url string) string {
	if url == model.DockerHubRegistry {
		return "docker.io"
	}
	return url
}
