package sim

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// A Scenario describes one AWS account and the upstream registries it caches from.
// The schema is documented, field by field, in README.md beside this file.
type Scenario struct {
	Name           string       `yaml:"name"`
	Description    string       `yaml:"description"`
	Account        Account      `yaml:"account"`
	Principals     []Principal  `yaml:"principals"`
	Secrets        []Secret     `yaml:"secrets"`
	Upstreams      []Upstream   `yaml:"upstreams"`
	Rules          []Rule       `yaml:"rules"`
	Templates      []Template   `yaml:"templates"`
	Repositories   []Repository `yaml:"repositories"`
	RegistryPolicy string       `yaml:"registryPolicy"`
	Behaviours     Behaviours   `yaml:"behaviours"`
	Faults         []Fault      `yaml:"faults"`
	Generate       *Generate    `yaml:"generate"`
	// Accounts makes the scenario a fleet: several accounts, each in its regions
	// (accounts.go). The fields above that describe one account stay empty then.
	Accounts     []FleetAccount `yaml:"accounts"`
	Organization *Organization  `yaml:"organization"`
}

type Account struct {
	ID     string `yaml:"id"`
	Region string `yaml:"region"`
}

// Principal is an IAM user or role with one access key. Allow and Deny hold action
// patterns ("ecr:*", "ecr:Describe*") on every resource; Statements scope actions to
// resources. An explicit deny wins, as in IAM.
type Principal struct {
	Name            string      `yaml:"name"`
	Kind            string      `yaml:"kind"` // user (default) or role
	AccessKeyID     string      `yaml:"accessKeyId"`
	SecretAccessKey string      `yaml:"secretAccessKey"`
	Allow           []string    `yaml:"allow"`
	Deny            []string    `yaml:"deny"`
	Statements      []Statement `yaml:"statements"`
	// Trust lists who may assume a role: service principals (pullthroughcache.ecr.amazonaws.com
	// for a rule's customRoleArn) or account IDs.
	Trust []string `yaml:"trust"`
}

// Statement is one statement of the principal's identity policy: actions on resources,
// both with IAM's * and ? wildcards (actions case-insensitive, resource ARNs not).
// An action that takes no resource (ecr:GetAuthorizationToken, secretsmanager:ListSecrets)
// is asked on "*", which only a "*" resource matches, as in IAM.
type Statement struct {
	Effect    string   `yaml:"effect"` // Allow or Deny
	Actions   []string `yaml:"actions"`
	Resources []string `yaml:"resources"`
}

type Secret struct {
	Name        string   `yaml:"name"`
	Value       string   `yaml:"value"`
	KMSKeyID    string   `yaml:"kmsKeyId"` // empty: the default aws/secretsmanager key
	Region      string   `yaml:"region"`   // empty: the account's region
	Description string   `yaml:"description"`
	ChangedAgo  Duration `yaml:"changedAgo"`
	// CreatedAgo defaults to ChangedAgo.
	CreatedAgo Duration `yaml:"createdAgo"`
	// AccessedAgo sets LastAccessedDate (kept as a date); empty: never read.
	AccessedAgo Duration `yaml:"accessedAgo"`
	// Deleted is "scheduled" (DeleteSecret with a recovery window: it still exists, marked
	// for deletion DeletedAgo ago) or "forced" (deleted without recovery: gone). A rule
	// may name a deleted secret, as one does when its secret is deleted under it.
	Deleted    string   `yaml:"deleted"`
	DeletedAgo Duration `yaml:"deletedAgo"`
}

// Upstream is a registry the account caches from, addressed by its real host name.
type Upstream struct {
	Host         string             `yaml:"host"`
	Accounts     []UpstreamAccount  `yaml:"accounts"`
	Repositories []UpstreamContent  `yaml:"repositories"`
	Anonymous    *UpstreamRateLimit `yaml:"anonymous"`
	// AllowAccounts, for an ECR registry host (<account>.dkr.ecr.<region>.amazonaws.com):
	// the accounts its registry policy lets pull through (its own account always may).
	AllowAccounts []string `yaml:"allowAccounts"`
	// generated is the content generate adds, made on demand (genupstream.go).
	generated generatedContent
}

