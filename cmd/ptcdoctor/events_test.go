package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
)

// kubectl get events -A -o json | ptcdoctor doctor --events-file -, and the same events
// through --images-file: every failed pull explained, grouped by cause, in text and JSON.
func TestDoctorExplainsTheFailedPullsOfEvents(t *testing.T) {
	events, err := os.ReadFile(filepath.Join("..", "..", "testdata", "events", "pull-failures.json"))
	if err != nil {
		t.Fatal(err)
	}
	out, code := runWithStdin(t, demoEnv(t), string(events), "doctor", "--demo", "--events-file", "-")
	if code != exitFindings {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	raw := out[strings.Index(out, "Failed image pulls in the events"):]
	text := flat(raw)
	for _, want := range []string{"library-prefix: ", "missing-import-permission: ", "upstream-credentials: ", "bypassed-cache: ", "back-off-only: ",
		"quay/prometheus/node-exporter:v1.8.1 (30 events; batch/cleanup-28911500-4hj8d)",
		"default/web-7d9c8b6f4-m4ttz, default/web-7d9c8b6f4-x2k9q", "fix: Pull 111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:latest"} {
		if !strings.Contains(text, want) {
			t.Errorf("the text lacks %q:\n%s", want, text)
		}
	}

	out, code = runWithStdin(t, demoEnv(t), string(events), "doctor", "--demo", "--json", "--images-file", "-")
	if code != exitFindings {
		t.Fatalf("--images-file: exit %d:\n%s", code, out)
	}
	var report diagnose.Report
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&report); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	causes := map[string]int{}
	for _, g := range report.PullFailures {
		causes[g.Cause] = len(g.Pulls)
	}
	if causes["library-prefix"] != 1 || causes["missing-import-permission"] != 1 || causes["bypassed-cache"] != 1 || len(report.PullFailures) != 5 {
		t.Fatalf("pullFailures: %+v", report.PullFailures)
	}
	// The JSON's cause words are the text's.
	for _, g := range report.PullFailures {
		if !strings.Contains(raw, "\n"+g.Cause+": ") {
			t.Errorf("--json cause %q is not the text's", g.Cause)
		}
	}

	// The Markdown report holds what the JSON holds: every group, every image, its pods,
	// the kubelet's message, the verdict and the fix.
	md, code := runWithStdin(t, demoEnv(t), string(events), "doctor", "--demo", "--markdown", "--events-file", "-")
	if code != exitFindings || !strings.Contains(md, "## Failed image pulls in the events") {
		t.Fatalf("--markdown: exit %d:\n%s", code, md)
	}
	md = md[strings.Index(md, "## Failed image pulls in the events"):]
	for _, g := range report.PullFailures {
		if !strings.Contains(md, "### `"+g.Cause+"`: "+g.Title) {
			t.Errorf("--markdown lacks the group %s", g.Cause)
		}
		for _, p := range g.Pulls {
			for _, want := range append([]string{"- `" + p.Image + "` (", strings.Join(p.Objects, ", "), p.Verdict, p.Fix}, p.Needs...) {
				if !strings.Contains(mdUnescaped(md), want) {
					t.Errorf("--markdown lacks %q of %s in %s:\n%s", want, p.Image, g.Cause, md)
				}
			}
			if p.Message != "" && !strings.Contains(md, "the kubelet said: `") {
				t.Errorf("--markdown lacks the kubelet's message of %s", p.Image)
			}
		}
	}

	// kubectl's answer on a quiet cluster: no failed pull, not a usage error.
	quiet := `{"apiVersion":"v1","items":[],"kind":"List","metadata":{"resourceVersion":""}}`
	if out, code := runWithStdin(t, demoEnv(t), quiet, "doctor", "--demo", "--events-file", "-"); code == exitUsage || !strings.Contains(out, "Failed image pulls in the events: 0 causes") {
		t.Fatalf("an empty events list: exit %d:\n%s", code, out)
	}

	if out, _ := runWithStdin(t, demoEnv(t), quiet, "doctor", "--demo", "--markdown", "--events-file", "-"); !strings.Contains(out, "None: no event tells of a failed image pull.") {
		t.Fatalf("an empty events list, --markdown:\n%s", out)
	}
	if out, code := runWithStdin(t, demoEnv(t), "nginx:1.27\n", "doctor", "--demo", "--events-file", "-"); code != exitUsage || !strings.Contains(out, "not Kubernetes events") {
		t.Fatalf("not events: exit %d:\n%s", code, out)
	}
}

// mdUnescaped reads back the texts that the Markdown report made inert (HTML entities,
// backslash escapes), to find them in it.
func mdUnescaped(md string) string {
	md = regexp.MustCompile(`\\([[:punct:]])`).ReplaceAllString(md, "$1")
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(md)
}
