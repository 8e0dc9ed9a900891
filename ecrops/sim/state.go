package sim

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// state is one account as the stand-in holds it. Every field is guarded by Server.mu.
type state struct {
	accountID, region string

	principals []*principal
	byKey      map[string]*principal

	secrets map[string]*secretState // by name, every region
	rules   map[string]*ruleState   // by prefix, without a trailing "/"

	templates      map[string]*templateState
	repos          map[string]*repoState
	registryPolicy string

	// negative holds the upstream not-found answers of the modelled negative cache.
	negative map[string]time.Time // "repository:tag" -> when

	blobs  map[v1.Hash][]byte
	tokens map[string]*registryToken // registry passwords issued by GetAuthorizationToken

	// pullExclusions are the principals (IAM ARNs) whose pulls are not recorded.
	pullExclusions map[string]time.Time

	// lifecycleRun is when lifecycle policies were last evaluated (see lifecycle.go).
	lifecycleRun time.Time

	// serviceLinkedRole is set when the first rule is created, as AWS creates
	// AWSServiceRoleForECRPullThroughCache then.
	serviceLinkedRole bool
	seq               int
}

type principal struct {
	Principal
	ARN, CallerARN, UserID string
	expired                bool // its credentials expired (see /_sim/expire-key)
}

type secretState struct {
	Name, ARN, Value, KMSKeyID, Region, Description string
	VersionID                                       string
	Created, Changed                                time.Time
	LastAccessed                                    time.Time // a date (midnight UTC); zero if never read
	Deleted                                         time.Time // zero unless scheduled for deletion
	Tags                                            []tag
}

type ruleState struct {
	Prefix, URL, Upstream, CredentialArn, CustomRoleArn, UpstreamPrefix string
	CreatedAt, UpdatedAt                                                time.Time
}

type templateState struct {
	Prefix, Description, Mutability string
	Exclusions                      []exclusionFilter
	AppliedFor                      []string
	Encryption                      encryption
	ResourceTags                    []tag
	RepositoryPolicy, Lifecycle     string
	CustomRoleArn                   string
	CreatedAt, UpdatedAt            time.Time
}

type repoState struct {
	Name, ARN, Mutability string
	Exclusions            []exclusionFilter
	Encryption            encryption
	ScanOnPush            bool
	Tags                  []tag
	Policy, Lifecycle     string
	CreatedAt             time.Time
	LifecycleEvaluated    time.Time
	images                map[v1.Hash]*imageState
	tags                  map[string]v1.Hash
}

type imageState struct {
	manifestBlob
	PushedAt, LastPull, ValidatedAt time.Time
	Children                        []v1.Hash // for an index: the manifests it references
	// Imported is when a pull through imported it (zero for a scenario's own content).
	Imported time.Time
	// Status is "" (ACTIVE), ARCHIVED or ACTIVATING; see archive.go.
	Status                  string
	ArchivedAt, ActivatedAt time.Time
}

type registryToken struct {
	Principal *principal
	Expires   time.Time
}

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type encryption struct {
	EncryptionType string `json:"encryptionType"`
	KmsKey         string `json:"kmsKey,omitempty"`
}

type exclusionFilter struct {
	FilterType string `json:"filterType"`
	Filter     string `json:"filter"`
}

// The credentials of the principal allowed everything, when a scenario names none.
const (
	DefaultAccessKeyID     = "AKIAPTCDOCTORSIMADMIN"
	DefaultSecretAccessKey = "ptcdoctor-sim-admin-secret-access-key"
)