type UpstreamAccount struct {
	Username string `yaml:"username"`
	Token    string `yaml:"token"`
	Expired  bool   `yaml:"expired"`
	// PullLimit is the pulls per window for this account; 0 means unlimited.
	PullLimit int `yaml:"pullLimit"`
	// PullsUsed is how much of the current window is spent when the scenario starts.
	PullsUsed int `yaml:"pullsUsed"`
}

type UpstreamRateLimit struct {
	PullLimit int `yaml:"pullLimit"`
	PullsUsed int `yaml:"pullsUsed"`
}

type UpstreamContent struct {
	Name string        `yaml:"name"`
	Tags []UpstreamTag `yaml:"tags"`
	// NoLatest keeps the Docker Hub look-alike from adding latest to an official image:
	// some have none on the real Docker Hub (library/elasticsearch, library/kibana).
	NoLatest bool `yaml:"noLatest"`
}

type UpstreamTag struct {
	Tag       string   `yaml:"tag"`
	Platforms []string `yaml:"platforms"`
	// Version changes the content (and so the digest) behind the tag.
	Version int `yaml:"version"`
	// AppearsAfter hides the tag until the stand-in's clock has moved this far.
	AppearsAfter Duration `yaml:"appearsAfter"`
}

type Rule struct {
	Prefix         string   `yaml:"prefix"`
	Upstream       string   `yaml:"upstream"` // the upstreamRegistry enum
	URL            string   `yaml:"url"`      // defaults from Upstream
	Credential     string   `yaml:"credential"`
	CustomRoleArn  string   `yaml:"customRoleArn"`
	UpstreamPrefix string   `yaml:"upstreamPrefix"`
	CreatedAgo     Duration `yaml:"createdAgo"`
	// Impossible stages a rule CreatePullThroughCacheRule would refuse (an upstream that
	// needs credentials, without them), to see how a client copes with an account that
	// cannot be; without it such a rule is refused at load, with AWS's reason.
	Impossible bool `yaml:"impossible"`
}

type Template struct {
	Prefix             string   `yaml:"prefix"`
	AppliedFor         []string `yaml:"appliedFor"`
	Description        string   `yaml:"description"`
	ImageTagMutability string   `yaml:"imageTagMutability"`
	// ImageTagMutabilityExclusionFilters are WILDCARD patterns, with a *_WITH_EXCLUSION setting.
	ImageTagMutabilityExclusionFilters []string          `yaml:"imageTagMutabilityExclusionFilters"`
	Encryption                         *Encryption       `yaml:"encryption"`
	ResourceTags                       map[string]string `yaml:"resourceTags"`
	RepositoryPolicy                   string            `yaml:"repositoryPolicy"`
	LifecyclePolicy                    string            `yaml:"lifecyclePolicy"`
	CustomRoleArn                      string            `yaml:"customRoleArn"`
}

type Encryption struct {
	Type   string `yaml:"type"`
	KMSKey string `yaml:"kmsKey"`
}

type Repository struct {
	Name               string `yaml:"name"`
	ImageTagMutability string `yaml:"imageTagMutability"`
	// ImageTagMutabilityExclusionFilters are WILDCARD patterns, with a *_WITH_EXCLUSION setting.
	ImageTagMutabilityExclusionFilters []string          `yaml:"imageTagMutabilityExclusionFilters"`
	Encryption                         *Encryption       `yaml:"encryption"`
	Tags                               map[string]string `yaml:"tags"`
	Policy                             string            `yaml:"policy"`
	LifecyclePolicy                    string            `yaml:"lifecyclePolicy"`
	CreatedAgo                         Duration          `yaml:"createdAgo"`
	Images                             []CachedImage     `yaml:"images"`
}

