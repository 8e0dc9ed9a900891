package sim_test

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
)

// puller pulls from the stand-in's registry as a principal, with go-containerregistry,
// logged in with a GetAuthorizationToken token as `docker login` would be.
type puller struct {
	t    *testing.T
	host string
	opts []remote.Option
}

func (s *stand) puller() *puller {
	s.t.Helper()
	c := tokenCreds(s.t, s)
	user, pass := c[0], c[1]
	return &puller{t: s.t, host: strings.TrimPrefix(s.srv.Info().Registry, "http://"),
		opts: []remote.Option{remote.WithAuth(&authn.Basic{Username: user, Password: pass}),
			// Leave 429 to the test: go-containerregistry would retry it for seconds.
			remote.WithRetryStatusCodes(http.StatusInternalServerError), remote.WithRetryBackoff(remote.Backoff{Steps: 1})}}
}

// tokenCreds logs in as `aws ecr get-login-password` does: user AWS and the token's password.
func tokenCreds(t *testing.T, s *stand) [2]string {
	t.Helper()
	out := must[*ecr.GetAuthorizationTokenOutput](t)(s.ecr.GetAuthorizationToken(ctx(t), &ecr.GetAuthorizationTokenInput{}))
	raw, _ := base64.StdEncoding.DecodeString(*out.AuthorizationData[0].AuthorizationToken)
	user, pass, _ := strings.Cut(string(raw), ":")
	return [2]string{user, pass}
}

func (p *puller) ref(repoTag string) name.Reference {
	r, err := name.ParseReference(p.host+"/"+repoTag, name.Insecure)
	if err != nil {
		p.t.Fatal(err)
	}
	return r
}

func (p *puller) get(repoTag string) (*remote.Descriptor, error) {
	return remote.Get(p.ref(repoTag), p.opts...)
}

// wantStatus checks that a pull failed with this HTTP status and, when given, registry error code and message.
func wantStatus(t *testing.T, err error, status int, code, msg string) {
	t.Helper()
	var te *transport.Error
	if !errors.As(err, &te) {
		t.Fatalf("want HTTP %d, got %v", status, err)
	}
	if te.StatusCode != status {
		t.Fatalf("want HTTP %d, got %d: %v", status, te.StatusCode, err)
	}
	if code == "" {
		return
	}
	for _, d := range te.Errors {
		if string(d.Code) == code && strings.Contains(d.Message, msg) {
			return
		}
	}
	t.Fatalf("want %s %q, got %v", code, msg, te.Errors)
}

func upstreamCalls(s *stand, since int) int {
	n := 0
	for _, e := range s.srv.Events(since) {
		if strings.HasPrefix(e.Service, "upstream:") && strings.Contains(e.Operation, "/manifests/") {
			n++
		}
	}
	return n
}

func lastSeq(s *stand) int {
	ev := s.srv.Events(0)
	if len(ev) == 0 {
		return 0
	}
	return ev[len(ev)-1].Seq
}

