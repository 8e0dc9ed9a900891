package sim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Pulling through, as sections 4 to 6 of the facts page describe it: a miss on a
// repository under a rule's prefix fetches the image from the upstream with the rule's
// credentials, creates the repository from its creation template, and imports the image;
// a cached tag older than 24 hours is checked against the upstream again. The data plane
// and BatchGetImage share this code and differ only in how a failure reaches the client.

// revalidateAfter is how long ECR serves a cached tag without asking the upstream.
const revalidateAfter = 24 * time.Hour

// failureKind says why a pull through failed, before each surface words it its own way.
type failureKind int

const (
	failNoRepository    failureKind = iota // the repository does not exist and could not be created
	failNotFound                           // the upstream has no such image, or the import was not allowed
	failForbidden                          // Docker Hub official image without library/: a bare 403
	failUpstreamAuth                       // the upstream refused the credentials (401/403)
	failTooManyRequests                    // the upstream answered 429
	failUnavailable                        // the upstream could not be reached, or answered 5xx
	failSecret                             // the rule's secret could not be read
)

type pullFailure struct {
	kind   failureKind
	detail string // for the event log: what the stand-in saw
}

func (f *pullFailure) Error() string { return f.detail }

// ruleFor finds the rule that covers a repository: the longest prefix, else ROOT.
func (st *state) ruleFor(repo string) *ruleState {
	var best *ruleState
	for p, r := range st.rules {
		if p != "ROOT" && strings.HasPrefix(repo, p+"/") && (best == nil || len(p) > len(best.Prefix)) {
			best = r
		}
	}
	if best == nil {
		best = st.rules["ROOT"]
	}
	return best
}

// upstreamPath maps a cache repository to the upstream repository it mirrors.
func (r *ruleState) upstreamPath(repo string) string {
	path := repo
	if r.Prefix != "ROOT" {
		path = strings.TrimPrefix(repo, r.Prefix+"/")
	}
	if r.UpstreamPrefix != "" && r.UpstreamPrefix != "ROOT" {
		path = r.UpstreamPrefix + "/" + path
	}
	return path
}

// templateFor finds the creation template that applies to a new cache repository.
func (st *state) templateFor(repo string) *templateState {
	var best *templateState
	for p, t := range st.templates {
		if !contains(t.AppliedFor, "PULL_THROUGH_CACHE") || p == "ROOT" {
			continue
		}
		if (strings.HasPrefix(repo, p+"/") || repo == p) && (best == nil || len(p) > len(best.Prefix)) {
			best = t
		}
	}
	if best == nil {
		if t := st.templates["ROOT"]; t != nil && contains(t.AppliedFor, "PULL_THROUGH_CACHE") {
			best = t
		}
	}
	return best
}

// pullPlan is what a pull through needs from the account, read under the lock so that the
// upstream can be called without it.
type pullPlan struct {
	rule      *ruleState
	upstream  string // the upstream reference, host/path:tag
	creds     *upstreamCredentials
	createdBy *templateState // set when the repository must be created
	create    bool
}

// pullThrough imports repo:tag from the rule's upstream. It must be called without s.mu held.
func (s *Server) pullThrough(ctx context.Context, p *principal, repo, tag string) (*imageState, *pullFailure) {
	s.mu.Lock()
	plan, f := s.planPull(p, repo, tag)
	created := false
	if f == nil && plan.create {
		s.createCacheRepository(repo, plan.createdBy)
		created = true
	}
	s.mu.Unlock()
	if f != nil {
		return nil, f
	}
	a, f := s.fetchUpstream(ctx, plan.upstream, plan.creds, plan.rule)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.st.repos[repo]
	if f != nil {
		if f.kind == failNotFound && s.negativeCacheOn() {
			s.st.negative[repo+":"+tag] = s.clock.Now()
		}
		if created && !s.leaveEmptyRepositories() && r != nil && len(r.images) == 0 {
			delete(s.st.repos, repo)
		}
		return nil, f
	}
	if r == nil { // deleted while the upstream answered
		return nil, &pullFailure{failNoRepository, "the repository was deleted during the pull"}
	}
	now := s.clock.Now()
	img := s.st.storeArtifact(r, a, now, nil)
	r.tags[tag] = img.Digest
	img.ValidatedAt, img.Imported = now, now
	for _, c := range img.Children {
		if ci := r.images[c]; ci != nil {
			ci.Imported = now
		}
	}
	return img, nil
}

