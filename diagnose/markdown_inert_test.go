package diagnose_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
)

// Every text from outside (a name, a message, an event's line, a fix's words) is inert
// in the Markdown report, in every section: no link, image, emphasis, HTML, heading,
// list item or quote comes out of it, and no code span or fence is ended early.
func TestMarkdownKeepsHostileTextInert(t *testing.T) {
	hostile := []string{
		"[click EVIL](http://evil.example/x)", "![EVIL](http://evil.example/x.png)", "**EVIL** __EVIL__ *EVIL* _EVIL_",
		"<img src=x onerror=alert(1)>EVIL", "`EVIL` ``EVIL``", "# EVIL", "- EVIL", "+ EVIL", "1. EVIL", "2) EVIL", "> EVIL",
		"a\n# EVIL\n- EVIL\n```\n<b>EVIL</b>", "| EVIL | x |", `\[EVIL](http://x)`, "```EVIL", "  # EVIL", "<http://evil.example>EVIL",
	}
	for _, h := range hostile {
		r := diagnose.Report{Account: h, Region: h, Identity: h, Complete: false,
			Errors:     []diagnose.ReportError{{Part: h, Operation: h, Code: h, Message: h}},
			NotChecked: []diagnose.ReportNotChecked{{Check: h, Subject: diagnose.ReportSubject{Kind: "repository", Name: h}, Operation: h, Code: h, Message: h}},
			Findings: []diagnose.ReportFinding{{ID: h, Check: h, Severity: h, Subject: diagnose.ReportSubject{Kind: h, Name: h}, Title: h, Explanation: h,
				Evidence: []diagnose.ReportEvidence{{Call: h, Answer: h}},
				Fixes:    []diagnose.ReportFix{{Title: h, Manual: h, Steps: []diagnose.ReportStep{{Operation: h, Targets: []string{h, h}, Params: map[string]string{"p": h}}}}}}},
			PullFailures: []diagnose.PullGroup{{Cause: h, Check: h, Title: h, Pulls: []diagnose.PullTrace{{Image: h, Objects: []string{h}, Events: 1, Message: h, Verdict: h, Fix: h, Needs: []string{h}}}}},
		}
		md := r.Markdown()
		if bad := liveMarkdown(md); bad != "" {
			t.Errorf("%q comes out live in the Markdown: %s\n%s", h, bad, md)
		}
	}
}

var (
	mdCodeSpan  = regexp.MustCompile("`[^`]*`")
	mdEscaped   = regexp.MustCompile(`\\[[:punct:]]`)
	mdBlockLead = regexp.MustCompile(`^\s*(?:(?:[-+*]|\d+[.)])\s+)*(?:#{1,6}\s|[-+*]\s|\d+[.)]\s|>)\s*EVIL`)
)

// liveMarkdown names the first construct of the hostile text that Markdown would render,
// or "". It reads the report as CommonMark does, roughly: fenced and indented code is
// inert, code spans are, escaped characters are.
func liveMarkdown(md string) string {
	fence := ""
	for _, line := range strings.Split(md, "\n") {
		if fence != "" {
			if strings.TrimSpace(line) == fence {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(line, "    ") {
			continue // an indented code block (a plan's steps)
		}
		if t := strings.TrimLeft(line, " "); strings.HasPrefix(t, "```") {
			fence = t[:len(t)-len(strings.TrimLeft(t, "`"))]
			continue
		}
		plain := mdEscaped.ReplaceAllString(line, "·")
		if strings.Count(plain, "`")%2 != 0 {
			return "a code span left open: " + line
		}
		plain = mdCodeSpan.ReplaceAllString(plain, "·")
		for _, live := range []string{"](", "![", "*EVIL", "_EVIL", "EVIL*", "EVIL_", "<", "|"} {
			if strings.Contains(plain, live) {
				return live + " in " + line
			}
		}
		if mdBlockLead.MatchString(plain) {
			return "a block marker in " + line
		}
	}
	if fence != "" {
		return "a fence left open"
	}
	return ""
}

// A subject left unjudged twice by the same failed call (a repository probed under two
// references) is named once: "repository docker-hub/nginx, repository docker-hub/nginx"
// read as two.
func TestNotCheckedNamesEachSubjectOnce(t *testing.T) {
	nginx := diagnose.ReportNotChecked{Check: "name-mismatch", Subject: diagnose.ReportSubject{Kind: "repository", Name: "docker-hub/nginx"},
		Operation: "upstream:registry-1.docker.io", Code: "500", Message: "UNAVAILABLE"}
	other := nginx
	other.Subject.Name = "docker-hub/library/nginx"
	r := diagnose.Report{NotChecked: []diagnose.ReportNotChecked{nginx, nginx, other}}
	groups := r.NotCheckedGroups()
	if len(groups) != 1 || groups[0].Subjects() != "repository docker-hub/nginx, repository docker-hub/library/nginx" {
		t.Fatalf("%+v", groups)
	}
}
