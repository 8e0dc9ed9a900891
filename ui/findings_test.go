package ui_test

import (
	"regexp"
	"strings"
	"testing"
)

// At 80 columns the rows of one account differ where their subjects and titles do:
// the account's part of an ARN or a cache URI is left to the detail pane.
func TestAt80ColumnsEveryFindingReadsDifferently(t *testing.T) {
	app := demoApp(t, 80, 40)
	key(app, "3")
	row := regexp.MustCompile(`^ ([0-9a-f]{8})\s+(ERR|WARN|INFO)\s+(.*)$`)
	seen := map[string]string{}
	for _, l := range strings.Split(screenText(app), "\n") {
		m := row.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		if other, ok := seen[m[3]]; ok {
			t.Fatalf("findings %s and %s read the same at 80 columns: %q\n%s", other, m[1], m[3], screenText(app))
		}
		seen[m[3]] = m[1]
	}
	if len(seen) < 10 {
		t.Fatalf("only %d finding rows on screen:\n%s", len(seen), screenText(app))
	}
}

// The help and quit keys are on the footer of every screen at 80 columns.
func TestAt80ColumnsTheFooterKeepsHelpAndQuit(t *testing.T) {
	app := demoApp(t, 80, 24)
	for _, keys := range [][]string{{"1"}, {"2"}, {"enter"}, {"3"}, {"f"}, {"esc", "d"}, {"esc", "4"}, {"?"}} {
		key(app, keys...)
		lines := strings.Split(screenText(app), "\n")
		if foot := lines[len(lines)-1]; !strings.Contains(foot, "? help") || !strings.Contains(foot, "q quit") {
			t.Fatalf("after %v the footer lacks ? help or q quit: %q", keys, foot)
		}
	}
}

// Every fix of a finding can be reached: f opens the first plan, n the next.
func TestEveryFixOfAFindingCanBeOpened(t *testing.T) {
	app := demoApp(t, 120, 40)
	findingsMatching(app, "docker-hub/nginx")
	if s := screenText(app); !strings.Contains(s, "n and p") {
		t.Fatalf("the detail does not say how to reach the other fixes:\n%s", s)
	}
	key(app, "f")
	if s := screenText(app); !strings.Contains(s, "Fix 1 of 2") {
		t.Fatalf("the first plan:\n%s", s)
	}
	key(app, "n")
	s := screenText(app)
	if !strings.Contains(s, "Fix 2 of 2") || strings.Contains(s, "ecr:DeleteRepository") {
		t.Fatalf("n did not open the second fix:\n%s", s)
	}
	key(app, "esc", "2")
	if s := screenText(app); !strings.Contains(s, "REPOSITORY") {
		t.Fatalf("2 is the repositories tab on every screen:\n%s", s)
	}
}