// planPull checks, in AWS's order, what the pull through needs: a rule, no fresh
// not-found in the (modelled) negative cache, the repository or the right to create it
// as its template says, the right to import, and a readable secret.
func (s *Server) planPull(p *principal, repo, tag string) (*pullPlan, *pullFailure) {
	st := s.st
	rule := st.ruleFor(repo)
	if rule == nil {
		return nil, &pullFailure{failNoRepository, "no pull through cache rule covers " + repo}
	}
	plan := &pullPlan{rule: rule, upstream: rule.URL + "/" + rule.upstreamPath(repo) + ":" + tag}
	if t, ok := st.negative[repo+":"+tag]; ok && s.negativeCacheOn() && s.clock.Now().Sub(t) < s.negativeTTL() {
		return nil, &pullFailure{failNotFound, fmt.Sprintf("the negative cache (a model) holds not-found for %s:%s since %s", repo, tag, t.Format(time.RFC3339))}
	}
	arn := st.repoARN(repo)
	if st.repos[repo] == nil {
		if ok, _ := st.allows(p, "ecr:CreateRepository", arn); !ok {
			return nil, &pullFailure{failNoRepository, p.CallerARN + " may not ecr:CreateRepository " + arn}
		}
		t := st.templateFor(repo)
		if t != nil && t.CustomRoleArn == "" && (len(t.ResourceTags) > 0 || strings.HasPrefix(t.Encryption.EncryptionType, "KMS")) {
			return nil, &pullFailure{failNoRepository, fmt.Sprintf("repository creation failed: template %q sets tags or KMS without a customRoleArn", t.Prefix)}
		}
		if t != nil && len(t.ResourceTags) > 0 {
			if ok, _ := st.allows(p, "ecr:TagResource", arn); !ok {
				return nil, &pullFailure{failNoRepository, p.CallerARN + " may not ecr:TagResource " + arn + ", which template " + t.Prefix + " needs"}
			}
		}
		plan.create, plan.createdBy = true, t
	}
	if ok, _ := st.allows(p, "ecr:BatchImportUpstreamImage", arn); !ok {
		if plan.create && s.leaveEmptyRepositories() {
			s.createCacheRepository(repo, plan.createdBy)
		}
		return nil, &pullFailure{failNotFound, p.CallerARN + " may not ecr:BatchImportUpstreamImage " + arn}
	}
	creds, f := s.ruleCredentials(rule)
	if f != nil {
		return nil, f
	}
	plan.creds = creds
	return plan, nil
}

// ruleCredentials are what the stand-in, as ECR, presents to a rule's upstream: the
// secret's credentials, for an ECR upstream its role's, or none. Called with s.mu held.
func (s *Server) ruleCredentials(rule *ruleState) (*upstreamCredentials, *pullFailure) {
	if rule.Upstream == "ecr" {
		creds, why := s.ecrRuleAccess(rule)
		if why != "" {
			return nil, &pullFailure{failUpstreamAuth, why}
		}
		return creds, nil
	}
	if rule.CredentialArn == "" {
		return nil, nil
	}
	if why := s.secretProblem(rule); why != "" {
		return nil, &pullFailure{failSecret, why}
	}
	c, _ := parseUpstreamCredentials(s.st.secretByARN(rule.CredentialArn).Value)
	return &c, nil
}

// secretProblem says why ECR could not use a rule's secret, or "".
func (s *Server) secretProblem(r *ruleState) string {
	st := s.st
	sec := st.secretByARN(r.CredentialArn)
	switch {
	case sec == nil || !sec.Deleted.IsZero():
		return "the secret " + r.CredentialArn + ": " + secretGone(sec)
	case sec.Region != st.region:
		return "the secret is in another Region (" + sec.Region + ")"
	case isCustomerKey(sec.KMSKeyID):
		return "the secret is encrypted with a customer managed KMS key"
	}
	sec.read(s.clock.Now()) // ECR read it: its LastAccessedDate shows that
	if _, ok := parseUpstreamCredentials(sec.Value); !ok {
		return "the secret value lacks username and accessToken"
	}
	return ""
}

// createCacheRepository makes a repository as a pull through does: the template's
// settings when one applies, ECR's defaults otherwise (mutable, AES256, no policies).
func (s *Server) createCacheRepository(repo string, t *templateState) {
	if s.st.repos[repo] != nil {
		return
	}
	r := s.st.newRepo(repo, s.clock.Now())
	if t != nil {
		r.Mutability, r.Exclusions, r.Encryption = t.Mutability, t.Exclusions, t.Encryption
		r.Tags = append([]tag(nil), t.ResourceTags...)
		r.Policy, r.Lifecycle = t.RepositoryPolicy, t.Lifecycle
	}
	s.st.repos[repo] = r
}

