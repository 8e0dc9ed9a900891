package diagnose_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// The ROOT rule's new repositories are made by the ROOT template, when it is applied to
// pull through cache; one that is not leaves the rule uncovered, and is named.
func TestRootRuleIsCoveredByTheRootTemplateOnly(t *testing.T) {
	uncovered := func(appliedFor ...string) bool {
		t.Helper()
		snap := &model.Snapshot{AccountID: "111122223333", Region: "us-east-1",
			Rules:     []model.Rule{{Prefix: "ROOT", UpstreamRegistry: "quay", UpstreamURL: "quay.io"}},
			Templates: []model.Template{{Prefix: "ROOT", AppliedFor: appliedFor, ImageTagMutability: "MUTABLE"}}}
		for _, f := range diagnose.Run(context.Background(), snap, lowBudgetProber{}, diagnose.Options{Checks: []string{"creation-template"}}) {
			if strings.HasPrefix(f.Title, "No creation template covers ROOT/") || strings.Contains(f.Title, "is not applied to pull through cache") {
				return true
			}
		}
		return false
	}
	if uncovered("PULL_THROUGH_CACHE") {
		t.Fatal("the ROOT template applied to pull through cache does not cover the ROOT rule")
	}
	if !uncovered("REPLICATION") {
		t.Fatal("a ROOT template not applied to pull through cache covers the ROOT rule")
	}
}
