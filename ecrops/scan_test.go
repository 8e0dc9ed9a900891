package ecrops_test

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"strings"
	"sync"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
)

func TestScanTheDemoAccount(t *testing.T) {
	s := start(t, "demo")
	var mu sync.Mutex
	var stages []string
	snap, err := s.acc.Scan(ctx(t), ecrops.Scope{}, func(p ecrops.Progress) {
		mu.Lock()
		defer mu.Unlock()
		if len(stages) == 0 || stages[len(stages)-1] != p.Stage {
			stages = append(stages, p.Stage)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(stages, ",") != "rules,repositories,images,done" {
		t.Fatalf("progress stages %v: rules and repositories must come before the images", stages)
	}
	if len(snap.Errors) != 0 {
		t.Fatalf("errors: %v", snap.Errors)
	}
	if snap.AccountID != "111122223333" || snap.Identity.ARN != "arn:aws:iam::111122223333:user/admin" {
		t.Fatalf("identity: %+v", snap.Identity)
	}
	if len(snap.Rules) != 6 || len(snap.Templates) != 6 || len(snap.Repositories) != 12 {
		t.Fatalf("%d rules, %d templates, %d repositories", len(snap.Rules), len(snap.Templates), len(snap.Repositories))
	}
	hub, gh, gl, pub := snap.Rule("docker-hub"), snap.Rule("github"), snap.Rule("gitlab"), snap.Rule("ecr-public")
	if hub.Validation == nil || !hub.Validation.IsValid || hub.Secret == nil || !hub.Secret.Exists || hub.Secret.CustomerKey() {
		t.Fatalf("docker-hub: %+v %+v %+v", hub, hub.Validation, hub.Secret)
	}
	if gh.Validation.IsValid || !strings.Contains(gh.Validation.Failure, "expired") {
		t.Fatalf("github validation: %+v", gh.Validation)
	}
	if !gl.Secret.CustomerKey() || gl.Secret.Name != "ecr-pullthroughcache/gitlab" {
		t.Fatalf("gitlab secret: %+v", gl.Secret)
	}
	if pub.Validation != nil || pub.Secret != nil {
		t.Fatal("a rule without credentials was validated or given a secret")
	}
	for name, rule := range map[string]string{
		"docker-hub/nginx": "docker-hub", "my-proxy": "", "legacy-hub/library/node": "",
		"ecr-public/eks-distro/kubernetes/pause": "ecr-public", "quay/prometheus/node-exporter": "quay",
	} {
		if got := snap.Repository(name).RulePrefix; got != rule {
			t.Errorf("%s is mapped to %q, want %q", name, got, rule)
		}
	}
	nginx := snap.Repository("docker-hub/library/nginx")
	var index model.Image
	for _, img := range nginx.Images {
		if len(img.Tags) > 0 && img.Tags[0] == "1.27" {
			index = img
		}
	}
	if !index.IsIndex() || strings.Join(index.MissingPlatforms(), ",") != "linux/arm64" || len(index.Children()) != 2 {
		t.Fatalf("nginx:1.27: %+v", index)
	}
	quay := snap.Repository("quay/prometheus/node-exporter")
	if !quay.LifecycleKnown || quay.LifecyclePolicy != "" {
		t.Fatalf("quay lifecycle: known=%v %q", quay.LifecycleKnown, quay.LifecyclePolicy)
	}
	if !nginx.LifecycleKnown || nginx.LifecyclePolicy == "" {
		t.Fatal("the nginx lifecycle policy was not read")
	}
	if my := snap.Repository("my-proxy"); my.LifecycleKnown {
		t.Fatal("the lifecycle policy of a repository no rule covers was read: a call the checks do not need")
	}

	// The fewest calls: one listing page each, one DescribeImages per repository, one
	// GetLifecyclePolicy per cache repository, one BatchGetImage per repository with indexes.
	cache := 0
	for _, r := range snap.Repositories {
		if r.IsCache() {
			cache++
		}
	}
	want := map[string]int{"DescribePullThroughCacheRules": 1, "DescribeRepositoryCreationTemplates": 1, "GetRegistryPolicy": 1,
		"DescribeRepositories": 1, "GetCallerIdentity": 1, "DescribeImages": 12, "GetLifecyclePolicy": cache,
		"ValidatePullThroughCacheRule": 3, "DescribeSecret": 3, "BatchGetImage": 2}
	for op, n := range want {
		if got := snap.Stats.Calls[op]; got != n {
			t.Errorf("%s: %d calls, want %d", op, got, n)
		}
	}
	if s.writes() != 0 {
		t.Fatal("a scan wrote")
	}
}

func TestScanScopes(t *testing.T) {
	s := start(t, "demo")
	snap, err := s.acc.Scan(ctx(t), ecrops.Scope{Rule: "docker-hub"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range snap.Repositories {
		if r.RulePrefix != "docker-hub" {
			t.Fatalf("%s is outside the scope", r.Name)
		}
	}
	if len(snap.Repositories) != 4 {
		t.Fatalf("%d repositories under docker-hub", len(snap.Repositories))
	}
	one, err := s.acc.Scan(ctx(t), ecrops.Scope{Repositories: []string{"my-proxy", "absent/repo"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(one.Repositories) != 1 || one.Repositories[0].Name != "my-proxy" || len(one.Errors) != 0 {
		t.Fatalf("%+v %v", one.Repositories, one.Errors)
	}
}

func TestAFailedPartIsRecordedAndTheRestGoesOn(t *testing.T) {
	s := startYAML(t, `
principals:
  - {name: admin, accessKeyId: AKIAADMIN00000000000, secretAccessKey: admin-secret-key-0000, allow: ["*"]}
  - name: limited
    accessKeyId: AKIALIMITED000000000
    secretAccessKey: limited-secret-key-00
    allow: ["ecr:*", "sts:*"]
    deny: ["ecr:DescribeRepositoryCreationTemplates", "ecr:GetLifecyclePolicy"]
rules:
  - {prefix: quay, upstream: quay}
repositories:
  - {name: quay/org/app, images: [{tags: [v1]}]}
`)
	acc := s.as("AKIALIMITED000000000", "limited-secret-key-00")
	snap, err := acc.Scan(ctx(t), ecrops.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Rules) != 1 || len(snap.Repositories) != 1 || len(snap.Repositories[0].Images) != 1 {
		t.Fatalf("the rest of the scan is missing: %+v", snap)
	}
	parts := map[string]string{}
	for _, e := range snap.Errors {
		parts[e.Operation] = e.Code
	}
	if parts["DescribeRepositoryCreationTemplates"] != "AccessDeniedException" || parts["GetLifecyclePolicy"] != "AccessDeniedException" {
		t.Fatalf("errors: %+v", snap.Errors)
	}
	if snap.Repositories[0].LifecycleKnown {
		t.Fatal("a lifecycle policy that could not be read is reported as known")
	}
}

func TestScanAtTheRateLimitLosesNoCall(t *testing.T) {
	s := startYAML(t, `
generate: {rules: 2, repositoriesPerRule: 15, imagesPerRepository: 3}
faults:
  - {operation: DescribeImages, throttlePerSecond: 40}
  - {operation: GetLifecyclePolicy, throttlePerSecond: 40}
`)
	cfg := s.cfg
	cfg.Rates = map[string]float64{"DescribeImages": 40, "GetLifecyclePolicy": 40}
	snap, err := s.open(cfg).Scan(ctx(t), ecrops.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Errors) != 0 || snap.Stats.ImagesScanned != 90 {
		t.Fatalf("errors %v, %d images", snap.Errors, snap.Stats.ImagesScanned)
	}
	if n := snap.Stats.Throttled["DescribeImages"] + snap.Stats.Throttled["GetLifecyclePolicy"]; n != 0 {
		t.Fatalf("%d calls were throttled though the scan kept to the rate", n)
	}

	// Without the client-side rate, the service throttles and the retries recover.
	fast, err := s.acc.Scan(ctx(t), ecrops.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fast.Stats.ImagesScanned != 90 && len(fast.Errors) == 0 {
		t.Fatalf("a throttled scan lost images without saying so")
	}
}

func TestProbeUpstream(t *testing.T) {
	s := start(t, "demo")
	snap, _ := s.acc.Scan(ctx(t), ecrops.Scope{Repositories: []string{"none"}}, nil)
	hub, gh := *snap.Rule("docker-hub"), *snap.Rule("github")

	p := s.acc.ProbeUpstream(ctx(t), hub, "registry-1.docker.io/library/nginx:latest")
	if !p.Exists || p.Anonymous || len(p.Platforms) != 2 || p.RateLimit == nil || p.RateLimit.Limit != 200 || p.RateLimit.Remaining != 15 || p.RateLimit.WindowSeconds != 21600 {
		t.Fatalf("docker hub with the rule's credentials: %+v %+v", p, p.RateLimit)
	}
	cfg := s.cfg
	cfg.NoSecretRead = true
	anon := s.open(cfg).ProbeUpstream(ctx(t), hub, "registry-1.docker.io/library/nginx:latest")
	if !anon.Anonymous || anon.RateLimit == nil || anon.RateLimit.Limit != 100 || anon.RateLimit.Source != "127.0.0.1" {
		t.Fatalf("anonymous: %+v %+v", anon, anon.RateLimit)
	}
	missing := s.acc.ProbeUpstream(ctx(t), hub, "registry-1.docker.io/library/nginx:9.9")
	if missing.Exists || missing.Class != "not-found" {
		t.Fatalf("missing tag: %+v", missing)
	}
	official := s.acc.ProbeUpstream(ctx(t), hub, "registry-1.docker.io/nginx:latest")
	if official.Class != "unauthorized" {
		t.Fatalf("official image without library/: %+v", official)
	}
	expired := s.acc.ProbeUpstream(ctx(t), gh, "ghcr.io/ptcdemo/app:v1")
	if expired.Exists || expired.Class != "unauthorized" {
		t.Fatalf("expired GitHub token: %+v", expired)
	}

	spent := startYAML(t, `
secrets: [{name: ecr-pullthroughcache/hub, value: '{"username":"me","accessToken":"tok"}'}]
upstreams:
  - host: registry-1.docker.io
    accounts: [{username: me, token: tok, pullLimit: 10, pullsUsed: 10}]
    repositories: [{name: library/alpine, tags: [{tag: "3.20"}]}]
rules: [{prefix: docker-hub, upstream: docker-hub, credential: ecr-pullthroughcache/hub}]
`)
	ssnap, _ := spent.acc.Scan(ctx(t), ecrops.Scope{}, nil)
	// A HEAD is not counted, so the spent window shows in the headers, not as a 429.
	sp := spent.acc.ProbeUpstream(ctx(t), *ssnap.Rule("docker-hub"), "registry-1.docker.io/library/alpine:3.20")
	if sp.RateLimit == nil || sp.RateLimit.Remaining != 0 || sp.RateLimit.Limit != 10 {
		t.Fatalf("spent window: %+v %+v", sp, sp.RateLimit)
	}
}

func TestProbeCache(t *testing.T) {
	s := start(t, "demo")
	p := s.acc.ProbeCache(ctx(t), "docker-hub/library/nginx", "1.27")
	if !p.Cached || len(p.Children) != 2 {
		t.Fatalf("%+v", p)
	}
	for _, c := range p.Children {
		if c.Present != (c.Platform == "linux/amd64") {
			t.Fatalf("platform %s present=%v", c.Platform, c.Present)
		}
	}
	if p := s.acc.ProbeCache(ctx(t), "docker-hub/library/nginx", "9.9"); p.Cached || !p.RepositoryExists {
		t.Fatalf("%+v", p)
	}
	if p := s.acc.ProbeCache(ctx(t), "absent/repo", "1"); p.RepositoryExists {
		t.Fatalf("%+v", p)
	}
	if s.writes() != 0 {
		t.Fatal("a cache probe wrote")
	}
	// Probing never pulls through: the upstreams were not asked.
	for _, e := range s.srv.Events(0) {
		if strings.HasPrefix(e.Service, "upstream:") {
			t.Fatalf("a cache probe reached the upstream: %+v", e)
		}
	}
}

func TestProbePermissions(t *testing.T) {
	s := start(t, "demo")
	repo := "arn:aws:ecr:us-east-1:111122223333:repository/docker-hub/library/redis"
	p := s.acc.ProbePermissions(ctx(t), "arn:aws:sts::111122223333:assumed-role/eks-node/i-0abc", repo, "", ecrops.PullActions[:5])
	if p.Error != nil || p.Principal != "arn:aws:iam::111122223333:role/eks-node" || strings.Join(p.Missing, ",") != "ecr:BatchImportUpstreamImage" {
		t.Fatalf("%+v", p)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/eks-node"},"Action":"ecr:BatchImportUpstreamImage","Resource":"arn:aws:ecr:us-east-1:111122223333:repository/docker-hub/*"}]}`
	p = s.acc.ProbePermissions(ctx(t), "arn:aws:iam::111122223333:role/eks-node", repo, policy, ecrops.PullActions[:5])
	if len(p.Missing) != 0 || !p.RegistryPolicy["ecr:BatchImportUpstreamImage"] {
		t.Fatalf("with the registry policy: %+v", p)
	}
	bad := s.acc.ProbePermissions(ctx(t), "arn:aws:iam::111122223333:role/nobody", repo, "", ecrops.PullActions[:2])
	if bad.Error == nil || bad.Error.Code != "NoSuchEntity" {
		t.Fatalf("%+v", bad)
	}
	_ = http.StatusOK
}

func TestProbeAndScanFailures(t *testing.T) {
	s := startYAML(t, `
secrets: [{name: ecr-pullthroughcache/hub, value: '{"username":"me","accessToken":"tok"}'}]
upstreams:
  - host: registry-1.docker.io
    accounts: [{username: me, token: tok, pullLimit: 10, pullsUsed: 10}]
    repositories: [{name: library/nginx, tags: [{tag: "1.27", platforms: [linux/amd64, linux/arm64]}]}]
rules: [{prefix: docker-hub, upstream: docker-hub, credential: ecr-pullthroughcache/hub}]
`)
	snap := scan(t, s.acc)
	rule := *snap.Rule("docker-hub")
	// A spent window: the HEAD says the image is there, the GET of its index gets 429.
	p := s.acc.ProbeUpstream(ctx(t), rule, "registry-1.docker.io/library/nginx:1.27")
	if !p.Exists || p.Class != "rate-limited" || p.Status != http.StatusTooManyRequests || p.RateLimit.Remaining != 0 {
		t.Fatalf("%+v %+v", p, p.RateLimit)
	}
	// The rule's secret deleted: the scan says so, without failing.
	info := s.srv.Info()
	sm := secretsmanager.New(secretsmanager.Options{Region: info.Region, BaseEndpoint: aws.String(info.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, "")})
	if _, err := sm.DeleteSecret(ctx(t), &secretsmanager.DeleteSecretInput{SecretId: aws.String("ecr-pullthroughcache/hub"),
		ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	again := scan(t, s.acc)
	if sec := again.Rule("docker-hub").Secret; sec == nil || sec.Exists || sec.Error != nil || len(again.Errors) != 0 {
		t.Fatalf("secret: %+v, errors %v", sec, again.Errors)
	}
	if v := again.Rule("docker-hub").Validation; v == nil || v.IsValid || !strings.Contains(v.Failure, "does not exist") {
		t.Fatalf("validation: %+v", v)
	}
	// Probing with a rule whose secret is gone falls back to an anonymous probe, and says so.
	anon := s.acc.ProbeUpstream(ctx(t), *again.Rule("docker-hub"), "registry-1.docker.io/library/nginx:1.27")
	if !anon.Anonymous || !strings.Contains(anon.Why, "could not be read") {
		t.Fatalf("%+v", anon)
	}
}

// A repository of several DescribeImages pages (1,000 images each) is read whole, its
// images joined once into a slice of their number (issue 15), each with its own tag and
// digest, and ECR's times to the second.
func TestScanJoinsARepositorysPages(t *testing.T) {
	s := startYAML(t, "generate: {rules: 1, repositoriesPerRule: 1, imagesPerRepository: 2345}\n")
	snap, err := s.acc.Scan(ctx(t), ecrops.Scope{}, nil)
	if err != nil || len(snap.Repositories) != 1 {
		t.Fatalf("%v, %d repositories", err, len(snap.Repositories))
	}
	repo := snap.Repositories[0]
	if !repo.ImagesKnown || len(repo.Images) != 2345 || cap(repo.Images) != len(repo.Images) {
		t.Fatalf("%d images in a slice of %d (known %v)", len(repo.Images), cap(repo.Images), repo.ImagesKnown)
	}
	if n := s.calls("DescribeImages"); n != 3 {
		t.Errorf("%d DescribeImages calls for 2,345 images; want 3 pages", n)
	}
	tags, digests := map[string]bool{}, map[model.Digest]bool{}
	for _, img := range repo.Images {
		if len(img.Tags) != 1 || img.PushedAt.IsZero() || img.Digest.IsZero() || !strings.HasPrefix(img.Digest.String(), "sha256:") {
			t.Fatalf("image %+v", img)
		}
		tags[img.Tags[0]], digests[img.Digest] = true, true
	}
	if len(tags) != 2345 || len(digests) != 2345 || !tags["v1"] || !tags["v2345"] {
		t.Errorf("%d tags and %d digests of 2,345 images", len(tags), len(digests))
	}
}
