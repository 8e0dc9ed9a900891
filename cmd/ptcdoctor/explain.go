package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/model"
)

func newExplainCommand(g *globals) *cobra.Command {
	var errText string
	var principals []string
	cmd := &cobra.Command{
		Use:   "explain REF | --error TEXT",
		Short: "Walk one reference through the pull, link by link, to the verdict and the fix",
		Long: `explain checks, for one reference, every link a pull through the cache goes
through: registry and region, rule, upstream reference, whether the upstream has it
with the rule's credentials, the pull budget, the secret and its validation, the
permissions, the creation template, and whether it is cached, every platform.

REF is a cache URI (<account>.dkr.ecr.<region>.amazonaws.com/docker-hub/library/nginx:1.27)
or an upstream reference (nginx:1.27, ghcr.io/org/app:v1).

With --error, explain reads an error message pasted from docker, containerd or
kubelet and says what it means and what to check next.`,
		Example: `  ptcdoctor explain --demo 111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/nginx:latest
  ptcdoctor explain --error "manifest unknown: Requested image not found"`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if errText != "" {
				if len(args) > 0 {
					return usageError{errors.New("give a reference or --error, not both")}
				}
				return explainError(out, errText)
			}
			if len(args) == 0 {
				return usageError{errors.New("give a reference to explain, or --error TEXT")}
			}
			s, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			cfg, err := loadConfig("", g.demo)
			if err != nil {
				return usageError{err}
			}
			sc := scope{}
			snapDiag, err := sc.run(cmd.Context(), g, s, nil)
			if err != nil {
				return err
			}
			snap := snapDiag.snap
			ref, err := model.ParseRef(args[0], snap.AccountID, snap.Region, snap.Rules)
			if err != nil && ref.Repository == "" {
				return usageError{err}
			}
			pr := append(append([]string{}, cfg.Watch.Principals...), principals...)
			if len(pr) > 0 {
				pr = append([]string{snap.Identity.ARN}, pr...)
			}
			ex := diagnose.Explain(cmd.Context(), snap, s.acc, ref, diagnose.Options{Principals: pr})
			printExplanation(out, ex)
			for _, st := range ex.Steps {
				if st.Status == "failed" {
					return findingsError{errQuiet}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&errText, "error", "", "an error message to explain instead of a reference")
	cmd.Flags().StringArrayVar(&principals, "principal", nil, "the IAM role or user that pulls (repeatable)")
	return cmd
}

var statusMark = map[string]string{"ok": "[ ok ]", "warning": "[warn]", "failed": "[FAIL]", "skipped": "[ -- ]"}

func printExplanation(w io.Writer, ex diagnose.Explanation) {
	fmt.Fprintf(w, "%s\n", model.Printable(ex.Ref.Input))
	if ex.Ref.FromUpstream {
		fmt.Fprintf(w, "  pulled through the cache as %s\n", ex.Ref.CacheURI())
	}
	fmt.Fprintln(w)
	for _, s := range ex.Steps {
		fmt.Fprintf(w, "%s %-24s %s\n", statusMark[s.Status], s.Name, wrap(model.Printable(s.Detail), 80, strings.Repeat(" ", 32)))
		for _, e := range s.Evidence {
			fmt.Fprintf(w, "%32s%s → %s\n", "", model.Printable(e.Call), model.Printable(e.Answer))
		}
	}
	fmt.Fprintf(w, "\nVerdict: %s\n", wrap(model.Printable(ex.Verdict), 90, "         "))
	for i, fx := range ex.Fixes {
		fmt.Fprintf(w, "\nFix %d: %s\n", i+1, model.Printable(fx.Title))
		for _, st := range fx.Plan.Steps {
			fmt.Fprintf(w, "  %s\n", model.Printable(st.String()))
		}
		if fx.Manual != "" {
			fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(model.Printable(fx.Manual), "\\x0a", "\n  "))
		}
	}
	if len(ex.Fixes) > 0 {
		fmt.Fprintln(w, "\nApply with: ptcdoctor fix --image "+model.Printable(ex.Ref.Input)+" --dry-run, then --yes")
	}
}

func explainError(w io.Writer, text string) error {
	em, ok := diagnose.ExplainError(text)
	if !ok {
		fmt.Fprintln(w, "ptcdoctor does not recognise this message. Paste the whole error line, with the image reference, or run: ptcdoctor explain <reference>")
		return findingsError{errQuiet}
	}
	fmt.Fprintf(w, "Recognised: %q\n\n%s\n\nLikely causes:\n", em.Matched, em.Meaning)
	for _, c := range em.Causes {
		fmt.Fprintf(w, "  - %s\n", c)
	}
	fmt.Fprintln(w, "\nCheck next:")
	for _, n := range em.NextSteps {
		fmt.Fprintf(w, "  %s\n", n)
	}
	if em.Reference != "" {
		fmt.Fprintf(w, "\nThe message names %s: ptcdoctor explain %s\n", em.Reference, em.Reference)
	}
	return nil
}
