package diagnose_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

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
