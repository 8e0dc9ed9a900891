package sim_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
)

// Every YAML example in README.md is a scenario that loads and serves, so the schema's
// documentation cannot drift from the loader.
func TestReadmeExamplesLoad(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(raw), -1)
	if len(blocks) < 10 {
		t.Fatalf("only %d YAML examples in README.md", len(blocks))
	}
	for i, b := range blocks {
		sc, err := sim.ParseScenario([]byte(b[1]))
		if err != nil {
			t.Fatalf("example %d:\n%s\n%v", i+1, b[1], err)
		}
		if sc.Generate != nil {
			continue // large; TestGenerate covers it
		}
		if sc.IsFleet() {
			if _, err := sim.NewFleet(sc); err != nil {
				t.Fatalf("example %d: %v", i+1, err)
			}
			continue
		}
		if _, err := sim.New(sc); err != nil {
			t.Fatalf("example %d: %v", i+1, err)
		}
	}
}

func TestEmbeddedScenarios(t *testing.T) {
	names := sim.EmbeddedScenarios()
	if strings.Join(names, ",") != "demo,empty" {
		t.Fatalf("embedded: %v", names)
	}
	for _, n := range names {
		sc, err := sim.LoadScenario(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sim.New(sc); err != nil {
			t.Fatal(err)
		}
	}
	empty := startScenario(t, "empty")
	rules := must[*ecr.DescribePullThroughCacheRulesOutput](t)(empty.ecr.DescribePullThroughCacheRules(ctx(t), &ecr.DescribePullThroughCacheRulesInput{}))
	if len(rules.PullThroughCacheRules) != 0 {
		t.Fatalf("the empty scenario has %d rules", len(rules.PullThroughCacheRules))
	}
}

func TestScenarioErrorsAreClear(t *testing.T) {
	cases := map[string]string{
		``:                        "empty",
		`account: {id: "12"}`:     "account.id \"12\": must be 12 digits",
		`account: {region: mars}`: "not a region name",
		`acount: {}`:              "field acount not found",
		`rules: [{prefix: docker-hub, upstream: dockerhub}]`:                                                                    "rules[0].upstream \"dockerhub\"",
		`rules: [{prefix: Hub, upstream: quay}]`:                                                                                "rules[0].prefix",
		`rules: [{prefix: hub, upstream: docker-hub, credential: nope}]`:                                                        "no such secret",
		`rules: [{prefix: hub, upstream: quay}, {prefix: hub/, upstream: quay}]`:                                                "two rules share it",
		`repositories: [{name: UPPER}]`:                                                                                         "not a repository name",
		`repositories: [{name: ab, images: [{tags: ["bad tag"]}]}]`:                                                             "is not a tag",
		`repositories: [{name: ab, images: [{platforms: [amd64]}]}]`:                                                            "want os/arch",
		`repositories: [{name: ab, images: [{platforms: [linux/amd64], missingPlatforms: [linux/arm64]}]}]`:                     "not one of its platforms",
		`principals: [{name: a, accessKeyId: short, secretAccessKey: x}]`:                                                       "accessKeyId",
		`principals: [{name: a, kind: group, accessKeyId: AKIAAAAAAAAAAAAAAAAA, secretAccessKey: 0123456789abcdef}]`:            "user or role",
		`principals: [{name: a, accessKeyId: AKIAAAAAAAAAAAAAAAAA, secretAccessKey: 0123456789abcdef, allow: [BatchGetImage]}]`: "want service:Action",
		`faults: [{operation: X, errorRate: 1.5}]`:                                                                              "between 0 and 1",
		`faults: [{operation: DescribeImagez}]`:                                                                                 "no operation of ECR",
		`rules: [{prefix: hub, upstream: docker-hub}]`:                                                                          "requires authentication",
		`rules: [{prefix: gh, upstream: github-container-registry}]`:                                                            "impossible: true",
		`templates: [{prefix: x, imageTagMutability: SOMETIMES}]`:                                                               "MUTABLE_WITH_EXCLUSION",
		`templates: [{prefix: x, imageTagMutability: IMMUTABLE_WITH_EXCLUSION}]`:                                                "can't be null",
		`repositories: [{name: ab, imageTagMutabilityExclusionFilters: ["v*"]}]`:                                                "can only be set when",
		`repositories: [{name: ab, imageTagMutability: MUTABLE_WITH_EXCLUSION, imageTagMutabilityExclusionFilters: ["v/1"]}]`:   "regular expression",
		`secrets: [{name: "a b"}]`:                                                                                              "secrets[0].name",
		`upstreams: [{host: "not a host"}]`:                                                                                     "not a registry host name",
		`generate: {rules: 51}`:                                                                                                 "0 to 50",
		`generate: {rules: 50, repositoriesPerRule: 1000}`:                                                                      "at most 20000 repositories",
		`behaviours: {negativeCache: {ttl: soon}}`:                                                                              "invalid duration",
		"rules: [oops": "invalid YAML",
	}
	for doc, want := range cases {
		_, err := sim.ParseScenario([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error with %q", doc, err, want)
		}
	}
	// An impossible rule is staged only when the scenario says so.
	if _, err := sim.ParseScenario([]byte(`rules: [{prefix: hub, upstream: docker-hub, impossible: true}]`)); err != nil {
		t.Errorf("an impossible rule, staged on purpose: %v", err)
	}
	if _, err := sim.LoadScenario("no-such-scenario"); err == nil || !strings.Contains(err.Error(), "demo, empty") {
		t.Fatalf("unknown scenario: %v", err)
	}
}

func TestGenerate(t *testing.T) {
	s := startYAML(t, `
generate: {rules: 3, repositoriesPerRule: 4, imagesPerRepository: 5}
`)
	c := ctx(t)
	rules := must[*ecr.DescribePullThroughCacheRulesOutput](t)(s.ecr.DescribePullThroughCacheRules(c, &ecr.DescribePullThroughCacheRulesInput{}))
	if len(rules.PullThroughCacheRules) != 3 {
		t.Fatalf("%d rules", len(rules.PullThroughCacheRules))
	}
	repos := must[*ecr.DescribeRepositoriesOutput](t)(s.ecr.DescribeRepositories(c, &ecr.DescribeRepositoriesInput{}))
	if len(repos.Repositories) != 12 {
		t.Fatalf("%d repositories", len(repos.Repositories))
	}
	imgs := must[*ecr.DescribeImagesOutput](t)(s.ecr.DescribeImages(c, &ecr.DescribeImagesInput{RepositoryName: repos.Repositories[0].RepositoryName}))
	if len(imgs.ImageDetails) != 5 {
		t.Fatalf("%d images", len(imgs.ImageDetails))
	}
	// The same scenario gives the same digests.
	again := startYAML(t, `
generate: {rules: 3, repositoriesPerRule: 4, imagesPerRepository: 5}
`)
	imgs2 := must[*ecr.DescribeImagesOutput](t)(again.ecr.DescribeImages(c, &ecr.DescribeImagesInput{RepositoryName: repos.Repositories[0].RepositoryName}))
	if *imgs.ImageDetails[0].ImageDigest != *imgs2.ImageDetails[0].ImageDigest {
		t.Fatal("generated content is not deterministic")
	}
	_ = aws.String
}

// FuzzParseScenario: no input makes the loader panic, and what it accepts, the stand-in serves.
func FuzzParseScenario(f *testing.F) {
	for _, n := range []string{"scenarios/demo.yaml", "scenarios/empty.yaml"} {
		raw, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte("rules: [{prefix: hub, upstream: docker-hub}]"))
	f.Add([]byte("generate: {rules: 1, repositoriesPerRule: 1, imagesPerRepository: 1}"))
	f.Add([]byte("repositories: [{name: ab, images: [{tags: [x], platforms: [linux/amd64, linux/arm64]}]}]"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		sc, err := sim.ParseScenario(raw)
		if err != nil || len(raw) > 4096 {
			return // building a large account is slow, and the parse is what is fuzzed
		}
		if g := sc.Generate; g != nil && g.Rules*g.RepositoriesPerRule*g.ImagesPerRepository > 50 {
			return // large accounts are slow to build, not wrong
		}
		if _, err := sim.New(sc); err != nil {
			t.Fatalf("accepted scenario cannot be served: %v", err)
		}
	})
}
