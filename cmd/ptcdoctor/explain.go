package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/model"
)

func newExplainCommand(g *globals) *cobra.Command {
	var errText string
	var principals []string
	var lineOnly, asJSON bool
	cmd := &cobra.Command{
		Use:   "explain REF | --error TEXT",
		Short: "Walk one reference through the pull, link by link, to the verdict and the fix",
		Long: `explain checks, for one reference, every link a pull through the cache goes
through: registry and region, rule, upstream reference, whether the upstream has it
with the rule's credentials, the pull budget, the secret and its validation, the
permissions, the creation template, and whether it is cached, every platform.

REF is a cache URI (<account>.dkr.ecr.<region>.amazonaws.com/docker-hub/library/nginx:1.27),
the cache path without the registry (docker-hub/library/nginx:1.27), or an upstream
reference (nginx:1.27, ghcr.io/org/app:v1).

With --error, explain reads an error line pasted from docker, containerd, the kubelet,
CRI-O, nerdctl, BuildKit, skopeo, the ECS agent or the aws CLI, takes the image
reference from it, and walks the same chain for that reference against the account,
to name the cause the chain confirms. Where the line alone settles the cause (a pull
that went to Docker Hub directly, an expired ECR login) no account is read; with
--line-only none ever is, and explain says what would settle the rest. The line
narrows the causes; the chain confirms one of them or none: a link that fails
for a cause the line does not allow is shown as also failing, never as the
line's cause.

With --json, either form prints one JSON document instead of text (schema:
diagnose/README.md, "explain's JSON"): the chain, the verdict, the fixes with
the finding each belongs to, and for --error the line's reading and its cause.
The exit status is the same as without it.

Exit status: explain REF exits 1 when a link fails. explain --error exits 1
when the chain walked on the account confirms the cause (a finding, as explain
REF); 0 when the cause is the line's own reading (--line-only, a line that
settles it alone, or a chain that does not show it failing now), or when it
stays unsettled with the account read; 3 when the account was needed and could
not be read, or a link of the chain walked could not be (whatever else was
found, as explain REF); 4 when the message is not one ptcdoctor recognises.`,
		Example: `  ptcdoctor explain --demo 111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/nginx:latest
  ptcdoctor explain --error "manifest unknown: Requested image not found" --line-only
  ptcdoctor explain --demo --json docker-hub/library/nginx:1.27
  ptcdoctor explain --demo --principal arn:aws:iam::111122223333:role/eks-node --error 'failed to resolve reference "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/redis:7.4": not found'`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if errText != "" {
				if len(args) > 0 {
					return usageError{errors.New("give a reference or --error, not both")}
				}
				return explainError(cmd.Context(), g, out, errText, principals, lineOnly, asJSON)
			}
			if len(args) == 0 {
				return usageError{errors.New("give a reference to explain, or --error TEXT")}
			}
			s, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			acct, err := readAccount(cmd.Context(), g, s, principals)
			var unread unreadAccountError
			if errors.As(err, &unread) && asJSON {
				// A script reading the document gets one: incomplete, with what failed.
				why := "the account could not be read: " + failedReads(unread.snap.Errors)
				ex := diagnose.Explanation{Ref: model.Ref{Input: args[0]}, Verdict: "Not checked: " + why,
					Steps: []diagnose.ExplainStep{{Name: "registry and region", Status: diagnose.StatusNotChecked, Detail: why}}}
				writeJSON(out, diagnose.NewExplainReport(unread.snap, ex))
				return incompleteError{err}
			}
			if err != nil {
				return err
			}
			ref, err := model.ParseRef(args[0], acct.Snap.AccountID, acct.Snap.Region, acct.Snap.Rules)
			if pe := acct.Snap.PartFailed(model.PartRules); err != nil && ref.Repository == "" && pe != nil {
				why := fmt.Sprintf("the rules could not be read, so where it is pulled from is not known: %s failed: %s %s", pe.Operation, pe.Code, pe.Message)
				if asJSON {
					ex := diagnose.Explanation{Ref: model.Ref{Input: args[0]}, Verdict: "Not checked: " + why,
						Steps: []diagnose.ExplainStep{{Name: "rule", Status: diagnose.StatusNotChecked, Detail: why}}}
					writeJSON(out, diagnose.NewExplainReport(acct.Snap, ex))
				} else {
					fmt.Fprintf(out, "NOT CHECKED  %s: %s\n", model.Printable(args[0]), model.Printable(why))
				}
				return incompleteError{errQuiet}
			}
			if err != nil && ref.Repository == "" {
				return usageError{err}
			}
			ex := diagnose.Explain(cmd.Context(), acct.Snap, s.acc, ref, acct.Opts)
			scopeArgs := explainScope(g, ex.Ref, principals)
			if asJSON {
				rep := diagnose.NewExplainReport(acct.Snap, ex)
				withApply(rep.Fixes, scopeArgs)
				writeJSON(out, rep)
			} else {
				printExplanation(out, ex, scopeArgs)
			}
			if ex.NotChecked() { // a link that could not be read: exit 3, whatever else was found
				return incompleteError{errQuiet}
			}
			for _, st := range ex.Steps {
				if st.Status == "failed" {
					return findingsError{errQuiet}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&errText, "error", "", "an error line to explain instead of a reference")
	cmd.Flags().StringArrayVar(&principals, "principal", nil, "the IAM role or user that pulls (repeatable)")
	cmd.Flags().BoolVar(&lineOnly, "line-only", false, "with --error: read the line alone, never the account")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the explanation as JSON (schema: diagnose/README.md)")
	return cmd
}

// readAccount scans the account and gathers who pulls: the config's principals and the
// flag's, after the caller.
func readAccount(ctx context.Context, g *globals, s *session, principals []string) (*diagnose.Account, error) {
	cfg, err := loadConfig("", g.demo)
	if err != nil {
		return nil, usageError{err}
	}
	sc := scope{}
	d, err := sc.run(ctx, g, s, nil)
	if err != nil {
		return nil, err
	}
	var pr []string
	for _, p := range append(append([]string{}, cfg.Watch.Principals...), principals...) {
		if !slices.Contains(pr, p) && p != d.snap.Identity.ARN {
			pr = append(pr, p)
		}
	}
	if len(pr) > 0 {
		pr = append([]string{d.snap.Identity.ARN}, pr...)
	}
	return &diagnose.Account{Snap: d.snap, Prober: s.acc, Opts: diagnose.Options{Principals: pr}}, nil
}

var statusMark = map[string]string{"ok": "[ ok ]", "warning": "[warn]", "failed": "[FAIL]", "skipped": "[ -- ]", diagnose.StatusNotChecked: "[ ?? ]"}

// printCommand prints a shell command to copy as it is: folded between its flags at
// width, each line but the last ending in a backslash.
func printCommand(w io.Writer, command, indent string, width int) {
	words := strings.Fields(command)
	line := indent
	for i := 0; i < len(words); i++ {
		word := words[i]
		// A flag stays on the line of its value.
		if strings.HasPrefix(word, "--") && i+1 < len(words) && !strings.HasPrefix(words[i+1], "--") &&
			len(indent)+2+len(word)+1+len(words[i+1])+2 <= width {
			word += " " + words[i+1]
			i++
		}
		if line != indent && len(line)+1+len(word)+2 > width {
			fmt.Fprintln(w, line+" \\")
			line = indent + "  "
		}
		if line != indent && line != indent+"  " {
			line += " "
		}
		line += word
	}
	fmt.Fprintln(w, line)
}

// explainScope is the scope explain diagnosed in, as flags for fix: the reference, the
// principals and the account, so that `fix --finding ID` finds the same finding ids.
func explainScope(g *globals, ref model.Ref, principals []string) string {
	sc := scope{images: []string{ref.Input}, principals: principals}
	return g.accountArgs(true) + sc.args()
}

// applyCommand is the command that shows the plan of a finding's fix, in the scope
// explain diagnosed in (explainScope's flags).
func applyCommand(findingID string, n int, scopeArgs string) string {
	return fmt.Sprintf("ptcdoctor fix --finding %s --fix %d%s --dry-run", findingID, n, model.Printable(scopeArgs))
}

// withApply gives each fix of explain's JSON that has a plan the command that applies it.
func withApply(fixes []diagnose.ExplainFix, scopeArgs string) {
	for i, fx := range fixes {
		if fx.Finding != "" && len(fx.Steps) > 0 {
			fixes[i].Apply = applyCommand(fx.Finding, fx.Number, scopeArgs)
		}
	}
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // <reference> reads as written
	enc.Encode(v)
}

// printExplanation prints the chain, the verdict and the fixes, each fix with the command
// that applies exactly it (scopeArgs are explainScope's).
func printExplanation(w io.Writer, ex diagnose.Explanation, scopeArgs string) {
	fmt.Fprintf(w, "%s\n", model.Printable(ex.Ref.Input))
	if ex.Ref.FromUpstream {
		fmt.Fprintf(w, "  pulled through the cache as %s\n", ex.Ref.CacheURI())
	}
	fmt.Fprintln(w)
	col := strings.Repeat(" ", 32)
	for _, s := range ex.Steps {
		// A name too long for its column (permissions of a role's ARN) gets a line of its own.
		name := fmt.Sprintf("%s %-24s ", statusMark[s.Status], model.Printable(s.Name))
		if len(name) > len(col) {
			fmt.Fprintln(w, strings.TrimRight(name, " "))
			name = col
		}
		say(w, name, col, s.Detail)
		for _, e := range s.Evidence {
			say(w, col, col+"  ", e.Call+" → "+e.Answer)
		}
	}
	fmt.Fprintln(w)
	say(w, "Verdict: ", "         ", ex.Verdict)
	for i, fx := range ex.Fixes {
		printFix(w, i+1, fx)
		if id, n, ok := ex.FixSource(fx); ok && len(fx.Plan.Steps) > 0 {
			yes := "--yes"
			if fx.Plan.Destructive() {
				yes = "--yes --destructive"
			}
			fmt.Fprintf(w, "  Apply it (see the plan with --dry-run, then run it with %s):\n", yes)
			printCommand(w, applyCommand(id, n, scopeArgs), "    ", 80)
		}
	}
}

func explainError(ctx context.Context, g *globals, w io.Writer, text string, principals []string, lineOnly, asJSON bool) error {
	r, ok := diagnose.ReadError(text)
	if !ok {
		const why = "ptcdoctor does not recognise this message. Paste the whole error line, with the image reference, or run: ptcdoctor explain <reference>"
		if asJSON {
			writeJSON(w, diagnose.NewErrorReport(nil, diagnose.ErrorVerdict{Reading: r, Verdict: why}, false, ""))
		} else {
			fmt.Fprintln(w, why)
		}
		return unrecognisedError{errQuiet}
	}
	var acct *diagnose.Account
	notRead := ""
	if !lineOnly && r.WantsAccount() {
		s, err := g.open(ctx)
		if err == nil {
			defer s.Close()
			acct, err = readAccount(ctx, g, s, principals)
		}
		if err != nil {
			notRead = err.Error()
		}
	}
	v, _ := diagnose.ExplainError(ctx, acct, text)
	scopeArgs := ""
	if v.Explanation != nil {
		scopeArgs = explainScope(g, v.Explanation.Ref, principals)
	}
	if asJSON {
		var snap *model.Snapshot
		if acct != nil {
			snap = acct.Snap
		}
		rep := diagnose.NewErrorReport(snap, v, true, notRead)
		withApply(rep.Fixes, scopeArgs)
		writeJSON(w, rep)
	} else {
		printErrorVerdictIn(w, v, notRead, scopeArgs)
	}
	switch {
	case v.Cause.ID == "" && notRead != "":
		return incompleteError{errQuiet}
	case v.Explanation != nil && v.Explanation.NotChecked():
		return incompleteError{errQuiet} // a link not read: 3 whatever else was found, as explain REF and doctor
	case v.Confirmed:
		return findingsError{errQuiet} // a finding on the account, as explain REF
	}
	return nil
}

// printErrorVerdict prints what a line said, the chain walked for its reference, and the
// cause with its fix.
func printErrorVerdict(w io.Writer, v diagnose.ErrorVerdict, notRead string) {
	printErrorVerdictIn(w, v, notRead, "")
}

// printErrorVerdictIn is printErrorVerdict with the scope's flags, for the commands that
// apply the chain's fixes (explainScope's).
func printErrorVerdictIn(w io.Writer, v diagnose.ErrorVerdict, notRead, scopeArgs string) {
	r := v.Reading
	fmt.Fprintf(w, "Recognised: %q\n", r.Matched)
	if r.Reference != "" {
		fmt.Fprintf(w, "Reference:  %s\n", model.Printable(r.Reference))
	}
	if v.Explanation != nil {
		fmt.Fprintln(w)
		ex := *v.Explanation
		ex.Fixes = v.Fixes // only the fixes of the link the line failed at
		if len(v.AlsoFailing) > 0 {
			ex.Verdict = "of the reference's chain, not of this line (see Cause): " + ex.Verdict
		}
		printExplanation(w, ex, scopeArgs)
	}
	if v.Cause.ID != "" {
		check := v.Cause.Check
		if check == "" {
			check = "none: outside the account"
		}
		how := "read from the line"
		if v.Confirmed {
			how = "confirmed by the chain"
		}
		fmt.Fprintln(w)
		say(w, "Cause: ", "       ", fmt.Sprintf("%s (%s; check %s; %s)", v.Cause.Title, v.Cause.ID, check, how))
	} else if r.InvalidReference != "" {
		fmt.Fprintln(w, "\nCause: none named: the line's image is not a reference")
	} else {
		fmt.Fprintln(w, "\nCause: not settled; the line allows:")
		for _, id := range r.Candidates {
			if c, ok := diagnose.CauseByID(id); ok {
				fmt.Fprintf(w, "  - %s (%s)\n", c.Title, c.ID)
			}
		}
	}
	say(w, "  ", "  ", v.Verdict)
	if v.Fix != "" {
		say(w, "Fix:   ", "       ", v.Fix)
	}
	if notRead != "" {
		fmt.Fprintln(w, "\nNot checked against the account:")
		say(w, "  ", "  ", notRead)
	}
	for _, n := range v.AlsoFailing {
		say(w, "Also failing (not this line's cause): ", "  ", n)
	}
	for _, n := range v.Notes {
		say(w, "Note: ", "  ", n)
	}
	for _, n := range v.Needs {
		say(w, "Would settle it: ", "  ", n)
	}
}
