package diagnose

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// Prober is what the checks need from the outside world: read-only questions to an
// upstream, the cache, and IAM. ecrops.Account answers them; tests may answer them too.
type Prober interface {
	ProbeUpstream(ctx context.Context, rule model.Rule, upstreamRef string) model.UpstreamProbe
	ProbeCache(ctx context.Context, repo, tagOrDigest string) model.CacheProbe
	ProbePermissions(ctx context.Context, principal, repoARN, registryPolicy string, actions []string) model.PermissionProbe
}

// Options narrow and feed a diagnosis.
type Options struct {
	// Refs are references to check besides the account's own repositories.
	Refs []model.Ref
	// Principals are the IAM principals that pull (node roles, CI roles); the caller when empty.
	Principals []string
	// Checks limits the diagnosis to these check ids; all when empty.
	Checks []string
	// ProbeLimit caps the upstream probes of cached tags (stale-tag); 0 means 200.
	ProbeLimit int
	// ConsumerAccounts are the AWS accounts that pull from this registry's caches besides
	// its own (cross-account). The cross-account check also learns them from the registry
	// policy's and the cache repositories' policies' principals.
	ConsumerAccounts []string
	// Now is the time the diagnosis is made at; time.Now when nil.
	Now func() time.Time
}

// Run applies the checks to a snapshot and returns the findings, errors first.
func Run(ctx context.Context, snap *model.Snapshot, prober Prober, opts Options) []model.Finding {
	d := &diagnosis{ctx: ctx, snap: snap, probe: newMemo(prober), opts: opts}
	if d.opts.Now == nil {
		d.opts.Now = time.Now
	}
	if d.opts.ProbeLimit == 0 {
		d.opts.ProbeLimit = 200
	}
	if len(d.opts.Principals) == 0 && snap.Identity.ARN != "" {
		d.opts.Principals = []string{snap.Identity.ARN}
	}
	var findings []model.Finding
	for _, c := range Catalog {
		if len(opts.Checks) > 0 && !contains(opts.Checks, c.ID) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		for _, f := range c.run(d) {
			f.Check = c.ID
			if f.Severity == "" {
				f.Severity = c.Severity
			}
			findings = append(findings, f)
		}
	}
	sort.SliceStable(findings, func(i, j int) bool {
		return findings[i].Severity.Rank() < findings[j].Severity.Rank()
	})
	return findings
}

// diagnosis is one run: the snapshot, the probes so far, the options.
type diagnosis struct {
	ctx   context.Context
	snap  *model.Snapshot
	probe *memo
	opts  Options
	// stale is the stale-tag probes, made once: the rate-limit check reads their answers too.
	stale *staleRun
}

// memo asks each question once per diagnosis.
type memo struct {
	p        Prober
	mu       sync.Mutex
	upstream map[string]model.UpstreamProbe
	cache    map[string]model.CacheProbe
	perms    map[string]model.PermissionProbe
}

func newMemo(p Prober) *memo {
	return &memo{p: p, upstream: map[string]model.UpstreamProbe{}, cache: map[string]model.CacheProbe{}, perms: map[string]model.PermissionProbe{}}
}

// remember asks once per key: a probe's answer is looked up, or asked and kept.
func remember[V any](m *memo, table map[string]V, key string, ask func() V) V {
	m.mu.Lock()
	v, ok := table[key]
	m.mu.Unlock()
	if ok {
		return v
	}
	v = ask()
	m.mu.Lock()
	table[key] = v
	m.mu.Unlock()
	return v
}

func (m *memo) Upstream(ctx context.Context, rule model.Rule, ref string) model.UpstreamProbe {
	return remember(m, m.upstream, rule.Prefix+"|"+ref, func() model.UpstreamProbe { return m.p.ProbeUpstream(ctx, rule, ref) })
}

func (m *memo) Cache(ctx context.Context, repo, id string) model.CacheProbe {
	return remember(m, m.cache, repo+"|"+id, func() model.CacheProbe { return m.p.ProbeCache(ctx, repo, id) })
}

func (m *memo) Permissions(ctx context.Context, principal, repoARN, policy string, actions []string) model.PermissionProbe {
	return remember(m, m.perms, principal+"|"+repoARN+"|"+strings.Join(actions, ","), func() model.PermissionProbe {
		return m.p.ProbePermissions(ctx, principal, repoARN, policy, actions)
	})
}

// upstreamEvidence words an upstream probe as evidence.
func upstreamEvidence(p model.UpstreamProbe) model.Evidence {
	who := "with the rule's credentials"
	if p.Anonymous {
		who = "anonymously (" + p.Why + ")"
	}
	call := fmt.Sprintf("HEAD %s manifest, %s", p.Reference, who)
	if p.Exists {
		ans := fmt.Sprintf("200: %s (%s)", short(p.Digest), p.MediaType)
		if len(p.Platforms) > 0 {
			ans += ", platforms " + strings.Join(p.Platforms, ", ")
		}
		if p.Class != "" {
			ans += fmt.Sprintf("; the GET of the index answered %d %s", p.Status, p.Message)
		}
		return model.Evidence{Call: call, Answer: ans}
	}
	if p.Status == 0 {
		return model.Evidence{Call: call, Answer: p.Class + ": " + p.Message}
	}
	return model.Evidence{Call: call, Answer: fmt.Sprintf("%d %s: %s", p.Status, p.Class, p.Message)}
}

func short(digest string) string {
	if len(digest) > 19 {
		return digest[:19] + "…"
	}
	return digest
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func repoARN(snap *model.Snapshot, repo string) string {
	return fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s", snap.Region, snap.AccountID, repo)
}

// cacheRef is the cache URI of a repository and tag in this registry.
func cacheRef(snap *model.Snapshot, repo, tag string) string {
	return snap.RegistryURI() + "/" + repo + ":" + tag
}

// upstreamRef maps a cache repository and tag to the upstream reference, through the rule.
func upstreamRef(r *model.Rule, repo, tag string) string {
	return r.UpstreamURL + "/" + model.UpstreamPath(r, repo) + ":" + tag
}
