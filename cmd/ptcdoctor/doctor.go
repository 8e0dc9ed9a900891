package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// scope is what doctor, explain and fix look at: references, principals, checks.
type scope struct {
	images     []string
	imagesFile string
	eventsFile string // Kubernetes events whose failed pulls doctor explains (events.go)
	principals []string
	checks     []string
	configPath string
	probeLimit int
	consumers  []string
	// fleet: each account-region of a fleet is given the principals of its own account
	// only (diagnose.PrincipalsFor); the others are the cross-account checks'.
	fleet bool
}

func (sc *scope) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVar(&sc.images, "image", nil, "a reference to check, as the cache URI or the upstream reference (nginx:1.27); repeatable")
	f.StringVar(&sc.imagesFile, "images-file", "", "references to check: one a line, or Kubernetes manifests / kubectl get -o json output")
	f.StringArrayVar(&sc.principals, "principal", nil, "the IAM role or user that pulls (default: the config's, else the caller); repeatable; over a fleet, arn:aws:iam::{account}:role/NAME is that role in every account")
	f.StringArrayVar(&sc.checks, "check", nil, "run only this check (see --list-checks); repeatable")
	f.StringVar(&sc.configPath, "config", "", "config file with a watch list (default $XDG_CONFIG_HOME/ptcdoctor/config.yaml)")
	f.IntVar(&sc.probeLimit, "probe-limit", 200, "compare at most this many cached tags with their upstream (stale-tag), the most recently pulled first")
	f.StringArrayVar(&sc.consumers, "consumer-account", nil, "an AWS account ID that pulls from this registry's caches (cross-account); repeatable")
	_ = cmd.RegisterFlagCompletionFunc("check", completeChecks)
	_ = cmd.MarkFlagFilename("images-file")
	_ = cmd.MarkFlagFilename("config", "yaml", "yml")
}

