package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
)

func newFixCommand(g *globals) *cobra.Command {
	var sc scope
	var ff fleetFlags
	var findingIDs []string
	var fixIndex int
	var yes, dryRun, destructive, tokenStdin bool
	var username string
	cmd := &cobra.Command{
		Use:   "fix (--dry-run | --yes)",
		Short: "Apply the fixes of the findings, after showing every call they make",
		Long: `fix diagnoses as doctor does, takes the findings that have a fix (all, or those
of --check and --finding), and shows each fix's plan in full: every AWS call and its
input. With --yes it applies them: each step re-reads the account first and stops,
with nothing written, if it changed since; every write is journaled. Then it scans
and diagnoses again and says, for each finding, whether it is gone.

Steps that delete something (a repository, a tag, a template) run only with
--destructive. Steps that store a secret need --username and --token-stdin; the
token is used for that call only, never printed, logged or journaled.`,
		Example: `  ptcdoctor fix --demo --check name-mismatch --dry-run
  ptcdoctor fix --finding 0c17cf2c --yes
  echo "$TOKEN" | ptcdoctor fix --check credentials --username me --token-stdin --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if yes == dryRun {
				return usageError{errors.New("say --dry-run to see the plans, or --yes to apply them")}
			}
			if tokenStdin && username == "" {
				return usageError{errors.New("--token-stdin needs --username")}
			}
			if err := checkFindingArgs(findingIDs, sc); err != nil {
				return err
			}
			var secretValue string
			if tokenStdin {
				v, err := secretFromStdin(username)
				if err != nil {
					return err
				}
				secretValue = v
			}
			fr := &fixRun{findingIDs: findingIDs, fixIndex: fixIndex, dryRun: dryRun, destructive: destructive, tokenStdin: tokenStdin, secretValue: secretValue, fleet: ff.active(g)}
			if ff.active(g) {
				return runFleetFix(cmd, g, &sc, &ff, fr)
			}
			if err := ff.oneRegion(g); err != nil {
				return err
			}
			s, err := g.open(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			return fr.run(ctx, cmd.OutOrStdout(), g, &sc, s)
		},
	}
	sc.register(cmd)
	ff.register(cmd)
	f := cmd.Flags()
	f.BoolVar(&ff.continueOnFail, "keep-going", false, "over a fleet: go on to the next account-region after one whose fix failed")
	f.StringSliceVar(&findingIDs, "finding", nil, "fix only this finding: its id, as doctor prints it (a number only without --check, and for one account-region: over a fleet each numbers its own); repeatable")
	f.IntVar(&fixIndex, "fix", 1, "which of a finding's fixes to apply")
	f.BoolVar(&yes, "yes", false, "apply the plans")
	f.BoolVar(&dryRun, "dry-run", false, "show the plans and change nothing")
	f.BoolVar(&destructive, "destructive", false, "allow steps that delete (a repository, a tag, a template)")
	f.StringVar(&username, "username", "", "the upstream user name, for fixes that store credentials")
	f.BoolVar(&tokenStdin, "token-stdin", false, "read the upstream access token from standard input (never echoed)")
	return cmd
}

// checkFindingArgs refuses a finding number with a filter: numbers count the findings
// of one report, and a filtered report numbers them differently. Ids do not change.
func checkFindingArgs(args []string, sc scope) error {
	for _, a := range args {
		if isNumber(a) && len(sc.checks) > 0 {
			return usageError{fmt.Errorf("--finding %s: a number names a finding only in the unfiltered report; with --check, give the finding's id, as doctor prints it", a)}
		}
		if a == "" {
			return usageError{errors.New("--finding: give a finding's id, as doctor prints it")}
		}
	}
	return nil
}

// isNumber tells a finding's number from its id (8 hex digits, which may all be digits).
func isNumber(a string) bool {
	_, err := strconv.Atoi(a)
	return err == nil && len(a) < 8
}

// selectedBy returns the --finding argument that names this finding, by its id or by
// its number; "" when none does.
func selectedBy(args []string, id string, number int) string {
	for _, a := range args {
		if a == id || (isNumber(a) && a == strconv.Itoa(number)) {
			return a
		}
	}
	return ""
}

// fixRun is what fix was asked to do, applied to one account-region at a time.
type fixRun struct {
	findingIDs                      []string
	fixIndex                        int
	dryRun, destructive, tokenStdin bool
	secretValue                     string
	// fleet is set over several account-regions, where an id may name a finding of
	// another one: there an unknown id is said, not refused.
	fleet bool
}

// run diagnoses one account-region and applies (or shows) the chosen fixes there.
func (fr *fixRun) run(ctx context.Context, out io.Writer, g *globals, sc *scope, s *session) error {
	findingIDs, fixIndex, dryRun, destructive, tokenStdin, secretValue := fr.findingIDs, fr.fixIndex, fr.dryRun, fr.destructive, fr.tokenStdin, fr.secretValue

	d, err := sc.run(ctx, g, s, nil)
	if err != nil {
		return err
	}
	report := diagnose.NewReport(d.snap, d.Result, false)
	printNotChecked(out, report)
	type chosen struct {
		id  string
		f   model.Finding
		fix model.Fix
	}
	var todo []chosen
	matched := map[string]bool{}
	for i, f := range d.Findings {
		id := f.ID()
		if arg := selectedBy(findingIDs, id, i+1); len(findingIDs) > 0 && arg == "" {
			continue
		} else {
			matched[arg] = true
		}
		if fixIndex < 1 || fixIndex > len(f.Fixes) || len(f.Fixes[fixIndex-1].Plan.Steps) == 0 {
			if len(findingIDs) > 0 {
				fmt.Fprintf(out, "[%s] %s: no fix %d that ptcdoctor can apply; see `ptcdoctor doctor`\n", id, model.Printable(f.Title), fixIndex)
			}
			continue
		}
		todo = append(todo, chosen{id, f, f.Fixes[fixIndex-1]})
	}
	var unknown []string
	for _, arg := range findingIDs {
		if !matched[arg] {
			unknown = append(unknown, model.Printable(arg))
		}
	}
	if len(unknown) > 0 && !fr.fleet {
		// A finding asked for by a wrong id is a usage error, before anything is written.
		var known []string
		for _, f := range d.Findings {
			known = append(known, f.ID())
		}
		return usageError{fmt.Errorf("--finding %s: no such finding in this diagnosis (fixed since, outside this --check or --image scope, or mistyped); nothing was written.\nThe findings now: %s (ptcdoctor doctor lists them with their titles)",
			strings.Join(unknown, ", "), orNone(strings.Join(known, ", ")))}
	}
	for _, arg := range unknown {
		fmt.Fprintf(out, "No finding %s in this diagnosis (gone since, or outside this scope).\n", arg)
	}
	// What could not be read leaves the diagnosis incomplete: exit 3 at the end,
	// whatever else happens (the plans rest only on what was read).
	incomplete := func(err error) error {
		if !d.Complete() {
			return incompleteError{errQuiet}
		}
		return err
	}
	if len(todo) == 0 {
		fmt.Fprintln(out, "Nothing to fix.")
		return incomplete(nil)
	}
	// One token given once goes into one secret: a run that would store it in two
	// is refused before any write, saying which.
	if tokenStdin && !dryRun {
		var into []string
		seen := map[string]bool{}
		for _, c := range todo {
			if c.fix.Plan.Destructive() && !destructive {
				continue
			}
			for _, st := range c.fix.Plan.Steps {
				if st.NeedsSecretValue && !seen[st.Target] {
					seen[st.Target] = true
					into = append(into, model.Printable(fmt.Sprintf("%s (for [%s] %s)", st.Target, c.id, c.f.Title)))
				}
			}
		}
		if len(into) > 1 {
			return usageError{fmt.Errorf("the --token-stdin token applies to one secret, and these fixes would store it in %d:\n  %s\nNothing was written; choose one with --finding",
				len(into), strings.Join(into, "\n  "))}
		}
	}
	// Plans that contradict each other are seen before any write: a plan resting on "no
	// rule covers X" is dropped when another chosen plan creates that rule.
	if !dryRun {
		var plans []model.Plan
		for _, c := range todo {
			plans = append(plans, c.fix.Plan)
		}
		negated := negatedPlans(plans)
		var kept []chosen
		for i, c := range todo {
			if why, ok := negated[i]; ok {
				fmt.Fprintf(out, "\n[%s] %s\n  not run: %s; nothing was written for it\n", c.id, model.Printable(c.f.Title), why)
				continue
			}
			kept = append(kept, c)
		}
		todo = kept
	}
	// notApplied: a fix asked for was not applied (it deletes and --destructive was not
	// given; it stores credentials and none were): exit 1, as for a fix that failed.
	failed, dropped, notApplied := false, false, false
	writeFailed := false // a write was refused or failed (not a fix left out, not a verdict)
	var applied []chosen
	// Each applied plan is judged on the diagnosis made right after it, against the one
	// made right before it: a new error that a later plan of the run caused is that
	// plan's, not this one's (and is said once, at the end).
	beforeOf, afterOf := map[string]*diagnosis{}, map[string]*diagnosis{}
	var last string // the id of the plan applied last, not judged yet
	// latest is the diagnosis each plan is checked against before it runs: a plan made
	// from the first diagnosis runs only if the fixes applied before it in this run left
	// its finding, and its plan, as they were (a template's tags removed, then a
	// repository tagged "to align with the template": the second rests on what the first
	// changed). After any write, the account is diagnosed again.
	latest, wrote := d, false
	for _, c := range todo {
		fmt.Fprintln(out)
		say(out, "["+c.id+"] ", "    ", c.f.Title)
		// Where the plan writes, said before each plan: over a fleet, and with one
		// account too, a plan's account is what a person checks before saying yes.
		fmt.Fprintf(out, "    in %s %s\n", model.Printable(orDefault(d.snap.AccountID, "an account not known (sts:GetCallerIdentity failed)")), model.Printable(d.snap.Region))
		printPlan(out, c.fix.Plan)
		if dryRun {
			continue
		}
		if wrote {
			fresh, err := sc.run(ctx, g, s, nil)
			if err != nil {
				return err
			}
			latest, wrote = fresh, false
			if last != "" {
				afterOf[last], last = fresh, ""
			}
		}
		if latest != d {
			if why, gone := changedSince(c.f, c.fix, fixIndex, latest.Findings); why != "" {
				fmt.Fprintf(out, "  not run: %s; nothing was written for it (run ptcdoctor fix again to plan it from the account as it is now)\n", why)
				dropped = dropped || !gone
				continue
			}
		}
		if c.fix.Plan.Destructive() && !destructive {
			fmt.Fprintln(out, "  not applied: it deletes something; run again with --destructive to allow that")
			notApplied = true
			continue
		}
		secrets := map[string]string{}
		skip := false
		for _, st := range c.fix.Plan.Steps {
			if st.NeedsSecretValue {
				if secretValue == "" {
					fmt.Fprintln(out, "  not applied: it stores credentials; give them with --username and --token-stdin")
					skip, notApplied = true, true
				}
				secrets[st.Target] = secretValue
			}
		}
		if skip {
			continue
		}
		results, err := s.acc.Apply(ctx, c.fix.Plan, ecrops.ApplyOptions{SecretValues: secrets})
		printResults(out, results)
		for _, r := range results {
			wrote = wrote || r.Status != "not-run"
		}
		if errors.Is(err, ecrops.ErrReadOnly) {
			fmt.Fprintln(out, "  not applied: --read-only refuses every change to AWS; run again without --read-only to apply it (--dry-run shows the plans)")
			notApplied = true
			continue
		}
		if err != nil {
			fmt.Fprintf(out, "  failed: %s\n", model.Printable(err.Error()))
			failed, writeFailed = true, true
			continue
		}
		applied = append(applied, c)
		beforeOf[c.id], last = latest, c.id
	}
	if dryRun || len(applied) == 0 {
		if writeFailed {
			return incomplete(writeFailedError{findingsError{errQuiet}})
		}
		if failed || dropped || notApplied {
			return incomplete(findingsError{errQuiet})
		}
		return incomplete(nil)
	}
	// Check again: is each finding gone?
	again, err := sc.run(ctx, g, s, nil)
	if err != nil {
		return err
	}
	if last != "" {
		afterOf[last] = again
	}
	fmt.Fprintln(out, "\nAfter the fixes:")
	unconfirmed := false
	judged := map[string]bool{} // keys of the findings a verdict already names
	for _, c := range applied {
		v := diagnose.Recheck(c.f, beforeOf[c.id].Findings, afterOf[c.id].Result)
		for _, g := range v.Appeared {
			judged[g.Key()] = true
		}
		if v.Fixed() {
			if back := findingByKey(again.Findings, c.f.Key()); back != nil {
				fmt.Fprintf(out, "  [%s] NOT fixed: gone after its fix, back after a later fix of this run: %s\n", c.id, model.Printable(back.Title))
				failed = true
				continue
			}
			fmt.Fprintf(out, "  [%s] fixed: %s\n", c.id, model.Printable(c.f.Title))
			continue
		}
		fmt.Fprintf(out, "  [%s] %s\n", c.id, v)
		if v.Still == nil && len(v.Appeared) == 0 {
			unconfirmed = true // could not look again: no failure seen, no success either
			continue
		}
		failed = true
	}
	// An error the run itself caused that no verdict named (a rule recreated that a
	// principal cannot use, say) is said, and the run does not end in success.
	had := map[string]bool{}
	for _, f := range d.Findings {
		had[f.Key()] = true
	}
	for _, g := range again.Findings {
		if g.Severity == model.SeverityError && !had[g.Key()] && !judged[g.Key()] {
			fmt.Fprintf(out, "  new at error severity since this run began: [%s] %s\n", g.ID(), model.Printable(g.Title))
			failed = true
		}
	}
	if !again.Complete() || unconfirmed {
		return incompleteError{errQuiet}
	}
	if writeFailed {
		return incomplete(writeFailedError{findingsError{errQuiet}})
	}
	if failed || dropped || notApplied {
		return incomplete(findingsError{errQuiet})
	}
	return incomplete(nil)
}

// writeFailedError is a fix whose write was refused or failed: exit 1 for one account
// (a findingsError); over a fleet, the account-region is one that failed (exit 3).
type writeFailedError struct{ findingsError }

// changedSince says why a finding's chosen fix, planned from the first diagnosis of a run,
// must not run after the fixes applied before it: the finding is gone from the diagnosis
// made since (gone), or its fix is no longer the plan that was shown. "" when it stands.
func changedSince(f model.Finding, fix model.Fix, index int, now []model.Finding) (why string, gone bool) {
	for _, g := range now {
		if g.Key() != f.Key() {
			continue
		}
		if index < 1 || index > len(g.Fixes) || !samePlan(g.Fixes[index-1].Plan, fix.Plan) {
			return "an earlier fix of this run changed what this plan rests on (the plan made now differs from the one shown)", false
		}
		return "", false
	}
	return "an earlier fix of this run changed what this plan rests on: its finding is gone from the diagnosis made since", true
}

// samePlan compares two plans call by call, with what each step expects.
func samePlan(a, b model.Plan) bool {
	if len(a.Steps) != len(b.Steps) {
		return false
	}
	for i := range a.Steps {
		x, y := a.Steps[i], b.Steps[i]
		if x.String() != y.String() || len(x.Expect) != len(y.Expect) {
			return false
		}
		for k, v := range x.Expect {
			if w, ok := y.Expect[k]; !ok || w != v {
				return false
			}
		}
	}
	return true
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// negatedPlans finds, among plans chosen together, those whose premise another of them
// negates: a step that expects no rule to cover a name (an orphan's or a template's
// deletion) while another plan creates a rule covering it. Both cannot hold: the one
// that deletes is dropped, before anything is written. By index, with the reason.
func negatedPlans(plans []model.Plan) map[int]string {
	out := map[int]string{}
	for i, p := range plans {
		for _, st := range p.Steps {
			for k, want := range st.Expect {
				name, ok := strings.CutPrefix(k, model.ExpectCoveringRule)
				if !ok || want != "" {
					continue
				}
				for j, q := range plans {
					if j == i {
						continue
					}
					for _, c := range q.Steps {
						if c.Kind == model.StepCreateRule && (strings.HasPrefix(name, c.Target+"/") || c.Target == "ROOT") {
							out[i] = fmt.Sprintf("it rests on no rule covering %s, and the plan %q of this run creates the rule %s/", name, q.Title, c.Target)
						}
					}
				}
			}
		}
	}
	return out
}

func findingByKey(fs []model.Finding, key string) *model.Finding {
	for i := range fs {
		if fs[i].Key() == key {
			return &fs[i]
		}
	}
	return nil
}

// secretFromStdin reads the --token-stdin token (its first line) and returns the value a
// pull through cache secret holds: {"username", "accessToken"}.
func secretFromStdin(username string) (string, error) {
	tok, err := bufio.NewReader(io.LimitReader(os.Stdin, 64<<10)).ReadString('\n')
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", usageError{fmt.Errorf("--token-stdin: no token on standard input (%v)", err)}
	}
	b, _ := json.Marshal(map[string]string{"username": username, "accessToken": tok})
	return string(b), nil
}

func (e writeFailedError) Unwrap() error { return e.findingsError }