func TestFirstPullFillsTheCacheAndTheSecondIsServedFromIt(t *testing.T) {
	s := startScenario(t, "empty")
	c := ctx(t)
	if _, err := s.ecr.CreatePullThroughCacheRule(c, &ecr.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("ecr-public"), UpstreamRegistryUrl: aws.String("public.ecr.aws")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ecr.CreateRepositoryCreationTemplate(c, &ecr.CreateRepositoryCreationTemplateInput{
		Prefix: aws.String("ecr-public"), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForPullThroughCache},
		LifecyclePolicy: aws.String(lifecycle), ImageTagMutability: types.ImageTagMutabilityMutable}); err != nil {
		t.Fatal(err)
	}
	p := s.puller()
	before := lastSeq(s)
	desc, err := p.get("ecr-public/docker/library/busybox:latest")
	if err != nil {
		t.Fatal(err)
	}
	if !desc.MediaType.IsIndex() {
		t.Fatalf("busybox:latest is %s, want an index", desc.MediaType)
	}
	if n := upstreamCalls(s, before); n < 3 {
		t.Fatalf("the first pull made %d upstream manifest calls, want the index and both platforms", n)
	}
	// Every platform's image and layers are there now.
	for _, plat := range []string{"linux/amd64", "linux/arm64"} {
		pl, _ := v1.ParsePlatform(plat)
		img, err := remote.Image(p.ref("ecr-public/docker/library/busybox:latest"), append(p.opts, remote.WithPlatform(*pl))...)
		if err != nil {
			t.Fatal(err)
		}
		layers, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		rc, err := layers[0].Compressed()
		if err != nil {
			t.Fatalf("%s layer: %v", plat, err)
		}
		rc.Close()
	}
	// The upstream's digest and the cache's agree.
	upstream := s.srv.Info().Resolve["public.ecr.aws"]
	up, err := remote.Head(mustRef(t, strings.TrimPrefix(upstream, "http://")+"/docker/library/busybox:latest"))
	if err != nil {
		t.Fatal(err)
	}
	if up.Digest != desc.Digest {
		t.Fatalf("cache digest %s, upstream %s", desc.Digest, up.Digest)
	}

	// The second pull asks the upstream nothing.
	before = lastSeq(s)
	if _, err := p.get("ecr-public/docker/library/busybox:latest"); err != nil {
		t.Fatal(err)
	}
	if n := upstreamCalls(s, before); n != 0 {
		t.Fatalf("the second pull made %d upstream calls", n)
	}
	// ECR's control plane sees the same content, and the template shaped the repository.
	imgs := must[*ecr.DescribeImagesOutput](t)(s.ecr.DescribeImages(c, &ecr.DescribeImagesInput{RepositoryName: aws.String("ecr-public/docker/library/busybox")}))
	if len(imgs.ImageDetails) != 3 {
		t.Fatalf("%d images cached", len(imgs.ImageDetails))
	}
	lc := must[*ecr.GetLifecyclePolicyOutput](t)(s.ecr.GetLifecyclePolicy(c, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String("ecr-public/docker/library/busybox")}))
	if *lc.LifecyclePolicyText != lifecycle {
		t.Fatal("the template's lifecycle policy was not applied")
	}
	tags, err := remote.List(p.ref("ecr-public/docker/library/busybox:latest").Context(), p.opts...)
	if err != nil || strings.Join(tags, ",") != "latest" {
		t.Fatalf("tag list %v %v: only cached tags are listed", tags, err)
	}
	// A blob is served only from a repository whose images reference it.
	img, _ := remote.Image(p.ref("ecr-public/docker/library/busybox:latest"), p.opts...)
	layers, _ := img.Layers()
	ld, _ := layers[0].Digest()
	if _, err := s.ecr.CreateRepository(c, &ecr.CreateRepositoryInput{RepositoryName: aws.String("other/repo")}); err != nil {
		t.Fatal(err)
	}
	foreign, _ := name.NewDigest(p.host+"/other/repo@"+ld.String(), name.Insecure)
	l, err := remote.Layer(foreign, p.opts...)
	if err == nil {
		_, err = l.Compressed()
	}
	wantStatus(t, err, http.StatusNotFound, "BLOB_UNKNOWN", "")
}

