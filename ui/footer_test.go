package ui_test

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// A text screen's footer offers a move only where it goes somewhere: down (and pgdn)
// while there is more below, up (and pgup) once there is more above; neither when
// everything fits. The same on every text screen: help, explain, a plan.
func TestTextFootersOfferOnlyMovesThatGoSomewhere(t *testing.T) {
	has := func(foot, k string) bool { return strings.Contains(foot, k) }
	check := func(t *testing.T, where, foot string, down, up bool) {
		t.Helper()
		if has(foot, "j/↓") != down || has(foot, "pgdn") != down || has(foot, "k/↑") != up || has(foot, "pgup") != up {
			t.Errorf("%s: the footer should offer down %v, up %v: %q", where, down, up, foot)
		}
	}
	app := demoApp(t, 80, 24)
	key(app, "?")
	check(t, "the help at its top", lastLine(screenText(app)), true, false)
	key(app, "j")
	check(t, "the help one line down", lastLine(screenText(app)), true, true)
	key(app, "G")
	check(t, "the help at its end", lastLine(screenText(app)), false, true)

	for _, height := range []int{24, 80} {
		app = demoApp(t, 120, height)
		findingsMatching(app, "docker-hub/nginx")
		key(app, "e")
		s := screenText(app)
		if !strings.Contains(s, "upstream reference") {
			t.Fatalf("e did not explain the finding's reference:\n%s", s)
		}
		if height == 80 {
			check(t, "an explanation that fits", lastLine(s), false, false)
			continue
		}
		check(t, "an explanation at its top", lastLine(s), true, false)
		key(app, "G")
		check(t, "an explanation at its end", lastLine(screenText(app)), false, true)
	}
}

// A plan of a finding with several fixes offers both ways between them: n and p.
func TestAPlanOfSeveralFixesOffersBothWays(t *testing.T) {
	app := demoApp(t, 160, 40)
	findingsMatching(app, "docker-hub/nginx")
	key(app, "f", "n")
	s := screenText(app)
	if !strings.Contains(s, "Fix 2 of 2") {
		t.Fatalf("n did not open the second fix:\n%s", s)
	}
	if foot := lastLine(s); !strings.Contains(foot, "p previous fix") || !strings.Contains(foot, "n next fix") {
		t.Errorf("Fix 2 of 2 should offer n and p: %q", foot)
	}
}

// While a question owns the status line, the footer offers its answers, not keys it
// does not take (q and ? are swallowed until the question is answered).
func TestAQuestionsFooterOffersItsAnswers(t *testing.T) {
	app, eng := undoOfTwoSteps(t, false)
	key(app, "4", "u")
	_, apply := app.Update(tea.KeyPressMsg{Code: 'y', Text: "y"})
	app.Update(tea.KeyPressMsg{Code: tea.KeyEscape})
	s := screenText(app)
	if !strings.Contains(s, "Stop the plan after the step under way?") {
		t.Fatalf("esc during the undo did not ask:\n%s", s)
	}
	if foot := lastLine(s); !strings.Contains(foot, "y yes") || !strings.Contains(foot, "n/esc no") || strings.Contains(foot, "q quit") || strings.Contains(foot, "? help") {
		t.Errorf("the question's footer: %q", foot)
	}
	app.Update(tea.KeyPressMsg{Code: 'n', Text: "n"})
	close(eng.release)
	drive(app, apply)
	if foot := lastLine(screenText(app)); !strings.Contains(foot, "q quit") {
		t.Errorf("after the answer the footer should be the screen's again: %q", foot)
	}
}