func (s *Server) negativeCacheOn() bool {
	nc := s.scenario.Behaviours.NegativeCache
	return nc != nil && nc.Enabled
}

func (s *Server) negativeTTL() time.Duration {
	if nc := s.scenario.Behaviours.NegativeCache; nc != nil && nc.TTL > 0 {
		return time.Duration(nc.TTL)
	}
	return 30 * time.Minute
}

func (s *Server) leaveEmptyRepositories() bool {
	l := s.scenario.Behaviours.LeaveEmptyRepository
	return l != nil && *l
}

// fetchUpstream pulls a reference and everything it references from the upstream, with
// one attempt per request: a 429 must reach the client, not be retried away.
func (s *Server) fetchUpstream(ctx context.Context, ref string, creds *upstreamCredentials, rule *ruleState) (*artifact, *pullFailure) {
	r, err := name.ParseReference(ref, name.StrictValidation)
	if err != nil {
		return nil, &pullFailure{failNotFound, "not a valid upstream reference: " + ref}
	}
	opts := s.upstreamOptions(ctx, creds)
	desc, err := remote.Get(r, opts...)
	if err != nil {
		return nil, s.classify(err, rule, r)
	}
	a := &artifact{Blobs: map[v1.Hash][]byte{}}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, s.classify(err, rule, r)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, s.classify(err, rule, r)
		}
		a.Top = manifestBlob{Digest: desc.Digest, MediaType: desc.MediaType, Raw: desc.Manifest}
		for _, m := range im.Manifests {
			child, err := remote.Image(r.Context().Digest(m.Digest.String()), opts...)
			if err != nil {
				return nil, s.classify(err, rule, r)
			}
			plat := ""
			if m.Platform != nil {
				plat = m.Platform.String()
			}
			mb, err := a.addImage(child, plat)
			if err != nil {
				return nil, s.classify(err, rule, r)
			}
			a.Children = append(a.Children, mb)
			a.Top.Size = max(a.Top.Size, mb.Size)
		}
		return a, nil
	}
	img, err := desc.Image()
	if err != nil {
		return nil, s.classify(err, rule, r)
	}
	mb, err := a.addImage(img, "")
	if err != nil {
		return nil, s.classify(err, rule, r)
	}
	a.Top = mb
	return a, nil
}

// upstreamDigest asks the upstream for a tag's digest with a HEAD, which Docker Hub does not count.
func (s *Server) upstreamDigest(ctx context.Context, ref string, creds *upstreamCredentials, rule *ruleState) (v1.Hash, *pullFailure) {
	r, err := name.ParseReference(ref, name.StrictValidation)
	if err != nil {
		return v1.Hash{}, &pullFailure{failNotFound, "not a valid upstream reference: " + ref}
	}
	d, err := remote.Head(r, s.upstreamOptions(ctx, creds)...)
	if err != nil {
		return v1.Hash{}, s.classify(err, rule, r)
	}
	return d.Digest, nil
}

func (s *Server) upstreamOptions(ctx context.Context, creds *upstreamCredentials) []remote.Option {
	auth := authn.Anonymous
	if creds != nil {
		auth = authn.FromConfig(authn.AuthConfig{Username: creds.Username, Password: creds.AccessToken})
	}
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuth(auth),
		remote.WithTransport(s.resolvingTransport()),
		remote.WithRetryBackoff(remote.Backoff{Steps: 1}),
		remote.WithRetryStatusCodes(),
	}
}

// classify turns an upstream error into the failure ECR reports for it.
func (s *Server) classify(err error, rule *ruleState, ref name.Reference) *pullFailure {
	var te *transport.Error
	if !errors.As(err, &te) {
		return &pullFailure{failUnavailable, "the upstream could not be reached: " + err.Error()}
	}
	detail := fmt.Sprintf("upstream %s answered %d for %s", rule.URL, te.StatusCode, ref)
	switch te.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		path := ref.Context().RepositoryStr()
		if rule.Upstream == "docker-hub" && !strings.Contains(strings.TrimPrefix(path, "library/"), "/") && !strings.HasPrefix(path, "library/") {
			return &pullFailure{failForbidden, detail + " (a Docker Hub official image needs library/)"}
		}
		return &pullFailure{failUpstreamAuth, detail}
	case http.StatusNotFound:
		return &pullFailure{failNotFound, detail}
	case http.StatusTooManyRequests:
		return &pullFailure{failTooManyRequests, detail}
	}
	return &pullFailure{failUnavailable, detail}
}