func mustRef(t *testing.T, s string) name.Reference {
	r, err := name.ParseReference(s, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDockerHubFailuresReachTheClientAsECRReportsThem(t *testing.T) {
	s := startScenario(t, "demo")
	p := s.puller()
	// An official image without library/: a bare 403.
	_, err := p.get("docker-hub/nginx:latest")
	wantStatus(t, err, http.StatusForbidden, "", "")
	// library/ before a multi-segment name: the upstream's 401 reads as a credentials failure.
	_, err = p.get("docker-hub/library/bitnami/postgresql:16")
	wantStatus(t, err, http.StatusForbidden, "DENIED", "The authentication to the upstream registry failed")
	// A tag the upstream lacks.
	_, err = p.get("docker-hub/library/nginx:9.9")
	wantStatus(t, err, http.StatusNotFound, "MANIFEST_UNKNOWN", "Requested image not found")
	// A repository no rule covers.
	_, err = p.get("dockerhub/library/nginx:latest")
	wantStatus(t, err, http.StatusNotFound, "NAME_UNKNOWN", "The repository with name 'dockerhub/library/nginx' does not exist in the registry with id '111122223333'")
	// The right name works, and a non-official image without library/ too.
	if _, err := p.get("docker-hub/library/nginx:1.27"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.get("docker-hub/bitnami/postgresql:16"); err != nil {
		t.Fatal(err)
	}
}

func TestGHCRWithAnExpiredTokenIsAnUpstreamAuthFailure(t *testing.T) {
	s := startScenario(t, "demo")
	_, err := s.puller().get("github/ptcdemo/app:v1")
	wantStatus(t, err, http.StatusForbidden, "DENIED", "authentication to the upstream registry failed")
	out := must[*ecr.BatchGetImageOutput](t)(s.ecr.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{
		RepositoryName: aws.String("github/ptcdemo/app"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v2")}}}))
	if len(out.Failures) != 1 || out.Failures[0].FailureCode != types.ImageFailureCodeUpstreamAccessDenied {
		t.Fatalf("BatchGetImage: %+v", out.Failures)
	}
}

func TestASecretECRCannotReadFailsThePull(t *testing.T) {
	s := startScenario(t, "demo")
	_, err := s.ecr.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{
		RepositoryName: aws.String("gitlab/ptcdemo/tools"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("1.0")}}})
	wantCode(t, err, "UnableToGetUpstreamImageException", "customer managed KMS key")
}

func TestUpstreamRateLimit(t *testing.T) {
	s := startYAML(t, `
secrets:
  - {name: ecr-pullthroughcache/hub, value: '{"username":"me","accessToken":"tok"}'}
upstreams:
  - host: registry-1.docker.io
    accounts: [{username: me, token: tok, pullLimit: 2, pullsUsed: 1}]
    repositories:
      - {name: library/alpine, tags: [{tag: "3.20"}, {tag: "3.19"}]}
rules:
  - {prefix: docker-hub, upstream: docker-hub, credential: ecr-pullthroughcache/hub}
`)
	p := s.puller()
	if _, err := p.get("docker-hub/library/alpine:3.20"); err != nil {
		t.Fatal(err)
	}
	_, err := p.get("docker-hub/library/alpine:3.19")
	wantStatus(t, err, http.StatusTooManyRequests, "TOOMANYREQUESTS", "429")
	out := must[*ecr.BatchGetImageOutput](t)(s.ecr.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{
		RepositoryName: aws.String("docker-hub/library/alpine"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("3.19")}}}))
	if len(out.Failures) != 1 || out.Failures[0].FailureCode != types.ImageFailureCodeUpstreamTooManyRequests {
		t.Fatalf("BatchGetImage: %+v", out.Failures)
	}
	// The cached tag is still served, and the window frees after six hours.
	if _, err := p.get("docker-hub/library/alpine:3.20"); err != nil {
		t.Fatal(err)
	}
	s.srv.Clock().Advance(6*time.Hour + time.Minute)
	p = s.puller()
	if _, err := p.get("docker-hub/library/alpine:3.19"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestPermissionsOfThePullingPrincipal(t *testing.T) {
	s := startScenario(t, "demo")
	node := *s
	node.as("AKIAPTCDOCTORSIMNODE0", "ptcdoctor-sim-node-secret-access-key")
	p := node.puller()
	// The repository exists, the role cannot import: "Requested image not found".
	_, err := p.get("docker-hub/library/nginx:latest")
	if err != nil {
		t.Fatalf("a cached image needs no import: %v", err)
	}
	_, err = p.get("ecr-public/docker/library/busybox:1.36")
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.get("quay/prometheus/node-exporter:v1.8.1")
	wantStatus(t, err, http.StatusNotFound, "MANIFEST_UNKNOWN", "Requested image not found")

	// A registry policy statement grants the import.
	policy := `{"Version":"2012-10-17","Statement":[{"Sid":"PullThroughCache","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/eks-node"},"Action":["ecr:CreateRepository","ecr:BatchImportUpstreamImage"],"Resource":"arn:aws:ecr:us-east-1:111122223333:repository/*"}]}`
	if _, err := s.ecr.PutRegistryPolicy(ctx(t), &ecr.PutRegistryPolicyInput{PolicyText: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.get("quay/prometheus/node-exporter:v1.8.1"); err != nil {
		t.Fatalf("with the registry policy: %v", err)
	}

	// Without ecr:CreateRepository, a new repository: "does not exist".
	noCreate := startYAML(t, `
principals:
  - {name: admin, accessKeyId: AKIAADMIN00000000000, secretAccessKey: admin-secret-key-0000, allow: ["*"]}
  - {name: ci, kind: role, accessKeyId: AKIACI00000000000000, secretAccessKey: ci-secret-key-00000, allow: [ecr:GetAuthorizationToken, ecr:BatchGetImage, ecr:BatchImportUpstreamImage, ecr:GetDownloadUrlForLayer]}
upstreams:
  - host: quay.io
    repositories: [{name: prometheus/node-exporter, tags: [{tag: v1.8.0}]}]
rules:
  - {prefix: quay, upstream: quay}
`)
	noCreate.as("AKIACI00000000000000", "ci-secret-key-00000")
	_, err = noCreate.puller().get("quay/prometheus/node-exporter:v1.8.0")
	wantStatus(t, err, http.StatusNotFound, "NAME_UNKNOWN", "does not exist in the registry")
}

func TestTemplateTagsWithoutARoleFailRepositoryCreation(t *testing.T) {
	s := startScenario(t, "demo")
	// The demo's kubernetes template adds tags and has no customRoleArn.
	_, err := s.ecr.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{
		RepositoryName: aws.String("kubernetes/coredns/coredns"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1.11.1")}}})
	wantCode(t, err, "RepositoryNotFoundException", "kubernetes/coredns/coredns")
	var saw bool
	for _, e := range s.srv.Events(0) {
		saw = saw || strings.Contains(e.Detail, "without a customRoleArn")
	}
	if !saw {
		t.Fatal("the event log does not say why the repository was not created")
	}
}

func TestAFirstPullByDigestDoesNotFillTheCache(t *testing.T) {
	s := startScenario(t, "demo")
	upstream := strings.TrimPrefix(s.srv.Info().Resolve["public.ecr.aws"], "http://")
	up, err := remote.Head(mustRef(t, upstream+"/amazonlinux/amazonlinux:2023"))
	if err != nil {
		t.Fatal(err)
	}
	// The demo has amazonlinux:2023 cached; a new repository under the same rule has nothing.
	p := s.puller()
	_, err = p.get("ecr-public/eks-distro/kubernetes/pause@" + up.Digest.String())
	wantStatus(t, err, http.StatusNotFound, "", "")
	s2 := startScenario(t, "empty")
	s2.ecr.CreatePullThroughCacheRule(ctx(t), &ecr.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("ecr-public"), UpstreamRegistryUrl: aws.String("public.ecr.aws")})
	p2 := s2.puller()
	up2, _ := remote.Head(mustRef(t, strings.TrimPrefix(s2.srv.Info().Resolve["public.ecr.aws"], "http://")+"/amazonlinux/amazonlinux:2023"))
	_, err = p2.get("ecr-public/amazonlinux/amazonlinux@" + up2.Digest.String())
	wantStatus(t, err, http.StatusNotFound, "", "")
	if _, err := p2.get("ecr-public/amazonlinux/amazonlinux:2023"); err != nil {
		t.Fatal(err)
	}
	if _, err := p2.get("ecr-public/amazonlinux/amazonlinux@" + up2.Digest.String()); err != nil {
		t.Fatalf("by digest after the tag pull: %v", err)
	}
}

func TestNegativeCacheModel(t *testing.T) {
	s := startScenario(t, "demo")
	p := s.puller()
	// The demo holds a not-found for redis:7.4 from ten minutes ago, though upstream has it now.
	before := lastSeq(s)
	_, err := p.get("docker-hub/library/redis:7.4")
	wantStatus(t, err, http.StatusNotFound, "MANIFEST_UNKNOWN", "Requested image not found")
	if n := upstreamCalls(s, before); n != 0 {
		t.Fatalf("a negative-cache hit called the upstream %d times", n)
	}
	s.srv.Clock().Advance(21 * time.Minute)
	p = s.puller()
	if _, err := p.get("docker-hub/library/redis:7.4"); err != nil {
		t.Fatalf("after the TTL: %v", err)
	}

	// A fresh not-found is cached too: the tag that appears upstream stays missing for 30 minutes.
	_, err = p.get("docker-hub/library/redis:7.6")
	wantStatus(t, err, http.StatusNotFound, "MANIFEST_UNKNOWN", "")
	s.admin(http.MethodPost, "upstreams/move", `{"host":"registry-1.docker.io","repository":"library/redis","tag":"7.6"}`, nil)
	_, err = p.get("docker-hub/library/redis:7.6")
	wantStatus(t, err, http.StatusNotFound, "MANIFEST_UNKNOWN", "")
	s.srv.Clock().Advance(31 * time.Minute)
	p = s.puller()
	if _, err := p.get("docker-hub/library/redis:7.6"); err != nil {
		t.Fatalf("after the TTL: %v", err)
	}
}

func TestNegativeCacheAndEmptyRepositoriesAreSwitchable(t *testing.T) {
	doc := `
upstreams:
  - host: quay.io
    repositories: [{name: org/app, tags: [{tag: v1}]}]
rules:
  - {prefix: quay, upstream: quay}
`
	off := startYAML(t, doc)
	p := off.puller()
	_, err := p.get("quay/org/app:v2")
	wantStatus(t, err, http.StatusNotFound, "MANIFEST_UNKNOWN", "")
	if _, err := off.ecr.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"quay/org/app"}}); err == nil {
		t.Fatal("a failed first pull left a repository though leaveEmptyRepository is off")
	}
	off.admin(http.MethodPost, "upstreams/move", `{"host":"quay.io","repository":"org/app","tag":"v2"}`, nil)
	if _, err := p.get("quay/org/app:v2"); err != nil {
		t.Fatalf("with the negative cache off, a new tag is found at once: %v", err)
	}

	on := startYAML(t, doc+"behaviours: {leaveEmptyRepository: true, negativeCache: {enabled: true}}\n")
	_, err = on.puller().get("quay/org/app:v2")
	wantStatus(t, err, http.StatusNotFound, "MANIFEST_UNKNOWN", "")
	repos := must[*ecr.DescribeRepositoriesOutput](t)(on.ecr.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"quay/org/app"}}))
	imgs := must[*ecr.DescribeImagesOutput](t)(on.ecr.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: repos.Repositories[0].RepositoryName}))
	if len(imgs.ImageDetails) != 0 {
		t.Fatal("the left-behind repository is not empty")
	}
}

