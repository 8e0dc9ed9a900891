package sim_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

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

// The archive storage class (archive-image.html and the API model): an archived image
// cannot be pulled (404), is described only when filter.imageStatus asks for it, and is
// restored through ACTIVATING.
func TestArchiveStorageClass(t *testing.T) {
	s := startScenario(t, "demo")
	c := ctx(t)
	repo := aws.String("ecr-public/amazonlinux/amazonlinux")
	id := []types.ImageIdentifier{{ImageTag: aws.String("2023")}}
	out := must[*ecr.UpdateImageStorageClassOutput](t)(s.ecr.UpdateImageStorageClass(c, &ecr.UpdateImageStorageClassInput{
		RepositoryName: repo, ImageId: &id[0], TargetStorageClass: types.TargetStorageClassArchive}))
	if out.ImageStatus != types.ImageStatusArchived {
		t.Fatalf("status %s", out.ImageStatus)
	}
	_, err := s.puller().get("ecr-public/amazonlinux/amazonlinux:2023")
	wantStatus(t, err, http.StatusNotFound, "MANIFEST_UNKNOWN", "")
	got := must[*ecr.BatchGetImageOutput](t)(s.ecr.BatchGetImage(c, &ecr.BatchGetImageInput{RepositoryName: repo, ImageIds: id}))
	if len(got.Images) != 0 || len(got.Failures) != 1 {
		t.Fatalf("BatchGetImage of an archived image: %+v", got)
	}
	active := must[*ecr.DescribeImagesOutput](t)(s.ecr.DescribeImages(c, &ecr.DescribeImagesInput{RepositoryName: repo}))
	if len(active.ImageDetails) != 0 {
		t.Fatalf("no filter describes only ACTIVE images, got %d", len(active.ImageDetails))
	}
	archived := must[*ecr.DescribeImagesOutput](t)(s.ecr.DescribeImages(c, &ecr.DescribeImagesInput{RepositoryName: repo,
		Filter: &types.DescribeImagesFilter{ImageStatus: types.ImageStatusFilterArchived}}))
	if len(archived.ImageDetails) != 1 || archived.ImageDetails[0].ImageStatus != types.ImageStatusArchived || archived.ImageDetails[0].LastArchivedAt == nil {
		t.Fatalf("archived: %+v", archived.ImageDetails)
	}
	listed := must[*ecr.ListImagesOutput](t)(s.ecr.ListImages(c, &ecr.ListImagesInput{RepositoryName: repo,
		Filter: &types.ListImagesFilter{ImageStatus: types.ImageStatusFilterAny}}))
	if len(listed.ImageIds) != 1 {
		t.Fatalf("list ANY: %+v", listed.ImageIds)
	}
	_, err = s.ecr.UpdateImageStorageClass(c, &ecr.UpdateImageStorageClassInput{RepositoryName: repo, ImageId: &id[0], TargetStorageClass: types.TargetStorageClassArchive})
	wantCode(t, err, "ImageStorageClassUpdateNotSupportedException", "ARCHIVED")
	back := must[*ecr.UpdateImageStorageClassOutput](t)(s.ecr.UpdateImageStorageClass(c, &ecr.UpdateImageStorageClassInput{
		RepositoryName: repo, ImageId: &id[0], TargetStorageClass: types.TargetStorageClassStandard}))
	if back.ImageStatus != types.ImageStatusActivating {
		t.Fatalf("restore: %s", back.ImageStatus)
	}
	s.srv.Clock().Advance(time.Hour)
	if _, err := s.puller().get("ecr-public/amazonlinux/amazonlinux:2023"); err != nil {
		t.Fatalf("restored image: %v", err)
	}
}