// completeChecks offers the check ids, each with its title, to shell completion.
func completeChecks(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	for _, c := range diagnose.Catalog {
		out = append(out, cobra.CompletionWithDesc(c.ID, c.Title))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

var accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

// diagnosis is a scan and the checks run over it.
type diagnosis struct {
	snap *model.Snapshot
	refs []model.Ref
	opts diagnose.Options
	diagnose.Result
	events *pullEvents // the failed pulls of --events-file (or of events given as --images-file)
	// Every call of the scan and the checks, per operation (AWS's and the registries').
	calls, throttled map[string]int
	retried          int
}

// since is the counts made between two readings of an account's counters.
func since(now, before map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range now {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// run scans the account and diagnoses it for the scope.
func (sc *scope) run(ctx context.Context, g *globals, s *session, progress func(ecrops.Progress)) (*diagnosis, error) {
	if sc.probeLimit < 0 {
		return nil, usageError{fmt.Errorf("--probe-limit %d: give a number of probes, 1 or more", sc.probeLimit)}
	}
	for _, id := range sc.consumers {
		if !accountIDPattern.MatchString(id) {
			return nil, usageError{fmt.Errorf("--consumer-account %q: an AWS account ID is 12 digits", model.Printable(id))}
		}
	}
	for _, id := range sc.checks {
		if _, ok := diagnose.CheckByID(id); !ok {
			return nil, usageError{fmt.Errorf("--check %q: no such check (ptcdoctor doctor --list-checks)", id)}
		}
	}
	cfg, err := g.loadConfig(sc.configPath)
	if err != nil {
		return nil, usageError{err}
	}
	inputs := append([]string{}, cfg.Watch.Images...)
	inputs = append(inputs, sc.images...)
	events, err := sc.readEvents()
	if err != nil {
		return nil, err
	}
	if sc.imagesFile != "" {
		raw, err := readInput(sc.imagesFile)
		if err != nil {
			return nil, usageError{fmt.Errorf("--images-file: %w", err)}
		}
		evs, err := eventsIn(raw, "--images-file")
		switch {
		case err != nil:
			return nil, err
		case evs != nil:
			events = evs // events given as --images-file are read as --events-file
		default:
			refs, err := model.ImagesFromFile(raw)
			if err != nil {
				return nil, usageError{fmt.Errorf("--images-file %s: %w", sc.imagesFile, err)}
			}
			inputs = append(inputs, refs...)
		}
	}
	calls0, throttled0, failed0 := s.acc.Calls()
	snap, err := s.acc.Scan(ctx, ecrops.Scope{}, progress)
	if err != nil {
		return nil, err
	}
	if snap.AccountID == "" {
		return nil, unreadAccountError{snap}
	}
	if e := ecrops.RegionRefused(snap); e != nil && sc.fleet {
		// Over a fleet a region not enabled is a target that failed, for doctor and fix
		// alike: nothing of it was read, so nothing of it is judged or fixed.
		return nil, fmt.Errorf("region %s is not enabled for account %s: %s answered %s: %s", snap.Region, snap.AccountID, e.Operation, e.Code, e.Message)
	}
	d := &diagnosis{snap: snap, events: events}
	var bad []string
	// Without the rules, an upstream reference cannot be placed: not checked, not a usage error.
	var unplaced []model.NotChecked
	rulesFailed := snap.PartFailed(model.PartRules)
	for _, in := range inputs {
		ref, err := model.ParseRef(in, snap.AccountID, snap.Region, snap.Rules)
		if err != nil && ref.Repository == "" && rulesFailed != nil {
			unplaced = append(unplaced, model.NotChecked{Check: "references", Subject: model.Subject{Kind: "reference", Name: in},
				Needs: model.PartRules, Failed: *rulesFailed})
			continue
		}
		if err != nil && ref.Repository == "" {
			bad = append(bad, err.Error())
			continue
		}
		d.refs = append(d.refs, ref)
	}
	if len(bad) > 0 {
		return nil, usageError{errors.New(strings.Join(bad, "\n"))}
	}
	principals := append(append([]string{}, cfg.Watch.Principals...), sc.principals...)
	if sc.fleet {
		principals = diagnose.PrincipalsFor(principals, snap.AccountID)
	}
	d.opts = diagnose.Options{Refs: d.refs, Principals: principals, Checks: sc.checks, ProbeLimit: sc.probeLimit, ConsumerAccounts: sc.consumers}
	if len(principals) > 0 && snap.Identity.ARN != "" {
		d.opts.Principals = append([]string{snap.Identity.ARN}, principals...)
	}
	d.Result = diagnose.Diagnose(ctx, snap, s.acc, d.opts)
	d.NotChecked = append(d.NotChecked, unplaced...)
	// The scan's own figures count its calls; the checks' probes call too (the cache,
	// IAM, the rules' secrets, the upstreams): --stats counts all that reached anything.
	calls1, throttled1, failed1 := s.acc.Calls()
	d.calls, d.throttled, d.retried = since(calls1, calls0), since(throttled1, throttled0), failed1-failed0
	return d, nil
}

// report is the diagnosis in the report's shape; its figures count every call the scan and
// the checks made (the scan's own count only its own).
func (d *diagnosis) report(stats bool) diagnose.Report {
	report := diagnose.NewReport(d.snap, d.Result, stats)
	if report.Stats != nil {
		report.Stats.Calls, report.Stats.Throttled, report.Stats.Retried = d.calls, d.throttled, d.retried
	}
	return report
}

// args are the flags that give this scope, for a command printed to be run as is.
func (sc *scope) args() string {
	var b strings.Builder
	for _, c := range sc.checks {
		b.WriteString(" --check " + shellQuote(c))
	}
	for _, i := range sc.images {
		b.WriteString(" --image " + shellQuote(i))
	}
	if sc.imagesFile != "" {
		b.WriteString(" --images-file " + shellQuote(sc.imagesFile))
	}
	for _, p := range sc.principals {
		b.WriteString(" --principal " + shellQuote(p))
	}
	if sc.configPath != "" {
		b.WriteString(" --config " + shellQuote(sc.configPath))
	}
	return b.String()
}

// shellQuote quotes a word for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// incompleteError exits 3: some part of the scan, or a probe a check needed, could not
// be read, whatever else was found.
type incompleteError struct{ error }

func readInput(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(io.LimitReader(os.Stdin, 32<<20))
	}
	return os.ReadFile(path)
}

func newDoctorCommand(g *globals) *cobra.Command {
	var sc scope
	var ff fleetFlags
	var asJSON, asMarkdown, stats, list bool
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Diagnose the account's pull through caches, with the evidence and the fixes",
		Long: `doctor scans the registry (rules, their validation and secrets, templates, the
registry policy, repositories, images) and runs every check over it, plus over the
references given (--image, --images-file, the config's watch list). Each finding
carries the calls it rests on and the fixes; apply them with ptcdoctor fix.

Each finding has a short id, stable across runs and --check filters: fix --finding
takes it. What a check could not judge (a read or probe it needs failed) is listed
as not checked, with the failed call, and never turned into a finding.

Over a fleet (--profile given more than once, --profiles PATTERN, --assume-role-arn
with --accounts or --organization, or --regions with several regions or all), each
account-region is scanned and diagnosed as one account is, several at once (--parallel),
and printed as it finishes; a target that cannot be scanned is named and the rest go
on; then a table of every target, the findings that only the fleet view can make
(cross-account), and the totals. --json gives one report per target plus the summary
(schemaVersion 5, diagnose/README.md). --demo-fleet is such a fleet, embedded: four
accounts in two regions, in process.

Exit status: 0 a complete scan with nothing at error severity; 1 findings at error
severity; 2 usage or configuration error; 3 some part of the scan, or a probe a check
needed, could not be read (whatever else was found); over a fleet, 3 if any target
failed or is incomplete, else 1 if any finding is at error severity.`,
		Example: `  ptcdoctor doctor --demo
  ptcdoctor doctor --image nginx:1.27 --principal arn:aws:iam::111122223333:role/eks-node
  kubectl get pods -A -o json | ptcdoctor doctor --images-file - --json
  kubectl get events -A -o json | ptcdoctor doctor --events-file -
  ptcdoctor doctor --demo-fleet
  ptcdoctor doctor --profile prod --profile staging --regions us-east-1,eu-west-1
  ptcdoctor doctor --assume-role-arn 'arn:aws:iam::{account}:role/ptcdoctor-audit' --organization --regions all`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if list {
				printCatalog(out)
				return nil
			}
			if asJSON && asMarkdown {
				return usageError{errors.New("choose one of --json and --markdown")}
			}
			if ff.active(g) {
				return runFleetDoctor(cmd, g, &sc, &ff, asJSON, asMarkdown, stats)
			}
			if err := ff.oneRegion(g); err != nil {
				return err
			}
			s, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			if n := unfinishedNotice(s.acc.Journal()); n != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), "ptcdoctor: "+n)
			}
			d, err := sc.run(cmd.Context(), g, s, progressLine(cmd.ErrOrStderr()))
			var unread unreadAccountError
			if errors.As(err, &unread) && (asJSON || asMarkdown) {
				// A script reading the report gets one: incomplete, with what failed.
				report := diagnose.NewReport(unread.snap, diagnose.Result{ScanErrors: unread.snap.Errors}, stats)
				if asJSON {
					enc := json.NewEncoder(out)
					enc.SetIndent("", "  ")
					enc.Encode(report)
				} else {
					io.WriteString(out, report.Markdown())
				}
				return incompleteError{err}
			}
			if err != nil {
				return err
			}
			report := d.report(stats)
			report.PullFailures = d.explainEvents(cmd.Context(), s)
			switch {
			case asJSON:
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				enc.Encode(report)
			case asMarkdown:
				io.WriteString(out, report.Markdown())
			default:
				printReport(out, report, g.accountArgs(true)+sc.args())
				printPullFailures(out, report.PullFailures)
			}
			if !report.Complete {
				return incompleteError{errQuiet}
			}
			if report.Summary.Errors > 0 || len(report.PullFailures) > 0 {
				return findingsError{errQuiet}
			}
			return nil
		},
	}
	sc.register(cmd)
	ff.register(cmd)
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print the report as JSON (schema: diagnose/README.md)")
	f.BoolVar(&asMarkdown, "markdown", false, "print the report as Markdown, for an incident ticket")
	f.BoolVar(&stats, "stats", false, "add the scan's figures: calls per operation, throttled, retried, seconds to first rules and to complete")
	f.BoolVar(&list, "list-checks", false, "list the checks and exit")
	f.StringVar(&sc.eventsFile, "events-file", "", "Kubernetes events (kubectl get events -A -o json, or - for stdin): explain every failed image pull in them, grouped by cause")
	_ = cmd.MarkFlagFilename("events-file", "json")
	return cmd
}