func TestCachedTagsAreRecheckedAfter24Hours(t *testing.T) {
	s := startScenario(t, "demo")
	p := s.puller()
	// alpine:latest was validated 30 hours ago and has moved upstream: the pull updates it.
	cached := must[*ecr.DescribeImagesOutput](t)(s.ecr.DescribeImages(ctx(t), &ecr.DescribeImagesInput{
		RepositoryName: aws.String("docker-hub/library/alpine"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("latest")}}}))
	old := *cached.ImageDetails[0].ImageDigest
	got, err := p.get("docker-hub/library/alpine:latest")
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest.String() == old {
		t.Fatal("a tag validated 30 hours ago and moved upstream was served stale")
	}

	// A tag validated an hour ago is served as cached even when upstream moved...
	nginx, err := p.get("docker-hub/library/nginx:latest")
	if err != nil {
		t.Fatal(err)
	}
	s.admin(http.MethodPost, "upstreams/move", `{"host":"registry-1.docker.io","repository":"library/nginx","tag":"latest","platforms":["linux/amd64","linux/arm64"]}`, nil)
	again, _ := p.get("docker-hub/library/nginx:latest")
	if again.Digest != nginx.Digest {
		t.Fatal("a tag validated an hour ago was re-checked")
	}
	// ...until 24 hours have passed.
	s.srv.Clock().Advance(25 * time.Hour)
	p = s.puller()
	moved, err := p.get("docker-hub/library/nginx:latest")
	if err != nil {
		t.Fatal(err)
	}
	if moved.Digest == nginx.Digest {
		t.Fatal("after 24 hours the moved tag was not updated")
	}

	// Immutable tags block the update.
	pause, _ := p.get("kubernetes/pause:3.10")
	s.admin(http.MethodPost, "upstreams/move", `{"host":"registry.k8s.io","repository":"pause","tag":"3.10"}`, nil)
	s.srv.Clock().Advance(25 * time.Hour)
	p = s.puller()
	still, err := p.get("kubernetes/pause:3.10")
	if err != nil || still.Digest != pause.Digest {
		t.Fatalf("an immutable tag changed: %v", err)
	}
}

