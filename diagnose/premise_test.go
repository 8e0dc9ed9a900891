package diagnose_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// fixOf finds the fix of a check's finding whose title has the words.
func fixOf(t *testing.T, findings []model.Finding, check, words string) model.Fix {
	t.Helper()
	for _, f := range findings {
		for _, x := range f.Fixes {
			if f.Check == check && strings.Contains(x.Title, words) {
				return x
			}
		}
	}
	t.Fatalf("no %s fix %q", check, words)
	return model.Fix{}
}

// The deletions of an orphan and of an unused template rest on "no rule covers it":
// a rule created between the diagnosis and the fix stops them, with nothing written.
// (The demo's unused template has leftovers under its prefix, so its deletion is offered
// only once they are gone: see TestAnUnusedTemplateWithRepositoriesUnderItIsKept.)
func TestDeletionsStopWhenARuleNowCoversTheirSubject(t *testing.T) {
	ctx := context.Background()
	_, acc := account(t, "demo")
	_, findings := diagnoseWith(t, acc, nil)
	orphans := fixOf(t, findings, "orphan-repository", "Delete the repositories")

	// A second account: its leftovers deleted, the template is unused and offered.
	_, acc2 := account(t, "demo")
	if _, err := acc2.Apply(ctx, orphans.Plan, ecrops.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	_, findings2 := diagnoseWith(t, acc2, nil)
	unused := fixOf(t, findings2, "creation-template", "Delete the unused template")
	for i, c := range []struct {
		acc *ecrops.Account
		fix model.Fix
	}{{acc, orphans}, {acc2, unused}} {
		prefix, _, _ := strings.Cut(c.fix.Plan.Steps[0].Target, "/")
		// Meanwhile someone recreates the rule the leftovers belonged to.
		create := model.Step{Kind: model.StepCreateRule, Operation: "ecr:CreatePullThroughCacheRule", Target: prefix,
			Params: map[string]string{"upstreamRegistryUrl": "public.ecr.aws", "upstreamRegistry": "ecr-public"},
			Expect: map[string]string{"exists": "false"}}
		if _, err := c.acc.Apply(ctx, model.Plan{Title: "someone else", Steps: []model.Step{create}}, ecrops.ApplyOptions{}); err != nil {
			t.Fatal(i, err)
		}
		results, err := c.acc.Apply(ctx, c.fix.Plan, ecrops.ApplyOptions{})
		var pe *ecrops.PreconditionError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "the pull through cache rule "+prefix+"/ now covers") || !strings.Contains(err.Error(), "nothing was written") {
			t.Fatalf("%s: %v", c.fix.Plan.Title, err)
		}
		for _, r := range results {
			if r.Status != "not-run" {
				t.Fatalf("%s: step %d %s", c.fix.Plan.Title, r.Index+1, r.Status)
			}
		}
	}
	snap, _ := diagnoseWith(t, acc, nil)
	if snap.Repository(orphans.Plan.Steps[0].Target) == nil {
		t.Fatal("the repository was deleted")
	}
}

// Deleting a template no rule uses rests on "no repository under its prefix will need
// it": with leftovers under the prefix (which orphan-repository may serve again by
// recreating their rule), or with the repositories unread, the deletion is not offered,
// so one run never plans both "recreate the rule" and "delete its template".
func TestAnUnusedTemplateWithRepositoriesUnderItIsKept(t *testing.T) {
	for _, c := range []struct{ name, faults string }{{"complete", ""}, {"DescribeRepositories failing", `[{"operation":"DescribeRepositories","errorRate":1}]`}} {
		t.Run(c.name, func(t *testing.T) {
			srv, acc := account(t, "demo")
			if c.faults != "" {
				setFaults(t, srv, c.faults)
			}
			_, findings := diagnoseWith(t, acc, nil)
			seen := false
			for _, f := range findings {
				if f.Check != "creation-template" || f.Distinct != "matches no rule" {
					continue
				}
				seen = true
				for _, x := range f.Fixes {
					if len(x.Plan.Steps) > 0 {
						t.Errorf("%s: fix offered: %s", f.Title, x.Title)
					}
				}
			}
			if !seen {
				t.Fatal("no unused-template finding")
			}
		})
	}
}

