package model

import (
	"sort"
	"strings"
	"time"
)

// Snapshot is what a scan saw of one registry at one time. It is never changed once
// built; a refresh builds a new one. Parts that could not be read are in Errors, and
// the rest is still there.
type Snapshot struct {
	AccountID string
	Region    string
	Identity  Identity
	TakenAt   time.Time

	Rules          []Rule
	Templates      []Template
	RegistryPolicy string // "" when there is none
	Repositories   []Repository

	// Errors are the parts of the scan that failed, each with the error AWS gave.
	Errors []PartError
	Stats  ScanStats
}

// Identity is the caller, as STS GetCallerIdentity reports it.
type Identity struct {
	Account string
	ARN     string
	UserID  string
}

// Rule is a pull through cache rule with what the scan learned about it.
type Rule struct {
	Prefix           string // without a trailing "/"; "ROOT" for the root
	UpstreamRegistry string // the upstreamRegistry enum (docker-hub, ...)
	UpstreamURL      string
	CredentialArn    string
	CustomRoleArn    string
	UpstreamPrefix   string
	CreatedAt        time.Time
	UpdatedAt        time.Time

	// Validation is ValidatePullThroughCacheRule's answer; nil when it was not asked.
	Validation *Validation
	// Secret is the metadata of the rule's credentials secret; nil when the rule has none.
	Secret *SecretRef
}

// Validation is what ValidatePullThroughCacheRule said.
type Validation struct {
	IsValid bool
	Failure string
	Error   *PartError // the call itself failed
}

// SecretRef is a secret's metadata. Its value is never part of a snapshot.
type SecretRef struct {
	ARN         string
	Name        string
	Region      string
	Exists      bool
	KMSKeyID    string // "" for the default aws/secretsmanager key
	LastChanged time.Time
	Deleted     bool
	Error       *PartError
}

// CustomerKey reports whether the secret is encrypted with a customer managed KMS key,
// which ECR's pull through cache cannot decrypt.
func (s *SecretRef) CustomerKey() bool {
	return s.KMSKeyID != "" && s.KMSKeyID != "alias/aws/secretsmanager"
}

