package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
)

func newJournalCommand(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "journal",
		Short: "List the changes ptcdoctor made, and which can be undone",
		Long: `journal lists every write ptcdoctor made to AWS from this machine, plan by plan,
from the journal in $XDG_STATE_HOME/ptcdoctor (or ~/.local/state/ptcdoctor). A plan
whose last step never finished (the process was stopped) is marked UNFINISHED.
Undo a plan with: ptcdoctor undo PLAN`,
		Example: `  ptcdoctor journal
  ptcdoctor journal --json | jq -c 'select(.phase == "failed") | {plan, operation, target, error}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			entries, err := s.acc.Journal().Entries()
			if err != nil && len(entries) == 0 {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				for _, e := range entries {
					enc.Encode(e)
				}
				return nil
			}
			printJournal(cmd.OutOrStdout(), s.acc.Journal(), entries)
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "ptcdoctor:", err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the journal's lines as they are (JSON)")
	return cmd
}

func printJournal(w io.Writer, j *ecrops.Journal, entries []ecrops.JournalEntry) {
	if len(entries) == 0 {
		fmt.Fprintf(w, "No changes recorded (%s).\n", j.Path())
		return
	}
	unfinished := map[string]bool{}
	if un, _ := j.Unfinished(); len(un) > 0 {
		for _, e := range un {
			unfinished[e.Plan] = true
		}
	}
	undoable := ecrops.UndoablePlans(entries)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PLAN\tSTEP\tWHEN\tOPERATION\tTARGET\tOUTCOME\tREQUEST ID\tUNDO")
	seen := map[string]bool{}
	for _, e := range entries {
		key := fmt.Sprintf("%s/%d", e.Plan, e.Step)
		if e.Phase == "intent" {
			if !unfinishedStep(entries, e) {
				continue
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t\t\n", e.Plan, e.Step+1, e.Time.Local().Format("2006-01-02 15:04:05"),
				model.Printable(e.Operation), model.Printable(e.Target), "UNFINISHED: started, no outcome recorded")
			continue
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		undo := "-"
		switch {
		case e.Inverse != nil && undoable[e.Plan]:
			undo = "yes"
		case e.Inverse != nil:
			undo = "undone"
		}
		outcome := e.Phase
		if e.Error != "" {
			outcome += ": " + e.Error
		}
		if e.UndoOf != "" {
			outcome += " (undo of " + e.UndoOf + ")"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Plan, e.Step+1, e.Time.Local().Format("2006-01-02 15:04:05"),
			model.Printable(e.Operation), model.Printable(e.Target), model.Printable(outcome), e.RequestID, undo)
	}
	tw.Flush()
	if len(unfinished) > 0 {
		var plans []string
		for p := range unfinished {
			plans = append(plans, p)
		}
		fmt.Fprintf(w, "\n%d plan(s) did not finish: %s. Check the account (ptcdoctor doctor), then undo what ran with `ptcdoctor undo PLAN`.\n",
			len(plans), strings.Join(plans, ", "))
	}
}

func unfinishedStep(entries []ecrops.JournalEntry, intent ecrops.JournalEntry) bool {
	for _, e := range entries {
		if e.Plan == intent.Plan && e.Step == intent.Step && e.Phase != "intent" {
			return false
		}
	}
	return true
}

func newUndoCommand(g *globals) *cobra.Command {
	var yes, dryRun bool
	cmd := &cobra.Command{
		Use:   "undo PLAN",
		Short: "Undo the changes of one plan from the journal",
		Long: `undo builds the plan that reverses a plan's finished steps, last first, and
shows it. With --yes it applies it (re-reading the account first, and refusing
if it changed since). Steps without an inverse (a new secret value, a deleted
tag, a warmed image) are listed and left alone.`,
		Example: `  ptcdoctor undo 20261126T183200-2b37f947784b --dry-run
  ptcdoctor undo 20261126T183200-2b37f947784b --yes`,
		Args: cobra.ExactArgs(1),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return undoablePlans(g), cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveKeepOrder
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if yes == dryRun {
				return usageError{errors.New("say --dry-run to see the plan, or --yes to apply it")}
			}
			s, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			plan, skipped, err := s.acc.UndoPlan(args[0])
			out := cmd.OutOrStdout()
			for _, e := range skipped {
				fmt.Fprintf(out, "cannot undo: %s %s (no inverse)\n", model.Printable(e.Operation), model.Printable(e.Target))
			}
			if err != nil {
				return usageError{err}
			}
			printPlan(out, plan)
			if dryRun {
				return nil
			}
			results, err := s.acc.Apply(cmd.Context(), plan, ecrops.ApplyOptions{})
			printResults(out, results)
			if err != nil {
				return findingsError{err}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "apply the undo plan")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show the undo plan and change nothing")
	return cmd
}

// printPlan shows every step as the call it makes, destructive ones marked.
func printPlan(w io.Writer, plan model.Plan) {
	fmt.Fprintf(w, "Plan: %s\n", model.Printable(plan.Title))
	for i, s := range plan.Steps {
		mark := ""
		if s.Destructive {
			mark = "  [destructive]"
		}
		fmt.Fprintf(w, "  %d. %s%s\n     %s\n", i+1, model.Printable(s.Summary), mark, model.Printable(s.String()))
	}
}

func printResults(w io.Writer, results []ecrops.StepResult) {
	for _, r := range results {
		line := fmt.Sprintf("  step %d %s: %s", r.Index+1, r.Status, model.Printable(r.Step.Operation+" "+r.Step.Target))
		if r.RequestID != "" {
			line += " (request " + r.RequestID + ")"
		}
		if r.Err != nil {
			line += ": " + model.Printable(r.Err.Error())
		}
		fmt.Fprintln(w, line)
	}
}

// findingsError is a failure that exits 1: a fix failed, or errors were found.
type findingsError struct{ error }

// unfinishedNotice says, at start, that a plan was cut short, and how to finish or undo it.
func unfinishedNotice(j *ecrops.Journal) string {
	un, _ := j.Unfinished()
	if len(un) == 0 {
		return ""
	}
	plans := map[string]bool{}
	var names []string
	for _, e := range un {
		if !plans[e.Plan] {
			plans[e.Plan] = true
			names = append(names, e.Plan+" (stopped at step "+fmt.Sprint(e.Step+1)+", "+model.Printable(e.Operation+" "+e.Target)+")")
		}
	}
	return "a plan did not finish: " + strings.Join(names, "; ") +
		". Its finished steps are in `ptcdoctor journal`; undo them with `ptcdoctor undo PLAN --dry-run`, or run the fix again (each step checks the account first)."
}

// undoablePlans offers the journal's plans that an undo would still reverse,
// newest first, each with its title: what `undo` completes. It reads the
// journal file only; completion never calls AWS.
func undoablePlans(g *globals) []cobra.Completion {
	plans, err := (&ecrops.Journal{Dir: g.stateDir()}).Undoable()
	if err != nil {
		return nil
	}
	var out []cobra.Completion
	for _, e := range plans {
		out = append(out, cobra.CompletionWithDesc(e.Plan, model.Printable(e.PlanTitle)))
	}
	return out
}
