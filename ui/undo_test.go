package ui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// An undo whose step deletes runs only once its target's name is typed, as a fix's does.
func TestJourneyUndoOfADeleteNeedsTheTypedName(t *testing.T) {
	srv, eng := demo(t)
	const repo = "quay/prometheus/node-exporter"
	policy := `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}}]}`
	if _, err := eng.Account.Apply(context.Background(), model.Plan{Title: "Lifecycle", Steps: []model.Step{{Kind: model.StepPutLifecyclePolicy,
		Operation: "ecr:PutLifecyclePolicy", Target: repo, Params: map[string]string{"lifecyclePolicyText": policy}}}}, ecrops.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	writes := writesOf(srv)
	var before int
	out := journey(t, eng, func(tm *teatest.TestModel) {
		press(tm, "4", "u", "y")
		waitDrawn(t, tm, "Type its name")
		before = writesOf(srv)
		press(tm, repo, "enter")
		waitDrawn(t, tm, "step 1 done")
	})
	if before != writes {
		t.Fatal("the undo deleted before the name was typed")
	}
	if !strings.Contains(out, "ecr:DeleteLifecyclePolicy") || writesOf(srv) != writes+1 {
		t.Fatalf("after typing the name:\n%s", out)
	}
}
