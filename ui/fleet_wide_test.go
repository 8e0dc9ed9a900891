package ui_test

import (
	"strings"
	"testing"
)

// A tall terminal shows the selected row whole under the rows, where there were blank
// lines; the rows come first (at 80×24 every one of them still shows).
func TestFleetDetailPaneWhenTall(t *testing.T) {
	app := fleetApp(t, 160, 48)
	drive(app, app.Init())
	selectRow(app, "444444444444 us-east-1")
	key(app, "esc") // the filter cleared, the row still selected
	s := screenText(app)
	if !strings.Contains(s, "Account:  444444444444 (sandbox)") || !strings.Contains(s, "Not scanned") {
		t.Fatalf("no detail pane at 160×48:\n%s", s)
	}
	small := fleetApp(t, 80, 24)
	drive(small, small.Init())
	if s := screenText(small); lineWith(s, "cross-acct", "drift", "lifecycle") == "" {
		t.Errorf("at 80×24 the rows gave way to the detail:\n%s", s)
	}
}
