package sim_test

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Each test here pins one behaviour where the stand-in used to differ from AWS, with the
// source it follows; each failed before the change that made the stand-in agree.

// A repository no rule covers is an ordinary repository: a tag it lacks is "image not
// found" (BatchGetImage failure ImageNotFound, registry 404 MANIFEST_UNKNOWN), never
// "repository not found". Sources: the API model (BatchGetImage failureCode ImageNotFound,
// RepositoryNotFoundException only for a repository that does not exist) and
// https://docs.aws.amazon.com/AmazonECR/latest/userguide/error-pullthroughcache.html.
func TestAMissingTagInARepositoryNoRuleCovers(t *testing.T) {
	s := startScenario(t, "demo")
	c := ctx(t)
	for _, repo := range []string{"my-proxy", "legacy-hub/library/node"} {
		out, err := s.ecr.BatchGetImage(c, &ecr.BatchGetImageInput{RepositoryName: aws.String(repo),
			ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("absent")}}})
		if err != nil {
			t.Fatalf("%s: BatchGetImage of a missing tag failed the whole call: %v", repo, err)
		}
		if len(out.Failures) != 1 || out.Failures[0].FailureCode != types.ImageFailureCodeImageNotFound {
			t.Fatalf("%s: failures %+v, want one ImageNotFound", repo, out.Failures)
		}
		p := s.puller()
		_, err = p.get(repo + ":absent")
		wantStatus(t, err, http.StatusNotFound, "MANIFEST_UNKNOWN", "Requested image not found")
		if _, err := remote.List(p.ref(repo+":x").Context(), p.opts...); err != nil {
			t.Fatalf("%s: tags/list: %v", repo, err)
		}
	}
	// What the orphan still holds is served.
	if _, err := s.puller().get("legacy-hub/library/node:20"); err != nil {
		t.Fatalf("a cached tag under a deleted rule: %v", err)
	}
	// A repository that does not exist, under no rule, is still "repository not found".
	_, err := s.ecr.BatchGetImage(c, &ecr.BatchGetImageInput{RepositoryName: aws.String("nowhere/app"),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("1")}}})
	wantCode(t, err, "RepositoryNotFoundException", "nowhere/app")
	_, err = s.puller().get("nowhere/app:1")
	wantStatus(t, err, http.StatusNotFound, "NAME_UNKNOWN", "does not exist")
}

// A rule deleted after its repositories were cached leaves them ordinary repositories.
func TestARuleDeletedLeavesOrdinaryRepositories(t *testing.T) {
	s := startScenario(t, "demo")
	c := ctx(t)
	if _, err := s.ecr.DeletePullThroughCacheRule(c, &ecr.DeletePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("quay")}); err != nil {
		t.Fatal(err)
	}
	p := s.puller()
	if _, err := p.get("quay/prometheus/node-exporter:v1.8.0"); err != nil {
		t.Fatalf("cached tag: %v", err)
	}
	// v1.8.1 exists upstream, but nothing pulls it through any more.
	_, err := p.get("quay/prometheus/node-exporter:v1.8.1")
	wantStatus(t, err, http.StatusNotFound, "MANIFEST_UNKNOWN", "Requested image not found")
}

// The Docker Hub look-alike has what the real Docker Hub always has, without a scenario
// listing it: ratelimitpreview/test:latest (Docker's documented budget check,
// https://docs.docker.com/docker-hub/usage/pulls/) and latest on official images.
func TestDockerHubAlwaysHasItsStandardContent(t *testing.T) {
	s := startYAML(t, `
upstreams:
  - host: registry-1.docker.io
    repositories:
      - {name: library/redis, tags: [{tag: "7.4"}]}
`)
	opts := []remote.Option{remote.WithTransport(resolveFor(s.srv.Info()))}
	for _, ref := range []string{"ratelimitpreview/test:latest", "library/alpine:latest", "library/nginx:latest",
		"library/redis:latest", "library/redis:7.4"} {
		if _, err := remote.Head(mustRef(t, "registry-1.docker.io/"+ref), opts...); err != nil {
			t.Errorf("%s: %v", ref, err)
		}
	}
}
