package ui_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/ptcdoctor/ptcdoctor/model"
	"github.com/ptcdoctor/ptcdoctor/ui"
)

// lastLine and secondLine are the footer and the tab line of a screen's text.
func lastLine(s string) string {
	lines := strings.Split(s, "\n")
	return lines[len(lines)-1]
}

func secondLine(s string) string { return strings.Split(s, "\n")[1] }

// statusOf is the status line of the interface's screen.
func statusOf(app *ui.App) string { return strings.Split(screenText(app), "\n")[2] }

// command types a command line and runs it.
func command(app *ui.App, line string) {
	key(app, ":")
	typeText(app, line)
	key(app, "enter")
}

// cutWord is a word cut short by an ellipsis: letters run into it.
var cutWord = regexp.MustCompile(`\p{L}…`)

// At 80 columns the breadcrumb keeps the end of the screen's name whole, and the footer
// leaves out whole keys, never half of one.
func TestNarrowChromeCutsNoWord(t *testing.T) {
	app := demoApp(t, 80, 24)
	key(app, "2", "/")
	typeText(app, "library/nginx")
	key(app, "enter", "enter")
	screen := screenText(app)
	if tabs := secondLine(screen); !strings.HasSuffix(tabs, "/library/nginx") || cutWord.MatchString(tabs) {
		t.Errorf("the tab line at 80 columns cuts the breadcrumb: %q", tabs)
	}
	for _, s := range []string{"2", "3", "4"} {
		key(app, s)
		screen = screenText(app)
		if foot := lastLine(screen); cutWord.MatchString(foot) || !strings.HasSuffix(foot, "? help • q quit") {
			t.Errorf("the footer at 80 columns cuts a key: %q", foot)
		}
	}
}

// Every sorted column shows its marker in the header, however narrow the column.
func TestTheSortMarkerShowsInAShortenedHeader(t *testing.T) {
	app := demoApp(t, 80, 24)
	for _, tab := range [][]string{{"2"}, {"2", "/", "l", "i", "b", "r", "a", "r", "y", "/", "n", "g", "i", "n", "x", "enter", "enter"}, {"3"}} {
		key(app, tab...)
		for i := 0; i < 8; i++ {
			key(app, "s")
			lines := strings.Split(screenText(app), "\n")
			if !strings.Contains(lines[3], "sorted by") {
				continue
			}
			if !strings.ContainsAny(lines[4], "▲▼") {
				t.Errorf("sorted, with no marker in the header:\n%s\n%s", lines[3], lines[4])
			}
			key(app, "S")
			if lines := strings.Split(screenText(app), "\n"); !strings.ContainsAny(lines[4], "▲▼") {
				t.Errorf("reversed, with no marker in the header:\n%s\n%s", lines[3], lines[4])
			}
		}
	}
}

// S on a list in its natural order says what that order is, and how to sort.
func TestReverseInNaturalOrderSaysTheOrder(t *testing.T) {
	app := demoApp(t, 80, 24)
	for tab, want := range map[string]string{"1": "by prefix", "2": "by name", "3": "by severity", "4": "newest first"} {
		key(app, tab, "S")
		if status := statusOf(app); !strings.Contains(status, want) || !strings.Contains(status, "s sorts") {
			t.Errorf("tab %s: S in natural order says %q", tab, status)
		}
	}
}

// explainAt explains a reference on a fresh demo interface of that size.
func explainAt(t *testing.T, width, height int, ref string) string {
	app := demoApp(t, width, height)
	key(app, "3", "e")
	typeText(app, ref)
	key(app, "enter")
	return screenText(app)
}

// The explanation's links read as sentences: what was checked, a gap, what was seen,
// the latter folded under itself.
func TestExplainStepsReadAsSentences(t *testing.T) {
	const ref = "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/nginx:latest"
	wide := explainAt(t, 160, 48, ref)
	if !regexp.MustCompile(`cached for every platform +no platform of it is cached: the repository is empty`).MatchString(wide) {
		t.Errorf("the cache's link does not read as a sentence:\n%s", wide)
	}
	narrow := explainAt(t, 80, 24, ref)
	lines := strings.Split(narrow, "\n")
	for i, l := range lines {
		if strings.Contains(l, "upstream reference") {
			if next := lines[i+1]; !strings.HasPrefix(next, strings.Repeat(" ", 20)) {
				t.Errorf("a link's detail folds back to the margin:\n%s\n%s", l, next)
			}
			return
		}
	}
	t.Errorf("no upstream reference link at 80 columns:\n%s", narrow)
}

// At 80×24 the selected finding's detail is read to its end with J, back with K; its
// last line says what is below and how to get there, and the keys are offered.
func TestTheFindingDetailScrollsDown(t *testing.T) {
	app := demoApp(t, 80, 24)
	key(app, "3")
	screen := screenText(app)
	if strings.Contains(screen, "Fixes") || !strings.Contains(screen, "more lines: J scrolls down") || !strings.Contains(lastLine(screen), "J/K") {
		t.Fatalf("the first finding's fixes fit, or the pane does not say there is more:\n%s", screen)
	}
	for i := 0; i < 40 && regexp.MustCompile(`more lines|below`).MatchString(screenText(app)); i++ {
		key(app, "J")
	}
	screen = screenText(app)
	if !strings.Contains(screen, "Fixes") || !strings.Contains(screen, "1. ") || strings.Contains(screen, "below") {
		t.Fatalf("J does not reach the end of the fixes:\n%s", screen)
	}
	if !strings.Contains(screen, "lines above") {
		t.Errorf("scrolled down, the pane does not say what is above:\n%s", screen)
	}
	key(app, "?")
	if help := screenText(app); !strings.Contains(help, "scroll detail") {
		t.Errorf("the help does not offer J/K:\n%s", help)
	}
}