// CachedImage is an image already in the repository when the scenario starts.
type CachedImage struct {
	Tags      []string `yaml:"tags"`
	Platforms []string `yaml:"platforms"`
	// Source names the content: "repo:tag#version" of an upstream, so that a cached copy
	// and its upstream share digests. Empty: the repository's name and first tag, version 0.
	Source string `yaml:"source"`
	// MissingPlatforms are platforms of the index whose manifests are not in the cache.
	MissingPlatforms []string `yaml:"missingPlatforms"`
	PushedAgo        Duration `yaml:"pushedAgo"`
	PulledAgo        Duration `yaml:"pulledAgo"`
	ValidatedAgo     Duration `yaml:"validatedAgo"`
}

// Behaviours switch the models of what AWS does not document.
type Behaviours struct {
	// NegativeCache models a cache of upstream "not found" answers. Not documented by AWS.
	NegativeCache *NegativeCache `yaml:"negativeCache"`
	// LeaveEmptyRepository models a repository left behind by a failed first pull. Not documented by AWS.
	LeaveEmptyRepository *bool `yaml:"leaveEmptyRepository"`
	// UpstreamCDNRedirect models layers not copied into the cache yet being redirected to
	// the upstream's CDN. Reported by users, not documented by AWS.
	UpstreamCDNRedirect *CDNRedirect `yaml:"upstreamCDNRedirect"`
}

type CDNRedirect struct {
	Enabled bool `yaml:"enabled"`
	// For is how long after an import its layers are still fetched from the upstream's CDN; default 2m.
	For Duration `yaml:"for"`
}

type NegativeCache struct {
	Enabled bool     `yaml:"enabled"`
	TTL     Duration `yaml:"ttl"`
	// Entries are "repository:tag" answers cached as not found when the scenario starts.
	Entries []NegativeEntry `yaml:"entries"`
}

type NegativeEntry struct {
	Repository string   `yaml:"repository"`
	Tag        string   `yaml:"tag"`
	Ago        Duration `yaml:"ago"`
}

// Fault injects trouble into one operation ("*" for all) of the stand-in.
type Fault struct {
	Operation         string  `yaml:"operation" json:"operation"`
	ThrottlePerSecond float64 `yaml:"throttlePerSecond" json:"throttlePerSecond,omitempty"`
	// ThrottleRate throttles this share of calls at random, whatever their pace.
	ThrottleRate float64  `yaml:"throttleRate" json:"throttleRate,omitempty"`
	ErrorRate    float64  `yaml:"errorRate" json:"errorRate,omitempty"`
	Latency      Duration `yaml:"latency" json:"latency,omitempty"`
	LatencyRate  float64  `yaml:"latencyRate" json:"latencyRate,omitempty"`
	ResetRate    float64  `yaml:"resetRate" json:"resetRate,omitempty"`
}

// Generate synthesises a large account on top of what the scenario lists.
type Generate struct {
	Rules               int    `yaml:"rules"`
	RepositoriesPerRule int    `yaml:"repositoriesPerRule"`
	ImagesPerRepository int    `yaml:"imagesPerRepository"`
	Upstream            string `yaml:"upstream"` // upstreamRegistry enum; default ecr-public
	// Failures adds failure shapes in given numbers (generate.go).
	Failures *GenerateFailures `yaml:"failures"`
	// Accounts and Regions, in a fleet scenario, generate that many accounts, each in
	// these regions, each account-region generated as above and given Faults (accounts.go).
	Accounts int      `yaml:"accounts"`
	Regions  []string `yaml:"regions"`
	Faults   []Fault  `yaml:"faults"`
}

// Duration is a YAML duration: Go's syntax ("90m", "36h") plus days ("3d").
type Duration time.Duration

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	*d = Duration(v)
	return err
}

var daysRE = regexp.MustCompile(`^(\d+)d(.*)$`)

// ParseDuration reads "3d", "3d12h" or any time.ParseDuration string.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	var days time.Duration
	if m := daysRE.FindStringSubmatch(s); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil || n > 100000 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		days = time.Duration(n) * 24 * time.Hour
		s = m[2]
		if s == "" {
			return days, nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: want a number with a unit, like 30m, 36h or 3d", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("invalid duration %q: must not be negative", s)
	}
	return days + v, nil
}

//go:embed scenarios/*.yaml
var embedded embed.FS

// EmbeddedScenarios lists the names of the scenarios shipped inside the binary.
func EmbeddedScenarios() []string {
	entries, _ := fs.ReadDir(embedded, "scenarios")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	return names
}

