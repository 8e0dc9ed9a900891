package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/term"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// defaultWidth is the width text is folded to when the output is not a terminal, or
// its width is not known: what a pasted report or a log still reads well at.
const defaultWidth = 80

// textWidth is the width to fold text to on w: the terminal's, when w is one.
func textWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok || !isTerminal(f) {
		return defaultWidth
	}
	if cols, _, err := term.GetSize(f.Fd()); err == nil && cols >= 40 {
		return cols
	}
	return defaultWidth
}

// say prints s folded to w's width: first before the first line, indent before the
// others. s is made printable first, line by line, so that its own line breaks stay.
func say(w io.Writer, first, indent, s string) {
	fmt.Fprintln(w, fold(s, textWidth(w), first, indent))
}

// fold folds s so that no line, its prefix counted, is wider than width (a word
// wider than a line is kept whole). Line breaks in s are kept: each line is folded
// on its own, made printable first; an indented line after the first (a command, a
// snippet) is kept whole.
func fold(s string, width int, first, indent string) string {
	var b strings.Builder
	prefix := first
	for i, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if i > 0 {
			b.WriteString("\n")
		}
		rest := strings.TrimLeft(line, " ")
		lead := line[:len(line)-len(rest)] // a snippet's or a document's indentation
		if rest == "" {                    // an empty line, without the prefix's trailing spaces
			b.WriteString(strings.TrimRight(prefix, " "))
			prefix = indent
			continue
		}
		b.WriteString(prefix + lead)
		n := utf8.RuneCountInString(prefix + lead)
		start := n
		if lead != "" && i > 0 { // an indented line is a command or a snippet: kept whole, to be copied
			b.WriteString(model.Printable(rest))
			prefix = indent
			continue
		}
		for j, word := range strings.Fields(model.Printable(rest)) {
			wl := utf8.RuneCountInString(word)
			switch {
			case j > 0 && n+1+wl > width && n > start:
				b.WriteString("\n" + indent + lead)
				n = utf8.RuneCountInString(indent + lead)
				start = n
			case j > 0:
				b.WriteString(" ")
				n++
			}
			b.WriteString(word)
			n += wl
		}
		prefix = indent
	}
	return b.String()
}

// prettyJSON returns a JSON object or array indented two spaces a level, keeping its
// keys' order; ok is false for anything else.
func prettyJSON(s string) (string, bool) {
	t := strings.TrimSpace(s)
	if t == "" || (t[0] != '{' && t[0] != '[') {
		return "", false
	}
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(t), "", "  "); err != nil {
		return "", false
	}
	return b.String(), true
}

// plural is n and the noun, plural when n is not 1: "1 error", "0 errors", "2 repositories".
func plural(n int, noun string) string {
	switch {
	case n == 1:
		return "1 " + noun
	case strings.HasSuffix(noun, "y"):
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