// Read at 80×24 as a new user would: a finding about a cache URI shows its id, the
// URI not cut; y on a fix done by hand says why nothing happens; the plan's footer
// offers the moves that do something (← and → for a line wider than the screen).
func TestNarrowFindingAndPlanReadWhole(t *testing.T) {
	_, eng := demo(t)
	const ref = "111122223333.dkr.ecr.us-east-1.amazonaws.com/dockerhub/library/alpine:3.20"
	app := ui.New(context.Background(), eng, ui.Options{NoColor: true, Images: []string{ref}})
	app.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	drive(app, app.Init())
	findingsMatching(app, "dockerhub/library") // its closest match first, and selected
	screen := screenText(app)
	if !regexp.MustCompile(`(?m)^ERROR name-mismatch  id [0-9a-f]{8}\nreference\s` + regexp.QuoteMeta(ref) + `$`).MatchString(screen) {
		t.Errorf("the detail's first lines cut the subject or its id:\n%s", screen)
	}
	key(app, "f", "y")
	if status := statusOf(app); !strings.Contains(status, "done by hand") {
		t.Errorf("y on a fix done by hand says %q", status)
	}
	if foot := lastLine(screenText(app)); strings.Contains(foot, "down") {
		t.Errorf("a plan that fits offers to scroll: %q", foot)
	}
	app = demoApp(t, 80, 24)
	key(app, "3", "f")
	if foot := lastLine(screenText(app)); !strings.Contains(foot, "←/→") {
		t.Errorf("a plan with a line wider than the screen does not offer ←/→: %q", foot)
	}
}

// At 80 columns: describe folds at spaces and keeps an ARN whole (←/→ offered to read
// it), a long error on the status line is cut at a word, and the explain input says
// what enter does.
func TestNarrowDescribeStatusAndExplainRead(t *testing.T) {
	app := demoApp(t, 80, 24)
	key(app, "d")
	screen := screenText(app)
	for _, l := range strings.Split(screen, "\n")[3:22] {
		if l != "" && !strings.HasPrefix(l, " ") && !strings.HasPrefix(l, "{") && !strings.HasPrefix(l, "}") {
			t.Errorf("a value broken across lines, its rest at the margin: %q", l)
		}
	}
	if !strings.Contains(lastLine(screen), "←/→") {
		t.Errorf("describe does not offer ←/→ for its long lines: %q", lastLine(screen))
	}
	key(app, "esc")
	command(app, "bogus")
	if status := statusOf(app); !strings.Contains(status, "Unknown command") || cutWord.MatchString(status) {
		t.Errorf("the status line cuts a word: %q", status)
	}
	key(app, "e")
	if foot := lastLine(screenText(app)); !strings.Contains(foot, "enter explain it") {
		t.Errorf("the explain input's footer: %q", foot)
	}
}

// A path cell loses its middle, and a digest its end: rows of one prefix still differ.
func TestPathCellsKeepWhatDiffers(t *testing.T) {
	for in, want := range map[string]string{
		"ecr-public/eks-distro/kubernetes/pause":                   "ecr-public/…/kubernetes/pause",
		"kubernetes/coredns/coredns@sha256:3686418df00d15e3b7aaaa": "…/coredns@sha256:3686418d…",
		"role/eks-node": "role/eks-node",
	} {
		if got := ui.PathCut(in, 30); got != want || len([]rune(got)) > 30 {
			t.Errorf("PathCut(%q, 30) = %q, want %q", in, got, want)
		}
	}
	if got := ui.PathCut("role/eks-node", 12); got != "…/eks-node" {
		t.Errorf("PathCut(role/eks-node, 12) = %q", got)
	}
}

// The setup's footer names what the form's own help does not: esc leaves it, unwritten.
func TestTheSetupFooterSaysHowToLeave(t *testing.T) {
	app := demoApp(t, 80, 24)
	command(app, "setup")
	if foot := lastLine(screenText(app)); !strings.Contains(foot, "esc leave the setup (nothing is written)") || strings.Contains(foot, "go in") {
		t.Errorf("the setup's footer: %q", foot)
	}
}

// A key with nothing to act on says why nothing happens: u and d on an empty
// journal, ! with no error on the status line.
func TestKeysWithNothingToActOnSaySo(t *testing.T) {
	app := started(t, &fakeEngine{scans: []*model.Snapshot{account("hub/a")}}, 80, 24)
	for _, c := range []struct{ keys, want string }{{"4u", "nothing to undo"}, {"d", "no row is selected"}, {"!", "no error to show"}} {
		typeText(app, c.keys)
		if status := statusOf(app); !strings.Contains(status, c.want) {
			t.Errorf("%s says %q", c.keys, status)
		}
	}
}
