package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// The stale tag of the demo, whose refresh deletes it and pulls it again.
const staleRepo, staleTag = "docker-hub/library/alpine", "latest"

// cachedDigest is the digest the stand-in's cache holds for a tag, read as its admin; ""
// when the tag is not cached.
func cachedDigest(t *testing.T, srv *sim.Server, repo, tag string) string {
	t.Helper()
	snap, err := adminAccount(t, srv).Scan(context.Background(), ecrops.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := snap.Repository(repo); r != nil {
		for _, img := range r.Images {
			for _, x := range img.Tags {
				if x == tag {
					return img.Digest.String()
				}
			}
		}
	}
	return ""
}

// adminAccount opens the stand-in's account as its admin, with a journal of its own.
func adminAccount(t *testing.T, srv *sim.Server) *ecrops.Account {
	t.Helper()
	info := srv.Info()
	acc, err := ecrops.Open(context.Background(), ecrops.Config{Region: info.Region, EndpointURL: info.Endpoint, StateDir: t.TempDir(),
		Credentials: credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

// findingOf is the report's finding of a check on a subject.
func findingOf(t *testing.T, r diagnose.Report, check, subject string) diagnose.ReportFinding {
	t.Helper()
	for _, f := range r.Findings {
		if f.Check == check && f.Subject.Name == subject {
			return f
		}
	}
	t.Fatalf("no %s finding on %s: %+v", check, subject, r.Findings)
	return diagnose.ReportFinding{}
}

func deletes(f diagnose.ReportFinding) bool {
	for _, x := range f.Fixes {
		for _, s := range x.Steps {
			if s.Destructive {
				return true
			}
		}
	}
	return false
}

// Deleting a cached tag to import it again rests on "the upstream serves it now with the
// rule's credentials". With Docker Hub's budget spent (doctor's own evidence), the refresh
// is not offered (diagnose's TestATagIsDeletedOnlyWhileTheUpstreamServesIt: the deletion
// re-asks the upstream just before the call).
func TestAStaleTagIsNotDeletedWhenTheUpstreamCannotServeItBack(t *testing.T) {
	t.Run("budget spent", func(t *testing.T) {
		sc, err := sim.LoadScenario("demo")
		if err != nil {
			t.Fatal(err)
		}
		for i := range sc.Upstreams {
			for j := range sc.Upstreams[i].Accounts {
				a := &sc.Upstreams[i].Accounts[j]
				if a.PullLimit > 0 {
					a.PullsUsed = a.PullLimit
				}
			}
		}
		srv, env := standInServer(t, simtest.StartScenario(t, sc))
		want := cachedDigest(t, srv, staleRepo, staleTag)
		r, _ := report(t, env)
		f := findingOf(t, r, "stale-tag", staleRepo+":"+staleTag)
		if deletes(f) || !strings.Contains(f.Explanation, "pull budget is spent") {
			t.Fatalf("the refresh is offered with the budget spent: %+v", f)
		}
		out, _ := runCLI(t, env, "fix", "--finding", f.ID, "--yes", "--destructive")
		if got := cachedDigest(t, srv, staleRepo, staleTag); got != want {
			t.Fatalf("the cached tag is gone (%q):\n%s", got, out)
		}
	})
}

// An unreadable secret, with the anonymous answer standing in for the rule's own, is a
// failed read: no deletion rests on it, and the finding says what it rests on.
func TestAnAnonymousStandInAnswerDeletesNothing(t *testing.T) {
	srv, env := failingStandIn(t, "", []string{"secretsmanager:GetSecretValue"})
	want := cachedDigest(t, srv, staleRepo, staleTag)
	r, _ := report(t, env)
	for _, f := range r.Findings {
		anonymous := false
		for _, e := range f.Evidence {
			anonymous = anonymous || strings.Contains(e.Call, "secret could not be read")
		}
		if anonymous && deletes(f) {
			t.Errorf("[%s] %s: a deletion rests on an anonymous answer", f.Check, f.Title)
		}
	}
	out, _ := runCLI(t, env, "fix", "--yes", "--destructive")
	if got := cachedDigest(t, srv, staleRepo, staleTag); got != want {
		t.Fatalf("the cached tag is gone (%q):\n%s", got, out)
	}
}

// Two fixes of one run where the first changes what the second rests on: removing the
// kubernetes template's tags, then tagging kubernetes/pause "to align with the template".
// The second is re-planned from the account as the first left it, and not run. A full
// fix --yes of the demo leaves no finding "still failing" that the run itself caused.
func TestAFixDoesNotRunOnWhatAnEarlierFixOfTheRunChanged(t *testing.T) {
	srv, env := standIn(t, "demo")
	r, _ := report(t, env)
	creation, drift := "", ""
	for _, f := range r.Findings {
		if f.Check == "creation-template" && f.Subject.Name == "kubernetes" && strings.Contains(f.Title, "resource tags") {
			creation = f.ID
		}
		if f.Check == "template-drift" && f.Subject.Name == "kubernetes/pause" && strings.Contains(f.Title, "resource tags") {
			drift = f.ID
		}
	}
	if creation == "" || drift == "" {
		t.Fatalf("the demo's pair is not there: %+v", r.Findings)
	}
	out, _ := runCLI(t, env, "fix", "--finding", creation, "--finding", drift, "--yes")
	if !strings.Contains(out, "not run: an earlier fix of this run changed what this plan rests on") {
		t.Fatalf("the second plan ran:\n%s", out)
	}
	for _, e := range srv.Events(0) {
		if e.Write && e.Operation == "TagResource" {
			t.Fatalf("kubernetes/pause was tagged after the template's tags were removed:\n%s", out)
		}
	}

	_, env = failingStandIn(t, "", nil) // the demo with its watch list and principals
	out, _ = runCLI(t, env, "fix", "--yes", "--destructive")
	if !strings.Contains(out, "After the fixes:") {
		t.Fatalf("fix --yes over the demo:\n%s", out)
	}
	// (The demo's docker-hub/nginx reads "still failing as the reference …": a node still
	// pulls the wrong name, which no fix of the account changes; not caused by the run.)
	for _, bad := range []string{"still failing:", "back after a later fix", "failed:"} {
		if strings.Contains(out, bad) {
			t.Errorf("fix --yes over the demo says %q:\n%s", bad, out)
		}
	}
}

// Exit codes a runbook can trust: an asked fix not applied is not success (1); an unknown
// finding id is a usage error (2) naming how to list them; an undo dry run that would be
// refused is not success (1); doctor --json with keys that cannot read the account still
// writes a report, incomplete (3); setup refuses 0 days rather than silently using 90.
func TestExitCodesSayWhatHappened(t *testing.T) {
	srv, env := standIn(t, "demo")
	r, _ := report(t, env)
	f := findingOf(t, r, "stale-tag", staleRepo+":"+staleTag)
	if out, code := runCLI(t, env, "fix", "--finding", f.ID, "--yes"); code != exitFindings || !strings.Contains(out, "not applied") {
		t.Errorf("a destructive fix without --destructive: exit %d\n%s", code, out)
	}
	for _, id := range []string{"deadbeef", "99"} {
		if out, code := runCLI(t, env, "fix", "--finding", id, "--yes"); code != exitUsage || !strings.Contains(out, "no such finding") || !strings.Contains(out, f.ID) {
			t.Errorf("--finding %s: exit %d\n%s", id, code, out)
		}
	}

	// A plan, then a change by someone else over what it wrote: the undo is refused.
	lifecycle := findingOf(t, r, "no-lifecycle", "quay")
	if out, code := runCLI(t, env, "fix", "--finding", lifecycle.ID, "--yes"); code != exitOK {
		t.Fatalf("fix: exit %d\n%s", code, out)
	}
	plan := lastJournalPlan(t, srv, env)
	other := adminAccount(t, srv)
	repo := lifecycle.Fixes[0].Steps[0].Targets[0]
	if _, err := other.Apply(context.Background(), model.Plan{Title: "someone else", Steps: []model.Step{{Kind: model.StepPutLifecyclePolicy, Operation: "ecr:PutLifecyclePolicy", Target: repo,
		Params: map[string]string{"repositoryName": repo, "lifecyclePolicyText": `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":7},"action":{"type":"expire"}}]}`}}}}, ecrops.ApplyOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if out, code := runCLI(t, env, "undo", plan, "--dry-run"); code != exitFindings || !strings.Contains(out, "refused") {
		t.Errorf("undo --dry-run of a refused undo: exit %d\n%s", code, out)
	}

	bad := append(append([]string{}, env...), "AWS_ACCESS_KEY_ID=AKIAINVALIDINVALID00", "AWS_SECRET_ACCESS_KEY=nope")
	out, code := runCLI(t, bad, "doctor", "--json")
	var rep diagnose.Report
	if i := strings.Index(out, "{"); code != exitScan || i < 0 || json.NewDecoder(strings.NewReader(out[i:])).Decode(&rep) != nil || rep.Complete || len(rep.Errors) == 0 {
		t.Errorf("doctor --json with invalid keys: exit %d\n%s", code, out)
	}

	for _, flag := range []string{"--template-lifecycle-days", "--template-untagged-days"} {
		if out, code := runCLI(t, env, "setup", "--upstream", "quay", "--prefix", "q2", flag, "0", "--dry-run"); code != exitUsage || !strings.Contains(out, "never 0") {
			t.Errorf("setup %s 0: exit %d\n%s", flag, code, out)
		}
	}
}

// lastJournalPlan is the id of the plan the binary under env journaled last.
func lastJournalPlan(t *testing.T, srv *sim.Server, env []string) string {
	t.Helper()
	entries, err := accountOf(t, srv, env).Journal().Entries()
	if err != nil || len(entries) == 0 {
		t.Fatalf("no journal: %v", err)
	}
	return entries[len(entries)-1].Plan
}

// A principal that may not list the images of one of two leftovers under legacy-hub/: the
// orphan finding's fix deletes the other, and the check after it cannot look at the first
// again, so it says "could not confirm" (exit 3), never "fixed".
func TestAFixIsNotFixedWhileItsScopeCouldNotBeRead(t *testing.T) {
	sc, err := sim.LoadScenario("demo")
	if err != nil {
		t.Fatal(err)
	}
	sc.Principals = append(sc.Principals, sim.Principal{Name: "ops3", Kind: "user", AccessKeyID: deniedKey, SecretAccessKey: deniedSecret,
		Statements: []sim.Statement{{Effect: "Allow", Actions: []string{"*"}, Resources: []string{"*"}},
			{Effect: "Deny", Actions: []string{"ecr:DescribeImages", "ecr:ListImages"}, Resources: []string{"arn:aws:ecr:*:111122223333:repository/legacy-hub/library/python"}}}})
	_, env := standInServer(t, simtest.StartScenario(t, sc))
	env = append(env, "AWS_ACCESS_KEY_ID="+deniedKey, "AWS_SECRET_ACCESS_KEY="+deniedSecret)
	r, _ := report(t, env)
	f := findingOf(t, r, "orphan-repository", "legacy-hub/")
	index := 0
	for i, x := range f.Fixes {
		if strings.Contains(x.Title, "Delete the repositories") {
			index = i + 1
		}
	}
	if index == 0 {
		t.Fatalf("no deletion: %+v", f)
	}
	out, code := runCLI(t, env, "fix", "--finding", f.ID, "--fix", fmt.Sprint(index), "--yes", "--destructive")
	if code != exitScan || strings.Contains(out, "] fixed") || !strings.Contains(out, "could not confirm") || !strings.Contains(out, "legacy-hub/library/python") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// Two chosen plans that cannot both hold (recreate the rule legacy-hub/; delete what rests
// on no rule covering legacy-hub/) are seen before any write: the deletion is dropped.
func TestContradictoryPlansAreSeenBeforeAnyWrite(t *testing.T) {
	create := model.Plan{Title: "Recreate legacy-hub/", Steps: []model.Step{{Kind: model.StepCreateRule, Target: "legacy-hub"}}}
	delTemplate := model.Plan{Title: "Delete the template legacy-hub", Steps: []model.Step{{Kind: model.StepDeleteTemplate, Target: "legacy-hub",
		Expect: map[string]string{"exists": "true", model.ExpectCoveringRule + "legacy-hub/": ""}}}}
	delRepo := model.Plan{Title: "Delete legacy-hub/library/node", Steps: []model.Step{{Kind: model.StepDeleteRepository, Target: "legacy-hub/library/node",
		Expect: map[string]string{"exists": "true", model.ExpectCoveringRule + "legacy-hub/library/node": ""}}}}
	other := model.Plan{Title: "Delete quay/x", Steps: []model.Step{{Kind: model.StepDeleteRepository, Target: "quay/x",
		Expect: map[string]string{model.ExpectCoveringRule + "quay/x": ""}}}}
	got := negatedPlans([]model.Plan{delTemplate, create, delRepo, other})
	if _, ok := got[0]; !ok || len(got) != 2 || got[2] == "" {
		t.Fatalf("%v", got)
	}
}

// fix --finding ID for a finding whose check could not look this time (the upstream did
// not answer its probe) is not "no such finding … mistyped" (exit 2): it says the finding
// could not be judged now, points at the failed call, writes nothing, and exits 3.
func TestFixOfAFindingThatCouldNotBeJudgedNow(t *testing.T) {
	_, env := standIn(t, "demo")
	r, _ := report(t, env)
	stale := ""
	for _, f := range r.Findings {
		if f.Check == "stale-tag" && strings.HasPrefix(f.Subject.Name, "docker-hub/library/alpine:") {
			stale = f.ID
		}
	}
	if stale == "" {
		t.Fatalf("the demo's stale alpine is not there: %+v", r.Findings)
	}
	_, env = failingStandIn(t, `[{"operation":"upstream:registry-1.docker.io","errorRate":1}]`, nil)
	out, code := runCLI(t, env, "fix", "--finding", stale, "--yes", "--destructive")
	if code != exitScan || strings.Contains(out, "mistyped") || !strings.Contains(out, "--finding "+stale+": not among the findings that could be judged now") ||
		!strings.Contains(out, "NOT CHECKED  stale-tag") || !strings.Contains(out, "Nothing was written") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// A fix withheld because its premise could not be confirmed says so, not only "no fix".
func TestAWithheldFixSaysWhy(t *testing.T) {
	f := model.Finding{Explanation: "The cache serves sha256:1; the upstream's latest is now sha256:2. The refresh (delete the cached tag, pull it again) is not offered: the upstream did not answer every probe (alpine:latest: unavailable); deleting the tag now could leave nothing to serve."}
	if got := withheldBecause(f); got != " now: it is withheld because the upstream did not answer every probe (alpine:latest: unavailable)" {
		t.Fatalf("%q", got)
	}
	if got := withheldBecause(model.Finding{Explanation: "Nothing withheld."}); got != "" {
		t.Fatalf("%q", got)
	}
}