// Lifecycle rules run within 24 hours (lp_creation.html): a transition archives images not
// pulled for N days, and an expire on the archive storage class deletes them later.
func TestLifecycleTransitionWhenEvaluated(t *testing.T) {
	s := startYAML(t, `
repositories:
  - name: app
    lifecyclePolicy: '{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":30},"action":{"type":"transition","targetStorageClass":"archive"}},{"rulePriority":2,"selection":{"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":90},"action":{"type":"expire"}}]}'
    images:
      - {tags: [old], pushedAgo: 200d, pulledAgo: 60d}
      - {tags: [used], pushedAgo: 200d, pulledAgo: 1d}
`)
	c := ctx(t)
	status := func(filter types.ImageStatusFilter) []string {
		out := must[*ecr.DescribeImagesOutput](t)(s.ecr.DescribeImages(c, &ecr.DescribeImagesInput{RepositoryName: aws.String("app"),
			Filter: &types.DescribeImagesFilter{ImageStatus: filter}}))
		var tags []string
		for _, d := range out.ImageDetails {
			tags = append(tags, d.ImageTags...)
		}
		return tags
	}
	if got := status(types.ImageStatusFilterArchived); len(got) != 0 {
		t.Fatalf("archived before any evaluation: %v", got)
	}
	s.srv.Clock().Advance(25 * time.Hour)
	if got := status(types.ImageStatusFilterArchived); len(got) != 1 || got[0] != "old" {
		t.Fatalf("archived after a day: %v", got)
	}
	if got := status(types.ImageStatusFilterActive); len(got) != 1 || got[0] != "used" {
		t.Fatalf("active after a day: %v", got)
	}
	s.srv.Clock().Advance(92 * 24 * time.Hour)
	if got := status(types.ImageStatusFilterAny); contains(got, "old") {
		t.Fatalf("still there 92 days after archiving: %v", got)
	}
	lp := must[*ecr.GetLifecyclePolicyOutput](t)(s.ecr.GetLifecyclePolicy(c, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String("app")}))
	if lp.LastEvaluatedAt == nil {
		t.Fatal("no lastEvaluatedAt after an evaluation")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ECR answers a layer download with a redirect to a pre-signed S3 URL (GetDownloadUrlForLayer,
// API model): the stand-in's "S3" is a second loopback host, named in the resolve map.
func TestLayersAreRedirectedToS3(t *testing.T) {
	s := startScenario(t, "demo")
	info := s.srv.Info()
	bucket := info.Resolve["prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com"]
	if bucket == "" {
		t.Fatalf("no layer bucket in the resolve map: %v", info.Resolve)
	}
	p := s.puller()
	img, err := remote.Image(p.ref("ecr-public/amazonlinux/amazonlinux:2023"), p.opts...)
	if err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	d, _ := layers[0].Digest()
	creds := tokenCreds(t, s)
	req, _ := http.NewRequest(http.MethodGet, info.Registry+"/v2/ecr-public/amazonlinux/amazonlinux/blobs/"+d.String(), nil)
	req.SetBasicAuth(creds[0], creds[1])
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp := must[*http.Response](t)(noFollow.Do(req))
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusTemporaryRedirect || !strings.HasPrefix(loc, bucket+"/") || !strings.Contains(loc, "X-Amz-Signature=") {
		t.Fatalf("blob GET: %d Location %q", resp.StatusCode, loc)
	}
	got := must[*http.Response](t)(http.Get(loc))
	got.Body.Close()
	if got.StatusCode != http.StatusOK {
		t.Fatalf("the pre-signed URL: %d", got.StatusCode)
	}
	// The layer's bytes come through the redirect for a client that follows it.
	rc := must[io.ReadCloser](t)(layers[0].Compressed())
	if n, _ := io.Copy(io.Discard, rc); n == 0 {
		t.Fatal("empty layer")
	}
	rc.Close()
	s.srv.Clock().Advance(2 * time.Hour)
	expired := must[*http.Response](t)(http.Get(loc))
	expired.Body.Close()
	if expired.StatusCode != http.StatusForbidden {
		t.Fatalf("an expired URL: %d", expired.StatusCode)
	}

	c := ctx(t)
	repo := aws.String("ecr-public/amazonlinux/amazonlinux")
	url := must[*ecr.GetDownloadUrlForLayerOutput](t)(s.ecr.GetDownloadUrlForLayer(c, &ecr.GetDownloadUrlForLayerInput{RepositoryName: repo, LayerDigest: aws.String(d.String())}))
	if !strings.HasPrefix(*url.DownloadUrl, bucket+"/") || *url.LayerDigest != d.String() {
		t.Fatalf("GetDownloadUrlForLayer: %+v", url)
	}
	other := "sha256:" + strings.Repeat("0", 64)
	_, err = s.ecr.GetDownloadUrlForLayer(c, &ecr.GetDownloadUrlForLayerInput{RepositoryName: repo, LayerDigest: aws.String(other)})
	wantCode(t, err, "LayersNotFoundException", other)
	avail := must[*ecr.BatchCheckLayerAvailabilityOutput](t)(s.ecr.BatchCheckLayerAvailability(c, &ecr.BatchCheckLayerAvailabilityInput{
		RepositoryName: repo, LayerDigests: []string{d.String(), other, "sha256:zz"}}))
	if len(avail.Layers) != 2 || avail.Layers[0].LayerAvailability != types.LayerAvailabilityAvailable ||
		avail.Layers[1].LayerAvailability != types.LayerAvailabilityUnavailable || len(avail.Failures) != 1 ||
		avail.Failures[0].FailureCode != types.LayerFailureCodeInvalidLayerDigest {
		t.Fatalf("BatchCheckLayerAvailability: %+v", avail)
	}
}

// Layers not copied into the cache yet have been seen redirected to the upstream's CDN
// (https://github.com/aws/containers-roadmap/issues/2304): a switchable model.
func TestLayersOfAFreshImportComeFromTheUpstreamCDN(t *testing.T) {
	s := startYAML(t, `
secrets:
  - {name: ecr-pullthroughcache/hub, value: '{"username":"u","accessToken":"t"}'}
upstreams:
  - host: registry-1.docker.io
    accounts: [{username: u, token: t}]
rules:
  - {prefix: hub, upstream: docker-hub, credential: ecr-pullthroughcache/hub}
behaviours:
  upstreamCDNRedirect: {enabled: true, for: 5m}
`)
	info := s.srv.Info()
	if info.Resolve["production.cloudflare.docker.com"] == "" {
		t.Fatalf("no CDN host in the resolve map: %v", info.Resolve)
	}
	p := s.puller()
	desc, err := p.get("hub/library/alpine:latest")
	if err != nil {
		t.Fatal(err)
	}
	img, _ := desc.Image()
	layers, _ := img.Layers()
	d, _ := layers[0].Digest()
	location := func() string {
		creds := tokenCreds(t, s)
		req, _ := http.NewRequest(http.MethodGet, info.Registry+"/v2/hub/library/alpine/blobs/"+d.String(), nil)
		req.SetBasicAuth(creds[0], creds[1])
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp := must[*http.Response](t)(noFollow.Do(req))
		resp.Body.Close()
		return resp.Header.Get("Location")
	}
	if loc := location(); !strings.Contains(loc, "/production.cloudflare.docker.com/") {
		t.Fatalf("a fresh import's layer: %s", loc)
	}
	s.srv.Clock().Advance(10 * time.Minute)
	if loc := location(); !strings.Contains(loc, "/prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com/") {
		t.Fatalf("once copied: %s", loc)
	}
}

// DescribeRegistry, PutImageTagMutability and ListImageReferrers answer in the API model's shapes.
func TestRegistryMutabilityAndReferrers(t *testing.T) {
	s := startScenario(t, "demo")
	c := ctx(t)
	reg := must[*ecr.DescribeRegistryOutput](t)(s.ecr.DescribeRegistry(c, &ecr.DescribeRegistryInput{}))
	if *reg.RegistryId != "111122223333" || reg.ReplicationConfiguration == nil {
		t.Fatalf("DescribeRegistry: %+v", reg)
	}
	repo := aws.String("kubernetes/pause")
	mut := must[*ecr.PutImageTagMutabilityOutput](t)(s.ecr.PutImageTagMutability(c, &ecr.PutImageTagMutabilityInput{RepositoryName: repo, ImageTagMutability: types.ImageTagMutabilityMutable}))
	if mut.ImageTagMutability != types.ImageTagMutabilityMutable {
		t.Fatalf("PutImageTagMutability: %+v", mut)
	}
	_, err := s.ecr.PutImageTagMutability(c, &ecr.PutImageTagMutabilityInput{RepositoryName: repo, ImageTagMutability: types.ImageTagMutabilityImmutableWithExclusion})
	wantCode(t, err, "InvalidParameterException", "imageTagMutabilityExclusionFilters")
	d := must[*ecr.DescribeRepositoriesOutput](t)(s.ecr.DescribeRepositories(c, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{*repo}}))
	if d.Repositories[0].ImageTagMutability != types.ImageTagMutabilityMutable {
		t.Fatalf("after PutImageTagMutability: %s", d.Repositories[0].ImageTagMutability)
	}
	refs := must[*ecr.ListImageReferrersOutput](t)(s.ecr.ListImageReferrers(c, &ecr.ListImageReferrersInput{RepositoryName: repo,
		SubjectId: &types.SubjectIdentifier{ImageDigest: aws.String("sha256:" + strings.Repeat("a", 64))}}))
	if len(refs.Referrers) != 0 {
		t.Fatalf("referrers: %+v", refs.Referrers)
	}
	_, err = s.ecr.ListImageReferrers(c, &ecr.ListImageReferrersInput{RepositoryName: aws.String("absent/repo"),
		SubjectId: &types.SubjectIdentifier{ImageDigest: aws.String("sha256:" + strings.Repeat("a", 64))}})
	wantCode(t, err, "RepositoryNotFoundException", "absent/repo")
}

// lastRecordedPullTime is refreshed "at least once every 24 hours" (API model, ImageDetail):
// an hourly pull is not recorded each time.
func TestLastRecordedPullTimeIsDaily(t *testing.T) {
	s := startScenario(t, "demo")
	pulled := func() time.Time {
		out := must[*ecr.DescribeImagesOutput](t)(s.ecr.DescribeImages(ctx(t), &ecr.DescribeImagesInput{
			RepositoryName: aws.String("ecr-public/amazonlinux/amazonlinux"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("2023")}}}))
		return *out.ImageDetails[0].LastRecordedPullTime
	}
	pull := func() {
		if _, err := s.puller().get("ecr-public/amazonlinux/amazonlinux:2023"); err != nil {
			t.Fatal(err)
		}
	}
	before := pulled() // 6 hours ago in the demo
	s.srv.Clock().Advance(time.Hour)
	pull()
	if !pulled().Equal(before) {
		t.Fatal("a pull 7 hours after the recorded one moved lastRecordedPullTime")
	}
	s.srv.Clock().Advance(18 * time.Hour)
	pull()
	if !pulled().After(before) {
		t.Fatal("a pull 25 hours after the recorded one was not recorded")
	}
}

