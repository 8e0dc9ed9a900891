package ui_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ptcdoctor/ptcdoctor/model"
	"github.com/ptcdoctor/ptcdoctor/ui"
)

// longPolicy is a registry policy of many statements, the last one marked.
func longPolicy() string {
	var st []map[string]any
	for i := range 8 {
		st = append(st, map[string]any{"Sid": fmt.Sprintf("Statement%d", i), "Effect": "Allow",
			"Principal": map[string]string{"AWS": fmt.Sprintf("arn:aws:iam::111122223333:role/puller-%d", i)},
			"Action":    []string{"ecr:CreateRepository", "ecr:BatchImportUpstreamImage"}, "Resource": "arn:aws:ecr:us-east-1:111122223333:repository/hub/*"})
	}
	st[7]["Sid"] = "TheLastStatement"
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": st})
	return string(b)
}

// A plan shows every input whole: a policy pretty-printed, nothing cut, the end a
// scroll away; after y, the screen follows the results.
func TestAPlanIsShownWholeAndFollowsItsResults(t *testing.T) {
	eng := &fakeEngine{scans: []*model.Snapshot{account("hub/a")},
		journal: []ui.JournalRow{{Plan: "20261130T043512-aaaaaaaaaaaa", Operation: "ecr:PutRegistryPolicy", Target: "registry", Outcome: "done", When: time.Now(), Undoable: true}},
		undo: model.Plan{Title: "Undo 20261130T043512-aaaaaaaaaaaa", Steps: []model.Step{{Kind: "put-registry-policy", Operation: "ecr:PutRegistryPolicy",
			Target: "registry", Summary: "Put back the registry policy as it was", Params: map[string]string{"policyText": longPolicy()}}}}}
	app := started(t, eng, 100, 30)
	key(app, "4", "u")
	s := screenText(app)
	if strings.Contains(s, "...") || !strings.Contains(s, `"Statement": [`) {
		t.Fatalf("the policy is cut, or not pretty-printed:\n%s", s)
	}
	if strings.Contains(s, "TheLastStatement") {
		t.Fatalf("a policy this long should not fit on one screen:\n%s", s)
	}
	key(app, "G")
	if s := screenText(app); !strings.Contains(s, `"Sid": "TheLastStatement"`) {
		t.Fatalf("the end of the policy is not a scroll away:\n%s", s)
	}
	key(app, "g", "y")
	if s := screenText(app); !strings.Contains(s, "step 1 done: ecr:PutRegistryPolicy registry") {
		t.Fatalf("the results are not on screen after y:\n%s", s)
	}
	if len(eng.applied) != 1 {
		t.Fatalf("%d plans applied", len(eng.applied))
	}
}
