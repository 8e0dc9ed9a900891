package sim

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The ECR control plane. Inputs reach these handlers already checked against the API
// model (required members, lengths, patterns, enums); what is checked here is what the
// model cannot say: existence, limits, and the rules of pull through cache.

var ecrHandlers = map[string]handler{
	"CreatePullThroughCacheRule":          createRule,
	"DescribePullThroughCacheRules":       describeRules,
	"UpdatePullThroughCacheRule":          updateRule,
	"UpdateImageStorageClass":             updateImageStorageClass,
	"GetDownloadUrlForLayer":              getDownloadURLForLayer,
	"BatchCheckLayerAvailability":         batchCheckLayerAvailability,
	"DescribeRegistry":                    describeRegistry,
	"ListImageReferrers":                  listImageReferrers,
	"RegisterPullTimeUpdateExclusion":     registerPullTimeUpdateExclusion,
	"DeregisterPullTimeUpdateExclusion":   deregisterPullTimeUpdateExclusion,
	"ListPullTimeUpdateExclusions":        listPullTimeUpdateExclusions,
	"DeletePullThroughCacheRule":          deleteRule,
	"ValidatePullThroughCacheRule":        validateRule,
	"CreateRepositoryCreationTemplate":    createTemplate,
	"DescribeRepositoryCreationTemplates": describeTemplates,
	"UpdateRepositoryCreationTemplate":    updateTemplate,
	"DeleteRepositoryCreationTemplate":    deleteTemplate,
	"CreateRepository":                    createRepository,
	"DescribeRepositories":                describeRepositories,
	"DeleteRepository":                    deleteRepository,
	"DescribeImages":                      describeImages,
	"ListImages":                          listImages,
	"BatchDeleteImage":                    batchDeleteImage,
	"BatchGetImage":                       batchGetImage,
	"GetAuthorizationToken":               getAuthorizationToken,
	"PutLifecyclePolicy":                  putLifecyclePolicy,
	"GetLifecyclePolicy":                  getLifecyclePolicy,
	"DeleteLifecyclePolicy":               deleteLifecyclePolicy,
	"GetRegistryPolicy":                   getRegistryPolicy,
	"PutRegistryPolicy":                   putRegistryPolicy,
	"DeleteRegistryPolicy":                deleteRegistryPolicy,
	"GetRepositoryPolicy":                 getRepositoryPolicy,
	"SetRepositoryPolicy":                 setRepositoryPolicy,
	"DeleteRepositoryPolicy":              deleteRepositoryPolicy,
	"TagResource":                         tagResource,
	"UntagResource":                       untagResource,
	"ListTagsForResource":                 listTagsForResource,
	"PutImageTagMutability":               putImageTagMutability,
}

// maxRules is AWS's quota of pull through cache rules per registry (not adjustable).
const maxRules = 50

// ecrAuthorize checks the principal's permission for the operation's action.
func (c *call) ecrAuthorize(resource string) *apiError {
	return c.authorize("ecr:"+c.op, resource)
}

// registryResource is the resource ARN of registry-wide operations.
func (c *call) registryResource() string {
	return fmt.Sprintf("arn:aws:ecr:%s:%s:registry/%s", c.srv.st.region, c.srv.st.accountID, c.srv.st.accountID)
}

// checkRegistry refuses a registryId that is not this account's.
func (c *call) checkRegistry(id *string, resource string) *apiError {
	if id == nil || *id == c.srv.st.accountID {
		return nil
	}
	return &apiError{Code: "AccessDeniedException", Status: 400, Sender: true,
		Message: fmt.Sprintf("User: %s is not authorized to perform: ecr:%s on resource: %s because no resource-based policy allows the ecr:%s action",
			c.principal.CallerARN, c.op, strings.Replace(resource, c.srv.st.accountID, *id, 1), c.op)}
}

// --- pull through cache rules ---

type ruleOut struct {
	EcrRepositoryPrefix      string `json:"ecrRepositoryPrefix"`
	UpstreamRegistryURL      string `json:"upstreamRegistryUrl,omitempty"`
	CreatedAt                *epoch `json:"createdAt,omitempty"`
	RegistryID               string `json:"registryId"`
	CredentialArn            string `json:"credentialArn,omitempty"`
	CustomRoleArn            string `json:"customRoleArn,omitempty"`
	UpstreamRepositoryPrefix string `json:"upstreamRepositoryPrefix,omitempty"`
	UpstreamRegistry         string `json:"upstreamRegistry,omitempty"`
	UpdatedAt                *epoch `json:"updatedAt,omitempty"`
}

func (st *state) ruleOut(r *ruleState) ruleOut {
	return ruleOut{EcrRepositoryPrefix: r.Prefix, UpstreamRegistryURL: r.URL, CreatedAt: ts(r.CreatedAt),
		RegistryID: st.accountID, CredentialArn: r.CredentialArn, CustomRoleArn: r.CustomRoleArn,
		UpstreamRepositoryPrefix: r.UpstreamPrefix, UpstreamRegistry: r.Upstream, UpdatedAt: ts(r.UpdatedAt)}
}

type ruleIn struct {
	RegistryID               *string `json:"registryId"`
	EcrRepositoryPrefix      string  `json:"ecrRepositoryPrefix"`
	UpstreamRegistryURL      string  `json:"upstreamRegistryUrl"`
	UpstreamRegistry         *string `json:"upstreamRegistry"`
	CredentialArn            *string `json:"credentialArn"`
	CustomRoleArn            *string `json:"customRoleArn"`
	UpstreamRepositoryPrefix *string `json:"upstreamRepositoryPrefix"`
}

// ruleCall decodes a request about one rule, checks the caller may make it, and finds the rule.
func (c *call) ruleCall(in *ruleIn) (*ruleState, *apiError) {
	if e := c.decode(in); e != nil {
		return nil, e
	}
	st := c.srv.st
	if e := c.checkRegistry(in.RegistryID, c.registryResource()); e != nil {
		return nil, e
	}
	if e := c.ecrAuthorize(c.registryResource()); e != nil {
		return nil, e
	}
	r, ok := st.rules[normalizePrefix(in.EcrRepositoryPrefix)]
	if !ok {
		return nil, ruleNotFound(st.accountID, in.EcrRepositoryPrefix)
	}
	return r, nil
}

func normalizePrefix(p string) string {
	if p == "ROOT" {
		return p
	}
	return strings.TrimSuffix(p, "/")
}

