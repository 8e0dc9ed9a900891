package ui_test

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/ptcdoctor/ptcdoctor/model"
	"github.com/ptcdoctor/ptcdoctor/ui"
)

// At 80 columns the journal shows each plan's id whole: they start alike.
func TestAt80ColumnsTheJournalShowsWholePlanIDs(t *testing.T) {
	when := time.Date(2026, 11, 30, 4, 35, 0, 0, time.UTC)
	eng := &fakeEngine{scans: []*model.Snapshot{account("hub/a")}, journal: []ui.JournalRow{
		{Plan: "20261130T043512-aaaaaaaaaaaa", Title: "Use hub/library/nginx", Operation: "ecr:DeleteRepository", Target: "hub/nginx", Outcome: "done", When: when},
		{Plan: "20261130T043519-bbbbbbbbbbbb", Title: "New credentials for github/", Operation: "secretsmanager:PutSecretValue", Target: "ecr-pullthroughcache/github", Outcome: "done", When: when, Undoable: true},
	}}
	app := started(t, eng, 80, 24)
	key(app, "4")
	s := ansi.Strip(app.View().Content) // screenText would hide the ids
	for _, id := range []string{"20261130T043512-aaaaaaaaaaaa", "20261130T043519-bbbbbbbbbbbb"} {
		if !strings.Contains(s, id) {
			t.Fatalf("plan %s is not shown whole:\n%s", id, s)
		}
	}
}