// Template is a repository creation template.
type Template struct {
	Prefix             string
	AppliedFor         []string
	Description        string
	ImageTagMutability string
	// MutabilityExclusions are the WILDCARD filters of a *_WITH_EXCLUSION setting.
	MutabilityExclusions []string
	EncryptionType       string
	KMSKey               string
	ResourceTags         map[string]string
	RepositoryPolicy     string
	LifecyclePolicy      string
	CustomRoleArn        string
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

// AppliesToPullThroughCache reports whether the template shapes pull through cache repositories.
func (t Template) AppliesToPullThroughCache() bool {
	for _, a := range t.AppliedFor {
		if a == "PULL_THROUGH_CACHE" {
			return true
		}
	}
	return false
}

// Repository is one ECR repository, mapped to the rule whose prefix covers it.
type Repository struct {
	Name               string
	ARN                string
	CreatedAt          time.Time
	ImageTagMutability string
	// MutabilityExclusions are the WILDCARD filters of a *_WITH_EXCLUSION setting.
	MutabilityExclusions []string
	EncryptionType       string
	KMSKey               string

	// Policy and ResourceTags are the repository policy ("" for none) and tags; SettingsKnown
	// is true when both were read (only for cache repositories a creation template covers).
	Policy        string
	ResourceTags  map[string]string
	SettingsKnown bool

	// RulePrefix is the prefix of the rule that covers the repository; "" for none.
	RulePrefix string
	// LifecyclePolicy is the repository's lifecycle policy, "" for none; LifecycleKnown
	// is false when it was not read (not a cache repository, or the read failed).
	LifecyclePolicy string
	LifecycleKnown  bool

	Images []Image
	// ImagesKnown is false when the images could not be listed; see the snapshot's Errors.
	ImagesKnown bool
}

// PartRepositoryPolicy and PartRepositoryTags name the reads of one repository's policy
// and resource tags, made for cache repositories a creation template covers.
func PartRepositoryPolicy(repo string) string { return "repository " + repo + " policy" }
func PartRepositoryTags(repo string) string   { return "repository " + repo + " tags" }

// TagImmutable reports whether a tag of the repository may not be moved: every tag of an
// IMMUTABLE repository; those no exclusion filter matches under IMMUTABLE_WITH_EXCLUSION;
// those one matches under MUTABLE_WITH_EXCLUSION.
func (r Repository) TagImmutable(tag string) bool {
	return TagImmutable(r.ImageTagMutability, r.MutabilityExclusions, tag)
}

// TagImmutable applies a tag mutability setting and its exclusion filters to one tag.
// A filter is a wildcard pattern in which '*' stands for any run of characters.
func TagImmutable(mutability string, exclusions []string, tag string) bool {
	excluded := false
	for _, f := range exclusions {
		if wildcardMatch(f, tag) {
			excluded = true
			break
		}
	}
	switch mutability {
	case "IMMUTABLE":
		return true
	case "IMMUTABLE_WITH_EXCLUSION":
		return !excluded
	case "MUTABLE_WITH_EXCLUSION":
		return excluded
	}
	return false
}

// wildcardMatch matches s against a pattern whose only special character is '*'.
func wildcardMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// IsCache reports whether a rule covers the repository.
func (r Repository) IsCache() bool { return r.RulePrefix != "" }

// Image is one manifest in a repository: an image or an index. An account holds a
// hundred thousand of them, so an image keeps only what a check or a screen reads (no
// artifact media type) in compact types (compact.go): 104 bytes and its tags, where
// strings and time.Times took 223. The scan interns the tags (ecrops/scan.go).
type Image struct {
	Digest    Digest
	Tags      []string // sorted
	MediaType MediaType
	SizeBytes int64
	PushedAt  UnixTime
	LastPull  UnixTime // zero when ECR has recorded no pull

	// children is set only for an index whose manifest was read: a pointer, since most
	// images are no index and a slice header is three words.
	children *[]ChildManifest
}

// IsIndex reports whether the image is a multi-platform index.
func (i Image) IsIndex() bool { return i.MediaType.IsIndex() }

// Children are the manifests an index references, with whether each is in the
// repository. Empty for a single image, or when the index could not be read.
func (i Image) Children() []ChildManifest {
	if i.children == nil {
		return nil
	}
	return *i.children
}

// SetChildren records the manifests an index references.
func (i *Image) SetChildren(c []ChildManifest) {
	if len(c) == 0 {
		i.children = nil
		return
	}
	i.children = &c
}

// ChildManifest is one manifest of an index.
type ChildManifest struct {
	Digest   string
	Platform string
	Present  bool
}

// MissingPlatforms lists the platforms of an index whose manifests are not cached.
func (i Image) MissingPlatforms() []string {
	var out []string
	for _, c := range i.Children() {
		if !c.Present {
			out = append(out, c.Platform)
		}
	}
	return out
}

// PartError is a part of a scan or a probe that failed, with what AWS said.
type PartError struct {
	Part      string // "templates", "repository docker-hub/nginx images", ...
	Operation string // the AWS operation that failed
	Code      string // AWS's error code: AccessDeniedException, ThrottlingException, ...
	Message   string
}

func (e PartError) Error() string {
	if e.Code != "" {
		return e.Part + ": " + e.Operation + ": " + e.Code + ": " + e.Message
	}
	return e.Part + ": " + e.Operation + ": " + e.Message
}

// ScanStats are the figures of one scan.
type ScanStats struct {
	Calls          map[string]int // per operation, every attempt
	Throttled      map[string]int // per operation
	Retried        int
	FirstRules     time.Duration // from the start to the rules being known
	FirstRepos     time.Duration // ... to the repositories being known
	Complete       time.Duration
	ImagesScanned  int
	ReposScanned   int
	RulesValidated int
}

// RuleFor finds the rule that covers a repository name: the longest prefix, then ROOT.
func RuleFor(rules []Rule, repo string) *Rule {
	var best *Rule
	for i := range rules {
		r := &rules[i]
		if r.Prefix != "ROOT" && strings.HasPrefix(repo, r.Prefix+"/") && (best == nil || len(r.Prefix) > len(best.Prefix)) {
			best = r
		}
	}
	if best != nil {
		return best
	}
	for i := range rules {
		if rules[i].Prefix == "ROOT" {
			return &rules[i]
		}
	}
	return nil
}

// TemplateFor finds the creation template that applies to a new cache repository.
func TemplateFor(templates []Template, repo string) *Template {
	var best *Template
	for i := range templates {
		t := &templates[i]
		if !t.AppliesToPullThroughCache() || t.Prefix == "ROOT" {
			continue
		}
		if (strings.HasPrefix(repo, t.Prefix+"/") || repo == t.Prefix) && (best == nil || len(t.Prefix) > len(best.Prefix)) {
			best = t
		}
	}
	if best != nil {
		return best
	}
	for i := range templates {
		if templates[i].Prefix == "ROOT" && templates[i].AppliesToPullThroughCache() {
			return &templates[i]
		}
	}
	return nil
}

// Rule returns the rule with this prefix, or nil.
func (s *Snapshot) Rule(prefix string) *Rule {
	for i := range s.Rules {
		if s.Rules[i].Prefix == prefix {
			return &s.Rules[i]
		}
	}
	return nil
}

// Repository returns the repository with this name, or nil.
func (s *Snapshot) Repository(name string) *Repository {
	i := sort.Search(len(s.Repositories), func(i int) bool { return s.Repositories[i].Name >= name })
	if i < len(s.Repositories) && s.Repositories[i].Name == name {
		return &s.Repositories[i]
	}
	for j := range s.Repositories { // unsorted snapshots, built by hand in tests
		if s.Repositories[j].Name == name {
			return &s.Repositories[j]
		}
	}
	return nil
}

// RegistryURI is the host of the registry: <account>.dkr.ecr.<region>.amazonaws.com.
func (s *Snapshot) RegistryURI() string {
	return RegistryHost(s.AccountID, s.Region)
}

// RegistryHost is the host of an account's private registry in a region.
func RegistryHost(account, region string) string {
	return account + ".dkr.ecr." + region + ".amazonaws.com"
}

// Copy returns a snapshot that shares nothing mutable with s, for a scan's progress
// reports while the scan goes on.
func (s *Snapshot) Copy() *Snapshot {
	c := *s
	c.Rules = append([]Rule(nil), s.Rules...)
	c.Templates = append([]Template(nil), s.Templates...)
	c.Repositories = append([]Repository(nil), s.Repositories...)
	for i := range c.Repositories {
		c.Repositories[i].Images = append([]Image(nil), s.Repositories[i].Images...)
	}
	c.Errors = append([]PartError(nil), s.Errors...)
	return &c
}
