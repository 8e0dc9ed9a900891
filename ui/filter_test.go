package ui_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// A filter's closest matches come first: a finding's id typed whole lists that finding
// first, and a word ("stale") matches the rows that have it, not every row whose text
// has its letters scattered in order.
func TestAFilterRanksExactMatchesFirst(t *testing.T) {
	app := demoApp(t, 120, 40)
	key(app, "3")
	idRE := regexp.MustCompile(`(?m)^ ([0-9a-f]{8}) `)
	var ids []string
	for _, m := range idRE.FindAllStringSubmatch(screenText(app), -1) {
		ids = append(ids, m[1])
	}
	if len(ids) < 5 {
		t.Fatalf("the demo's findings are not listed:\n%s", screenText(app))
	}
	for _, id := range ids {
		findingsMatching(app, id)
		rows := idRE.FindAllStringSubmatch(screenText(app), -1)
		if len(rows) == 0 || rows[0][1] != id {
			t.Errorf("the filter %q does not list its finding first:\n%s", id, screenText(app))
		}
		if !strings.Contains(screenText(app), "  id "+id+"\n") {
			t.Errorf("the filter %q does not select its finding:\n%s", id, screenText(app))
		}
		key(app, "esc")
	}
	findingsMatching(app, "stale")
	s := screenText(app)
	for _, l := range strings.Split(s, "\n") {
		if idRE.MatchString(l+" ") && !strings.Contains(l, "stale") {
			t.Errorf("the filter \"stale\" matches a row without the word: %q\n%s", l, s)
		}
	}
	if !strings.Contains(s, "stale-tag") {
		t.Errorf("the filter \"stale\" misses the stale tag:\n%s", s)
	}
}

// A name typed whole comes before a name that only has its letters in order, whatever
// the list's own order.
func TestAFilterListsTheWholeNameFirst(t *testing.T) {
	app := started(t, &fakeEngine{scans: []*model.Snapshot{account("hub/a1b", "hub/zz/ab")}}, 100, 30)
	key(app, "2", "/")
	typeText(app, "ab")
	key(app, "enter")
	s := screenText(app)
	if a, b := strings.Index(s, "hub/zz/ab"), strings.Index(s, "hub/a1b"); a < 0 || b >= 0 && b < a {
		t.Errorf("the filter \"ab\" should list hub/zz/ab first:\n%s", s)
	}
}
