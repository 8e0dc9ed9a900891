package ui_test

import (
	"strings"
	"testing"
)

// e starts from the selected finding; its verdict is linked to the finding (o opens
// it), and its fixes open as plans (f).
func TestExplainStartsFromTheRowAndLeadsOn(t *testing.T) {
	app := demoApp(t, 120, 40)
	findingsMatching(app, "docker-hub/nginx")
	key(app, "e")
	s := screenText(app)
	if !strings.Contains(s, "Verdict") || !strings.Contains(s, "docker-hub/nginx:latest") {
		t.Fatalf("e did not explain the selected finding's reference:\n%s", s)
	}
	if !strings.Contains(s, "This is the finding") {
		t.Fatalf("the verdict is not linked to its finding:\n%s", s)
	}
	key(app, "f")
	if s := screenText(app); !strings.Contains(s, "Plan: ") || !strings.Contains(s, "ecr:DeleteRepository") {
		t.Fatalf("f did not open the explanation's fix:\n%s", s)
	}
	key(app, "esc", "o")
	s = screenText(app)
	if !strings.Contains(s, "ERROR name-mismatch") || !strings.Contains(s, "SUBJECT") {
		t.Fatalf("o did not open the finding:\n%s", s)
	}
}