// LoadScenario reads an embedded scenario by name ("demo", "empty") or a YAML file by path.
func LoadScenario(nameOrPath string) (*Scenario, error) {
	if raw, err := embedded.ReadFile("scenarios/" + nameOrPath + ".yaml"); err == nil {
		return ParseScenario(raw)
	}
	raw, err := os.ReadFile(nameOrPath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("scenario %q: no such file, and not one of the embedded scenarios (%s)",
				nameOrPath, strings.Join(EmbeddedScenarios(), ", "))
		}
		return nil, fmt.Errorf("scenario %q: %w", nameOrPath, err)
	}
	s, err := ParseScenario(raw)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", nameOrPath, err)
	}
	return s, nil
}

const maxScenarioBytes = 16 << 20

// ParseScenario decodes and checks a scenario. Unknown fields are errors, so that a
// misspelt field is not silently ignored.
func ParseScenario(raw []byte) (*Scenario, error) {
	if len(raw) > maxScenarioBytes {
		return nil, fmt.Errorf("scenario is %d bytes; the limit is %d", len(raw), maxScenarioBytes)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	var s Scenario
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("scenario is empty")
		}
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	if s.IsFleet() {
		return &s, s.checkFleet()
	}
	s.applyDefaults()
	if err := s.check(); err != nil {
		return nil, err
	}
	// What generate adds must fit with what the scenario lists (no rule prefix twice).
	if s.Generate != nil {
		if err := s.withGenerated().check(); err != nil {
			return nil, fmt.Errorf("with what generate adds: %w", err)
		}
	}
	return &s, nil
}

func (s *Scenario) applyDefaults() {
	if s.Account.ID == "" {
		s.Account.ID = "111122223333"
	}
	if s.Account.Region == "" {
		s.Account.Region = "us-east-1"
	}
	for i := range s.Principals {
		if s.Principals[i].Kind == "" {
			s.Principals[i].Kind = "user"
		}
	}
	for i := range s.Rules {
		r := &s.Rules[i]
		if r.URL == "" {
			r.URL = upstreamURLs[r.Upstream]
		}
		if r.Upstream == "" {
			r.Upstream = upstreamForURL(r.URL)
		}
	}
	for i := range s.Templates {
		if len(s.Templates[i].AppliedFor) == 0 {
			s.Templates[i].AppliedFor = []string{"PULL_THROUGH_CACHE"}
		}
	}
}

var (
	accountIDRE  = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE     = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	accessKeyRE  = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
	principalRE  = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	repoNameRE   = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$`)
	prefixRE     = regexp.MustCompile(`^([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*/?|ROOT)$`)
	tagRE        = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)
	platformRE   = regexp.MustCompile(`^[a-z0-9]+/[a-z0-9]+(/[a-z0-9]+)?$`)
	hostRE       = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+(:[0-9]+)?$`)
	secretNameRE = regexp.MustCompile(`^[a-zA-Z0-9/_+=.@-]{1,512}$`)
)

// Generated accounts are bounded so that a scenario cannot ask for more than a machine holds.
const (
	maxGeneratedRules  = 50
	maxGeneratedRepos  = 20000
	maxGeneratedImages = 200000
)

