package main

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// flat undoes the folding of text output: every run of spaces and line breaks becomes
// one space, so that a test finds a sentence wherever the lines broke.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// wideLines returns the lines of out wider than width, but for those that cannot be
// folded: one word (a URL, an ARN), or a document or command kept whole to be copied
// (keep says which).
func wideLines(out string, width int, keep func(line string) bool) []string {
	var wide []string
	for _, l := range strings.Split(out, "\n") {
		if utf8.RuneCountInString(l) > width && len(strings.Fields(l)) > 1 && (keep == nil || !keep(l)) {
			wide = append(wide, l)
		}
	}
	return wide
}

func TestFoldKeepsEveryLineInTheWidth(t *testing.T) {
	text := "The kubelet asks a credential provider for the image as the pod names it (registry.k8s.io/example/image), not for the mirror's host.\nA second sentence, on a line of its own.\n  aws ecr describe-pull-through-cache-rules --region us-east-1 --ecr-repository-prefixes docker-hub"
	got := fold(text, 40, "Note: ", "  ")
	lines := strings.Split(got, "\n")
	if !strings.HasPrefix(lines[0], "Note: The kubelet") {
		t.Errorf("first line: %q", lines[0])
	}
	for _, l := range lines[:len(lines)-1] {
		if utf8.RuneCountInString(l) > 40 {
			t.Errorf("line wider than 40: %q", l)
		}
	}
	// The text's own line breaks stay; an indented line (a command) is kept whole.
	if !strings.Contains(got, "host.\n  A second") || lines[len(lines)-1] != "    aws ecr describe-pull-through-cache-rules --region us-east-1 --ecr-repository-prefixes docker-hub" {
		t.Errorf("folded:\n%s", got)
	}
	// Control characters never reach the terminal.
	if strings.Contains(fold("a\x1b]0;x\x07 b", 80, "", ""), "\x1b") {
		t.Error("an escape went through")
	}
	if textWidth(&strings.Builder{}) != 80 {
		t.Error("not a terminal: want 80 columns")
	}
}

func TestPlural(t *testing.T) {
	for n, want := range map[int]string{0: "0 errors", 1: "1 error", 2: "2 errors"} {
		if got := plural(n, "error"); got != want {
			t.Errorf("plural(%d) = %q", n, got)
		}
	}
	if got := plural(3, "repository"); got != "3 repositories" {
		t.Errorf("plural(3, repository) = %q", got)
	}
}
