package ui_test

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/ptcdoctor/ptcdoctor/model"
	"github.com/ptcdoctor/ptcdoctor/ui"
)

// At 80 columns the journal shows the tail of each plan's id that tells the plans
// apart (they start alike, with their time), leaving PLAN TITLE room; d describes the
// row with the whole id, and its step numbered from 1, as ptcdoctor journal says it.
func TestAt80ColumnsTheJournalShowsPlanTailsAndDescribeTheWholeID(t *testing.T) {
	when := time.Date(2026, 11, 30, 4, 35, 0, 0, time.UTC)
	eng := &fakeEngine{scans: []*model.Snapshot{account("hub/a")}, journal: []ui.JournalRow{
		{Plan: "20261130T043512-aaaaaaaabbbb", Title: "Use hub/library/nginx", Operation: "ecr:DeleteRepository", Target: "hub/nginx", Outcome: "done", When: when},
		{Plan: "20261130T043519-bbbbaaaabbbb", Title: "New credentials for github/", Operation: "secretsmanager:PutSecretValue", Target: "ecr-pullthroughcache/github", Outcome: "done", When: when, Step: 1, Undoable: true},
	}}
	app := started(t, eng, 80, 24)
	key(app, "4")
	s := ansi.Strip(app.View().Content)                         // screenText would hide the ids
	for _, tail := range []string{"…aaaaabbbb", "…baaaabbbb"} { // 8 would not tell them apart
		if !strings.Contains(s, tail) {
			t.Fatalf("plan tail %s is not shown:\n%s", tail, s)
		}
	}
	if strings.Contains(s, "20261130T04351") || !strings.Contains(s, "New credentials for") || !strings.Contains(s, "Use hub/library/nginx") {
		t.Fatalf("the whole id takes the room of the title:\n%s", s)
	}
	key(app, "d")
	s = ansi.Strip(app.View().Content)
	if !strings.Contains(s, `"Plan": "20261130T043519-bbbbaaaabbbb"`) || !strings.Contains(s, `"Step": 2`) || strings.Contains(s, `"Step": 1`) {
		t.Fatalf("describe should give the whole id and the step as ptcdoctor journal numbers it (2):\n%s", s)
	}
}

// At 80 columns the journal also says when and what plan: WHEN and PLAN TITLE are
// shown, the newest row first, with the cursor on it; a target is shortened to the
// part that differs between rows.
func TestAt80ColumnsTheJournalSaysWhenAndWhatPlan(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	eng := &fakeEngine{scans: []*model.Snapshot{account("hub/a")}, journal: []ui.JournalRow{
		{Plan: "20261130T043512-aaaaaaaaaaaa", Title: "Use hub/library/nginx", Operation: "ecr:DeleteRepository", Target: "hub/nginx", Outcome: "done", When: now.Add(-3 * time.Hour)},
		{Plan: "20261130T083519-bbbbbbbbbbbb", Title: "Grant the import", Operation: "ecr:SetRepositoryPolicy", Target: "arn:aws:iam::111122223333:role/eks-node", Outcome: "done", When: now.Add(-20 * time.Minute), Undoable: true},
	}}
	app := started(t, eng, 80, 24)
	key(app, "4")
	s := ansi.Strip(app.View().Content)
	for _, want := range []string{"WHEN", "TITLE", "20m ago", "3h ago", "eks-node"} { // a path cut in its middle keeps its end
		if !strings.Contains(s, want) {
			t.Errorf("the journal at 80 columns lacks %q:\n%s", want, s)
		}
	}
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "…bbbbbbbb") && strings.Contains(l, "arn:aws") {
			t.Errorf("the target is not shortened:\n%s", s)
		}
	}
	if a, b := strings.Index(s, "…bbbbbbbb"), strings.Index(s, "…aaaaaaaa"); a < 0 || b < 0 || a > b {
		t.Errorf("the newest row is not first:\n%s", s)
	}
	if strings.Contains(s, "enter") {
		t.Errorf("enter is offered on the journal, where it opens nothing:\n%s", s)
	}
}

// A write made in another account or region says where it ran, and is not offered for
// undo; this account's own stays undoable.
func TestTheJournalSaysWhereAPlanRanElsewhere(t *testing.T) {
	when := time.Date(2026, 11, 30, 4, 35, 0, 0, time.UTC)
	eng := &fakeEngine{scans: []*model.Snapshot{account("hub/a")}, journal: []ui.JournalRow{
		{Plan: "20261130T043512-aaaaaaaaaaaa", Title: "Template for quay/", Operation: "ecr:CreateRepositoryCreationTemplate", Target: "quay", Outcome: "done", When: when,
			Elsewhere: "ran in 100000000001 us-east-1"},
		{Plan: "20261130T043519-bbbbbbbbbbbb", Title: "Template for quay/", Operation: "ecr:CreateRepositoryCreationTemplate", Target: "quay", Outcome: "done", When: when, Undoable: true},
	}}
	app := started(t, eng, 160, 24)
	key(app, "4")
	s := ansi.Strip(app.View().Content)
	if !strings.Contains(s, "…aaaaaaaa") || !strings.Contains(s, "…bbbbbbbb") {
		t.Fatalf("a plan is missing:\n%s", s)
	}
	for _, l := range strings.Split(s, "\n") {
		switch {
		case strings.Contains(l, "…aaaaaaaa") && (!strings.Contains(l, "ran in 100000000001 us-east-1") || !strings.HasSuffix(strings.TrimSpace(l), "no")):
			t.Errorf("the plan that ran elsewhere: %q", l)
		case strings.Contains(l, "…bbbbbbbb") && !strings.HasSuffix(strings.TrimSpace(l), "yes"):
			t.Errorf("the plan that ran here: %q", l)
		}
	}
	key(app, "G") // the oldest row: the one that ran elsewhere
	key(app, "u")
	if s := ansi.Strip(app.View().Content); !strings.Contains(s, "not undone: plan 20261130T043512-aaaaaaaaaaaa ran in 100000000001") {
		t.Errorf("u on the plan that ran elsewhere:\n%s", s)
	}
}