// progressLine reports a scan's progress on one line of a terminal; elsewhere, nothing.
func progressLine(w io.Writer) func(ecrops.Progress) {
	f, ok := w.(*os.File)
	if !ok || !isTerminal(f) {
		return nil
	}
	var mu sync.Mutex
	return func(p ecrops.Progress) {
		mu.Lock()
		defer mu.Unlock()
		switch p.Stage {
		case "images":
			fmt.Fprintf(w, "\rscanning: %d of %d repositories, %d images…", p.ReposDone, p.ReposTotal, p.Images)
		case "done":
			fmt.Fprint(w, "\r\x1b[K")
		}
	}
}

// errQuiet is a failure the report already explained: nothing more is printed.
var errQuiet = errors.New("")

func printCatalog(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tSEVERITY\tFINDS")
	for _, c := range diagnose.Catalog {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.ID, c.Severity, c.Title)
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, c := range diagnose.Catalog {
		fmt.Fprintf(w, "%s: %s\n", c.ID, c.Description)
		var needs []string
		for _, n := range c.Needs {
			needs = append(needs, string(n))
		}
		fmt.Fprintf(w, "  stands on: %s\n", strings.Join(needs, "; "))
	}
	fmt.Fprintln(w, "\nOver a fleet (several account-regions), also:")
	for _, c := range diagnose.FleetCatalog {
		fmt.Fprintf(w, "%s (%s): %s\n", c.ID, c.Severity, c.Description)
	}
}