// resolvingTransport sends requests for upstream host names to the stand-in's upstreams.
func (s *Server) resolvingTransport() http.RoundTripper {
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.DialContext = (&net.Dialer{Timeout: 5 * time.Second}).DialContext
	return resolveTransport{resolve: s.info.Resolve, base: base}
}

type resolveTransport struct {
	resolve map[string]string
	base    http.RoundTripper
}

func (t resolveTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	target, ok := t.resolve[req.URL.Hostname()]
	if !ok {
		return nil, fmt.Errorf("%s is not an upstream of this scenario (the stand-in reaches no other host)", req.URL.Hostname())
	}
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host = u.Scheme, u.Host
	return t.base.RoundTrip(out)
}

// refresh re-checks a cached tag against its upstream when it was last validated more
// than 24 hours ago, and imports the new image when the tag moved and the repository's
// tags are mutable. The cached image is served whatever happens upstream.
func (s *Server) refresh(ctx context.Context, p *principal, repo, tag string) {
	s.mu.Lock()
	r := s.st.repos[repo]
	rule := s.st.ruleFor(repo)
	if r == nil || rule == nil {
		s.mu.Unlock()
		return
	}
	cached, ok := r.tags[tag]
	img := r.images[cached]
	if !ok || img == nil || s.clock.Now().Sub(img.ValidatedAt) <= revalidateAfter {
		s.mu.Unlock()
		return
	}
	creds, f := s.ruleCredentials(rule)
	if f != nil {
		s.mu.Unlock()
		return
	}
	mutable := !tagImmutable(r.Mutability, r.Exclusions, tag)
	ref := rule.URL + "/" + rule.upstreamPath(repo) + ":" + tag
	allowed, _ := s.st.allows(p, "ecr:BatchImportUpstreamImage", r.ARN)
	s.mu.Unlock()

	d, f := s.upstreamDigest(ctx, ref, creds, rule)
	if f != nil {
		return
	}
	if d == cached {
		s.mu.Lock()
		img.ValidatedAt = s.clock.Now()
		s.mu.Unlock()
		return
	}
	if !mutable || !allowed {
		return // immutable tags block the update; the old image stays
	}
	a, f := s.fetchUpstream(ctx, ref, creds, rule)
	if f != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.st.repos[repo]; r != nil {
		now := s.clock.Now()
		fresh := s.st.storeArtifact(r, a, now, nil)
		r.tags[tag] = fresh.Digest
		fresh.ValidatedAt = now
	}
}

// resolveMap lists the upstream hosts and where the stand-in serves them: every host a
// rule can name, a look-alike or a refusing stub (stubs.go).
func (s *Server) resolveMap() map[string]string {
	out := map[string]string{}
	for host, stub := range s.stubs {
		out[host] = stub.url
	}
	for host, u := range s.upstreams {
		out[host] = u.url
		if host == dockerHubHost {
			out[dockerHubAuthHost] = u.url
		}
	}
	if s.s3 != nil {
		out[layerBucketHost(s.st.region)] = s.s3.url
		if cdn := s.scenario.Behaviours.UpstreamCDNRedirect; cdn != nil && cdn.Enabled && s.upstreams[dockerHubHost] != nil {
			out[dockerHubCDNHost] = s.s3.url
		}
	}
	return out
}

func sortedHosts(m map[string]*upstreamRegistry) []string {
	var out []string
	for h := range m {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// completeIndex imports the manifests a cached index references but the cache lacks:
// pulling an index by tag caches the index and every image it references.
func (s *Server) completeIndex(ctx context.Context, p *principal, repo string, img *imageState) {
	s.mu.Lock()
	r := s.st.repos[repo]
	rule := s.st.ruleFor(repo)
	var missing bool
	if r != nil {
		for _, c := range img.Children {
			missing = missing || r.images[c] == nil
		}
	}
	if !missing || rule == nil {
		s.mu.Unlock()
		return
	}
	allowed, _ := s.st.allows(p, "ecr:BatchImportUpstreamImage", r.ARN)
	creds, _ := s.ruleCredentials(rule)
	ref := rule.URL + "/" + rule.upstreamPath(repo) + "@" + img.Digest.String()
	s.mu.Unlock()
	if !allowed {
		return
	}
	a, f := s.fetchUpstream(ctx, ref, creds, rule)
	if f != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for d, b := range a.Blobs {
		s.st.blobs[d] = b
	}
	now := s.clock.Now()
	for _, c := range a.Children {
		if r.images[c.Digest] == nil {
			r.images[c.Digest] = &imageState{manifestBlob: c, PushedAt: now, ValidatedAt: now}
		}
	}
}