func createRule(c *call) (any, *apiError) {
	var in ruleIn
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	st := c.srv.st
	if e := c.checkRegistry(in.RegistryID, c.registryResource()); e != nil {
		return nil, e
	}
	if e := c.ecrAuthorize(c.registryResource()); e != nil {
		return nil, e
	}
	prefix := normalizePrefix(in.EcrRepositoryPrefix)
	upstream := upstreamForURL(in.UpstreamRegistryURL)
	if upstream == "" || (in.UpstreamRegistry != nil && *in.UpstreamRegistry != upstream) {
		return nil, clientError("UnsupportedUpstreamRegistryException", "The specified upstream registry isn't supported.")
	}
	if in.CredentialArn == nil && upstreamsNeedingCredentials[upstream] {
		return nil, clientError("UnsupportedUpstreamRegistryException",
			"The specified upstream registry requires authentication. Specify a valid Secrets Manager ARN for the credentialArn parameter and try again.")
	}
	if in.UpstreamRepositoryPrefix != nil && prefix == "ROOT" && normalizePrefix(*in.UpstreamRepositoryPrefix) != "ROOT" {
		return nil, invalidParameter("Invalid parameter at 'upstreamRepositoryPrefix' failed to satisfy constraint: 'upstreamRepositoryPrefix can only be set when ecrRepositoryPrefix is not ROOT'")
	}
	if upstream == "ecr" && in.CustomRoleArn == nil && !strings.HasPrefix(in.UpstreamRegistryURL, st.accountID+".") {
		return nil, invalidParameter("Invalid parameter at 'customRoleArn' failed to satisfy constraint: 'a customRoleArn is required for a cross-account upstream registry'")
	}
	if in.CustomRoleArn != nil && !strings.Contains(*in.CustomRoleArn, ":"+st.accountID+":") {
		return nil, invalidParameter("Invalid parameter at 'customRoleArn' failed to satisfy constraint: 'the role must be in the same account as the registry'")
	}
	if _, ok := st.rules[prefix]; ok {
		return nil, clientError("PullThroughCacheRuleAlreadyExistsException", "A pull through cache rule with these settings already exists for the private registry with id '%s'.", st.accountID)
	}
	if len(st.rules) >= maxRules {
		return nil, clientError("LimitExceededException", "The operation did not succeed because it would cause a limit to be exceeded. You can create at most %d pull through cache rules in a registry.", maxRules)
	}
	if in.CredentialArn != nil {
		if e := st.checkRuleSecret(*in.CredentialArn); e != nil {
			return nil, e
		}
	}
	now := c.srv.clock.Now()
	r := &ruleState{Prefix: prefix, URL: in.UpstreamRegistryURL, Upstream: upstream, CredentialArn: str(in.CredentialArn),
		CustomRoleArn: str(in.CustomRoleArn), CreatedAt: now, UpdatedAt: now}
	if in.UpstreamRepositoryPrefix != nil {
		r.UpstreamPrefix = normalizePrefix(*in.UpstreamRepositoryPrefix)
	}
	st.rules[prefix] = r
	st.serviceLinkedRole = true
	out := st.ruleOut(r)
	out.UpdatedAt = nil
	return out, nil
}

// checkRuleSecret models what AWS checks of a rule's secret when the rule is created or
// updated: that it exists, is in the registry's region, and is encrypted with the default
// key, which is the only one ECR's service-linked role can decrypt. The exception names
// are those the API model declares; that these are the triggers is a model.
func (st *state) checkRuleSecret(arn string) *apiError {
	sec := st.secretByARN(arn)
	if sec == nil {
		return clientError("SecretNotFoundException", "The specified secret '%s' was not found in Secrets Manager.", arn)
	}
	if !sec.Deleted.IsZero() {
		return clientError("SecretNotFoundException", "The specified secret '%s' %s.", arn, secretGone(sec))
	}
	if sec.Region != st.region {
		return clientError("UnableToAccessSecretException", "The secret '%s' is in Region %s; a pull through cache rule can only use a secret in its own Region (%s).", arn, sec.Region, st.region)
	}
	if isCustomerKey(sec.KMSKeyID) {
		return clientError("UnableToDecryptSecretValueException", "The secret '%s' is encrypted with a customer managed KMS key; Amazon ECR can only decrypt secrets encrypted with the aws/secretsmanager key.", arn)
	}
	return nil
}

// secretGone says why ECR cannot use a secret that is gone: deleted, or scheduled for
// deletion, which Secrets Manager refuses to read ("You can't perform this operation on
// the secret because it was marked for deletion"). ECR's own wording for the second is not
// public; this one is the stand-in's, and says the same thing as Secrets Manager does.
func secretGone(sec *secretState) string {
	if sec == nil || sec.Deleted.IsZero() {
		return "it does not exist"
	}
	return "it is marked for deletion (DeleteSecret with a recovery window; RestoreSecret brings it back)"
}

func isCustomerKey(k string) bool {
	return k != "" && k != "alias/aws/secretsmanager"
}

func (st *state) secretByARN(arn string) *secretState {
	for _, s := range st.secrets {
		if s.ARN == arn {
			return s
		}
	}
	return nil
}

