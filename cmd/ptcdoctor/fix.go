package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
)

func newFixCommand(g *globals) *cobra.Command {
	var sc scope
	var findingIDs []int
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
  ptcdoctor fix --finding 3 --yes
  echo "$TOKEN" | ptcdoctor fix --check credentials --username me --token-stdin --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if yes == dryRun {
				return usageError{errors.New("say --dry-run to see the plans, or --yes to apply them")}
			}
			if tokenStdin && username == "" {
				return usageError{errors.New("--token-stdin needs --username")}
			}
			var secretValue string
			if tokenStdin {
				tok, err := bufio.NewReader(io.LimitReader(os.Stdin, 64<<10)).ReadString('\n')
				tok = strings.TrimSpace(tok)
				if tok == "" {
					return usageError{fmt.Errorf("--token-stdin: no token on standard input (%v)", err)}
				}
				b, _ := json.Marshal(map[string]string{"username": username, "accessToken": tok})
				secretValue = string(b)
			}
			s, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			out := cmd.OutOrStdout()
			d, err := sc.run(cmd.Context(), g, s, nil)
			if err != nil {
				return err
			}
			type chosen struct {
				id  int
				f   model.Finding
				fix model.Fix
			}
			var todo []chosen
			for i, f := range d.findings {
				id := i + 1
				if len(findingIDs) > 0 && !containsInt(findingIDs, id) {
					continue
				}
				if fixIndex < 1 || fixIndex > len(f.Fixes) || len(f.Fixes[fixIndex-1].Plan.Steps) == 0 {
					if len(findingIDs) > 0 {
						fmt.Fprintf(out, "[%d] %s: no fix %d that ptcdoctor can apply; see `ptcdoctor doctor`\n", id, model.Printable(f.Title), fixIndex)
					}
					continue
				}
				todo = append(todo, chosen{id, f, f.Fixes[fixIndex-1]})
			}
			if len(todo) == 0 {
				fmt.Fprintln(out, "Nothing to fix.")
				return nil
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
							into = append(into, model.Printable(fmt.Sprintf("%s (for [%d] %s)", st.Target, c.id, c.f.Title)))
						}
					}
				}
				if len(into) > 1 {
					return usageError{fmt.Errorf("the --token-stdin token applies to one secret, and these fixes would store it in %d:\n  %s\nNothing was written; choose one with --finding",
						len(into), strings.Join(into, "\n  "))}
				}
			}
			failed := false
			var applied []chosen
			for _, c := range todo {
				fmt.Fprintf(out, "\n[%d] %s\n", c.id, model.Printable(c.f.Title))
				printPlan(out, c.fix.Plan)
				if dryRun {
					continue
				}
				if c.fix.Plan.Destructive() && !destructive {
					fmt.Fprintln(out, "  not applied: it deletes something; run again with --destructive to allow that")
					continue
				}
				secrets := map[string]string{}
				skip := false
				for _, st := range c.fix.Plan.Steps {
					if st.NeedsSecretValue {
						if secretValue == "" {
							fmt.Fprintln(out, "  not applied: it stores credentials; give them with --username and --token-stdin")
							skip = true
						}
						secrets[st.Target] = secretValue
					}
				}
				if skip {
					continue
				}
				results, err := s.acc.Apply(cmd.Context(), c.fix.Plan, ecrops.ApplyOptions{SecretValues: secrets})
				printResults(out, results)
				if err != nil {
					fmt.Fprintf(out, "  failed: %s\n", model.Printable(err.Error()))
					failed = true
					continue
				}
				applied = append(applied, c)
			}
			if dryRun || len(applied) == 0 {
				if failed {
					return findingsError{errQuiet}
				}
				return nil
			}
			// Check again: is each finding gone?
			again, err := sc.run(cmd.Context(), g, s, nil)
			if err != nil {
				return err
			}
			fmt.Fprintln(out, "\nAfter the fixes:")
			for _, c := range applied {
				if still := sameFinding(again.findings, c.f); still != nil {
					fmt.Fprintf(out, "  [%d] still failing: %s\n", c.id, model.Printable(still.Title))
					failed = true
				} else {
					fmt.Fprintf(out, "  [%d] fixed: %s\n", c.id, model.Printable(c.f.Title))
				}
			}
			if failed {
				return findingsError{errQuiet}
			}
			return nil
		},
	}
	sc.register(cmd)
	f := cmd.Flags()
	f.IntSliceVar(&findingIDs, "finding", nil, "fix only finding N, as doctor numbers them (repeatable)")
	f.IntVar(&fixIndex, "fix", 1, "which of a finding's fixes to apply")
	f.BoolVar(&yes, "yes", false, "apply the plans")
	f.BoolVar(&dryRun, "dry-run", false, "show the plans and change nothing")
	f.BoolVar(&destructive, "destructive", false, "allow steps that delete (a repository, a tag, a template)")
	f.StringVar(&username, "username", "", "the upstream user name, for fixes that store credentials")
	f.BoolVar(&tokenStdin, "token-stdin", false, "read the upstream access token from standard input (never echoed)")
	return cmd
}

// sameFinding finds a finding of the same check about the same subject. A principal's
// permissions are told apart by the rules they concern (in the title): a fix that
// creates a rule can show a new gap, which is not the old one still failing.
func sameFinding(findings []model.Finding, f model.Finding) *model.Finding {
	for i := range findings {
		g := &findings[i]
		if g.Check == f.Check && g.Subject == f.Subject && (f.Check != "permissions" || g.Title == f.Title) {
			return g
		}
	}
	return nil
}

func containsInt(list []int, n int) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}
