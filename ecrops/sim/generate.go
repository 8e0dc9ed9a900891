package sim

import (
	"fmt"
	"strings"
	"time"
)

// A generated account is a healthy bulk (rules, each with its creation template, and
// repositories of images with a lifecycle policy; made cheaply in state.generate; the
// upstream they mirror, serving those images, genupstream.go; the rules' credentials
// where the upstream needs them) plus failure shapes in given numbers. The shapes are written as scenario entries (rules,
// secrets, upstream content, templates, repositories), so that they are built, checked
// and reset exactly as a hand-written scenario's are, and each is staged the way it
// happens on a real account. README.md documents them.

// GenerateFailures counts the failure shapes a generated account holds.
type GenerateFailures struct {
	// Orphans: cache repositories whose rule was deleted (its creation template left
	// behind), ten to each deleted rule retired-NN.
	Orphans int `yaml:"orphans"`
	// NameMismatches: empty repositories left by pulls of Docker Hub official images
	// without library/ (hub/app-NNNN for library/app-NNNN), under a Docker Hub rule hub.
	NameMismatches int `yaml:"nameMismatches"`
	// StaleTags: cached tags, pulled an hour ago, whose upstream moved since ECR last
	// checked them 20 hours ago (it re-checks a tag at most once a day)
	// (gen-01/stale/app-NNNN:latest). Needs an upstream served anonymously.
	StaleTags int `yaml:"staleTags"`
	// MissingTemplates: generated rules without a creation template (the last ones), whose
	// repositories therefore have no lifecycle policy.
	MissingTemplates int `yaml:"missingTemplates"`
	// BadCredentials: GitHub rules cred-NN whose token the upstream refuses (expired).
	BadCredentials int `yaml:"badCredentials"`
	// DeletedSecrets: GitHub rules gone-NN whose secret was deleted (odd ones without
	// recovery, even ones scheduled for deletion).
	DeletedSecrets int `yaml:"deletedSecrets"`
}

// maxGeneratedFailures bounds each shape: those with upstream content push an image each.
const maxGeneratedFailures = 1000

// generatedLifecycle is the healthy bulk's lifecycle policy: untagged images expire after
// a day, and a repository keeps its last 100 images.
const generatedLifecycle = `{"rules":[{"rulePriority":1,"description":"expire untagged images after 1 day","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}},{"rulePriority":2,"description":"keep the last 100 images","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":100},"action":{"type":"expire"}}]}`

func (g *Generate) upstream() string { return orDefault(g.Upstream, "ecr-public") }

// templated reports whether generated rule n (from 1) has a creation template.
func (g *Generate) templated(n int) bool {
	return g.Failures == nil || n <= g.Rules-g.Failures.MissingTemplates
}

// checkFailures checks the counts of the failure shapes.
func (g *Generate) checkFailures(bad func(string, ...any)) {
	f := g.Failures
	if f == nil {
		return
	}
	for name, n := range map[string]int{"orphans": f.Orphans, "nameMismatches": f.NameMismatches, "staleTags": f.StaleTags,
		"missingTemplates": f.MissingTemplates, "badCredentials": f.BadCredentials, "deletedSecrets": f.DeletedSecrets} {
		if n < 0 || n > maxGeneratedFailures {
			bad("generate.failures.%s: 0 to %d", name, maxGeneratedFailures)
		}
	}
	if f.MissingTemplates > g.Rules {
		bad("generate.failures.missingTemplates: at most generate.rules (%d)", g.Rules)
	}
	if f.StaleTags > 0 && g.Rules == 0 {
		bad("generate.failures.staleTags: needs generate.rules, under whose first rule the stale tags are cached")
	}
	if f.StaleTags > 0 && upstreamsNeedingCredentials[g.upstream()] && g.upstream() != "docker-hub" {
		bad("generate.failures.staleTags: needs an upstream served anonymously (ecr-public, quay, k8s, docker-hub), not %s", g.upstream())
	}
	extra := f.BadCredentials + f.DeletedSecrets
	if f.NameMismatches > 0 {
		extra++
	}
	if g.Rules+extra > maxGeneratedRules {
		bad("generate: %d rules with those of the failures; AWS allows %d per registry", g.Rules+extra, maxGeneratedRules)
	}
}