func describeRules(c *call) (any, *apiError) {
	var in struct {
		RegistryID            *string  `json:"registryId"`
		EcrRepositoryPrefixes []string `json:"ecrRepositoryPrefixes"`
		NextToken             *string  `json:"nextToken"`
		MaxResults            *int     `json:"maxResults"`
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	st := c.srv.st
	if e := c.checkRegistry(in.RegistryID, c.registryResource()); e != nil {
		return nil, e
	}
	if e := c.ecrAuthorize(c.registryResource()); e != nil {
		return nil, e
	}
	var rules []ruleOut
	if len(in.EcrRepositoryPrefixes) > 0 {
		for _, p := range in.EcrRepositoryPrefixes {
			r, ok := st.rules[normalizePrefix(p)]
			if !ok {
				return nil, ruleNotFound(st.accountID, p)
			}
			rules = append(rules, st.ruleOut(r))
		}
	} else {
		for _, p := range sortedKeys(st.rules) {
			rules = append(rules, st.ruleOut(st.rules[p]))
		}
	}
	items, next, ok := page(c.op, rules, in.NextToken, in.MaxResults, 100)
	if !ok {
		return nil, invalidNextToken()
	}
	return map[string]any{"pullThroughCacheRules": emptyIfNil(items), "nextToken": next}, nil
}

func invalidNextToken() *apiError {
	return invalidParameter("Invalid parameter at 'nextToken' failed to satisfy constraint: 'the token is not valid for this request'")
}

func updateRule(c *call) (any, *apiError) {
	var in ruleIn
	r, e := c.ruleCall(&in)
	if e != nil {
		return nil, e
	}
	st := c.srv.st
	if in.CredentialArn == nil && in.CustomRoleArn == nil {
		return nil, invalidParameter("Invalid parameter: at least one of credentialArn or customRoleArn must be specified")
	}
	if in.CredentialArn != nil {
		if e := st.checkRuleSecret(*in.CredentialArn); e != nil {
			return nil, e
		}
		r.CredentialArn = *in.CredentialArn
	}
	if in.CustomRoleArn != nil {
		r.CustomRoleArn = *in.CustomRoleArn
	}
	r.UpdatedAt = c.srv.clock.Now()
	out := st.ruleOut(r)
	out.UpstreamRegistryURL, out.CreatedAt, out.UpstreamRegistry = "", nil, ""
	return out, nil
}

func deleteRule(c *call) (any, *apiError) {
	var in ruleIn
	r, e := c.ruleCall(&in)
	if e != nil {
		return nil, e
	}
	st := c.srv.st
	delete(st.rules, r.Prefix)
	out := st.ruleOut(r)
	out.UpdatedAt, out.UpstreamRegistry = nil, ""
	return out, nil
}

func validateRule(c *call) (any, *apiError) {
	var in ruleIn
	r, e := c.ruleCall(&in)
	if e != nil {
		return nil, e
	}
	st := c.srv.st
	failure := c.srv.validateUpstreamAccess(r)
	out := map[string]any{
		"ecrRepositoryPrefix": r.Prefix, "registryId": st.accountID, "upstreamRegistryUrl": r.URL,
		"isValid": failure == "",
	}
	for k, v := range map[string]string{"credentialArn": r.CredentialArn, "customRoleArn": r.CustomRoleArn,
		"upstreamRepositoryPrefix": r.UpstreamPrefix, "failure": failure} {
		if v != "" {
			out[k] = v
		}
	}
	return out, nil
}

// validateUpstreamAccess does what ValidatePullThroughCacheRule does: read the secret,
// check its syntax, and try the credentials on the upstream. AWS documents the failure
// as free text and publishes no list; these texts are the stand-in's.
func (s *Server) validateUpstreamAccess(r *ruleState) string {
	st := s.st
	if r.Upstream == "ecr" {
		return s.validateECRUpstream(r)
	}
	if r.CredentialArn == "" {
		return ""
	}
	sec := st.secretByARN(r.CredentialArn)
	switch {
	case sec == nil || !sec.Deleted.IsZero():
		return fmt.Sprintf("Unable to retrieve the secret %s: %s.", r.CredentialArn, secretGone(sec))
	case sec.Region != st.region:
		return fmt.Sprintf("Unable to access the secret %s: it is in Region %s, not the registry's Region %s.", r.CredentialArn, sec.Region, st.region)
	case isCustomerKey(sec.KMSKeyID):
		return fmt.Sprintf("Unable to decrypt the secret %s: it is encrypted with a customer managed KMS key.", r.CredentialArn)
	}
	sec.read(s.clock.Now()) // ECR read it: its LastAccessedDate shows that
	creds, ok := parseUpstreamCredentials(sec.Value)
	if !ok {
		return "The secret value is not valid: it must be a JSON object with the keys \"username\" and \"accessToken\"."
	}
	return s.upstreamLogin(r.URL, creds)
}

type upstreamCredentials struct {
	Username    string `json:"username"`
	AccessToken string `json:"accessToken"`
}

func parseUpstreamCredentials(value string) (upstreamCredentials, bool) {
	var c upstreamCredentials
	if err := json.Unmarshal([]byte(value), &c); err != nil {
		return c, false
	}
	return c, c.Username != "" && c.AccessToken != ""
}

// upstreamLogin tries credentials against an upstream of the scenario and says why they fail.
func (s *Server) upstreamLogin(host string, creds upstreamCredentials) string {
	for _, u := range s.scenario.Upstreams {
		if u.Host != host {
			continue
		}
		for _, a := range u.Accounts {
			if a.Username == creds.Username && a.Token == creds.AccessToken {
				if a.Expired {
					return fmt.Sprintf("Authentication to the upstream registry %s failed: the access token has expired (401 Unauthorized).", host)
				}
				return ""
			}
		}
		return fmt.Sprintf("Authentication to the upstream registry %s failed: incorrect username or access token (401 Unauthorized).", host)
	}
	return fmt.Sprintf("The upstream registry %s could not be reached.", host)
}

// --- repository creation templates ---

type templateIn struct {
	RegistryID                         *string            `json:"registryId"`
	Prefix                             string             `json:"prefix"`
	Description                        *string            `json:"description"`
	EncryptionConfiguration            *encryption        `json:"encryptionConfiguration"`
	ResourceTags                       *[]tag             `json:"resourceTags"`
	ImageTagMutability                 *string            `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters *[]exclusionFilter `json:"imageTagMutabilityExclusionFilters"`
	RepositoryPolicy                   *string            `json:"repositoryPolicy"`
	LifecyclePolicy                    *string            `json:"lifecyclePolicy"`
	AppliedFor                         *[]string          `json:"appliedFor"`
	CustomRoleArn                      *string            `json:"customRoleArn"`
}

func (st *state) templateOut(t *templateState) map[string]any {
	out := map[string]any{
		"prefix": t.Prefix, "encryptionConfiguration": t.Encryption, "resourceTags": emptyIfNil(t.ResourceTags),
		"imageTagMutability": t.Mutability, "appliedFor": t.AppliedFor,
		"createdAt": ts(t.CreatedAt), "updatedAt": ts(t.UpdatedAt),
	}
	for k, v := range map[string]string{"description": t.Description, "repositoryPolicy": t.RepositoryPolicy,
		"lifecyclePolicy": t.Lifecycle, "customRoleArn": t.CustomRoleArn} {
		if v != "" {
			out[k] = v
		}
	}
	if len(t.Exclusions) > 0 {
		out["imageTagMutabilityExclusionFilters"] = t.Exclusions
	}
	return out
}

func (t *templateState) apply(in templateIn) *apiError {
	if in.Description != nil {
		t.Description = *in.Description
	}
	if in.EncryptionConfiguration != nil {
		t.Encryption = *in.EncryptionConfiguration
	}
	if in.ResourceTags != nil {
		t.ResourceTags = *in.ResourceTags
	}
	if in.ImageTagMutability != nil {
		t.Mutability = *in.ImageTagMutability
	}
	if in.ImageTagMutabilityExclusionFilters != nil {
		t.Exclusions = *in.ImageTagMutabilityExclusionFilters
	} else if in.ImageTagMutability != nil && !strings.HasSuffix(t.Mutability, "_WITH_EXCLUSION") {
		t.Exclusions = nil // a plain setting drops the filters it no longer uses
	}
	if in.RepositoryPolicy != nil {
		if why := checkPolicyDocument(*in.RepositoryPolicy); why != "" && *in.RepositoryPolicy != "" {
			return invalidParameter("Invalid parameter at 'repositoryPolicy' failed to satisfy constraint: 'Invalid repository policy provided: %s'", why)
		}
		t.RepositoryPolicy = *in.RepositoryPolicy
	}
	if in.LifecyclePolicy != nil {
		if why := checkLifecyclePolicy(*in.LifecyclePolicy); why != "" && *in.LifecyclePolicy != "" {
			return invalidParameter("Invalid parameter at 'lifecyclePolicy' failed to satisfy constraint: 'Lifecycle policy validation failure: %s'", why)
		}
		t.Lifecycle = *in.LifecyclePolicy
	}
	if in.AppliedFor != nil {
		t.AppliedFor = *in.AppliedFor
	}
	if in.CustomRoleArn != nil {
		t.CustomRoleArn = *in.CustomRoleArn
	}
	return checkExclusions(t.Mutability, t.Exclusions)
}

func createTemplate(c *call) (any, *apiError) {
	var in templateIn
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	st := c.srv.st
	if e := c.ecrAuthorize(c.registryResource()); e != nil {
		return nil, e
	}
	prefix := normalizePrefix(in.Prefix)
	if _, ok := st.templates[prefix]; ok {
		return nil, clientError("TemplateAlreadyExistsException", "The repository creation template with prefix '%s' already exists in the registry with id '%s'", prefix, st.accountID)
	}
	now := c.srv.clock.Now()
	t := &templateState{Prefix: prefix, Mutability: "MUTABLE", Encryption: encryption{EncryptionType: "AES256"},
		CreatedAt: now, UpdatedAt: now}
	if e := t.apply(in); e != nil {
		return nil, e
	}
	st.templates[prefix] = t
	return map[string]any{"registryId": st.accountID, "repositoryCreationTemplate": st.templateOut(t)}, nil
}

func describeTemplates(c *call) (any, *apiError) {
	var in struct {
		Prefixes   []string `json:"prefixes"`
		NextToken  *string  `json:"nextToken"`
		MaxResults *int     `json:"maxResults"`
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	st := c.srv.st
	if e := c.ecrAuthorize(c.registryResource()); e != nil {
		return nil, e
	}
	var out []map[string]any
	for _, p := range sortedKeys(st.templates) {
		if len(in.Prefixes) > 0 && !contains(in.Prefixes, p) && !contains(in.Prefixes, p+"/") {
			continue
		}
		out = append(out, st.templateOut(st.templates[p]))
	}
	items, next, ok := page(c.op, out, in.NextToken, in.MaxResults, 100)
	if !ok {
		return nil, invalidNextToken()
	}
	return map[string]any{"registryId": st.accountID, "repositoryCreationTemplates": emptyIfNil(items), "nextToken": next}, nil
}

// templateCall decodes a request about one template, checks the caller, and finds it.
func (c *call) templateCall(in *templateIn) (*templateState, *apiError) {
	if e := c.decode(in); e != nil {
		return nil, e
	}
	if e := c.ecrAuthorize(c.registryResource()); e != nil {
		return nil, e
	}
	t, ok := c.srv.st.templates[normalizePrefix(in.Prefix)]
	if !ok {
		return nil, templateNotFound(c.srv.st.accountID, in.Prefix)
	}
	return t, nil
}

func updateTemplate(c *call) (any, *apiError) {
	var in templateIn
	t, e := c.templateCall(&in)
	if e != nil {
		return nil, e
	}
	st := c.srv.st
	updated := *t
	if e := updated.apply(in); e != nil {
		return nil, e
	}
	updated.UpdatedAt = c.srv.clock.Now()
	*t = updated
	return map[string]any{"registryId": st.accountID, "repositoryCreationTemplate": st.templateOut(t)}, nil
}

func deleteTemplate(c *call) (any, *apiError) {
	var in templateIn
	t, e := c.templateCall(&in)
	if e != nil {
		return nil, e
	}
	st := c.srv.st
	delete(st.templates, t.Prefix)
	return map[string]any{"registryId": st.accountID, "repositoryCreationTemplate": st.templateOut(t)}, nil
}

// --- repositories ---

// repoOut is a repository as ECR describes it. The answers read on every scan are
// structs rather than maps, which encoding/json writes without sorting keys or reflecting
// on each value; their fields are in the order of their JSON names, the order a map was
// written in, so the bytes on the wire are the same.
type repoOut struct {
	CreatedAt                          *epoch            `json:"createdAt"`
	EncryptionConfiguration            encryption        `json:"encryptionConfiguration"`
	ImageScanningConfiguration         scanningOut       `json:"imageScanningConfiguration"`
	ImageTagMutability                 string            `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []exclusionFilter `json:"imageTagMutabilityExclusionFilters,omitempty"`
	RegistryID                         string            `json:"registryId"`
	RepositoryArn                      string            `json:"repositoryArn"`
	RepositoryName                     string            `json:"repositoryName"`
	RepositoryURI                      string            `json:"repositoryUri"`
}

type scanningOut struct {
	ScanOnPush bool `json:"scanOnPush"`
}

func (st *state) repoOut(r *repoState) repoOut {
	return repoOut{CreatedAt: ts(r.CreatedAt), EncryptionConfiguration: r.Encryption,
		ImageScanningConfiguration: scanningOut{r.ScanOnPush}, ImageTagMutability: r.Mutability,
		ImageTagMutabilityExclusionFilters: r.Exclusions, RegistryID: st.accountID, RepositoryArn: r.ARN,
		RepositoryName: r.Name, RepositoryURI: st.repoURI(r.Name)}
}

type repoIn struct {
	RegistryID                         *string                    `json:"registryId"`
	RepositoryName                     string                     `json:"repositoryName"`
	Tags                               []tag                      `json:"tags"`
	ImageTagMutability                 *string                    `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []exclusionFilter          `json:"imageTagMutabilityExclusionFilters"`
	ImageScanningConfiguration         *struct{ ScanOnPush bool } `json:"imageScanningConfiguration"`
	EncryptionConfiguration            *encryption                `json:"encryptionConfiguration"`
	Force                              bool                       `json:"force"`
	PolicyText                         *string                    `json:"policyText"`
	LifecyclePolicyText                *string                    `json:"lifecyclePolicyText"`
}

// repoCall decodes a request about one repository, checks the caller may act on it, and
// finds it.
func (c *call) repoCall(in *repoIn) (*repoState, *apiError) {
	if e := c.decode(in); e != nil {
		return nil, e
	}
	st := c.srv.st
	arn := st.repoARN(in.RepositoryName)
	if e := c.checkRegistry(in.RegistryID, arn); e != nil {
		return nil, e
	}
	if e := c.ecrAuthorize(arn); e != nil {
		return nil, e
	}
	r, ok := st.repos[in.RepositoryName]
	if !ok {
		return nil, repositoryNotFound(st.accountID, in.RepositoryName)
	}
	return r, nil
}

const maxTagsPerRepository = 50

func createRepository(c *call) (any, *apiError) {
	var in repoIn
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	st := c.srv.st
	arn := st.repoARN(in.RepositoryName)
	if e := c.checkRegistry(in.RegistryID, arn); e != nil {
		return nil, e
	}
	if e := c.ecrAuthorize(arn); e != nil {
		return nil, e
	}
	if len(in.Tags) > 0 {
		if e := c.authorize("ecr:TagResource", arn); e != nil {
			return nil, e
		}
	}
	if _, ok := st.repos[in.RepositoryName]; ok {
		return nil, clientError("RepositoryAlreadyExistsException", "The repository with name '%s' already exists in the registry with id '%s'", in.RepositoryName, st.accountID)
	}
	if len(in.Tags) > maxTagsPerRepository {
		return nil, tooManyTags()
	}
	r := st.newRepo(in.RepositoryName, c.srv.clock.Now())
	if in.ImageTagMutability != nil {
		r.Mutability = *in.ImageTagMutability
	}
	r.Exclusions = in.ImageTagMutabilityExclusionFilters
	if e := checkExclusions(r.Mutability, r.Exclusions); e != nil {
		return nil, e
	}
	if in.ImageScanningConfiguration != nil {
		r.ScanOnPush = in.ImageScanningConfiguration.ScanOnPush
	}
	if in.EncryptionConfiguration != nil {
		r.Encryption = *in.EncryptionConfiguration
	}
	r.Tags = in.Tags
	st.repos[r.Name] = r
	return map[string]any{"repository": st.repoOut(r)}, nil
}

func tooManyTags() *apiError {
	return clientError("TooManyTagsException", "The list of tags on the repository is over the limit. The maximum number of tags that can be applied to a repository is %d.", maxTagsPerRepository)
}

func describeRepositories(c *call) (any, *apiError) {
	var in struct {
		RegistryID      *string  `json:"registryId"`
		RepositoryNames []string `json:"repositoryNames"`
		NextToken       *string  `json:"nextToken"`
		MaxResults      *int     `json:"maxResults"`
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	st := c.srv.st
	resource := st.repoARN("*")
	if e := c.checkRegistry(in.RegistryID, resource); e != nil {
		return nil, e
	}
	if len(in.RepositoryNames) > 0 {
		if in.MaxResults != nil || in.NextToken != nil {
			return nil, invalidParameter("Invalid parameter at 'maxResults' failed to satisfy constraint: 'maxResults and nextToken cannot be used with repositoryNames'")
		}
		// Named repositories are authorized one by one, on each one's ARN, as ECR does:
		// a principal allowed on team-a/* may describe team-a/app, not list repository/*.
		for _, n := range in.RepositoryNames {
			if e := c.ecrAuthorize(st.repoARN(n)); e != nil {
				return nil, e
			}
		}
		var out []repoOut
		for _, n := range in.RepositoryNames {
			r, ok := st.repos[n]
			if !ok {
				return nil, repositoryNotFound(st.accountID, n)
			}
			out = append(out, st.repoOut(r))
		}
		return repositoriesOut{Repositories: out}, nil
	}
	if e := c.ecrAuthorize(resource); e != nil {
		return nil, e
	}
	names := sortedKeys(st.repos)
	items, next, ok := page(c.op, names, in.NextToken, in.MaxResults, 100)
	if !ok {
		return nil, invalidNextToken()
	}
	out := make([]repoOut, 0, len(items))
	for _, n := range items {
		out = append(out, st.repoOut(st.repos[n]))
	}
	return repositoriesOut{NextToken: next, Repositories: out}, nil
}

type repositoriesOut struct {
	NextToken    *string   `json:"nextToken,omitempty"`
	Repositories []repoOut `json:"repositories"`
}

func deleteRepository(c *call) (any, *apiError) {
	var in repoIn
	r, e := c.repoCall(&in)
	if e != nil {
		return nil, e
	}
	st := c.srv.st
	if len(r.images) > 0 && !in.Force {
		return nil, clientError("RepositoryNotEmptyException", "The repository with name '%s' in registry with id '%s' cannot be deleted because it still contains images", r.Name, st.accountID)
	}
	delete(st.repos, r.Name)
	// The (modelled) negative cache belongs to the repository and goes with it.
	for k := range st.negative {
		if strings.HasPrefix(k, r.Name+":") {
			delete(st.negative, k)
		}
	}
	return map[string]any{"repository": st.repoOut(r)}, nil
}

// --- images ---

type imageID struct {
	ImageDigest string `json:"imageDigest,omitempty"`
	ImageTag    string `json:"imageTag,omitempty"`
}

type imagesIn struct {
	RegistryID     *string   `json:"registryId"`
	RepositoryName string    `json:"repositoryName"`
	ImageIDs       []imageID `json:"imageIds"`
	NextToken      *string   `json:"nextToken"`
	MaxResults     *int      `json:"maxResults"`
	Filter         *struct {
		TagStatus   string `json:"tagStatus"`
		ImageStatus string `json:"imageStatus"`
	} `json:"filter"`
	AcceptedMediaTypes []string `json:"acceptedMediaTypes"`
}

func (in *imagesIn) imageStatus() string {
	if in.Filter == nil {
		return ""
	}
	return in.Filter.ImageStatus
}

func (in *imagesIn) tagStatus() string {
	if in.Filter == nil || in.Filter.TagStatus == "" {
		return "ANY"
	}
	return in.Filter.TagStatus
}

// resolve finds the image an imageId names, or the failure code and reason when it cannot.
func (r *repoState) resolve(id imageID) (*imageState, string, string) {
	switch {
	case id.ImageDigest == "" && id.ImageTag == "":
		return nil, "MissingDigestAndTag", "Missing image digest and tag"
	case id.ImageDigest != "":
		d, err := v1.NewHash(id.ImageDigest)
		if err != nil {
			return nil, "InvalidImageDigest", "Invalid image digest"
		}
		img, ok := r.images[d]
		if !ok {
			return nil, "ImageNotFound", "Requested image not found"
		}
		if id.ImageTag != "" && r.tags[id.ImageTag] != d {
			return nil, "ImageTagDoesNotMatchDigest", "Image tag does not match the specified image digest"
		}
		return img, "", ""
	default:
		d, ok := r.tags[id.ImageTag]
		if !ok {
			return nil, "ImageNotFound", "Requested image not found"
		}
		return r.images[d], "", ""
	}
}

// sortedImages lists a repository's images in the order of imageBefore.
func (r *repoState) sortedImages() []*imageState {
	out := make([]*imageState, 0, len(r.images))
	for _, img := range r.images {
		out = append(out, img)
	}
	sort.Slice(out, func(i, j int) bool { return imageBefore(out[i], out[j]) })
	return out
}

// imageDetail is one entry of DescribeImages, its fields in the order of their JSON names
// (see repoOut).
type imageDetail struct {
	ArtifactMediaType      string   `json:"artifactMediaType,omitempty"`
	ImageDigest            string   `json:"imageDigest"`
	ImageManifestMediaType string   `json:"imageManifestMediaType"`
	ImagePushedAt          *epoch   `json:"imagePushedAt"`
	ImageSizeInBytes       int64    `json:"imageSizeInBytes"`
	ImageStatus            string   `json:"imageStatus"`
	ImageTags              []string `json:"imageTags,omitempty"`
	LastActivatedAt        *epoch   `json:"lastActivatedAt,omitempty"`
	LastArchivedAt         *epoch   `json:"lastArchivedAt,omitempty"`
	LastRecordedPullTime   *epoch   `json:"lastRecordedPullTime,omitempty"`
	RegistryID             string   `json:"registryId"`
	RepositoryName         string   `json:"repositoryName"`
}

// imageDetail is one entry of DescribeImages; tags are the image's, from tagsFor.
func (st *state) imageDetail(r *repoState, img *imageState, tags []string, now time.Time) imageDetail {
	out := imageDetail{RegistryID: st.accountID, RepositoryName: r.Name, ImageDigest: img.Digest.String(),
		ImageSizeInBytes: img.Size, ImagePushedAt: ts(img.PushedAt), ImageManifestMediaType: string(img.MediaType),
		ImageStatus: img.status(now), ImageTags: tags, LastArchivedAt: ts(img.ArchivedAt),
		LastActivatedAt: ts(img.ActivatedAt), LastRecordedPullTime: ts(img.LastPull)}
	if len(img.Children) == 0 {
		out.ArtifactMediaType = "application/vnd.docker.container.image.v1+json"
	}
	return out
}

type imageDetailsOut struct {
	ImageDetails []imageDetail `json:"imageDetails"`
	NextToken    *string       `json:"nextToken,omitempty"`
}

func describeImages(c *call) (any, *apiError) {
	var in imagesIn
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	r, e := c.imagesRepo(&in)
	if e != nil {
		return nil, e
	}
	st, now := c.srv.st, c.srv.clock.Now()
	if len(in.ImageIDs) > 0 {
		if in.MaxResults != nil || in.NextToken != nil {
			return nil, invalidParameter("Invalid parameter at 'maxResults' failed to satisfy constraint: 'maxResults and nextToken cannot be used with imageIds'")
		}
		var out []imageDetail
		for _, id := range in.ImageIDs {
			img, code, _ := r.resolve(id)
			if code != "" {
				return nil, imageNotFound(st.accountID, r.Name, id)
			}
			out = append(out, st.imageDetail(r, img, r.tagsOf(img.Digest), now))
		}
		return imageDetailsOut{ImageDetails: out}, nil
	}
	var after *imageCursor
	if in.NextToken != nil {
		cur, ok := parseImageCursor(c.op, *in.NextToken)
		if !ok {
			return nil, invalidNextToken()
		}
		after = &cur
	}
	size := 100
	if in.MaxResults != nil {
		size = *in.MaxResults
	}
	tagged, status := r.taggedFilter(in.tagStatus()), in.imageStatus()
	keep := func(img *imageState) bool { return tagged(img) && matchesImageStatus(img, status, now) }
	items, more := r.imagePage(after, keep, size)
	var next *string
	if more {
		last := items[len(items)-1]
		next = ptr(imageCursor{pushed: last.PushedAt, digest: last.Digest}.token(c.op))
	}
	tags := r.tagsFor(items)
	out := make([]imageDetail, 0, len(items))
	for _, img := range items {
		out = append(out, st.imageDetail(r, img, tags[img.Digest], now))
	}
	return imageDetailsOut{ImageDetails: out, NextToken: next}, nil
}

func (c *call) imagesRepo(in *imagesIn) (*repoState, *apiError) {
	st := c.srv.st
	arn := st.repoARN(in.RepositoryName)
	if e := c.checkRegistry(in.RegistryID, arn); e != nil {
		return nil, e
	}
	if e := c.ecrAuthorize(arn); e != nil {
		return nil, e
	}
	r, ok := st.repos[in.RepositoryName]
	if !ok {
		return nil, repositoryNotFound(st.accountID, in.RepositoryName)
	}
	return r, nil
}

func listImages(c *call) (any, *apiError) {
	var in imagesIn
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	r, e := c.imagesRepo(&in)
	if e != nil {
		return nil, e
	}
	now := c.srv.clock.Now()
	var ids []imageID
	sorted := r.sortedImages()
	index := r.tagsFor(sorted)
	for _, img := range sorted {
		if !matchesImageStatus(img, in.imageStatus(), now) {
			continue
		}
		tags := index[img.Digest]
		status := in.tagStatus()
		if len(tags) == 0 && status != "TAGGED" {
			ids = append(ids, imageID{ImageDigest: img.Digest.String()})
		}
		if status != "UNTAGGED" {
			for _, t := range tags {
				ids = append(ids, imageID{ImageDigest: img.Digest.String(), ImageTag: t})
			}
		}
	}
	items, next, ok := page(c.op, ids, in.NextToken, in.MaxResults, 100)
	if !ok {
		return nil, invalidNextToken()
	}
	return map[string]any{"imageIds": emptyIfNil(items), "nextToken": next}, nil
}

type imageFailure struct {
	ImageID       imageID `json:"imageId"`
	FailureCode   string  `json:"failureCode"`
	FailureReason string  `json:"failureReason"`
	// officialImage marks an upstream refusal of a Docker Hub official image pulled
	// without library/, which the registry answers with a bare 403.
	officialImage bool
}

func batchDeleteImage(c *call) (any, *apiError) {
	var in imagesIn
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	r, e := c.imagesRepo(&in)
	if e != nil {
		return nil, e
	}
	deleted, failures := []imageID{}, []imageFailure{}
	for _, id := range in.ImageIDs {
		img, code, reason := r.resolve(id)
		if code != "" {
			failures = append(failures, imageFailure{ImageID: id, FailureCode: code, FailureReason: reason})
			continue
		}
		if id.ImageDigest == "" {
			// By tag: untag; the image goes with its last tag.
			delete(r.tags, id.ImageTag)
			if len(r.tagsOf(img.Digest)) == 0 && !r.isChild(img.Digest) {
				delete(r.images, img.Digest)
			}
			deleted = append(deleted, imageID{ImageDigest: img.Digest.String(), ImageTag: id.ImageTag})
			continue
		}
		if r.isChild(img.Digest) {
			failures = append(failures, imageFailure{ImageID: id, FailureCode: "ImageReferencedByManifestList",
				FailureReason: "Requested image referenced by manifest list"})
			continue
		}
		for _, t := range r.tagsOf(img.Digest) {
			delete(r.tags, t)
		}
		delete(r.images, img.Digest)
		deleted = append(deleted, imageID{ImageDigest: img.Digest.String()})
	}
	return map[string]any{"imageIds": deleted, "failures": failures}, nil
}

// selfLocking handlers take Server.mu themselves, because they call upstreams and must
// not hold the account while they wait.
var selfLocking = map[string]bool{"BatchGetImage": true}

// batchGetImage is what a manifest pull calls: it answers from the cache, pulls through
// on a miss under a rule, and re-checks a cached tag older than 24 hours.
func batchGetImage(c *call) (any, *apiError) {
	s := c.srv
	var in imagesIn
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	st := s.st
	arn := st.repoARN(in.RepositoryName)
	if e := c.checkRegistry(in.RegistryID, arn); e != nil {
		s.mu.Unlock()
		return nil, e
	}
	if ok, d := st.allows(c.principal, "ecr:BatchGetImage", arn); !ok {
		s.mu.Unlock()
		return nil, c.denied("ecr:BatchGetImage", arn, d)
	}
	_, repoExists := st.repos[in.RepositoryName]
	covered := st.ruleFor(in.RepositoryName) != nil
	s.mu.Unlock()
	if !repoExists && !covered {
		return nil, repositoryNotFound(st.accountID, in.RepositoryName)
	}

	images, failures := []map[string]any{}, []imageFailure{}
	for _, id := range in.ImageIDs {
		img, failure := s.pullImage(c.r.Context(), c.principal, in.RepositoryName, id)
		if failure != nil {
			if failure.FailureCode == "RepositoryNotFound" {
				return nil, repositoryNotFound(st.accountID, in.RepositoryName)
			}
			if failure.FailureCode == "Secret" {
				return nil, clientError("UnableToGetUpstreamImageException",
					"The image or images were unable to be pulled using the pull through cache rule. This is usually caused because of an issue with the Secrets Manager secret associated with the pull through cache rule: %s.", failure.FailureReason)
			}
			failures = append(failures, *failure)
			continue
		}
		if len(in.AcceptedMediaTypes) > 0 && !contains(in.AcceptedMediaTypes, string(img.MediaType)) {
			failures = append(failures, imageFailure{ImageID: id, FailureCode: "ImageNotFound", FailureReason: "Requested image not found with the accepted media types"})
			continue
		}
		s.mu.Lock()
		s.recordPull(c.principal, img)
		s.mu.Unlock()
		images = append(images, map[string]any{
			"registryId": st.accountID, "repositoryName": in.RepositoryName,
			"imageId":       imageID{ImageDigest: img.Digest.String(), ImageTag: id.ImageTag},
			"imageManifest": string(img.manifest()), "imageManifestMediaType": string(img.MediaType),
		})
	}
	return map[string]any{"images": images, "failures": failures}, nil
}

// pullImage finds an image in the cache, or pulls it through; a failure says why in
// BatchGetImage's terms (with two internal codes for whole-call errors).
func (s *Server) pullImage(ctx context.Context, p *principal, repo string, id imageID) (*imageState, *imageFailure) {
	if id.ImageTag != "" && id.ImageDigest == "" {
		s.refresh(ctx, p, repo, id.ImageTag)
	}
	s.mu.Lock()
	r := s.st.repos[repo]
	var img *imageState
	code, reason := "ImageNotFound", "Requested image not found"
	if r != nil {
		img, code, reason = r.resolve(id)
	}
	archived := img != nil && !img.pullable(s.clock.Now())
	s.mu.Unlock()
	if archived {
		// "Archived images cannot be pulled. Requests to pull the archived image will fail
		// with a 404 error" (archive-image.html). The failure code AWS gives BatchGetImage
		// is not documented: ImageNotFound is the stand-in's choice (a model).
		return nil, &imageFailure{ImageID: id, FailureCode: "ImageNotFound", FailureReason: "Requested image is archived and cannot be pulled"}
	}
	if img != nil {
		if id.ImageTag != "" && id.ImageDigest == "" {
			s.completeIndex(ctx, p, repo, img)
		}
		return img, nil
	}
	if code != "ImageNotFound" || id.ImageTag == "" || id.ImageDigest != "" {
		// A first pull by digest does not fill the cache.
		if r == nil {
			return nil, &imageFailure{ImageID: id, FailureCode: "RepositoryNotFound"}
		}
		return nil, &imageFailure{ImageID: id, FailureCode: code, FailureReason: reason}
	}
	s.mu.Lock()
	covered := s.st.ruleFor(repo) != nil
	s.mu.Unlock()
	if !covered && r == nil {
		return nil, &imageFailure{ImageID: id, FailureCode: "RepositoryNotFound"}
	}
	if !covered {
		// A repository no rule covers (made by hand, or left when its rule was deleted) is
		// an ordinary repository: a tag it lacks is an image not found, as for any
		// repository (BatchGetImage failure ImageNotFound, registry MANIFEST_UNKNOWN); only a
		// repository that does not exist is RepositoryNotFound. [API] BatchGetImage; facts §6.
		return nil, &imageFailure{ImageID: id, FailureCode: "ImageNotFound", FailureReason: "Requested image not found"}
	}
	img, f := s.pullThrough(ctx, p, repo, id.ImageTag)
	if f == nil {
		return img, nil
	}
	s.logPullFailure(p, repo+":"+id.ImageTag, f)
	switch f.kind {
	case failNoRepository:
		return nil, &imageFailure{ImageID: id, FailureCode: "RepositoryNotFound", FailureReason: f.detail}
	case failSecret:
		return nil, &imageFailure{ImageID: id, FailureCode: "Secret", FailureReason: f.detail}
	case failForbidden, failUpstreamAuth:
		return nil, &imageFailure{ImageID: id, FailureCode: "UpstreamAccessDenied",
			FailureReason: "The upstream registry denied access to the requested image", officialImage: f.kind == failForbidden}
	case failTooManyRequests:
		return nil, &imageFailure{ImageID: id, FailureCode: "UpstreamTooManyRequests", FailureReason: "The upstream registry is rate limiting requests"}
	case failUnavailable:
		return nil, &imageFailure{ImageID: id, FailureCode: "UpstreamUnavailable", FailureReason: "The upstream registry is unavailable"}
	}
	return nil, &imageFailure{ImageID: id, FailureCode: "ImageNotFound", FailureReason: "Requested image not found"}
}

// logPullFailure records what the stand-in saw behind a failed pull through.
func (s *Server) logPullFailure(p *principal, ref string, f *pullFailure) {
	s.events.add(s.clock.Now(), Event{Principal: p.CallerARN, Service: "pullthrough", Operation: "PullThrough",
		Outcome: f.kindName(), Detail: ref + ": " + f.detail})
}

func (f *pullFailure) kindName() string {
	return [...]string{"NoRepository", "NotFound", "Forbidden", "UpstreamAuth", "TooManyRequests", "Unavailable", "Secret"}[f.kind]
}

// denied is the AccessDeniedException of an action the principal may not take.
func (c *call) denied(action, resource, decision string) *apiError {
	why := "because no identity-based policy allows the " + action + " action"
	if decision == decisionExplicitDeny {
		why = "with an explicit deny in an identity-based policy"
	}
	return &apiError{Code: "AccessDeniedException", Status: 400, Sender: true,
		Message: fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", c.principal.CallerARN, action, resource, why)}
}

// --- authorization token ---

// registryTokenLifetime is how long a GetAuthorizationToken token lasts: 12 hours.
const registryTokenLifetime = 12 * time.Hour

func getAuthorizationToken(c *call) (any, *apiError) {
	if e := c.ecrAuthorize("*"); e != nil {
		return nil, e
	}
	st := c.srv.st
	var b [24]byte
	randRead(b[:])
	password := base64.RawURLEncoding.EncodeToString(b[:])
	expires := c.srv.clock.Now().Add(registryTokenLifetime)
	st.tokens[password] = &registryToken{Principal: c.principal, Expires: expires}
	return map[string]any{"authorizationData": []map[string]any{{
		"authorizationToken": base64.StdEncoding.EncodeToString([]byte("AWS:" + password)),
		"expiresAt":          ts(expires),
		"proxyEndpoint":      c.srv.info.Registry,
	}}}, nil
}

// --- policies ---

func putLifecyclePolicy(c *call) (any, *apiError) {
	var in repoIn
	r, e := c.repoCall(&in)
	if e != nil {
		return nil, e
	}
	if why := checkLifecyclePolicy(str(in.LifecyclePolicyText)); why != "" {
		return nil, invalidParameter("Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: %s'", why)
	}
	r.Lifecycle = *in.LifecyclePolicyText
	return map[string]any{"registryId": c.srv.st.accountID, "repositoryName": r.Name, "lifecyclePolicyText": r.Lifecycle}, nil
}

func getLifecyclePolicy(c *call) (any, *apiError) {
	var in repoIn
	r, e := c.repoCall(&in)
	if e != nil {
		return nil, e
	}
	if r.Lifecycle == "" {
		return nil, clientError("LifecyclePolicyNotFoundException", "Lifecycle policy does not exist for the repository with name '%s' in the registry with id '%s'", r.Name, c.srv.st.accountID)
	}
	return lifecyclePolicyOut{LastEvaluatedAt: ts(r.LifecycleEvaluated), LifecyclePolicyText: r.Lifecycle,
		RegistryID: c.srv.st.accountID, RepositoryName: r.Name}, nil
}

// lifecyclePolicyOut is GetLifecyclePolicy's answer (see repoOut for the order).
type lifecyclePolicyOut struct {
	LastEvaluatedAt     *epoch `json:"lastEvaluatedAt,omitempty"`
	LifecyclePolicyText string `json:"lifecyclePolicyText"`
	RegistryID          string `json:"registryId"`
	RepositoryName      string `json:"repositoryName"`
}

func deleteLifecyclePolicy(c *call) (any, *apiError) {
	out, e := getLifecyclePolicy(c)
	if e != nil {
		return nil, e
	}
	got := out.(lifecyclePolicyOut)
	c.srv.st.repos[got.RepositoryName].Lifecycle = ""
	// DeleteLifecyclePolicy answers the policy it deleted, with lastEvaluatedAt when it
	// was evaluated, as GetLifecyclePolicy does.
	return got, nil
}

func getRegistryPolicy(c *call) (any, *apiError) {
	if e := c.ecrAuthorize(c.registryResource()); e != nil {
		return nil, e
	}
	st := c.srv.st
	if st.registryPolicy == "" {
		return nil, clientError("RegistryPolicyNotFoundException", "Registry policy does not exist in the registry with id '%s'", st.accountID)
	}
	return map[string]any{"registryId": st.accountID, "policyText": st.registryPolicy}, nil
}

func putRegistryPolicy(c *call) (any, *apiError) {
	var in struct {
		PolicyText string `json:"policyText"`
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	if e := c.ecrAuthorize(c.registryResource()); e != nil {
		return nil, e
	}
	if why := checkPolicyDocument(in.PolicyText); why != "" {
		return nil, invalidParameter("Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid registry policy provided: %s'", why)
	}
	st := c.srv.st
	st.registryPolicy = in.PolicyText
	return map[string]any{"registryId": st.accountID, "policyText": st.registryPolicy}, nil
}

func deleteRegistryPolicy(c *call) (any, *apiError) {
	out, e := getRegistryPolicy(c)
	if e != nil {
		return nil, e
	}
	c.srv.st.registryPolicy = ""
	return out, nil
}

func getRepositoryPolicy(c *call) (any, *apiError) {
	var in repoIn
	r, e := c.repoCall(&in)
	if e != nil {
		return nil, e
	}
	if r.Policy == "" {
		return nil, clientError("RepositoryPolicyNotFoundException", "Repository policy does not exist for the repository with name '%s' in the registry with id '%s'", r.Name, c.srv.st.accountID)
	}
	return repositoryPolicyOut{PolicyText: r.Policy, RegistryID: c.srv.st.accountID, RepositoryName: r.Name}, nil
}

// repositoryPolicyOut is GetRepositoryPolicy's answer (see repoOut for the order).
type repositoryPolicyOut struct {
	PolicyText     string `json:"policyText"`
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
}

func setRepositoryPolicy(c *call) (any, *apiError) {
	var in repoIn
	r, e := c.repoCall(&in)
	if e != nil {
		return nil, e
	}
	if why := checkPolicyDocument(str(in.PolicyText)); why != "" {
		return nil, invalidParameter("Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided: %s'", why)
	}
	r.Policy = *in.PolicyText
	return map[string]any{"registryId": c.srv.st.accountID, "repositoryName": r.Name, "policyText": r.Policy}, nil
}

func deleteRepositoryPolicy(c *call) (any, *apiError) {
	out, e := getRepositoryPolicy(c)
	if e != nil {
		return nil, e
	}
	c.srv.st.repos[out.(repositoryPolicyOut).RepositoryName].Policy = ""
	return out, nil
}

// --- tags ---

type tagsIn struct {
	ResourceArn string   `json:"resourceArn"`
	Tags        []tag    `json:"tags"`
	TagKeys     []string `json:"tagKeys"`
}

// tagged finds the repository a resource ARN names.
func (c *call) tagged(in *tagsIn) (*repoState, *apiError) {
	if e := c.decode(in); e != nil {
		return nil, e
	}
	st := c.srv.st
	if e := c.ecrAuthorize(in.ResourceArn); e != nil {
		return nil, e
	}
	name, ok := strings.CutPrefix(in.ResourceArn, st.repoARN(""))
	if !ok || name == "" {
		return nil, invalidParameter("Invalid parameter at 'resourceArn' failed to satisfy constraint: 'must be the ARN of a repository in this registry and Region'")
	}
	r, ok := st.repos[name]
	if !ok {
		return nil, repositoryNotFound(st.accountID, name)
	}
	return r, nil
}

func tagResource(c *call) (any, *apiError) {
	var in tagsIn
	r, e := c.tagged(&in)
	if e != nil {
		return nil, e
	}
	merged := append([]tag(nil), r.Tags...)
	for _, t := range in.Tags {
		found := false
		for i := range merged {
			if merged[i].Key == t.Key {
				merged[i].Value, found = t.Value, true
			}
		}
		if !found {
			merged = append(merged, t)
		}
	}
	if len(merged) > maxTagsPerRepository {
		return nil, tooManyTags()
	}
	r.Tags = merged
	return struct{}{}, nil
}

func untagResource(c *call) (any, *apiError) {
	var in tagsIn
	r, e := c.tagged(&in)
	if e != nil {
		return nil, e
	}
	var kept []tag
	for _, t := range r.Tags {
		if !contains(in.TagKeys, t.Key) {
			kept = append(kept, t)
		}
	}
	r.Tags = kept
	return struct{}{}, nil
}

func listTagsForResource(c *call) (any, *apiError) {
	var in tagsIn
	r, e := c.tagged(&in)
	if e != nil {
		return nil, e
	}
	return tagsOut{Tags: emptyIfNil(r.Tags)}, nil
}

type tagsOut struct {
	Tags []tag `json:"tags"`
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
