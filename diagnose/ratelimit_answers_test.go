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
			Images: []model.Image{{Digest: "sha256:bb", Tags: []string{"1.27"}}}}}}
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
