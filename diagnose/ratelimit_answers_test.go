package diagnose_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// budgetProber answers as Docker Hub does when the probe image was read early in a
// window and real pulls spent the rest since: ratelimitpreview/test says pulls are left,
// a real manifest answer is 429 with ratelimit-remaining 0.
type budgetProber struct{}

func (budgetProber) ProbeUpstream(_ context.Context, _ model.Rule, ref string) model.UpstreamProbe {
	if strings.Contains(ref, "ratelimitpreview") {
		return model.UpstreamProbe{Reference: ref, Exists: true, Digest: "sha256:aa", Status: 200, RateLimit: &model.RateLimit{Limit: 100, Remaining: 60, WindowSeconds: 21600}}
	}
	return model.UpstreamProbe{Reference: ref, Status: 429, Class: "rate-limited", Message: "TOOMANYREQUESTS: You have reached your pull rate limit",
		RateLimit: &model.RateLimit{Limit: 100, Remaining: 0, WindowSeconds: 21600}}
}

func (budgetProber) ProbeCache(_ context.Context, repo, _ string) model.CacheProbe {
	return model.CacheProbe{Repository: repo, RepositoryExists: true, Cached: true}
}

func (budgetProber) ProbePermissions(_ context.Context, principal, repoARN, _ string, _ []string) model.PermissionProbe {
	return model.PermissionProbe{Principal: principal, Repository: repoARN}
}

func TestA429OnARealManifestAnswerCounts(t *testing.T) {
	snap := &model.Snapshot{AccountID: "111122223333", Region: "us-east-1",
		Rules: []model.Rule{{Prefix: "docker-hub", UpstreamRegistry: "docker-hub", UpstreamURL: model.DockerHubRegistry}},
		Repositories: []model.Repository{{Name: "docker-hub/library/nginx", RulePrefix: "docker-hub", ImagesKnown: true,
			Images: []model.Image{{Digest: model.ParseDigest("sha256:bb"), Tags: []string{"1.27"}}}}}}
	findings := diagnose.Run(context.Background(), snap, budgetProber{}, diagnose.Options{Checks: []string{"upstream-rate-limit", "stale-tag"}})
	var rl []model.Finding
	for _, f := range findings {
		if f.Check == "upstream-rate-limit" {
			rl = append(rl, f)
		}
	}
	if len(rl) != 1 || rl[0].Severity != model.SeverityError || !strings.Contains(rl[0].Title, "spent") ||
		!strings.Contains(rl[0].Evidence[0].Call, "library/nginx:1.27") || !strings.Contains(rl[0].Explanation, "w=21600") {
		t.Fatalf("%+v", rl)
	}
}

// lowBudgetProber answers that a few pulls are left, and the cache probe as cacheErr says:
// failed, or not cached.
type lowBudgetProber struct{ cacheErr *model.PartError }

func (lowBudgetProber) ProbeUpstream(_ context.Context, _ model.Rule, ref string) model.UpstreamProbe {
	return model.UpstreamProbe{Reference: ref, Exists: true, Digest: "sha256:aa", Status: 200, RateLimit: &model.RateLimit{Limit: 100, Remaining: 5, WindowSeconds: 21600}}
}

func (p lowBudgetProber) ProbeCache(_ context.Context, repo, _ string) model.CacheProbe {
	return model.CacheProbe{Repository: repo, Error: p.cacheErr}
}

func (lowBudgetProber) ProbePermissions(_ context.Context, principal, repoARN, _ string, _ []string) model.PermissionProbe {
	return model.PermissionProbe{Principal: principal, Repository: repoARN}
}

// A watched tag is offered for warming only when the cache was seen not to hold it: a
// failed cache probe is not "not cached".
func TestLowBudgetWarmsOnlyTagsSeenNotCached(t *testing.T) {
	snap := &model.Snapshot{AccountID: "111122223333", Region: "us-east-1",
		Rules: []model.Rule{{Prefix: "hub-mirror", UpstreamRegistry: "docker-hub", UpstreamURL: model.DockerHubRegistry}}}
	ref := model.Ref{Input: "hub-mirror/library/redis:7", RulePrefix: "hub-mirror", Repository: "hub-mirror/library/redis", Tag: "7"}
	warms := func(p lowBudgetProber) bool {
		t.Helper()
		fs := diagnose.Run(context.Background(), snap, p, diagnose.Options{Checks: []string{"upstream-rate-limit"}, Refs: []model.Ref{ref}})
		if len(fs) != 1 || !strings.Contains(fs[0].Title, "low") {
			t.Fatalf("%+v", fs)
		}
		for _, fx := range fs[0].Fixes {
			if strings.HasPrefix(fx.Title, "Warm") {
				return true
			}
		}
		return false
	}
	if !warms(lowBudgetProber{}) {
		t.Fatal("a tag seen not cached is not offered for warming")
	}
	if warms(lowBudgetProber{cacheErr: &model.PartError{Part: "cache", Operation: "DescribeImages", Code: "AccessDeniedException"}}) {
		t.Fatal("a tag whose cache probe failed is offered for warming")
	}
}