// ECR's InvalidParameterException names one parameter in its own form, as users have
// posted it: https://github.com/boto/boto3/issues/3191 (the regular expression) and
// https://github.com/aws/aws-dotnet-deploy/issues/549 (the length).
func TestInvalidParameterMessagesInECRsForm(t *testing.T) {
	s := startScenario(t, "demo")
	c := ctx(t)
	_, err := s.ecr.SetRepositoryPolicy(c, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("Organization/repo-name"), PolicyText: aws.String("{}")})
	wantCode(t, err, "InvalidParameterException",
		`Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*''`)
	_, err = s.ecr.CreateRepository(c, &ecr.CreateRepositoryInput{RepositoryName: aws.String("a")})
	wantCode(t, err, "InvalidParameterException", "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must have length greater than or equal to 2'")
	// Where the operation declares ValidationException, the answer keeps that form.
	_, err = s.ecr.CreatePullThroughCacheRule(c, &ecr.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("X"), UpstreamRegistryUrl: aws.String("public.ecr.aws")})
	wantCode(t, err, "ValidationException", "validation errors detected: Value 'X' at 'ecrRepositoryPrefix' failed to satisfy constraint: Member must")
}

// ECR-to-ECR (pull-through-cache-private.html): a cross-account upstream is reached through
// the rule's role, which must exist and trust pullthroughcache.ecr.amazonaws.com, and the
// upstream registry's policy must grant this account. Chainguard and Azure look-alikes
// are pulled through like any credentialed upstream.
func TestECRToECRAndOtherUpstreams(t *testing.T) {
	s := startYAML(t, `
principals:
  - {name: admin, accessKeyId: AKIAEXAMPLEADMIN0000, secretAccessKey: example-admin-secret-key, allow: ["*"]}
  - {name: ecr-ptc, kind: role, accessKeyId: AKIAEXAMPLEROLE00000, secretAccessKey: example-role-secret-key, trust: [pullthroughcache.ecr.amazonaws.com]}
  - {name: untrusting, kind: role, accessKeyId: AKIAEXAMPLEROLE00001, secretAccessKey: example-role-secret-key, trust: ["444455556666"]}
secrets:
  - {name: ecr-pullthroughcache/chainguard, value: '{"username":"pull-token-id","accessToken":"cg-token"}'}
  - {name: ecr-pullthroughcache/azure, value: '{"username":"acr-user","accessToken":"acr-token"}'}
upstreams:
  - host: 444455556666.dkr.ecr.us-west-2.amazonaws.com
    allowAccounts: ["111122223333"]
    repositories: [{name: team/app, tags: [{tag: v1}]}]
  - host: 777788889999.dkr.ecr.us-west-2.amazonaws.com
    repositories: [{name: team/app, tags: [{tag: v1}]}]
  - host: 111122223333.dkr.ecr.us-west-2.amazonaws.com
    repositories: [{name: team/app, tags: [{tag: v1}]}]
  - host: cgr.dev
    accounts: [{username: pull-token-id, token: cg-token}]
    repositories: [{name: chainguard/go, tags: [{tag: latest}]}]
  - host: myregistry.azurecr.io
    accounts: [{username: acr-user, token: acr-token}]
    repositories: [{name: samples/hello, tags: [{tag: v1}]}]
rules:
  - {prefix: central, upstream: ecr, url: 444455556666.dkr.ecr.us-west-2.amazonaws.com, customRoleArn: "arn:aws:iam::111122223333:role/ecr-ptc"}
  - {prefix: madeup, upstream: ecr, url: 444455556666.dkr.ecr.us-west-2.amazonaws.com, customRoleArn: "arn:aws:iam::111122223333:role/made-up"}
  - {prefix: untrusted, upstream: ecr, url: 444455556666.dkr.ecr.us-west-2.amazonaws.com, customRoleArn: "arn:aws:iam::111122223333:role/untrusting"}
  - {prefix: refused, upstream: ecr, url: 777788889999.dkr.ecr.us-west-2.amazonaws.com, customRoleArn: "arn:aws:iam::111122223333:role/ecr-ptc"}
  - {prefix: west, upstream: ecr, url: 111122223333.dkr.ecr.us-west-2.amazonaws.com}
  - {prefix: chainguard, upstream: chainguard, credential: ecr-pullthroughcache/chainguard}
  - {prefix: azure, upstream: azure-container-registry, url: myregistry.azurecr.io, credential: ecr-pullthroughcache/azure}
`)
	c := ctx(t)
	for prefix, want := range map[string]string{"central": "", "west": "", "chainguard": "", "azure": "",
		"madeup": "does not exist", "untrusted": "trust policy", "refused": "does not allow the account 111122223333"} {
		v := must[*ecr.ValidatePullThroughCacheRuleOutput](t)(s.ecr.ValidatePullThroughCacheRule(c, &ecr.ValidatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String(prefix)}))
		if v.IsValid != (want == "") || !strings.Contains(aws.ToString(v.Failure), want) {
			t.Errorf("%s: isValid %v, failure %q; want %q", prefix, v.IsValid, aws.ToString(v.Failure), want)
		}
	}
	p := s.puller()
	for _, ref := range []string{"central/team/app:v1", "west/team/app:v1", "chainguard/chainguard/go:latest", "azure/samples/hello:v1"} {
		if _, err := p.get(ref); err != nil {
			t.Errorf("%s: %v", ref, err)
		}
	}
	for _, ref := range []string{"madeup/team/app:v1", "untrusted/team/app:v1", "refused/team/app:v1"} {
		_, err := p.get(ref)
		wantStatus(t, err, http.StatusForbidden, "DENIED", "upstream")
	}
}

