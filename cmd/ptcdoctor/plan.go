package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// The one printer of plans, for fix, explain and setup: what each step does (a step
// that deletes marked), then the call it makes with every input whole, since the
// person approves what they read. A JSON input (a policy, a lifecycle policy) is
// pretty-printed under its step.

// printPlan shows a plan: its title and its steps.
func printPlan(w io.Writer, plan model.Plan) {
	say(w, "Plan: ", "      ", plan.Title)
	printSteps(w, plan.Steps, "  ")
}

// printSteps shows the steps numbered, each indented by indent.
func printSteps(w io.Writer, steps []model.Step, indent string) {
	for i, s := range steps {
		num := fmt.Sprintf("%s%d. ", indent, i+1)
		pad := strings.Repeat(" ", utf8.RuneCountInString(num))
		summary := s.Summary
		if s.Destructive {
			summary += "  [destructive]"
		}
		say(w, num, pad, summary)
		printCall(w, s, pad)
	}
}

// printCall shows the call a step makes: on one line when it fits, else the
// operation and then one input a line; JSON inputs always pretty-printed below.
func printCall(w io.Writer, s model.Step, pad string) {
	keys := make([]string, 0, len(s.Params))
	for k := range s.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var inline []string
	docs := map[string]string{}
	for _, k := range keys {
		if doc, ok := prettyJSON(s.Params[k]); ok {
			docs[k] = doc
			continue
		}
		inline = append(inline, fmt.Sprintf("%s=%q", k, s.Params[k]))
	}
	if s.NeedsSecretValue {
		inline = append(inline, "SecretString=<asked for when applied, never shown>")
	}
	one := model.Printable(strings.Join(append([]string{s.Operation}, inline...), " "))
	if len(docs) == 0 && utf8.RuneCountInString(pad+one) <= textWidth(w) {
		fmt.Fprintln(w, pad+one)
		return
	}
	fmt.Fprintln(w, pad+model.Printable(s.Operation))
	for _, kv := range inline {
		fmt.Fprintln(w, pad+"  "+model.Printable(kv))
	}
	for _, k := range keys {
		if doc, ok := docs[k]; ok {
			fmt.Fprintln(w, pad+"  "+model.Printable(k)+":")
			printDocument(w, doc, pad+"    ")
		}
	}
}

// printDocument prints a document line by line, each line made printable, its
// indentation kept; it is not folded, so that it can be copied as it is.
func printDocument(w io.Writer, doc, indent string) {
	for _, line := range strings.Split(strings.TrimRight(doc, "\n"), "\n") {
		rest := strings.TrimLeft(line, " ")
		fmt.Fprintln(w, indent+line[:len(line)-len(rest)]+model.Printable(rest))
	}
}

// printFixes shows a finding's fixes: each one's title, then its plan's steps, or
// what to do by hand (a JSON document in it pretty-printed, prose folded).
func printFixes(w io.Writer, fixes []model.Fix) {
	for i, fx := range fixes {
		printFix(w, i+1, fx)
	}
}

// printFix prints fix number n: its title, its steps, what to do by hand.
func printFix(w io.Writer, n int, fx model.Fix) {
	fmt.Fprintln(w)
	say(w, fmt.Sprintf("Fix %d: ", n), "       ", fx.Title)
	printSteps(w, fx.Plan.Steps, "  ")
	if fx.Manual != "" {
		printManual(w, fx.Manual, "  ")
	}
}

// printManual shows what to do by hand: a JSON document pretty-printed whole, other
// text folded with its own line breaks and indentation kept.
func printManual(w io.Writer, text, indent string) {
	if doc, ok := prettyJSON(text); ok {
		printDocument(w, doc, indent)
		return
	}
	say(w, indent, indent, text)
}