func (s *Scenario) check() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if !accountIDRE.MatchString(s.Account.ID) {
		bad("account.id %q: must be 12 digits", s.Account.ID)
	}
	if !regionRE.MatchString(s.Account.Region) {
		bad("account.region %q: not a region name like us-east-1", s.Account.Region)
	}
	keys := map[string]bool{}
	names := map[string]bool{}
	for i, p := range s.Principals {
		where := fmt.Sprintf("principals[%d]", i)
		if !principalRE.MatchString(p.Name) {
			bad("%s.name %q: 1-64 letters, digits or +=,.@_-", where, p.Name)
		}
		if p.Kind != "user" && p.Kind != "role" {
			bad("%s.kind %q: must be user or role", where, p.Kind)
		}
		if !accessKeyRE.MatchString(p.AccessKeyID) {
			bad("%s.accessKeyId: 16-128 upper-case letters or digits", where)
		}
		if len(p.SecretAccessKey) < 16 || len(p.SecretAccessKey) > 128 {
			bad("%s.secretAccessKey: 16-128 characters", where)
		}
		if keys[p.AccessKeyID] {
			bad("%s.accessKeyId: used by two principals", where)
		}
		if names[p.Kind+"/"+p.Name] {
			bad("%s.name %q: two principals of kind %s share it", where, p.Name, p.Kind)
		}
		keys[p.AccessKeyID], names[p.Kind+"/"+p.Name] = true, true
		for _, who := range p.Trust {
			if !accountIDRE.MatchString(who) && !strings.HasSuffix(who, ".amazonaws.com") && !strings.HasPrefix(who, "arn:aws:iam::") {
				bad("%s.trust %q: an account ID, a principal's ARN or a service principal like %s", where, who, ecrPullThroughService)
			}
		}
		actions := append(append([]string{}, p.Allow...), p.Deny...)
		for j, st := range p.Statements {
			if st.Effect != "Allow" && st.Effect != "Deny" {
				bad("%s.statements[%d].effect %q: Allow or Deny", where, j, st.Effect)
			}
			if len(st.Actions) == 0 || len(st.Resources) == 0 {
				bad("%s.statements[%d]: name actions and resources (\"*\" for every resource)", where, j)
			}
			for _, r := range st.Resources {
				if r != "*" && !strings.HasPrefix(r, "arn:") {
					bad("%s.statements[%d]: resource %q: an ARN (wildcards allowed) or *", where, j, r)
				}
			}
			actions = append(actions, st.Actions...)
		}
		for _, a := range actions {
			if a != "*" && !strings.Contains(a, ":") {
				bad("%s: action pattern %q: want service:Action, like ecr:BatchGetImage or ecr:*", where, a)
			}
		}
	}
	seenSecrets := map[string]bool{}
	for i, sec := range s.Secrets {
		if !secretNameRE.MatchString(sec.Name) {
			bad("secrets[%d].name %q: 1-512 letters, digits or /_+=.@-", i, sec.Name)
		}
		if seenSecrets[sec.Name] {
			bad("secrets[%d].name %q: listed twice", i, sec.Name)
		}
		seenSecrets[sec.Name] = true
		if sec.Region != "" && !regionRE.MatchString(sec.Region) {
			bad("secrets[%d].region %q: not a region name", i, sec.Region)
		}
		if sec.Deleted != "" && sec.Deleted != "scheduled" && sec.Deleted != "forced" {
			bad("secrets[%d].deleted %q: scheduled (in its recovery window) or forced (gone)", i, sec.Deleted)
		}
	}
	for i, u := range s.Upstreams {
		if !hostRE.MatchString(u.Host) {
			bad("upstreams[%d].host %q: not a registry host name", i, u.Host)
		}
		for _, a := range u.AllowAccounts {
			if !accountIDRE.MatchString(a) {
				bad("upstreams[%d].allowAccounts %q: must be 12 digits", i, a)
			}
		}
		if len(u.AllowAccounts) > 0 && ecrUpstreamAccount(u.Host) == "" {
			bad("upstreams[%d].allowAccounts: only for an ECR registry host (<account>.dkr.ecr.<region>.amazonaws.com)", i)
		}
		for j, c := range u.Repositories {
			if !repoNameRE.MatchString(c.Name) {
				bad("upstreams[%d].repositories[%d].name %q: not a repository name", i, j, c.Name)
			}
			for k, t := range c.Tags {
				if !tagRE.MatchString(t.Tag) {
					bad("upstreams[%d].repositories[%d].tags[%d].tag %q: not a tag", i, j, k, t.Tag)
				}
				errs = append(errs, checkPlatforms(fmt.Sprintf("upstreams[%d].repositories[%d].tags[%d]", i, j, k), t.Platforms)...)
			}
		}
	}
	prefixes := map[string]bool{}
	for i, r := range s.Rules {
		if !prefixRE.MatchString(r.Prefix) || len(r.Prefix) < 2 || len(r.Prefix) > 30 {
			bad("rules[%d].prefix %q: 2-30 characters of a repository name, or ROOT", i, r.Prefix)
		}
		p := strings.TrimSuffix(r.Prefix, "/")
		if prefixes[p] {
			bad("rules[%d].prefix %q: two rules share it", i, r.Prefix)
		}
		prefixes[p] = true
		if _, ok := upstreamURLs[r.Upstream]; !ok {
			bad("rules[%d].upstream %q: one of %s", i, r.Upstream, strings.Join(upstreamEnum, ", "))
		}
		if r.URL == "" {
			bad("rules[%d].url: needed for upstream %q", i, r.Upstream)
		}
		if r.Credential != "" && !seenSecrets[secretNameFromRef(r.Credential)] {
			bad("rules[%d].credential %q: no such secret in secrets", i, r.Credential)
		}
		if r.Credential == "" && upstreamsNeedingCredentials[r.Upstream] && !r.Impossible {
			// What CreatePullThroughCacheRule answers (ecr.go), so no account can have it.
			bad("rules[%d]: upstream %s needs a credential: AWS refuses the rule (UnsupportedUpstreamRegistryException: The specified upstream registry requires authentication); give credential, or impossible: true to stage it anyway", i, r.Upstream)
		}
	}
	for i, t := range s.Templates {
		if !prefixRE.MatchString(t.Prefix) {
			bad("templates[%d].prefix %q: a repository name prefix or ROOT", i, t.Prefix)
		}
		for _, a := range t.AppliedFor {
			if a != "PULL_THROUGH_CACHE" && a != "REPLICATION" && a != "CREATE_ON_PUSH" {
				bad("templates[%d].appliedFor %q: PULL_THROUGH_CACHE, REPLICATION or CREATE_ON_PUSH", i, a)
			}
		}
		errs = append(errs, checkMutability(fmt.Sprintf("templates[%d]", i), t.ImageTagMutability)...)
		if t.LifecyclePolicy != "" {
			// A policy ECR would refuse could never be on an account: refuse it here too.
			if msg := checkLifecyclePolicy(t.LifecyclePolicy); msg != "" {
				bad("templates[%d].lifecyclePolicy: %s", i, msg)
			}
		}
		errs = append(errs, checkScenarioExclusions(fmt.Sprintf("templates[%d]", i), t.ImageTagMutability, t.ImageTagMutabilityExclusionFilters)...)
	}
	repos := map[string]bool{}
	for i, r := range s.Repositories {
		where := fmt.Sprintf("repositories[%d]", i)
		if !repoNameRE.MatchString(r.Name) || len(r.Name) < 2 || len(r.Name) > 256 {
			bad("%s.name %q: not a repository name", where, r.Name)
		}
		if repos[r.Name] {
			bad("%s.name %q: listed twice", where, r.Name)
		}
		repos[r.Name] = true
		errs = append(errs, checkMutability(where, r.ImageTagMutability)...)
		if r.LifecyclePolicy != "" {
			if msg := checkLifecyclePolicy(r.LifecyclePolicy); msg != "" {
				bad("%s.lifecyclePolicy: %s", where, msg)
			}
		}
		errs = append(errs, checkScenarioExclusions(where, r.ImageTagMutability, r.ImageTagMutabilityExclusionFilters)...)
		for j, im := range r.Images {
			for _, t := range im.Tags {
				if !tagRE.MatchString(t) {
					bad("%s.images[%d]: tag %q is not a tag", where, j, t)
				}
			}
			errs = append(errs, checkPlatforms(fmt.Sprintf("%s.images[%d]", where, j), im.Platforms)...)
			for _, m := range im.MissingPlatforms {
				if !contains(im.Platforms, m) {
					bad("%s.images[%d].missingPlatforms: %q is not one of its platforms", where, j, m)
				}
			}
		}
	}
	for i, f := range s.Faults {
		if why := faultOperationProblem(f.Operation); why != "" {
			bad("faults[%d].operation: %s", i, why)
		}
		for _, r := range []float64{f.ErrorRate, f.LatencyRate, f.ResetRate, f.ThrottleRate} {
			if r < 0 || r > 1 {
				bad("faults[%d]: rates are between 0 and 1", i)
			}
		}
		if f.ThrottlePerSecond < 0 {
			bad("faults[%d].throttlePerSecond: must not be negative", i)
		}
	}
	if g := s.Generate; g != nil {
		if g.Rules < 0 || g.Rules > maxGeneratedRules {
			bad("generate.rules: 0 to %d (AWS allows 50 rules per registry)", maxGeneratedRules)
		}
		if g.RepositoriesPerRule < 0 || g.ImagesPerRepository < 0 {
			bad("generate: counts must not be negative")
		} else if g.RepositoriesPerRule > maxGeneratedRepos || g.ImagesPerRepository > maxGeneratedImages {
			// Checked alone first, so that the products below cannot overflow.
			bad("generate: at most %d repositories and %d images", maxGeneratedRepos, maxGeneratedImages)
		} else if g.Rules*g.RepositoriesPerRule > maxGeneratedRepos {
			bad("generate: at most %d repositories", maxGeneratedRepos)
		} else if g.Rules*g.RepositoriesPerRule*g.ImagesPerRepository > maxGeneratedImages {
			bad("generate: at most %d images", maxGeneratedImages)
		}
		if g.Upstream != "" {
			if _, ok := upstreamURLs[g.Upstream]; !ok || upstreamURLs[g.Upstream] == "" {
				bad("generate.upstream %q: one of %s", g.Upstream, strings.Join(upstreamEnum, ", "))
			}
		}
		g.checkFailures(bad)
	}
	return errors.Join(errs...)
}