// Lifecycle policies as ECR validates them (lifecycle_policy_parameters.html,
// archive-image.html), refused in ECR's form (https://github.com/cloudposse/terraform-aws-ecr/issues/158).
func TestLifecyclePoliciesAsECRValidatesThem(t *testing.T) {
	s := startScenario(t, "demo")
	c := ctx(t)
	put := func(text string) error {
		_, err := s.ecr.PutLifecyclePolicy(c, &ecr.PutLifecyclePolicyInput{RepositoryName: aws.String("my-proxy"), LifecyclePolicyText: aws.String(text)})
		return err
	}
	rule := func(priority int, selection, action string) string {
		return fmt.Sprintf(`{"rulePriority":%d,"description":"a rule of the test","selection":%s,"action":%s}`, priority, selection, action)
	}
	policy := func(rules ...string) string { return `{"rules":[` + strings.Join(rules, ",") + `]}` }
	const expire, archive = `{"type":"expire"}`, `{"type":"transition","targetStorageClass":"archive"}`
	refused := map[string]string{
		"sinceImagePulled with expire": policy(rule(1, `{"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":90}`, expire)),
		"archive expiry under 90 days": policy(rule(1, `{"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":30}`, expire)),
		"transitioned on standard":     policy(rule(1, `{"tagStatus":"any","countType":"sinceImageTransitioned","countUnit":"days","countNumber":120}`, expire)),
		"archive with a pushed count":  policy(rule(1, `{"tagStatus":"any","storageClass":"archive","countType":"sinceImagePushed","countUnit":"days","countNumber":120}`, expire)),
		"transition without a target":  policy(rule(1, `{"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":90}`, `{"type":"transition"}`)),
		"expire with a target":         policy(rule(1, `{"tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":90}`, `{"type":"expire","targetStorageClass":"archive"}`)),
		"transition of the archive":    policy(rule(1, `{"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":120}`, archive)),
		"countUnit with a count":       policy(rule(1, `{"tagStatus":"any","countType":"imageCountMoreThan","countUnit":"days","countNumber":9}`, expire)),
		"any before another rule": policy(rule(1, `{"tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":9}`, expire),
			rule(2, `{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1}`, expire)),
		"both tag lists": policy(rule(1, `{"tagStatus":"tagged","tagPrefixList":["v"],"tagPatternList":["v*"],"countType":"imageCountMoreThan","countNumber":9}`, expire)),
		"untagged twice": policy(rule(1, `{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":9}`, expire),
			rule(2, `{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":9}`, expire)),
		"five wildcards":   policy(rule(1, `{"tagStatus":"tagged","tagPatternList":["a*b*c*d*e*f"],"countType":"imageCountMoreThan","countNumber":9}`, expire)),
		"an unknown field": policy(rule(1, `{"tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":9,"olderThan":3}`, expire)),
	}
	for name, text := range refused {
		t.Run(name, func(t *testing.T) {
			wantCode(t, put(text), "InvalidParameterException", "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: ")
		})
	}
	// The documentation's own examples, and ptcdoctor's policy shape, are accepted.
	for _, text := range []string{
		policy(rule(1, `{"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":90}`, archive),
			rule(2, `{"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":365}`, expire)),
		policy(rule(1, `{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1}`, expire),
			rule(2, `{"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":90}`, archive),
			rule(3, `{"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":90}`, expire)),
		policy(rule(1, `{"tagStatus":"tagged","tagPatternList":["prod*"],"countType":"sinceImagePushed","countUnit":"days","countNumber":14}`, expire)),
		policy(rule(1, `{"tagStatus":"tagged","tagPrefixList":["v"],"countType":"imageCountMoreThan","countNumber":3}`, expire),
			rule(2, `{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":10}`, expire)),
	} {
		if err := put(text); err != nil {
			t.Errorf("refused %s: %v", text, err)
		}
	}
	// Templates are held to the same rules.
	_, err := s.ecr.CreateRepositoryCreationTemplate(c, &ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("quay"),
		AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForPullThroughCache}, LifecyclePolicy: aws.String(policy(rule(1, `{"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":90}`, expire)))})
	wantCode(t, err, "InvalidParameterException", "sinceImagePulled can only be used with a transition")
}