func TestTheCachedCopyIsServedWhenTheUpstreamIsUnreachable(t *testing.T) {
	// quay.io is not an upstream of this scenario: the stand-in cannot reach it.
	s := startYAML(t, `
rules:
  - {prefix: quay, upstream: quay}
repositories:
  - name: quay/org/app
    images: [{tags: [v1], pushedAgo: 3d, validatedAgo: 3d}]
`)
	p := s.puller()
	if _, err := p.get("quay/org/app:v1"); err != nil {
		t.Fatalf("the cached copy was not served: %v", err)
	}
	_, err := p.get("quay/org/app:v2")
	wantStatus(t, err, http.StatusServiceUnavailable, "", "")
	out := must[*ecr.BatchGetImageOutput](t)(s.ecr.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{
		RepositoryName: aws.String("quay/org/app"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v2")}}}))
	if out.Failures[0].FailureCode != types.ImageFailureCodeUpstreamUnavailable {
		t.Fatalf("BatchGetImage: %+v", out.Failures)
	}
}

func TestLastRecordedPullTimeAdvances(t *testing.T) {
	s := startScenario(t, "demo")
	describe := func() time.Time {
		out := must[*ecr.DescribeImagesOutput](t)(s.ecr.DescribeImages(ctx(t), &ecr.DescribeImagesInput{
			RepositoryName: aws.String("ecr-public/amazonlinux/amazonlinux"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("2023")}}}))
		return *out.ImageDetails[0].LastRecordedPullTime
	}
	before := describe()
	// Pulls are recorded at most once a day (see recordPull): the last one is 6h old.
	s.srv.Clock().Advance(19 * time.Hour)
	if _, err := s.puller().get("ecr-public/amazonlinux/amazonlinux:2023"); err != nil {
		t.Fatal(err)
	}
	if after := describe(); !after.After(before.Add(18 * time.Hour)) {
		t.Fatalf("lastRecordedPullTime %v -> %v", before, after)
	}
}

func TestRegistryRefusesBadTokensAndUnpermittedPulls(t *testing.T) {
	s := startScenario(t, "demo")
	p := s.puller()
	p.opts[0] = remote.WithAuth(&authn.Basic{Username: "AWS", Password: "forged"})
	_, err := p.get("ecr-public/amazonlinux/amazonlinux:2023")
	wantStatus(t, err, http.StatusUnauthorized, "", "")

	auditor := *s
	auditor.as("AKIAPTCDOCTORSIMAUDIT", "ptcdoctor-sim-audit-secret-access-key")
	_, err = auditor.puller().get("ecr-public/amazonlinux/amazonlinux:2023")
	wantStatus(t, err, http.StatusForbidden, "DENIED", "ecr:BatchGetImage")
}

func TestDockerHubLookAlike(t *testing.T) {
	s := startScenario(t, "demo")
	hub := strings.TrimPrefix(s.srv.Info().Resolve["registry-1.docker.io"], "http://")
	if s.srv.Info().Resolve["auth.docker.io"] == "" {
		t.Fatal("auth.docker.io is not in the resolve map")
	}
	// Anonymous pulls through the token service, with the window in the headers; HEAD is free.
	client := &http.Client{Transport: resolveFor(s.srv.Info())}
	opts := []remote.Option{remote.WithTransport(client.Transport)}
	ref := mustRef(t, "registry-1.docker.io/ratelimitpreview/test:latest")
	head := func() http.Header {
		req, _ := http.NewRequest(http.MethodHead, "http://"+hub+"/v2/ratelimitpreview/test/manifests/latest", nil)
		tokResp, err := client.Get("https://auth.docker.io/token?service=registry.docker.io&scope=repository:ratelimitpreview/test:pull")
		if err != nil {
			t.Fatal(err)
		}
		var tok struct{ Token string }
		decodeJSON(t, tokResp, &tok)
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header
	}
	h := head()
	if h.Get("ratelimit-limit") != "100;w=21600" || h.Get("ratelimit-remaining") != "60;w=21600" || h.Get("docker-ratelimit-source") == "" {
		t.Fatalf("headers: %v", h)
	}
	if _, err := remote.Get(ref, opts...); err != nil {
		t.Fatal(err)
	}
	if got := head().Get("ratelimit-remaining"); got != "59;w=21600" {
		t.Fatalf("after one GET: remaining %s", got)
	}
	// Official images live under library/; a name without it is unknown (401).
	_, err := remote.Get(mustRef(t, "registry-1.docker.io/nginx:latest"), opts...)
	wantStatus(t, err, http.StatusUnauthorized, "", "")
	if _, err := remote.Get(mustRef(t, "registry-1.docker.io/library/nginx:latest"), opts...); err != nil {
		t.Fatal(err)
	}
}

func resolveFor(info sim.Info) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if target, ok := info.Resolve[req.URL.Hostname()]; ok {
			req = req.Clone(req.Context())
			req.URL.Scheme, req.URL.Host = "http", strings.TrimPrefix(target, "http://")
		}
		return http.DefaultTransport.RoundTrip(req)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestPrefixMapping(t *testing.T) {
	s := startYAML(t, `
upstreams:
  - host: quay.io
    repositories:
      - {name: org/app, tags: [{tag: v1}]}
      - {name: app, tags: [{tag: v1, version: 7}]}
  - host: public.ecr.aws
    repositories:
      - {name: docker/library/busybox, tags: [{tag: latest}]}
rules:
  - {prefix: team, upstream: quay, upstreamPrefix: org}
  - {prefix: quay, upstream: quay}
  - {prefix: ROOT, upstream: ecr-public}
`)
	p := s.puller()
	quay := strings.TrimPrefix(s.srv.Info().Resolve["quay.io"], "http://")
	for cache, upstream := range map[string]string{
		"team/app:v1":                   quay + "/org/app:v1",                                                                                     // upstreamRepositoryPrefix is put in front
		"quay/app:v1":                   quay + "/app:v1",                                                                                         // the longest prefix wins over ROOT
		"docker/library/busybox:latest": strings.TrimPrefix(s.srv.Info().Resolve["public.ecr.aws"], "http://") + "/docker/library/busybox:latest", // ROOT
	} {
		got, err := p.get(cache)
		if err != nil {
			t.Fatalf("%s: %v", cache, err)
		}
		want, err := remote.Head(mustRef(t, upstream))
		if err != nil {
			t.Fatal(err)
		}
		if got.Digest != want.Digest {
			t.Errorf("%s is not %s", cache, upstream)
		}
	}
}

func TestAPullByTagCompletesAnIndexWithMissingPlatforms(t *testing.T) {
	s := startScenario(t, "demo")
	p := s.puller()
	arm, _ := v1.ParsePlatform("linux/arm64")
	// The arm64 manifest of nginx:1.27 is not cached, but by digest it cannot be pulled
	// through; the client asks for the index by tag first, which completes it.
	_, err := p.get("docker-hub/library/nginx@" + childDigest(t, s, "docker-hub/library/nginx", "1.27", "arm64"))
	wantStatus(t, err, http.StatusNotFound, "MANIFEST_UNKNOWN", "")
	if _, err := remote.Image(p.ref("docker-hub/library/nginx:1.27"), append(p.opts, remote.WithPlatform(*arm))...); err != nil {
		t.Fatalf("after a pull by tag, arm64 is served: %v", err)
	}
	cache := must[*ecr.DescribeImagesOutput](t)(s.ecr.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String("docker-hub/library/nginx")}))
	if len(cache.ImageDetails) != 6 {
		t.Fatalf("%d images cached, want both indexes and four platform images", len(cache.ImageDetails))
	}
}

