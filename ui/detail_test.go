package ui_test

import (
	"regexp"
	"strings"
	"testing"

	"charm.land/lipgloss/v2"
)

// The findings detail pane shows a name longer than the pane whole: no line runs past
// its edge, and a cache URI cut by the edge continues on the next line after ↪.
func TestTheDetailPaneShowsALongNameWhole(t *testing.T) {
	const width = 64
	app := demoApp(t, width, 40)
	findingsMatching(app, "docker-hub/nginx")
	s := screenText(app)
	for i, l := range strings.Split(s, "\n") {
		if w := lipgloss.Width(l); w > width {
			t.Errorf("line %d is %d columns wide: %q", i, w, l)
		}
	}
	joined := regexp.MustCompile(`\n *↪ `).ReplaceAllString(s, "")
	if !strings.Contains(joined, "\n111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:latest\n") {
		t.Fatalf("the detail pane does not show the cache URI whole, even across its continuation:\n%s", s)
	}
}
