package diagnose_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// A plan's steps that differ only in their target are one entry of the report, and each
// step reads back from it exactly; steps that differ otherwise, or whose values hold the
// placeholder's text, stay apart.
func TestReportGroupsStepsThatDifferOnlyInTheirTarget(t *testing.T) {
	put := func(repo string) model.Step {
		return model.Step{Kind: model.StepPutLifecyclePolicy, Operation: "ecr:PutLifecyclePolicy", Target: repo,
			Params:  map[string]string{"repositoryName": repo, "lifecyclePolicyText": `{"rules":[]}`},
			Summary: "Give " + repo + " a lifecycle policy"}
	}
	var steps []model.Step
	for i := range 100 {
		steps = append(steps, put(fmt.Sprintf("gen-01/team/app-%04d", i)))
	}
	odd := put("gen-01/odd") // another policy: not the group's
	odd.Params["lifecyclePolicyText"] = `{"rules":[{}]}`
	literal := put("gen-01/{target}") // a value with the placeholder's text reads back ambiguously
	steps = append(steps, odd, literal, put("gen-01/last"))
	res := diagnose.Result{Findings: []model.Finding{{Check: "no-lifecycle", Severity: model.SeverityWarning,
		Subject: model.Subject{Kind: "rule", Name: "gen-01"}, Title: "t",
		Fixes: []model.Fix{{Title: "f", Plan: model.Plan{Steps: steps}}}}}}
	report := diagnose.NewReport(&model.Snapshot{}, res, false)
	got := report.Findings[0].Fixes[0].Steps
	if len(got) != 4 || len(got[0].Targets) != 100 || len(got[1].Targets) != 1 || len(got[2].Targets) != 1 || len(got[3].Targets) != 1 {
		t.Fatalf("steps: %d entries, %+v", len(got), got)
	}
	if got[0].Params["repositoryName"] != diagnose.TargetPlaceholder || !strings.Contains(got[0].Summary, diagnose.TargetPlaceholder) {
		t.Fatalf("the group: %+v", got[0])
	}
	if got[2].Targets[0] != "gen-01/{target}" || got[2].Params["repositoryName"] != "gen-01/{target}" {
		t.Fatalf("the literal: %+v", got[2])
	}
	var back []diagnose.ReportStep
	for _, g := range got {
		back = append(back, g.Expand()...)
	}
	if len(back) != len(steps) {
		t.Fatalf("%d steps read back, want %d", len(back), len(steps))
	}
	for i, s := range steps {
		want := diagnose.ReportStep{Kind: string(s.Kind), Operation: s.Operation, Targets: []string{s.Target}, Params: s.Params, Summary: s.Summary}
		if !reflect.DeepEqual(back[i], want) {
			t.Fatalf("step %d reads back as %+v, want %+v", i, back[i], want)
		}
	}
	out, _ := json.Marshal(report)
	if n := strings.Count(string(out), `rules\":[]`); n != 3 { // the 100 once, the two kept apart once each
		t.Fatalf("the shared policy is written %d times", n)
	}
}

// countingProber answers every upstream probe "exists" and counts the questions.
type countingProber struct {
	mu    sync.Mutex
	asked map[string]int
}

func (c *countingProber) ProbeUpstream(_ context.Context, _ model.Rule, ref string) model.UpstreamProbe {
	c.mu.Lock()
	c.asked[ref]++
	c.mu.Unlock()
	return model.UpstreamProbe{Reference: ref, Exists: true, Status: 200, Digest: "sha256:" + strings.Repeat("a", 64), Anonymous: true}
}
func (c *countingProber) ProbeCache(context.Context, string, string) model.CacheProbe {
	return model.CacheProbe{}
}
func (c *countingProber) ProbePermissions(context.Context, string, string, string, []string) model.PermissionProbe {
	return model.PermissionProbe{}
}

// Two rules without credentials in front of one upstream cache the same image: its
// reference is asked about once, not once per rule.
func TestOneUpstreamReferenceIsProbedOncePerCredentials(t *testing.T) {
	img := model.Image{Digest: model.ParseDigest("sha256:" + strings.Repeat("a", 64)), Tags: []string{"v1"}, LastPull: model.UnixTimeOf(time.Now().Add(-time.Hour))}
	snap := &model.Snapshot{AccountID: "111122223333", Region: "us-east-1",
		Rules: []model.Rule{{Prefix: "a", UpstreamRegistry: "ecr-public", UpstreamURL: "public.ecr.aws"},
			{Prefix: "b", UpstreamRegistry: "ecr-public", UpstreamURL: "public.ecr.aws"}},
		Repositories: []model.Repository{{Name: "a/team/app", RulePrefix: "a", ImagesKnown: true, Images: []model.Image{img}},
			{Name: "b/team/app", RulePrefix: "b", ImagesKnown: true, Images: []model.Image{img}}}}
	p := &countingProber{asked: map[string]int{}}
	diagnose.Diagnose(context.Background(), snap, p, diagnose.Options{Checks: []string{"stale-tag"}, ProbeLimit: 200})
	if n := p.asked["public.ecr.aws/team/app:v1"]; n != 1 {
		t.Fatalf("public.ecr.aws/team/app:v1 asked %d times: %v", n, p.asked)
	}
}

// The Markdown report holds the events' failed pulls, and what came from the cluster (an
// image, a pod, the kubelet's message) stays inert there: no HTML, no escape sequence, no
// backquote that ends a code span.
func TestMarkdownHoldsThePullFailuresInertly(t *testing.T) {
	r := diagnose.Report{Complete: true, PullFailures: []diagnose.PullGroup{{Cause: "library-prefix", Check: "name-mismatch", Title: "A Docker Hub official image pulled without library/",
		Pulls: []diagnose.PullTrace{{Image: "docker-hub/nginx:latest`<img src=x>", Objects: []string{"default/web-1", "default/<b>web-2</b>"}, Events: 3,
			Message: "Failed to pull image \"docker-hub/nginx:latest\": 403 Forbidden \x1b[31m`rm -rf`", Verdict: "Pull docker-hub/library/nginx:latest <now>",
			Fix: "Pull it with library/", Needs: []string{"the role that pulls"}}}}}}
	md := r.Markdown()
	for _, want := range []string{"## Failed image pulls in the events", "### `library-prefix`: A Docker Hub official image pulled without library/ (check `name-mismatch`)",
		"- `docker-hub/nginx:latest'<img src=x>` (3 events; default/web-1, default/&lt;b&gt;web-2&lt;/b&gt;)",
		"the kubelet said: `Failed to pull image \"docker-hub/nginx:latest\": 403 Forbidden \\x1b[31m'rm -rf'`",
		"  - Pull docker-hub/library/nginx:latest &lt;now&gt;", "  - fix: Pull it with library/", "  - would settle it: the role that pulls"} {
		if !strings.Contains(md, want) {
			t.Errorf("the Markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "\x1b") || strings.Contains(md, "<b>") {
		t.Errorf("the Markdown holds what came from outside raw:\n%s", md)
	}
	empty := diagnose.Report{Complete: true, PullFailures: []diagnose.PullGroup{}}
	if md := empty.Markdown(); !strings.Contains(md, "None: no event tells of a failed image pull.") {
		t.Errorf("events without a failed pull:\n%s", md)
	}
	if md := (diagnose.Report{Complete: true}).Markdown(); strings.Contains(md, "image pulls") {
		t.Errorf("no events given, yet a section:\n%s", md)
	}
}