func checkPlatforms(where string, platforms []string) []error {
	var errs []error
	for _, p := range platforms {
		if !platformRE.MatchString(p) {
			errs = append(errs, fmt.Errorf("%s: platform %q: want os/arch, like linux/amd64", where, p))
		}
	}
	return errs
}

func checkMutability(where, m string) []error {
	switch m {
	case "", "MUTABLE", "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION":
		return nil
	}
	return []error{fmt.Errorf("%s.imageTagMutability %q: MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION", where, m)}
}

// secretNameFromRef accepts a secret's name or its ARN.
func secretNameFromRef(ref string) string {
	if !strings.HasPrefix(ref, "arn:") {
		return ref
	}
	_, name, ok := strings.Cut(ref, ":secret:")
	if !ok {
		return ref
	}
	return name
}

// The nine upstreams of the upstreamRegistry enum and their registry URLs. Those whose URL
// depends on the customer (ECR, Azure) have none here.
var upstreamEnum = []string{"ecr", "ecr-public", "quay", "k8s", "docker-hub",
	"github-container-registry", "azure-container-registry", "gitlab-container-registry", "chainguard"}

var upstreamURLs = map[string]string{
	"ecr":                       "",
	"ecr-public":                "public.ecr.aws",
	"quay":                      "quay.io",
	"k8s":                       "registry.k8s.io",
	"docker-hub":                "registry-1.docker.io",
	"github-container-registry": "ghcr.io",
	"azure-container-registry":  "",
	"gitlab-container-registry": "registry.gitlab.com",
	"chainguard":                "cgr.dev",
}

// upstreamsNeedingCredentials are the upstreams AWS refuses a rule for without credentialArn.
var upstreamsNeedingCredentials = map[string]bool{
	"docker-hub": true, "github-container-registry": true, "azure-container-registry": true,
	"gitlab-container-registry": true, "chainguard": true,
}

var (
	ecrPrivateURLRE = regexp.MustCompile(`^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com$`)
	azureURLRE      = regexp.MustCompile(`^[a-z0-9]{5,50}\.azurecr\.io$`)
)

// upstreamForURL returns the enum value a registry URL belongs to, or "" when ECR supports none.
func upstreamForURL(url string) string {
	switch {
	case ecrPrivateURLRE.MatchString(url):
		return "ecr"
	case azureURLRE.MatchString(url):
		return "azure-container-registry"
	}
	for name, u := range upstreamURLs {
		if u != "" && u == url {
			return name
		}
	}
	return ""
}