func newState(sc *Scenario, now time.Time) (*state, error) {
	st := &state{
		accountID: sc.Account.ID,
		region:    sc.Account.Region,
		byKey:     map[string]*principal{},
		secrets:   map[string]*secretState{},
		rules:     map[string]*ruleState{},
		templates: map[string]*templateState{},
		repos:     map[string]*repoState{},
		blobs:     map[v1.Hash][]byte{},
		tokens:    map[string]*registryToken{},
		negative:  map[string]time.Time{},

		pullExclusions: map[string]time.Time{},
	}
	principals := sc.Principals
	if len(principals) == 0 {
		principals = []Principal{{Name: "admin", Kind: "user", AccessKeyID: DefaultAccessKeyID,
			SecretAccessKey: DefaultSecretAccessKey, Allow: []string{"*"}}}
	}
	for _, p := range principals {
		st.addPrincipal(p)
	}
	gone := map[string]string{} // secrets deleted without recovery: name -> the ARN they had
	for _, s := range sc.Secrets {
		region := s.Region
		if region == "" {
			region = st.region
		}
		if s.Deleted == "forced" {
			gone[s.Name] = st.secretARN(region, s.Name)
			continue
		}
		sec := &secretState{
			Name: s.Name, ARN: st.secretARN(region, s.Name), Value: s.Value, KMSKeyID: s.KMSKeyID,
			Region: region, Description: s.Description, VersionID: st.newID("version"),
			Created: now.Add(-time.Duration(max(s.CreatedAgo, s.ChangedAgo))), Changed: now.Add(-time.Duration(s.ChangedAgo)),
		}
		if s.AccessedAgo > 0 {
			sec.read(now.Add(-time.Duration(s.AccessedAgo)))
		}
		if s.Deleted == "scheduled" {
			sec.Deleted = now.Add(-time.Duration(s.DeletedAgo))
		}
		st.secrets[s.Name] = sec
	}
	for _, r := range sc.Rules {
		rs := &ruleState{
			Prefix: strings.TrimSuffix(r.Prefix, "/"), URL: r.URL, Upstream: r.Upstream,
			CustomRoleArn: r.CustomRoleArn, UpstreamPrefix: r.UpstreamPrefix,
			CreatedAt: now.Add(-time.Duration(r.CreatedAgo)),
		}
		rs.UpdatedAt = rs.CreatedAt
		if name := secretNameFromRef(r.Credential); gone[name] != "" {
			rs.CredentialArn = gone[name]
		} else if r.Credential != "" {
			rs.CredentialArn = st.secrets[name].ARN
		}
		st.rules[rs.Prefix] = rs
		st.serviceLinkedRole = true
	}
	for _, t := range sc.Templates {
		ts := &templateState{
			Prefix: strings.TrimSuffix(t.Prefix, "/"), Description: t.Description,
			Mutability: orDefault(t.ImageTagMutability, "MUTABLE"), Exclusions: exclusionFilters(t.ImageTagMutabilityExclusionFilters), AppliedFor: t.AppliedFor,
			Encryption: encryption{EncryptionType: "AES256"}, ResourceTags: tagsFromMap(t.ResourceTags),
			RepositoryPolicy: t.RepositoryPolicy, Lifecycle: t.LifecyclePolicy, CustomRoleArn: t.CustomRoleArn,
			CreatedAt: now, UpdatedAt: now,
		}
		if t.Encryption != nil {
			ts.Encryption = encryption{EncryptionType: t.Encryption.Type, KmsKey: t.Encryption.KMSKey}
		}
		st.templates[ts.Prefix] = ts
	}
	for _, r := range sc.Repositories {
		repo := st.newRepo(r.Name, now.Add(-time.Duration(r.CreatedAgo)))
		repo.Mutability = orDefault(r.ImageTagMutability, "MUTABLE")
		repo.Exclusions = exclusionFilters(r.ImageTagMutabilityExclusionFilters)
		if r.Encryption != nil {
			repo.Encryption = encryption{EncryptionType: r.Encryption.Type, KmsKey: r.Encryption.KMSKey}
		}
		repo.Tags, repo.Policy, repo.Lifecycle = tagsFromMap(r.Tags), r.Policy, r.LifecyclePolicy
		for _, im := range r.Images {
			source := im.Source
			if source == "" {
				source = r.Name + ":" + firstOr(im.Tags, "untagged") + "#0"
			}
			a, err := buildArtifact(source, im.Platforms)
			if err != nil {
				return nil, fmt.Errorf("repository %s: %w", r.Name, err)
			}
			pushed := now.Add(-time.Duration(im.PushedAgo))
			img := st.storeArtifact(repo, a, pushed, im.MissingPlatforms)
			if im.PulledAgo > 0 {
				img.LastPull = now.Add(-time.Duration(im.PulledAgo))
			}
			img.ValidatedAt = pushed
			if im.ValidatedAgo > 0 {
				img.ValidatedAt = now.Add(-time.Duration(im.ValidatedAgo))
			}
			for _, t := range im.Tags {
				repo.tags[t] = img.Digest
			}
		}
		st.repos[repo.Name] = repo
	}
	st.registryPolicy = sc.RegistryPolicy
	st.lifecycleRun = now
	if nc := sc.Behaviours.NegativeCache; nc != nil {
		for _, e := range nc.Entries {
			st.negative[e.Repository+":"+e.Tag] = now.Add(-time.Duration(e.Ago))
		}
	}
	if sc.Generate != nil {
		if err := st.generate(sc.Generate, now); err != nil {
			return nil, err
		}
	}
	return st, nil
}

func (st *state) addPrincipal(p Principal) {
	pr := &principal{Principal: p}
	h := fnv.New64a()
	h.Write([]byte(p.Kind + p.Name))
	id := fmt.Sprintf("%016X", h.Sum64())
	if p.Kind == "role" {
		pr.ARN = fmt.Sprintf("arn:aws:iam::%s:role/%s", st.accountID, p.Name)
		pr.CallerARN = fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/ptcdoctor", st.accountID, p.Name)
		pr.UserID = "AROA" + id + ":ptcdoctor"
	} else {
		pr.ARN = fmt.Sprintf("arn:aws:iam::%s:user/%s", st.accountID, p.Name)
		pr.CallerARN = pr.ARN
		pr.UserID = "AIDA" + id
	}
	st.principals = append(st.principals, pr)
	st.byKey[p.AccessKeyID] = pr
}

