package diagnose_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// A hand-made repository whose name says it was meant as a cache is named, and the rule
// offered is for the upstream its name names, not always Docker Hub.
func TestAHandMadeCacheIsOfferedTheRuleItsNameMeans(t *testing.T) {
	snap := &model.Snapshot{AccountID: "111122223333", Region: "us-east-1",
		Rules:        []model.Rule{{Prefix: "docker-hub", UpstreamRegistry: "docker-hub", UpstreamURL: model.DockerHubRegistry}},
		Repositories: []model.Repository{{Name: "ghcr-proxy", ImagesKnown: true}, {Name: "team-mirror", ImagesKnown: true}, {Name: "payments", ImagesKnown: true}}}
	manual := map[string]string{}
	for _, f := range diagnose.Run(context.Background(), snap, lowBudgetProber{}, diagnose.Options{Checks: []string{"name-mismatch"}}) {
		if strings.Contains(f.Title, "looks meant as a cache") && len(f.Fixes) == 1 {
			manual[f.Subject.Name] = f.Fixes[0].Manual
		}
	}
	if len(manual) != 2 || manual["payments"] != "" {
		t.Fatalf("%v", manual)
	}
	if m := manual["ghcr-proxy"]; !strings.Contains(m, "--upstream github-container-registry --prefix ghcr-proxy") || strings.Contains(m, "library/") {
		t.Fatal(m)
	}
	if m := manual["team-mirror"]; !strings.Contains(m, "--upstream docker-hub --prefix team-mirror") || !strings.Contains(m, "team-mirror/library/<image>") {
		t.Fatal(m)
	}
}
