package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
)

func newJournalCommand(g *globals) *cobra.Command {
	var asJSON bool
	var ack string
	cmd := &cobra.Command{
		Use:   "journal",
		Short: "List the changes ptcdoctor made, and which can be undone",
		Long: `journal lists every write ptcdoctor made to AWS from this machine, plan by plan,
from the journal in $XDG_STATE_HOME/ptcdoctor (or ~/.local/state/ptcdoctor). A plan
whose step never recorded its outcome (the process was stopped during the call) is
marked UNFINISHED, and every run warns about it until it is undone
(ptcdoctor undo PLAN, which reads the account to see whether the call took effect)
or acknowledged (ptcdoctor journal --ack PLAN, once you have checked the account).`,
		Example: `  ptcdoctor journal
  ptcdoctor journal --ack 20261126T183200-2b37f947784b
  ptcdoctor journal --json | jq -c 'select(.phase == "failed") | {plan, operation, target, error}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The journal is a file on this machine, one for every account and region
			// written from it (each line says which): reading it needs no AWS call, no
			// region and no credentials.
			j := &ecrops.Journal{Dir: g.stateDir()}
			if ack != "" {
				if err := j.Ack(ack, "acknowledged"); err != nil {
					return usageError{err}
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Plan %s acknowledged: no more warnings about it.\n", model.Printable(ack))
				return nil
			}
			entries, err := j.Entries()
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
			printJournal(cmd.OutOrStdout(), j, entries)
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "ptcdoctor:", err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the journal's lines as they are (JSON)")
	cmd.Flags().StringVar(&ack, "ack", "", "acknowledge an unfinished plan (after checking the account): its warning ends")
	return cmd
}

func printJournal(w io.Writer, j *ecrops.Journal, entries []ecrops.JournalEntry) {
	if len(entries) == 0 {
		fmt.Fprintf(w, "No changes recorded (%s).\n", j.Path())
		return
	}
	unfinished := map[string]bool{}
	un, err := j.Unfinished()
	if err != nil {
		// Not read is not "nothing unfinished": say so rather than list no UNFINISHED mark.
		fmt.Fprintf(w, "Whether a plan was cut short is not known: %s\n", model.Printable(err.Error()))
	}
	for _, e := range un {
		unfinished[e.Plan] = true
	}
	undoable := ecrops.UndoablePlans(entries)
	outcomes := stepsWithOutcome(entries)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PLAN\tSTEP\tWHEN\tACCOUNT\tREGION\tOPERATION\tTARGET\tOUTCOME\tREQUEST ID\tUNDO")
	seen := map[string]bool{}
	for _, e := range entries {
		key := fmt.Sprintf("%s/%d", e.Plan, e.Step)
		when := e.Time.Local().Format("2006-01-02 15:04:05")
		switch {
		case e.Phase == "ack":
			fmt.Fprintf(tw, "%s\t\t%s\t\t\t\t\t%s\t\t\n", model.Printable(e.Plan), when, model.Printable("seen to: "+e.Note))
			continue
		case e.Phase == "intent" && !outcomes[key]:
			outcome, undo := "no outcome recorded (stopped during the call)", "-"
			if unfinished[e.Plan] {
				outcome = "UNFINISHED: started, " + outcome
			}
			if undoable[e.Plan] {
				undo = "yes"
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t\t%s\n", model.Printable(e.Plan), e.Step+1, when, where(e),
				model.Printable(e.Operation), model.Printable(e.Target), outcome, undo)
			continue
		case e.Phase == "intent" || seen[key]:
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
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", model.Printable(e.Plan), e.Step+1, when, where(e),
			model.Printable(e.Operation), model.Printable(e.Target), model.Printable(outcome), model.Printable(e.RequestID), undo)
	}
	tw.Flush()
	if len(unfinished) > 0 {
		var plans []string
		for p := range unfinished {
			plans = append(plans, p)
		}
		sort.Strings(plans)
		fmt.Fprintf(w, "\n%d plan(s) did not finish: %s. Check the account (ptcdoctor doctor), then undo what ran with `ptcdoctor undo PLAN`, or acknowledge it with `ptcdoctor journal --ack PLAN`.\n",
			len(plans), strings.Join(plans, ", "))
	}
}

// where is a journal line's account and region, two columns; "-" for a line written
// before ptcdoctor recorded them.
func where(e ecrops.JournalEntry) string {
	p, ok := e.PlaceOf()
	if !ok {
		return "-\t-"
	}
	return model.Printable(p.Account) + "\t" + model.Printable(p.Region)
}

func hasPlan(entries []ecrops.JournalEntry, plan string) bool {
	for _, e := range entries {
		if e.Plan == plan {
			return true
		}
	}
	return false
}

// stepsWithOutcome are the steps ("plan/step") whose outcome was journaled, in one pass:
// asking the whole journal again for each intent was quadratic in its length.
func stepsWithOutcome(entries []ecrops.JournalEntry) map[string]bool {
	out := map[string]bool{}
	for _, e := range entries {
		if e.Phase != "intent" && e.Phase != "ack" {
			out[fmt.Sprintf("%s/%d", e.Plan, e.Step)] = true
		}
	}
	return out
}

func newUndoCommand(g *globals) *cobra.Command {
	var yes, dryRun, destructive, force bool
	var roleARN string
	cmd := &cobra.Command{
		Use:   "undo PLAN",
		Short: "Undo the changes of one plan from the journal",
		Long: `undo builds the plan that reverses a plan's finished steps, last first, and
shows it. With --yes it applies it. Steps without an inverse (a new secret value, a
deleted tag, a warmed image) are listed and left alone.

undo refuses, with nothing written:
  - a step whose target is not as the plan left it (someone changed it since): it
    shows the difference; --force applies the step anyway, for a person who read it;
  - steps that delete (a rule, a template, a policy, a statement) without --destructive;
  - a plan undone already;
  - a plan that ran in another account or region than the one these credentials
    reach (the journal records each plan's account and region; undo reads the caller's
    with sts:GetCallerIdentity): it says where the plan ran and the flags that reach it;
  - a plan journaled before ptcdoctor recorded accounts, unless --force (check with
    ptcdoctor doctor that you are in its account first).
undo looks in the region the plan ran in unless --region says otherwise; --profile or
--assume-role-arn (the role assumed in the plan's account, as fix over a fleet takes
it) reach its account.
A step that never recorded its outcome (the process was killed during the call) is
undone when the account shows the call took effect, and skipped when it shows it did
not; either way the plan is no longer warned about.`,
		Example: `  ptcdoctor undo 20261126T183200-2b37f947784b --dry-run
  ptcdoctor undo 20261126T183200-2b37f947784b --yes --destructive
  ptcdoctor undo 20261126T183200-2b37f947784b --assume-role-arn 'arn:aws:iam::{account}:role/ptcdoctor-fix' --dry-run`,
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
			s, err := openForUndo(cmd.Context(), g, args[0], roleARN)
			if err != nil {
				return err
			}
			defer s.Close()
			u, err := s.acc.UndoPlan(cmd.Context(), args[0], ecrops.UndoOptions{Unrecorded: force})
			out := cmd.OutOrStdout()
			for _, e := range u.Skipped {
				fmt.Fprintf(out, "cannot undo: %s %s (no inverse)\n", model.Printable(e.Operation), model.Printable(e.Target))
			}
			for _, e := range u.NoEffect {
				fmt.Fprintf(out, "nothing to undo: step %d, %s %s, was stopped during the call, and the account shows it did not take effect\n",
					e.Step+1, model.Printable(e.Operation), model.Printable(e.Target))
			}
			for _, e := range u.Unknown {
				fmt.Fprintf(out, "step %d, %s %s, was stopped during the call, and the account shows it took effect: its undo is in the plan\n",
					e.Step+1, model.Printable(e.Operation), model.Printable(e.Target))
			}
			if err != nil {
				if un, _ := s.acc.Journal().Unfinished(); errors.Is(err, ecrops.ErrNothingToUndo) && hasPlan(un, args[0]) {
					err = fmt.Errorf("%w; once you have checked the account, `ptcdoctor journal --ack %s` ends the warning about it", err, args[0])
				}
				return usageError{reachPlace(err, g, args[0])}
			}
			if len(u.Plan.Steps) > 0 {
				if here, err := s.acc.Place(cmd.Context()); err == nil {
					fmt.Fprintf(out, "in %s, where plan %s ran\n", model.Printable(here.String()), model.Printable(args[0]))
				}
				printPlan(out, u.Plan)
			}
			// What changed since the plan ran, step by step, before anything is written.
			changed := false
			for i, cerr := range s.acc.Check(cmd.Context(), u.Plan) {
				if cerr != nil {
					changed = true
					fmt.Fprintf(out, "  step %d refused: %s\n", i+1, model.Printable(cerr.Error()))
				}
			}
			if dryRun {
				if changed {
					// The undo, run as it stands, would be refused: a script must not read success.
					fmt.Fprintln(out, "The undo would be refused as it stands (above); nothing was written.")
					return findingsError{errQuiet}
				}
				return nil
			}
			switch {
			case changed && !force:
				fmt.Fprintln(out, "Not undone: the account changed since the plan ran (above). Undoing now could overwrite those changes; "+
					"run again with --force only if you mean that.")
				return findingsError{errQuiet}
			case u.Plan.Destructive() && !destructive:
				fmt.Fprintln(out, "Not undone: it deletes something (marked [destructive]); run again with --destructive to allow that.")
				return findingsError{errQuiet}
			}
			results, err := s.acc.Apply(cmd.Context(), u.Plan, ecrops.ApplyOptions{Force: force, Unrecorded: force})
			printResults(out, results)
			if err != nil {
				return findingsError{err}
			}
			if len(u.Plan.Steps) == 0 {
				fmt.Fprintf(out, "Plan %s is seen to: no more warnings about it.\n", model.Printable(args[0]))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "apply the undo plan")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show the undo plan, and what changed since, and change nothing")
	cmd.Flags().BoolVar(&destructive, "destructive", false, "allow undo steps that delete (a rule, a template, a policy, a statement)")
	cmd.Flags().BoolVar(&force, "force", false, "undo even where the account changed since the plan ran, overwriting those changes (read the difference first), or where the journal did not record its account")
	cmd.Flags().StringVar(&roleARN, "assume-role-arn", "", "reach the plan's account through this role, assumed with --profile's credentials: arn:aws:iam::{account}:role/NAME")
	return cmd
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
	un, err := j.Unfinished()
	if err != nil {
		return "the journal " + model.Printable(j.Path()) + " could not be read (" + model.Printable(err.Error()) +
			"): whether a plan was cut short is not known; `ptcdoctor journal` shows what can be read."
	}
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
		". Its finished steps are in `ptcdoctor journal`; undo them with `ptcdoctor undo PLAN --dry-run`, or run the fix again (each step checks the account first)." +
		" Once seen to, `ptcdoctor journal --ack PLAN` ends this warning."
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
		desc := e.PlanTitle
		if p, ok := e.PlaceOf(); ok {
			desc += " (in " + p.Account + " " + p.Region + ")"
		}
		out = append(out, cobra.CompletionWithDesc(e.Plan, model.Printable(desc)))
	}
	return out
}