// Pull-time update exclusions (https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-time-update-exclusions.html):
// pulls by an excluded principal do not move lastRecordedPullTime.
func TestPullTimeUpdateExclusions(t *testing.T) {
	s := startScenario(t, "demo")
	c := ctx(t)
	admin := aws.String("arn:aws:iam::111122223333:user/admin")
	reg := must[*ecr.RegisterPullTimeUpdateExclusionOutput](t)(s.ecr.RegisterPullTimeUpdateExclusion(c, &ecr.RegisterPullTimeUpdateExclusionInput{PrincipalArn: admin}))
	if *reg.PrincipalArn != *admin || reg.CreatedAt == nil {
		t.Fatalf("register: %+v", reg)
	}
	_, err := s.ecr.RegisterPullTimeUpdateExclusion(c, &ecr.RegisterPullTimeUpdateExclusionInput{PrincipalArn: admin})
	wantCode(t, err, "ExclusionAlreadyExistsException", "admin")
	list := must[*ecr.ListPullTimeUpdateExclusionsOutput](t)(s.ecr.ListPullTimeUpdateExclusions(c, &ecr.ListPullTimeUpdateExclusionsInput{}))
	if len(list.PullTimeUpdateExclusions) != 1 || list.PullTimeUpdateExclusions[0] != *admin {
		t.Fatalf("list: %+v", list.PullTimeUpdateExclusions)
	}
	pulled := func() time.Time {
		out := must[*ecr.DescribeImagesOutput](t)(s.ecr.DescribeImages(c, &ecr.DescribeImagesInput{
			RepositoryName: aws.String("ecr-public/amazonlinux/amazonlinux"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("2023")}}}))
		return *out.ImageDetails[0].LastRecordedPullTime
	}
	before := pulled()
	s.srv.Clock().Advance(30 * time.Hour)
	if _, err := s.puller().get("ecr-public/amazonlinux/amazonlinux:2023"); err != nil {
		t.Fatal(err)
	}
	if !pulled().Equal(before) {
		t.Fatal("an excluded principal's pull was recorded")
	}
	must[*ecr.DeregisterPullTimeUpdateExclusionOutput](t)(s.ecr.DeregisterPullTimeUpdateExclusion(c, &ecr.DeregisterPullTimeUpdateExclusionInput{PrincipalArn: admin}))
	_, err = s.ecr.DeregisterPullTimeUpdateExclusion(c, &ecr.DeregisterPullTimeUpdateExclusionInput{PrincipalArn: admin})
	wantCode(t, err, "ExclusionNotFoundException", "admin")
	if _, err := s.puller().get("ecr-public/amazonlinux/amazonlinux:2023"); err != nil {
		t.Fatal(err)
	}
	if !pulled().After(before) {
		t.Fatal("a pull after the exclusion went was not recorded")
	}
}