// withGenerated returns the scenario with what generate adds as scenario entries: the
// bulk's creation templates and the failure shapes. The bulk's repositories and images
// are made by state.generate.
func (s *Scenario) withGenerated() *Scenario {
	g := s.Generate
	if g == nil {
		return s
	}
	out := *s
	out.Secrets = append([]Secret(nil), s.Secrets...)
	out.Upstreams = append([]Upstream(nil), s.Upstreams...)
	out.Rules = append([]Rule(nil), s.Rules...)
	out.Templates = append([]Template(nil), s.Templates...)
	out.Repositories = append([]Repository(nil), s.Repositories...)
	template := func(prefix string) {
		out.Templates = append(out.Templates, Template{Prefix: prefix, AppliedFor: []string{"PULL_THROUGH_CACHE"},
			ImageTagMutability: "MUTABLE", LifecyclePolicy: generatedLifecycle})
	}
	for n := 1; n <= g.Rules; n++ {
		if g.templated(n) {
			template(generatedPrefix(n))
		}
	}
	day := Duration(24 * time.Hour)
	if bulk := (generatedContent{g.RepositoriesPerRule, g.ImagesPerRepository}); g.Rules > 0 && !bulk.empty() {
		up := out.upstreamFor(upstreamURLs[g.upstream()])
		up.generated = up.generated.union(bulk)
	}
	if g.Rules > 0 && upstreamsNeedingCredentials[g.upstream()] {
		// AWS refuses such a rule without a secret; the upstream accepts this one.
		out.Secrets = append(out.Secrets, Secret{Name: generatedSecret, Value: `{"username":"` + generatedUser + `","accessToken":"` + generatedToken + `"}`, ChangedAgo: 30 * day})
		up := out.upstreamFor(upstreamURLs[g.upstream()])
		up.Accounts = append(up.Accounts, UpstreamAccount{Username: generatedUser, Token: generatedToken})
	}
	f := g.Failures
	if f == nil {
		return &out
	}

	for k := 1; k <= f.Orphans; k++ {
		prefix := fmt.Sprintf("retired-%02d", (k-1)/10+1)
		if (k-1)%10 == 0 {
			template(prefix)
		}
		out.Repositories = append(out.Repositories, Repository{Name: fmt.Sprintf("%s/team/app-%04d", prefix, k),
			CreatedAgo: 120 * day, LifecyclePolicy: generatedLifecycle,
			Images: []CachedImage{{Tags: []string{"v1"}, PushedAgo: 100 * day, PulledAgo: 60 * day, ValidatedAgo: 60 * day}}})
	}

	if f.NameMismatches > 0 {
		secret := "ecr-pullthroughcache/hub"
		out.Secrets = append(out.Secrets, Secret{Name: secret, Value: `{"username":"gen-hub","accessToken":"dckr_pat_generated"}`, ChangedAgo: 30 * day})
		out.Rules = append(out.Rules, Rule{Prefix: "hub", Upstream: "docker-hub", URL: upstreamURLs["docker-hub"], Credential: secret, CreatedAgo: 60 * day})
		template("hub")
		hub := out.upstreamFor(dockerHubHost)
		hub.Accounts = append(hub.Accounts, UpstreamAccount{Username: "gen-hub", Token: "dckr_pat_generated"})
		for k := 1; k <= f.NameMismatches; k++ {
			app := fmt.Sprintf("app-%04d", k)
			hub.Repositories = append(hub.Repositories, UpstreamContent{Name: "library/" + app, Tags: []UpstreamTag{{Tag: "latest"}}})
			out.Repositories = append(out.Repositories, Repository{Name: "hub/" + app, CreatedAgo: 2 * day, LifecyclePolicy: generatedLifecycle})
		}
	}

	if f.StaleTags > 0 {
		host := upstreamURLs[g.upstream()]
		up := out.upstreamFor(host)
		for k := 1; k <= f.StaleTags; k++ {
			path := fmt.Sprintf("stale/app-%04d", k)
			up.Repositories = append(up.Repositories, UpstreamContent{Name: path, Tags: []UpstreamTag{{Tag: "latest", Version: 1}}})
			out.Repositories = append(out.Repositories, Repository{Name: generatedPrefix(1) + "/" + path, CreatedAgo: 60 * day,
				LifecyclePolicy: generatedLifecycle,
				Images: []CachedImage{{Tags: []string{"latest"}, Source: upstreamSource(host, path, "latest", 0),
					PushedAgo: 30 * day, PulledAgo: Duration(time.Hour), ValidatedAgo: Duration(20 * time.Hour)}}})
		}
	}

	if f.BadCredentials+f.DeletedSecrets > 0 {
		gh := out.upstreamFor(upstreamURLs["github-container-registry"])
		for k := 1; k <= f.BadCredentials; k++ {
			prefix := fmt.Sprintf("cred-%02d", k)
			user, token := "gen-"+prefix, "ghp_generated_"+strings.ReplaceAll(prefix, "-", "")
			gh.Accounts = append(gh.Accounts, UpstreamAccount{Username: user, Token: token, Expired: true})
			secret := "ecr-pullthroughcache/" + prefix
			out.Secrets = append(out.Secrets, Secret{Name: secret, Value: `{"username":"` + user + `","accessToken":"` + token + `"}`, ChangedAgo: 100 * day})
			out.Rules = append(out.Rules, Rule{Prefix: prefix, Upstream: "github-container-registry", URL: upstreamURLs["github-container-registry"],
				Credential: secret, CreatedAgo: 100 * day})
			template(prefix)
		}
		for k := 1; k <= f.DeletedSecrets; k++ {
			prefix := fmt.Sprintf("gone-%02d", k)
			secret := "ecr-pullthroughcache/" + prefix
			deleted := "forced"
			if k%2 == 0 {
				deleted = "scheduled"
			}
			out.Secrets = append(out.Secrets, Secret{Name: secret, Value: `{"username":"u","accessToken":"t"}`, ChangedAgo: 100 * day,
				Deleted: deleted, DeletedAgo: 3 * day})
			out.Rules = append(out.Rules, Rule{Prefix: prefix, Upstream: "github-container-registry", URL: upstreamURLs["github-container-registry"],
				Credential: secret, CreatedAgo: 100 * day})
			template(prefix)
		}
	}
	return &out
}

// upstreamFor returns the scenario's upstream for a host, adding an empty one if it has none.
func (s *Scenario) upstreamFor(host string) *Upstream {
	for i := range s.Upstreams {
		if s.Upstreams[i].Host == host {
			u := &s.Upstreams[i]
			u.Accounts = append([]UpstreamAccount(nil), u.Accounts...)
			u.Repositories = append([]UpstreamContent(nil), u.Repositories...)
			return u
		}
	}
	s.Upstreams = append(s.Upstreams, Upstream{Host: host})
	return &s.Upstreams[len(s.Upstreams)-1]
}

func generatedPrefix(n int) string { return fmt.Sprintf("gen-%02d", n) }

// The generated rules' secret, where their upstream needs credentials, and what it holds.
const (
	generatedSecret = "ecr-pullthroughcache/generated"
	generatedUser   = "gen-user"
	generatedToken  = "gen_token_generated"
)
