package ui_test

import (
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// AWS data with C1 controls and bidi overrides is shown escaped, in the lists and
// in the describe view.
func TestDescribeEscapesC1AndBidi(t *testing.T) {
	snap := account("hub/a")
	snap.Rules[0].UpstreamURL = "registry\u009b2J\u202eexample.com"
	app := started(t, &fakeEngine{scans: []*model.Snapshot{snap}}, 100, 30)
	for _, keys := range [][]string{{"1"}, {"d"}} {
		key(app, keys...)
		content := app.View().Content
		if strings.ContainsRune(content, '\u009b') || strings.ContainsRune(content, '\u202e') {
			t.Fatalf("after %v a raw C1 control or bidi override reached the screen:\n%q", keys, content)
		}
		if s := screenText(app); !strings.Contains(s, `\x9b`) || !strings.Contains(s, `\u202e`) {
			t.Fatalf("after %v the controls are not shown escaped:\n%s", keys, s)
		}
	}
}