// principalByARN finds a principal by its IAM ARN or the ARN it calls with.
func (st *state) principalByARN(arn string) *principal {
	for _, p := range st.principals {
		if p.ARN == arn || p.CallerARN == arn {
			return p
		}
	}
	return nil
}

// newID returns a deterministic, unique identifier for the state's lifetime.
func (st *state) newID(kind string) string {
	st.seq++
	h := fnv.New128a()
	fmt.Fprintf(h, "%s|%s|%d", st.accountID, kind, st.seq)
	b := h.Sum(nil)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// secretARN gives the ARN AWS would: the name followed by six random characters.
func (st *state) secretARN(region, name string) string {
	h := fnv.New32a()
	h.Write([]byte(region + name))
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	n := h.Sum32()
	suffix := make([]byte, 6)
	for i := range suffix {
		suffix[i] = letters[n%uint32(len(letters))]
		n /= uint32(len(letters))
		n += uint32(i) * 7919
	}
	return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", region, st.accountID, name, suffix)
}

func (st *state) repoARN(name string) string {
	return "arn:aws:ecr:" + st.region + ":" + st.accountID + ":repository/" + name // on every request: no Sprintf
}

func (st *state) repoURI(name string) string {
	return st.accountID + ".dkr.ecr." + st.region + ".amazonaws.com/" + name
}

func (st *state) newRepo(name string, created time.Time) *repoState {
	return &repoState{
		Name: name, ARN: st.repoARN(name), Mutability: "MUTABLE",
		Encryption: encryption{EncryptionType: "AES256"}, CreatedAt: created,
		images: map[v1.Hash]*imageState{}, tags: map[string]v1.Hash{},
	}
}

// storeArtifact puts an image or index, and the blobs it needs, into a repository.
// Platforms named in missing are left out, as an interrupted import would leave them.
func (st *state) storeArtifact(repo *repoState, a *artifact, pushed time.Time, missing []string) *imageState {
	for d, b := range a.Blobs {
		st.blobs[d] = b
	}
	top := &imageState{manifestBlob: a.Top, PushedAt: pushed, ValidatedAt: pushed}
	if old, ok := repo.images[a.Top.Digest]; ok {
		top.LastPull = old.LastPull
	}
	for _, c := range a.Children {
		top.Children = append(top.Children, c.Digest)
		if contains(missing, c.Platform) {
			continue
		}
		repo.images[c.Digest] = &imageState{manifestBlob: c, PushedAt: pushed, ValidatedAt: pushed}
	}
	repo.images[a.Top.Digest] = top
	return top
}

// tagsOf lists an image's tags in order.
func (repo *repoState) tagsOf(d v1.Hash) []string {
	var out []string
	for t, td := range repo.tags {
		if td == d {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// isChild reports whether some index in the repository references d.
func (repo *repoState) isChild(d v1.Hash) bool {
	for _, img := range repo.images {
		for _, c := range img.Children {
			if c == d {
				return true
			}
		}
	}
	return false
}

func (st *state) generate(g *Generate, now time.Time) error {
	upstream := g.upstream()
	host := upstreamURLs[upstream]
	credential := ""
	if s := st.secrets[generatedSecret]; s != nil && upstreamsNeedingCredentials[upstream] {
		credential = s.ARN
	}
	for r := 1; r <= g.Rules; r++ {
		prefix := generatedPrefix(r)
		st.rules[prefix] = &ruleState{Prefix: prefix, URL: host, Upstream: upstream, CredentialArn: credential,
			CreatedAt: now.Add(-30 * 24 * time.Hour), UpdatedAt: now.Add(-30 * 24 * time.Hour)}
		st.serviceLinkedRole = true
		for p := 1; p <= g.RepositoriesPerRule; p++ {
			repo := st.newRepo(prefix+"/"+generatedPath(p), now.Add(-20*24*time.Hour))
			if g.templated(r) {
				repo.Lifecycle = generatedLifecycle // as its rule's creation template gave it
			}
			for i := 1; i <= g.ImagesPerRepository; i++ {
				// The upstream's image (genupstream.go): every rule mirroring the path caches it.
				m, err := generatedManifest(generatedSeed(p, i))
				if err != nil {
					return err
				}
				m.Raw = nil
				pushed := now.Add(-time.Duration(i) * time.Hour)
				img := &imageState{manifestBlob: m, PushedAt: pushed, ValidatedAt: pushed, LastPull: now.Add(-time.Duration(i%90+1) * 24 * time.Hour)}
				repo.images[m.Digest] = img
				repo.tags[generatedTag(i)] = img.Digest
			}
			st.repos[repo.Name] = repo
		}
	}
	return nil
}

func tagsFromMap(m map[string]string) []tag {
	var out []tag
	for k, v := range m {
		out = append(out, tag{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func firstOr(list []string, def string) string {
	if len(list) == 0 {
		return def
	}
	return list[0]
}
