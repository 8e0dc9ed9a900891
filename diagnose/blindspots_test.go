package diagnose_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// The checks' blind spots (issue 12): each scenario under ../testdata/scenarios stages one,
// and the test says what the diagnosis must, and must not, say about it.

// scenario starts the stand-in on one of the shared scenarios and opens it.
func scenario(t *testing.T, name string) *ecrops.Account {
	t.Helper()
	_, acc := account(t, filepath.Join("..", "testdata", "scenarios", name+".yaml"))
	return acc
}

// runWith scans and diagnoses with the given options.
func runWith(t *testing.T, acc *ecrops.Account, opts diagnose.Options, refs ...string) (*model.Snapshot, []model.Finding) {
	t.Helper()
	ctx := context.Background()
	snap, err := acc.Scan(ctx, ecrops.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range refs {
		r, err := model.ParseRef(in, snap.AccountID, snap.Region, snap.Rules)
		if err != nil && r.Repository == "" {
			t.Fatal(err)
		}
		opts.Refs = append(opts.Refs, r)
	}
	return snap, diagnose.Run(ctx, snap, acc, opts)
}

// finding returns the finding of a check about a subject, or fails.
func finding(t *testing.T, findings []model.Finding, check, subject string) model.Finding {
	t.Helper()
	for _, f := range findings {
		if f.Check == check && f.Subject.Name == subject {
			return f
		}
	}
	t.Fatalf("no %s finding about %s; found %v", check, subject, summary(findings))
	return model.Finding{}
}

func summary(findings []model.Finding) []string {
	var out []string
	for _, f := range findings {
		out = append(out, f.Check+" "+f.Subject.Name+": "+f.Title)
	}
	return out
}

func TestMutabilityExclusions(t *testing.T) {
	snap, findings := runWith(t, scenario(t, "mutability-exclusions"), diagnose.Options{})
	if r := snap.Repository("quay/org/app"); r == nil || len(r.MutabilityExclusions) != 1 {
		t.Fatalf("the scan did not read the exclusion filters: %+v", r)
	}
	never := "will never update it"
	// Excluded from IMMUTABLE_WITH_EXCLUSION: mutable, refreshed as usual.
	if f := finding(t, findings, "stale-tag", "quay/org/app:latest"); strings.Contains(f.Explanation, never) {
		t.Errorf("an excluded tag of an IMMUTABLE_WITH_EXCLUSION repository is said never to refresh: %s", f.Explanation)
	}
	if f := finding(t, findings, "stale-tag", "quay/org/app:v1"); !strings.Contains(f.Explanation, never) {
		t.Errorf("an immutable tag is not said to be stuck: %s", f.Explanation)
	}
	// Matched by MUTABLE_WITH_EXCLUSION's filter: immutable.
	if f := finding(t, findings, "stale-tag", "quay/org/tool:v2"); !strings.Contains(f.Explanation, never) || !strings.Contains(f.Explanation, "v*") {
		t.Errorf("a tag made immutable by MUTABLE_WITH_EXCLUSION is not said to be stuck: %s", f.Explanation)
	}
	if f := finding(t, findings, "stale-tag", "quay/org/tool:latest"); strings.Contains(f.Explanation, never) {
		t.Errorf("a mutable tag is said never to refresh: %s", f.Explanation)
	}
	// The templates: both keep some tags immutable, and say which.
	if f := finding(t, findings, "creation-template", "pinned"); !strings.Contains(f.Title, "release-*") {
		t.Errorf("pinned: %s", f.Title)
	}
	if f := finding(t, findings, "creation-template", "quay"); !strings.Contains(f.Title, "except those matching latest") {
		t.Errorf("quay: %s", f.Title)
	}
}

func TestStaleTagBudgetGoesToRecentPullsAndSaysWhatItLeft(t *testing.T) {
	_, findings := runWith(t, scenario(t, "stale-tag-budget"), diagnose.Options{ProbeLimit: 3, Checks: []string{"stale-tag"}})
	finding(t, findings, "stale-tag", "quay/zzz/app:latest")
	f := finding(t, findings, "stale-tag", "111122223333.dkr.ecr.us-east-1.amazonaws.com")
	if f.Severity != model.SeverityInfo || !strings.Contains(f.Title, "2 cached tags in 1 repository") || !strings.Contains(f.Title, "Not checked") {
		t.Errorf("the cut is not reported as it is: %s", f.Title)
	}
	if !strings.Contains(f.Evidence[1].Answer, "quay/aaa/two") {
		t.Errorf("the least recently pulled were not the ones left: %+v", f.Evidence)
	}
	// Within the budget, nothing is said about it.
	_, findings = runWith(t, scenario(t, "stale-tag-budget"), diagnose.Options{Checks: []string{"stale-tag"}})
	if len(findings) != 1 {
		t.Errorf("%v", summary(findings))
	}
}

func TestRateLimitFromEveryAnswer(t *testing.T) {
	_, findings := runWith(t, scenario(t, "rate-limit-any-answer"), diagnose.Options{})
	f := finding(t, findings, "upstream-rate-limit", "quay")
	if !strings.Contains(f.Title, "429") || !strings.Contains(f.Explanation, "not a pull budget") || len(f.Evidence) != 2 {
		t.Errorf("%s\n%s\n%+v", f.Title, f.Explanation, f.Evidence)
	}
	for _, e := range f.Evidence {
		if !strings.Contains(e.Call, "quay.io/org/app:v") {
			t.Errorf("evidence from elsewhere than the real manifest answers: %+v", e)
		}
	}
	// The tags the 429s refused are not judged, and say so.
	_, res := diagnoseResult(t, scenario(t, "rate-limit-any-answer"), nil)
	n := 0
	for _, nc := range res.NotChecked {
		if nc.Check == "stale-tag" && nc.Failed.Code == "429" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("not checked: %+v", res.NotChecked)
	}
}

func TestCrossAccountTemplatePolicy(t *testing.T) {
	acc := scenario(t, "cross-account")
	_, findings := runWith(t, acc, diagnose.Options{})
	f := finding(t, findings, "cross-account-pull", "ecr-public")
	if !strings.Contains(f.Title, "444455556666") || strings.Contains(f.Title, "777788889999") || !strings.Contains(f.Explanation, "the registry policy") {
		t.Errorf("%s\n%s", f.Title, f.Explanation)
	}
	steps := f.Fixes[0].Plan.Steps
	if len(steps) != 2 || steps[0].Kind != model.StepUpdateTemplate || steps[1].Kind != model.StepSetRepositoryPolicy || steps[1].Target != "ecr-public/docker/library/busybox" {
		t.Fatalf("plan: %+v", steps)
	}
	for _, f := range findings {
		if f.Check == "cross-account-pull" && f.Subject.Name == "quay" {
			t.Errorf("a template that grants the consumer was reported: %s", f.Title)
		}
	}
	// The plan works: applied, the finding is gone.
	if _, err := acc.Apply(context.Background(), f.Fixes[0].Plan, ecrops.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	_, again := runWith(t, acc, diagnose.Options{Checks: []string{"cross-account-pull", "template-drift"}})
	if len(again) != 0 {
		t.Errorf("after the fix: %v", summary(again))
	}
	// An account named on the command line counts too.
	_, findings = runWith(t, scenario(t, "cross-account"), diagnose.Options{ConsumerAccounts: []string{"999988887777"}, Checks: []string{"cross-account-pull"}})
	if f := finding(t, findings, "cross-account-pull", "quay"); !strings.Contains(f.Explanation, "--consumer-account") {
		t.Errorf("%s", f.Explanation)
	}
}

func TestAppliedForWithoutPullThroughCache(t *testing.T) {
	acc := scenario(t, "applied-for")
	_, findings := runWith(t, acc, diagnose.Options{Checks: []string{"creation-template"}})
	if len(findings) != 1 {
		t.Fatalf("%v", summary(findings))
	}
	f := finding(t, findings, "creation-template", "quay")
	if strings.Contains(f.Title, "No creation template") || !strings.Contains(f.Title, "not applied to pull through cache") {
		t.Errorf("%s", f.Title)
	}
	step := f.Fixes[0].Plan.Steps[0]
	if step.Kind != model.StepUpdateTemplate || step.Param("appliedFor") != "REPLICATION,PULL_THROUGH_CACHE" {
		t.Fatalf("%+v", step)
	}
	if _, err := acc.Apply(context.Background(), f.Fixes[0].Plan, ecrops.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	_, again := runWith(t, acc, diagnose.Options{Checks: []string{"creation-template"}})
	if len(again) != 0 {
		t.Errorf("after the fix: %v", summary(again))
	}
}

func TestTemplateDrift(t *testing.T) {
	acc := scenario(t, "template-drift")
	_, findings := runWith(t, acc, diagnose.Options{Checks: []string{"template-drift"}})
	if len(findings) != 1 {
		t.Fatalf("%v", summary(findings))
	}
	f := finding(t, findings, "template-drift", "quay/org/old")
	for _, s := range []string{"tag mutability", "encryption", "lifecycle policy", "resource tags"} {
		if !strings.Contains(f.Title, s) {
			t.Errorf("%s: %s", s, f.Title)
		}
	}
	if len(f.Fixes) != 2 || len(f.Fixes[0].Plan.Steps) != 3 || !strings.Contains(f.Fixes[1].Title, "Encryption cannot be changed in place") {
		t.Fatalf("fixes: %+v", f.Fixes)
	}
	if _, err := acc.Apply(context.Background(), f.Fixes[0].Plan, ecrops.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	_, again := runWith(t, acc, diagnose.Options{Checks: []string{"template-drift"}})
	if len(again) != 1 || !strings.HasSuffix(again[0].Title, ": encryption") || len(again[0].Fixes) != 1 {
		t.Errorf("after the fix, only encryption remains, with no plan: %v", summary(again))
	}
}

func TestNamesWithoutLatest(t *testing.T) {
	_, findings := runWith(t, scenario(t, "no-latest"), diagnose.Options{Checks: []string{"name-mismatch"}})
	for repo, want := range map[string]string{
		"docker-hub/elasticsearch":        "docker-hub/library/elasticsearch:8.1", // 8.14.3 or 8.15.0
		"docker-hub/library/grafana/loki": "docker-hub/grafana/loki:3.1.1",
	} {
		f := finding(t, findings, "name-mismatch", repo)
		if !strings.Contains(f.Title, want) || !strings.Contains(f.Evidence[len(f.Evidence)-1].Call, "tags/list") {
			t.Errorf("%s: %s\n%+v", repo, f.Title, f.Evidence)
		}
		steps := f.Fixes[0].Plan.Steps
		if w := steps[len(steps)-1]; w.Kind != model.StepWarmReference || !strings.HasPrefix(w.Target, want) {
			t.Errorf("%s: the fix warms %s", repo, w.Target)
		}
	}
}

func TestNestedPrefixesAndUpstreamPrefixes(t *testing.T) {
	acc := scenario(t, "nested-prefixes")
	snap, err := acc.Scan(context.Background(), ecrops.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var refs []model.Ref
	for _, in := range []string{reg + "mirror/dockerhub/library/nginx:1.27", reg + "docker-hub/library/nginx:1.27", reg + "mirror/library/nginx:1.27",
		reg + "team/billing:v3", "444455556666.dkr.ecr.us-east-1.amazonaws.com/team-a/app:v1", "nginx:1.27"} {
		r, err := model.ParseRef(in, snap.AccountID, snap.Region, snap.Rules)
		if err != nil && r.Repository == "" {
			t.Fatal(err)
		}
		refs = append(refs, r)
	}
	res := diagnose.Diagnose(context.Background(), snap, acc, diagnose.Options{Checks: []string{"name-mismatch"}, Refs: refs})
	findings := res.Findings
	for in, want := range map[string]string{
		reg + "mirror/dockerhub/library/nginx:1.27": "is 1 letter away",
		reg + "docker-hub/library/nginx:1.27":       "is nested under mirror/",
		reg + "mirror/library/nginx:1.27":           "is the only rule under mirror/",
	} {
		f := finding(t, findings, "name-mismatch", in)
		if !strings.Contains(f.Explanation, want) || !strings.Contains(f.Fixes[0].Manual, reg+"mirror/docker-hub/library/nginx:1.27") {
			t.Errorf("%s: %s\n%s", in, f.Explanation, f.Fixes[0].Manual)
		}
	}
	if f := finding(t, findings, "name-mismatch", "team/org/tool"); !strings.Contains(f.Fixes[0].Manual, reg+"team/tool:2.0") {
		t.Errorf("the repeated upstream prefix: %s\n%s", f.Title, f.Fixes[0].Manual)
	}
	if f := finding(t, findings, "name-mismatch", reg+"team/billing:v3"); !strings.Contains(f.Title, "quay.io/org/billing:v3") || !strings.Contains(f.Fixes[0].Manual, "setup") {
		t.Errorf("the wrong upstream prefix: %s", f.Title)
	}
	// The ECR upstream cannot be probed without a token for it: not checked, not judged.
	found := false
	for _, n := range res.NotChecked {
		found = found || (n.Subject.Name == "central/team-a/tool" && n.Failed.Code == "401")
	}
	if !found {
		t.Errorf("central/team-a/tool is not listed as not checked: %+v", res.NotChecked)
	}
	// Upstream references map through the rules, to the nested prefix and across ECR registries.
	if refs[4].Repository != "central/app" || refs[5].Repository != "mirror/docker-hub/library/nginx" {
		t.Errorf("mapping: %+v %+v", refs[4], refs[5])
	}
	for _, f := range findings {
		if f.Subject.Name == "central/app" || strings.Contains(f.Subject.Name, "team-a/app") || f.Subject.Name == "central/team-a/tool" ||
			f.Subject.Name == "mirror/docker-hub/library/nginx" || f.Subject.Name == "nginx:1.27" {
			t.Errorf("a healthy or unjudged name was reported: %s", f.Title)
		}
	}
}

// The new checks say nothing of an account with nothing wrong, nor of an empty one.
func TestTheBlindSpotChecksStayQuiet(t *testing.T) {
	checks := []string{"cross-account-pull", "template-drift", "stale-tag", "upstream-rate-limit", "name-mismatch", "creation-template"}
	for name, sc := range map[string]string{"healthy": healthy, "empty": "empty"} {
		_, acc := account(t, sc)
		_, findings := runWith(t, acc, diagnose.Options{Checks: checks})
		for _, f := range findings {
			if name == "empty" && f.Check == "creation-template" {
				continue // no rules, no templates: nothing for it to say, but allowed to advise
			}
			t.Errorf("%s: %s %s: %s", name, f.Check, f.Subject.Name, f.Title)
		}
	}
}

func TestCrossAccountWithoutTemplate(t *testing.T) {
	_, acc := account(t, `
upstreams:
  - host: quay.io
    repositories: [{name: org/app, tags: [{tag: v1}]}]
rules:
  - {prefix: quay, upstream: quay}
`)
	_, findings := runWith(t, acc, diagnose.Options{ConsumerAccounts: []string{"444455556666"}, Checks: []string{"cross-account-pull"}})
	if f := finding(t, findings, "cross-account-pull", "quay"); f.Subject.Kind != "rule" || !strings.Contains(f.Title, "444455556666") {
		t.Errorf("%+v", f)
	}
}

// A repository policy that could not be read is not checked: no drift is guessed, and
// no step overwrites it.
func TestTemplateDriftNotCheckedWhenThePolicyIsUnread(t *testing.T) {
	srv, acc := account(t, filepath.Join("..", "testdata", "scenarios", "template-drift.yaml"))
	setFaults(t, srv, `[{"operation":"GetRepositoryPolicy","errorRate":1}]`)
	_, res := diagnoseResult(t, acc, nil)
	for _, f := range res.Findings {
		if f.Check == "template-drift" {
			t.Errorf("a finding on an unread policy: %s", f.Title)
		}
	}
	found := false
	for _, n := range res.NotChecked {
		found = found || (n.Check == "template-drift" && n.Subject.Name == "quay/org/old" && n.Failed.Operation == "GetRepositoryPolicy")
	}
	if !found {
		t.Errorf("not listed as not checked: %+v", res.NotChecked)
	}
}

// A repository whose lifecycle policy the snapshot does not hold, and no failed read
// either (a scan that did not get to it), is listed as not checked with the call that
// would have read it: never judged on its other settings alone, never left out silently.
func TestTemplateDriftNotCheckedWhenTheLifecycleIsMissing(t *testing.T) {
	const policy = `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}}]}`
	snap := &model.Snapshot{AccountID: "111122223333", Region: "us-east-1",
		Rules: []model.Rule{{Prefix: "quay", UpstreamURL: "quay.io", UpstreamRegistry: "quay"}},
		Templates: []model.Template{{Prefix: "quay", AppliedFor: []string{"PULL_THROUGH_CACHE"}, ImageTagMutability: "IMMUTABLE",
			LifecyclePolicy: policy}},
		Repositories: []model.Repository{{Name: "quay/org/old", RulePrefix: "quay", ImagesKnown: true, SettingsKnown: true,
			ImageTagMutability: "MUTABLE", Images: []model.Image{{Digest: model.ParseDigest("sha256:aa"), Tags: []string{"v1"}}}},
			// Its repository policy and tags unread, no error either: the same.
			{Name: "quay/org/other", RulePrefix: "quay", ImagesKnown: true, LifecycleKnown: true,
				ImageTagMutability: "MUTABLE", Images: []model.Image{{Digest: model.ParseDigest("sha256:bb"), Tags: []string{"v1"}}}}}}
	res := diagnose.Diagnose(context.Background(), snap, nil, diagnose.Options{Checks: []string{"template-drift"}})
	for _, f := range res.Findings {
		t.Errorf("a finding on a repository whose lifecycle policy is unread: %s", f.Title)
	}
	found := map[string]string{}
	for _, n := range res.NotChecked {
		if n.Check == "template-drift" {
			found[n.Subject.Name] = n.Failed.Operation
		}
	}
	if found["quay/org/old"] != "GetLifecyclePolicy" || found["quay/org/other"] != "GetRepositoryPolicy" || res.Complete() {
		t.Errorf("not listed as not checked: %+v", res.NotChecked)
	}
}

// A rule whose secret was deleted refuses every first pull with 403, and containerd prints
// only the status: the deleted secret is the line's cause, confirmed by the chain, not a
// link "also failing" beside a cause the line left unsettled. A secret gone for good and
// one scheduled for deletion alike.
func TestExplainErrorOfA403WhenTheRulesSecretWasDeleted(t *testing.T) {
	_, acc := account(t, filepath.Join("..", "testdata", "scenarios", "deleted-secret.yaml"))
	snap, err := acc.Scan(context.Background(), ecrops.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	acct := &diagnose.Account{Snap: snap, Prober: acc}
	const reg = "111122223333.dkr.ecr.us-east-1.amazonaws.com"
	for _, ref := range []string{reg + "/docker-hub/library/nginx:1.27", reg + "/github/org/app:v2"} {
		tag := ref[strings.LastIndex(ref, ":")+1:]
		// The stand-in refuses the pull as ECR does (403 DENIED).
		repo := strings.TrimPrefix(ref[:strings.LastIndex(ref, ":")], reg+"/")
		if _, err := acc.Warm(context.Background(), repo, tag); err == nil || !strings.Contains(err.Error(), "DENIED") {
			t.Fatalf("%s: a pull through a rule whose secret was deleted: %v", ref, err)
		}
		line := `Error response from daemon: failed to resolve reference "` + ref + `": pulling from host ` + reg + ` failed with status code [manifests ` + tag + `]: 403 Forbidden`
		v, ok := diagnose.ExplainError(context.Background(), acct, line)
		if !ok || v.Cause.ID != "secret-unusable" || !v.Confirmed {
			t.Errorf("%s: cause %q (confirmed %v), want secret-unusable confirmed: %s; also %v; needs %v", ref, v.Cause.ID, v.Confirmed, v.Verdict, v.AlsoFailing, v.Needs)
			continue
		}
		for _, a := range v.AlsoFailing {
			if strings.Contains(a, "secret") {
				t.Errorf("%s: the deleted secret is listed as also failing: %s", ref, a)
			}
		}
		if len(v.Fixes) == 0 {
			t.Errorf("%s: no fix for the secret", ref)
		}
	}
	// ECR's words for an upstream that refused the rule name credentials; with the
	// secret gone, none were sent: the secret is the cause.
	line := `Error response from daemon: pull access denied for ` + reg + `/github/org/app, repository does not exist or may require 'docker login': denied: The authentication to the upstream registry failed. Verify that the credentials provided in the pull through cache rule are correct, and try again.`
	if v, _ := diagnose.ExplainError(context.Background(), acct, line); v.Cause.ID != "secret-unusable" || !v.Confirmed {
		t.Errorf("upstream authentication failed: cause %q (confirmed %v): %s", v.Cause.ID, v.Confirmed, v.Verdict)
	}
}

// explain agrees with doctor: a link whose input could not be read is not checked. With
// the rule's secret deleted, the pull budget of the rule cannot be read (doctor: NOT
// CHECKED upstream-rate-limit, GetSecretValue failed), so the chain neither says "no
// pull limit" nor calls itself complete (trial 16).
func TestExplainDoesNotPassThePullBudgetItCouldNotRead(t *testing.T) {
	_, acc := account(t, filepath.Join("..", "testdata", "scenarios", "deleted-secret.yaml"))
	snap, err := acc.Scan(context.Background(), ecrops.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := model.ParseRef("111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:1.27", snap.AccountID, snap.Region, snap.Rules)
	if err != nil {
		t.Fatal(err)
	}
	ex := diagnose.Explain(context.Background(), snap, acc, ref, diagnose.Options{})
	var budget *diagnose.ExplainStep
	for i, s := range ex.Steps {
		if s.Name == "pull budget" {
			budget = &ex.Steps[i]
		}
	}
	if budget == nil || budget.Status != diagnose.StatusNotChecked || !strings.Contains(budget.Detail, "GetSecretValue") {
		t.Fatalf("pull budget: %+v, want not checked with the failed GetSecretValue", budget)
	}
	if !ex.NotChecked() {
		t.Error("the chain reports itself complete with the pull budget unread")
	}
}

// A creation template not seen because the templates could not be read is not "none".
func TestExplainDoesNotReadUnreadTemplatesAsNone(t *testing.T) {
	snap := &model.Snapshot{AccountID: "111122223333", Region: "us-east-1",
		Rules: []model.Rule{{Prefix: "quay", UpstreamRegistry: "quay", UpstreamURL: "quay.io"}}}
	snap.Errors = append(snap.Errors, model.PartError{Part: model.PartTemplates, Operation: "DescribeRepositoryCreationTemplates", Code: "AccessDeniedException"})
	ref, err := model.ParseRef("111122223333.dkr.ecr.us-east-1.amazonaws.com/quay/org/app:1", snap.AccountID, snap.Region, snap.Rules)
	if err != nil {
		t.Fatal(err)
	}
	ex := diagnose.Explain(context.Background(), snap, lowBudgetProber{}, ref, diagnose.Options{})
	for _, s := range ex.Steps {
		if s.Name == "creation template" && s.Status != diagnose.StatusNotChecked {
			t.Errorf("creation template: %s %q with the templates unread", s.Status, s.Detail)
		}
	}
}

// downProber is an upstream that does not answer (a 503), over an empty cache.
type downProber struct{ lowBudgetProber }

func (downProber) ProbeUpstream(_ context.Context, _ model.Rule, ref string) model.UpstreamProbe {
	return model.UpstreamProbe{Reference: ref, Class: "server-error", Status: 503, Message: "Service Unavailable"}
}

// A Docker Hub name of one segment (docker-hub/nginx) whose upstream did not answer is
// not a good upstream reference, nor one with "no pull limit": both are not checked.
func TestExplainDoesNotPassLinksTheUpstreamDidNotAnswer(t *testing.T) {
	snap := &model.Snapshot{AccountID: "111122223333", Region: "us-east-1",
		Rules: []model.Rule{{Prefix: "docker-hub", UpstreamRegistry: "docker-hub", UpstreamURL: model.DockerHubRegistry}}}
	ref, err := model.ParseRef("111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/nginx:1.27", snap.AccountID, snap.Region, snap.Rules)
	if err != nil {
		t.Fatal(err)
	}
	ex := diagnose.Explain(context.Background(), snap, downProber{}, ref, diagnose.Options{})
	for _, s := range ex.Steps {
		if (s.Name == "upstream reference" || s.Name == "pull budget") && s.Status != diagnose.StatusNotChecked {
			t.Errorf("%s: %s %q with the upstream not answering", s.Name, s.Status, s.Detail)
		}
	}
}
