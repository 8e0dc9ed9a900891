package sim_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Both repositories cached latest and v1 at version 0, 30 hours ago; upstream both moved.
const exclusionsDoc = `
upstreams:
  - host: quay.io
    repositories: [{name: org/app, tags: [{tag: latest, version: 1}, {tag: v1, version: 1}]}]
rules:
  - {prefix: quay, upstream: quay}
  - {prefix: other, upstream: quay}
templates:
  - {prefix: other, imageTagMutability: MUTABLE_WITH_EXCLUSION, imageTagMutabilityExclusionFilters: ["v*"]}
repositories:
  - name: quay/org/app
    imageTagMutability: IMMUTABLE_WITH_EXCLUSION
    imageTagMutabilityExclusionFilters: [latest, "*-dev"]
    images:
      - {tags: [latest], source: "quay.io/org/app:latest#0", validatedAgo: 30h}
      - {tags: [v1], source: "quay.io/org/app:v1#0", validatedAgo: 30h}
`

func TestExcludedTagsFollowTheOppositeMutability(t *testing.T) {
	s := startYAML(t, exclusionsDoc)
	p := s.puller()
	old := map[string]string{}
	for _, tag := range []string{"latest", "v1"} {
		out := must[*ecr.DescribeImagesOutput](t)(s.ecr.DescribeImages(ctx(t), &ecr.DescribeImagesInput{
			RepositoryName: aws.String("quay/org/app"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String(tag)}}}))
		old[tag] = *out.ImageDetails[0].ImageDigest
	}
	// IMMUTABLE_WITH_EXCLUSION: latest is excluded, so mutable, and is refreshed; v1 is not.
	latest := must[*remote.Descriptor](t)(p.get("quay/org/app:latest"))
	v1 := must[*remote.Descriptor](t)(p.get("quay/org/app:v1"))
	if latest.Digest.String() == old["latest"] {
		t.Error("an excluded (mutable) tag of an IMMUTABLE_WITH_EXCLUSION repository was not refreshed")
	}
	if v1.Digest.String() != old["v1"] {
		t.Error("an immutable tag of an IMMUTABLE_WITH_EXCLUSION repository moved")
	}

	// The template's MUTABLE_WITH_EXCLUSION reaches the repository a pull creates.
	if _, err := p.get("other/org/app:v1"); err != nil {
		t.Fatal(err)
	}
	repos := must[*ecr.DescribeRepositoriesOutput](t)(s.ecr.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"other/org/app"}}))
	r := repos.Repositories[0]
	if r.ImageTagMutability != types.ImageTagMutabilityMutableWithExclusion || len(r.ImageTagMutabilityExclusionFilters) != 1 ||
		aws.ToString(r.ImageTagMutabilityExclusionFilters[0].Filter) != "v*" {
		t.Fatalf("the template's setting did not reach the repository: %+v", r)
	}
}

func TestPutImageTagMutability(t *testing.T) {
	s := startYAML(t, exclusionsDoc)
	in := &ecr.PutImageTagMutabilityInput{RepositoryName: aws.String("quay/org/app"), ImageTagMutability: types.ImageTagMutabilityMutableWithExclusion}
	_, err := s.ecr.PutImageTagMutability(ctx(t), in)
	wantCode(t, err, "InvalidParameterException", "can't be null when imageTagMutability is set as MUTABLE_WITH_EXCLUSION")

	in.ImageTagMutabilityExclusionFilters = []types.ImageTagMutabilityExclusionFilter{{FilterType: types.ImageTagMutabilityExclusionFilterTypeWildcard, Filter: aws.String("release-*")}}
	out := must[*ecr.PutImageTagMutabilityOutput](t)(s.ecr.PutImageTagMutability(ctx(t), in))
	if out.ImageTagMutability != types.ImageTagMutabilityMutableWithExclusion || len(out.ImageTagMutabilityExclusionFilters) != 1 {
		t.Fatalf("%+v", out)
	}
	repos := must[*ecr.DescribeRepositoriesOutput](t)(s.ecr.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"quay/org/app"}}))
	if f := repos.Repositories[0].ImageTagMutabilityExclusionFilters; len(f) != 1 || aws.ToString(f[0].Filter) != "release-*" {
		t.Fatalf("filters: %+v", f)
	}

	// Filters with a plain setting are refused, and a plain setting clears the filters.
	_, err = s.ecr.PutImageTagMutability(ctx(t), &ecr.PutImageTagMutabilityInput{RepositoryName: aws.String("quay/org/app"),
		ImageTagMutability: types.ImageTagMutabilityImmutable, ImageTagMutabilityExclusionFilters: in.ImageTagMutabilityExclusionFilters})
	wantCode(t, err, "InvalidParameterException", "can only be set when")
	must[*ecr.PutImageTagMutabilityOutput](t)(s.ecr.PutImageTagMutability(ctx(t), &ecr.PutImageTagMutabilityInput{
		RepositoryName: aws.String("quay/org/app"), ImageTagMutability: types.ImageTagMutabilityImmutable}))
	repos = must[*ecr.DescribeRepositoriesOutput](t)(s.ecr.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"quay/org/app"}}))
	if r := repos.Repositories[0]; r.ImageTagMutability != types.ImageTagMutabilityImmutable || len(r.ImageTagMutabilityExclusionFilters) != 0 {
		t.Fatalf("%+v", r)
	}
	_, err = s.ecr.PutImageTagMutability(ctx(t), &ecr.PutImageTagMutabilityInput{RepositoryName: aws.String("nope/x"), ImageTagMutability: types.ImageTagMutabilityMutable})
	wantCode(t, err, "RepositoryNotFoundException", "does not exist")
}
