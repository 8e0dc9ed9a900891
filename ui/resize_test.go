package ui_test

import (
	"regexp"
	"strings"
	"testing"
)

var detailID = regexp.MustCompile(`\bid ([0-9a-f]{8})\b`)

// The selected row stays in view when the window shrinks: the detail names the
// selected finding's id, and its row is drawn in the table.
func TestTheSelectedRowStaysInViewOnResize(t *testing.T) {
	app := demoApp(t, 160, 48)
	key(app, "3", "G")
	for _, size := range [][2]int{{80, 24}, {60, 15}, {160, 48}, {60, 12}} {
		app.Update(windowSize(size[0], size[1]))
		s := screenText(app)
		m := detailID.FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("%v: no finding selected:\n%s", size, s)
		}
		if !strings.Contains(s, "\n "+m[1]+" ") {
			t.Fatalf("%v: the selected row %s is out of view:\n%s", size, m[1], s)
		}
	}
}