// printReport is the terminal form: what could not be read first, one block a finding,
// the evidence and the command that applies each fix (with the scope's flags, so that
// it plans exactly what was shown).
func printReport(w io.Writer, r diagnose.Report, scopeArgs string) {
	fmt.Fprintf(w, "%s in %s, as %s\n", r.Account, r.Region, r.Identity)
	fmt.Fprintf(w, "%s, %s, %d info\n", plural(r.Summary.Errors, "error"), plural(r.Summary.Warnings, "warning"), r.Summary.Info)
	if !r.Complete {
		fmt.Fprintln(w, "INCOMPLETE: some parts could not be read; what they hide is listed below as not checked.")
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "\nNOT SCANNED  %s: %s %s %s\n", e.Part, e.Operation, e.Code, e.Message)
	}
	printNotChecked(w, r)
	for _, f := range r.Findings {
		head := fmt.Sprintf("[%s] %-7s %s  (%s %s)", f.ID, strings.ToUpper(f.Severity), f.Check, f.Subject.Kind, f.Subject.Name)
		if len(head) > textWidth(w) { // a long subject (an ARN): on a line of its own
			head = fmt.Sprintf("[%s] %-7s %s\n    (%s %s)", f.ID, strings.ToUpper(f.Severity), f.Check, f.Subject.Kind, f.Subject.Name)
		}
		fmt.Fprintf(w, "\n%s\n", head)
		say(w, "    ", "    ", f.Title)
		say(w, "    ", "    ", f.Explanation)
		for _, e := range f.Evidence {
			say(w, "    evidence: ", "      ", e.Call+" → "+e.Answer)
		}
		for i, fx := range f.Fixes {
			if len(fx.Steps) == 0 {
				say(w, fmt.Sprintf("    fix %d: ", i+1), "      ", fx.Title+"  [by hand]")
				continue
			}
			// The command on a line of its own, whole, to be copied.
			say(w, fmt.Sprintf("    fix %d: ", i+1), "      ", fx.Title)
			fmt.Fprintf(w, "      ptcdoctor fix --finding %s --fix %d%s --dry-run\n", f.ID, i+1, scopeArgs)
		}
	}
	switch {
	case len(r.Findings) == 0 && r.Complete:
		fmt.Fprintln(w, "\nNo findings.")
	case len(r.Findings) == 0:
		fmt.Fprintln(w, "\nNo findings in what could be checked; see NOT CHECKED above.")
	}
	if st := r.Stats; st != nil {
		fmt.Fprintf(w, "\nScan: %s, %s in %.2f s (rules after %.3f s, repositories after %.3f s); %s, %d throttled, %d retried\n",
			plural(st.Repositories, "repository"), plural(st.Images, "image"), st.SecondsToComplete, st.SecondsToFirstRules, st.SecondsToRepositories,
			plural(total(st.Calls), "call"), total(st.Throttled), st.Retried)
		for _, op := range sortedOps(st.Calls) {
			fmt.Fprintf(w, "  %-38s %6d calls %5d throttled\n", op, st.Calls[op], st.Throttled[op])
		}
	}
}

// printNotChecked lists, check by check, the subjects a failed read left unjudged.
func printNotChecked(w io.Writer, r diagnose.Report) {
	for _, g := range r.NotCheckedGroups() {
		fmt.Fprintf(w, "\nNOT CHECKED  %s: %s\n", g.Check, g.Subjects())
		fmt.Fprintf(w, "    %s failed: %s\n", g.Operation, strings.TrimSpace(g.Code+" "+g.Message))
	}
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func sortedOps(m map[string]int) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sdkOperation is the SDK's prefix naming the call ("operation error ECR:
// DescribeRepositories, "): the rest of the message is the cause, often the same for
// every call (a refused connection, expired credentials).
var sdkOperation = regexp.MustCompile(`^operation error [^:]+: [^,]+, `)

// failedReads lists the failed reads one cause a line, each line naming the parts
// that failed that way: five calls refused by one endpoint make one line, not five.
func failedReads(errs []model.PartError) string {
	var causes []string
	parts := map[string][]string{}
	for _, e := range errs {
		cause := strings.TrimSpace(e.Code + " " + sdkOperation.ReplaceAllString(e.Message, ""))
		if parts[cause] == nil {
			causes = append(causes, cause)
		}
		parts[cause] = append(parts[cause], e.Part+" ("+e.Operation+")")
	}
	var b strings.Builder
	for i, c := range causes {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString("- " + strings.Join(parts[c], ", ") + ": " + c)
	}
	return b.String()
}

// unreadAccountError is a scan that could not even tell which account it looked at
// (invalid or expired keys, no permission at all): nothing else can be judged.
type unreadAccountError struct{ snap *model.Snapshot }

func (e unreadAccountError) Error() string {
	return fmt.Sprintf("the scan could not tell which account this is:\n%s", failedReads(e.snap.Errors))
}