// childDigest finds the digest of one platform's manifest in an upstream index (asking the
// cache would be a pull, which changes what is cached).
func childDigest(t *testing.T, s *stand, repo, tag, arch string) string {
	hub := strings.TrimPrefix(s.srv.Info().Resolve["registry-1.docker.io"], "http://")
	desc, err := remote.Get(mustRef(t, hub+"/"+strings.TrimPrefix(repo, "docker-hub/")+":"+tag),
		remote.WithAuth(&authn.Basic{Username: "ptcdemo", Password: "dckr_pat_ptcdemo_valid_token"}), remote.WithTransport(resolveFor(s.srv.Info())))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := v1.ParseIndexManifest(strings.NewReader(string(desc.Manifest)))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range idx.Manifests {
		if m.Platform != nil && m.Platform.Architecture == arch {
			return m.Digest.String()
		}
	}
	t.Fatalf("no %s in %s:%s", arch, repo, tag)
	return ""
}

// An upstream made to fail (a fault named upstream:<host>) answers as a registry that
// is unavailable does: 503 with the distribution error code UNAVAILABLE, never a 500
// under a code that means 503 (trial 16).
func TestAFailingUpstreamAnswers503Unavailable(t *testing.T) {
	s := startScenario(t, "demo")
	s.admin(http.MethodPut, "faults", `[{"operation":"upstream:quay.io","errorRate":1}]`, nil)
	base := s.srv.Info().Resolve["quay.io"]
	if base == "" {
		t.Fatal("the demo has no quay.io upstream")
	}
	req, _ := http.NewRequestWithContext(ctx(t), http.MethodGet, base+"/v2/", http.NoBody)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"UNAVAILABLE"`) {
		t.Errorf("%d %s, want 503 UNAVAILABLE", resp.StatusCode, body)
	}
}