// A stale tag's refresh deletes it and pulls it again (ECR has no call that re-imports in
// place): the deletion re-asks the upstream, with the rule's credentials, just before the
// call, and stops with nothing deleted when the upstream does not serve the tag now.
func TestATagIsDeletedOnlyWhileTheUpstreamServesIt(t *testing.T) {
	ctx := context.Background()
	srv, acc := account(t, "demo")
	_, findings := diagnoseWith(t, acc, nil)
	refresh := fixOf(t, findings, "stale-tag", "Delete the cached tag")
	del := refresh.Plan.Steps[0]
	if !strings.Contains(del.Summary, "no call that re-imports") {
		t.Errorf("the plan does not say why it deletes first: %s", del.Summary)
	}
	setFaults(t, srv, `[{"operation":"upstream:registry-1.docker.io","errorRate":1}]`)
	results, err := acc.Apply(ctx, refresh.Plan, ecrops.ApplyOptions{})
	var pe *ecrops.PreconditionError
	// The upstream answered 503: the premise could not be confirmed (not "the account changed").
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "could not be confirmed now") || !strings.Contains(err.Error(), "503") ||
		strings.Contains(err.Error(), "account changed") || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("%v", err)
	}
	for _, r := range results {
		if r.Status != "not-run" {
			t.Fatalf("step %d %s", r.Index+1, r.Status)
		}
	}
	setFaults(t, srv, "[]")
	snap, _ := diagnoseWith(t, acc, nil)
	repo := snap.Repository(del.Param("repositoryName"))
	for _, img := range repo.Images {
		for _, tag := range img.Tags {
			if tag == del.Param("imageTag") {
				return
			}
		}
	}
	t.Fatalf("the cached tag %s was deleted", del.Target)
}

// A principal that cannot pull through several rules gets one statement naming all their
// repositories: the plan is one put of the registry policy, the narrowest window for
// another machine's put to land in between.
func TestOnePlanIsOnePutOfTheRegistryPolicy(t *testing.T) {
	_, acc := account(t, "demo")
	_, findings := diagnoseWith(t, acc, nil, "arn:aws:iam::111122223333:role/eks-node")
	grant := fixOf(t, findings, "permissions", "Grant ")
	if len(grant.Plan.Steps) != 1 || strings.Count(grant.Plan.Steps[0].Param("statement"), "repository/") < 2 {
		t.Fatalf("%d steps: %+v", len(grant.Plan.Steps), grant.Plan.Steps)
	}
}

// orphan-repository's force-deletion rests on a leftover's shape seen in the account: a
// Docker Hub official path (prefix/library/name) or a first segment that a pull-through
// template names. Two segments alone, or a first segment that other repositories share,
// are how teams name the repositories they push to: never offered for deletion.
func TestOrphansAreOnlyTheShapesALeftoverHas(t *testing.T) {
	img := []model.Image{{Digest: model.ParseDigest("sha256:aa"), Tags: []string{"v1"}}}
	repo := func(name string) model.Repository {
		return model.Repository{Name: name, ImagesKnown: true, Images: img}
	}
	snap := &model.Snapshot{AccountID: "111122223333", Region: "us-east-1",
		Rules: []model.Rule{{Prefix: "docker-hub", UpstreamURL: "registry-1.docker.io", UpstreamRegistry: "docker-hub"}},
		Templates: []model.Template{{Prefix: "gone", AppliedFor: []string{"PULL_THROUGH_CACHE"}},
			{Prefix: "team", AppliedFor: []string{"REPLICATION"}}},
		Repositories: []model.Repository{repo("legacy-hub/library/python"), repo("gone/org/app"), repo("gone/app"),
			repo("team/api"), repo("team/web"), repo("apps/billing"), repo("apps/billing/worker"), repo("solo")}}
	res := diagnose.Diagnose(context.Background(), snap, nil, diagnose.Options{Checks: []string{"orphan-repository"}})
	var got []string
	for _, f := range res.Findings {
		for _, x := range f.Fixes {
			for _, s := range x.Plan.Steps {
				if s.Kind == model.StepDeleteRepository {
					got = append(got, s.Target)
				}
			}
		}
	}
	want := []string{"gone/org/app", "gone/app", "legacy-hub/library/python"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("offered for deletion: %v, want %v", got, want)
	}
}
