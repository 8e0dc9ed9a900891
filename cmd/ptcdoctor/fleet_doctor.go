package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// fleetScan is one target's outcome: its report and what the cross-account checks read.
type fleetScan struct {
	report *diagnose.Report
	view   *model.Snapshot // what the cross-account checks read of the snapshot (diagnose.FleetView)
}

// runFleetDoctor is doctor over several account-regions: each scanned and diagnosed as
// doctor does one, in parallel; printed as each finishes, then the fleet's summary.
func runFleetDoctor(cmd *cobra.Command, g *globals, sc *scope, ff *fleetFlags, asJSON, asMarkdown, stats bool) error {
	if asMarkdown {
		return usageError{errors.New("--markdown is for one account-region; use --json over a fleet")}
	}
	ctx := cmd.Context()
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	started := time.Now()
	fc, err := fleetConfig(g, sc, ff)
	if err != nil {
		return err
	}
	accounts, err := ecrops.FleetAccounts(ctx, fc)
	if err != nil {
		return usageError{err}
	}
	fmt.Fprintf(errOut, "ptcdoctor: %s, up to %d account-regions at once\n", plural(len(accounts), "account"), ff.parallel)
	defer ecrops.FleetRun(accounts)() // the targets' probes share what they learn
	// Each account's regions are scanned as soon as they are found (--regions all asks
	// every candidate region of every account), not once every account's are.
	in := make(chan ecrops.Target)
	var skipped []ecrops.Skipped
	var also []ecrops.Also
	rank := map[string]int{} // a target: its account's place in the fleet
	go func() {
		ecrops.StreamTargets(ctx, fc, accounts, func(f ecrops.Found) {
			skipped, also = append(skipped, f.Skipped...), append(also, f.Also...)
			for _, t := range f.Targets {
				rank[t.String()] = f.Account
				in <- t
			}
		})
		close(in)
	}()
	results := runFleetFrom(ctx, g, sc, fc.Base, in, ff.parallel, stats, func(ft diagnose.FleetTarget, t ecrops.Target) {
		if !asJSON {
			printFleetTarget(out, ft, g.accountArgs(false)+sc.args()+targetArgs(t))
		}
	})
	// The summary in the fleet's order (accounts as named, each one's regions as found),
	// each target under every name that reached it.
	sort.SliceStable(results, func(i, j int) bool { return rank[results[i].name] < rank[results[j].name] })
	for _, a := range also {
		for i := range results {
			if results[i].name == a.Target.String() {
				also := model.Printable(" (also " + a.Source + ")")
				results[i].target.Source += also
				results[i].target.Target += also
			}
		}
	}
	var views []*model.Snapshot
	fleetTargets := make([]diagnose.FleetTarget, len(results))
	for i, r := range results {
		fleetTargets[i] = r.target
		if r.scan != nil {
			views = append(views, r.scan.view)
		}
	}
	cross, crossNotChecked := sc.selectedFleetChecks(diagnose.FleetChecks(views, failedTargets(results), watchedPrincipals(g, sc)))
	var skips []diagnose.FleetSkipped
	for _, s := range skipped {
		skips = append(skips, diagnose.FleetSkipped{Source: s.Source, Region: s.Region, Reason: s.Reason})
	}
	report := diagnose.NewFleetReport(started, fleetTargets, cross, crossNotChecked, skips)
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		enc.Encode(report)
	} else {
		printFleetSummary(out, report)
	}
	switch {
	case !report.Complete:
		return incompleteError{errQuiet}
	case report.Summary.Errors > 0:
		return findingsError{errQuiet}
	}
	return nil
}

// fleetTargets are the account-regions the flags name, for doctor and fix.
func fleetTargets(ctx context.Context, g *globals, sc *scope, ff *fleetFlags) (ecrops.FleetConfig, []ecrops.Target, []ecrops.Skipped, error) {
	fc, err := fleetConfig(g, sc, ff)
	if err != nil {
		return ecrops.FleetConfig{}, nil, nil, err
	}
	targets, skipped, err := ecrops.Targets(ctx, fc)
	if err != nil {
		return ecrops.FleetConfig{}, nil, nil, usageError{err}
	}
	return fc, targets, skipped, nil
}

// splitFleetChecks checks --check's names before any target is asked, and splits them:
// a fleet check (FleetCatalog) runs across the targets, any other in each target. Naming
// checks of one kind only leaves the other kind out: --check creation-template runs no
// fleet check; --check fleet-upstream-drift runs no check in the targets, which are still
// scanned (the fleet checks read them).
func (sc *scope) splitFleetChecks() error {
	if len(sc.checks) == 0 || sc.fleetChecks != nil || sc.noTargetChecks {
		return nil
	}
	var target, fleet []string
	for _, id := range sc.checks {
		_, one := diagnose.CheckByID(id)
		switch {
		case one:
			target = append(target, id)
		case isFleetCheck(id):
			fleet = append(fleet, id)
		default:
			return usageError{fmt.Errorf("--check %q: no such check (ptcdoctor doctor --list-checks)", model.Printable(id))}
		}
	}
	sc.checks, sc.fleetChecks, sc.noTargetChecks = target, append([]string{}, fleet...), len(target) == 0
	return nil
}

func isFleetCheck(id string) bool {
	for _, c := range diagnose.FleetCatalog {
		if c.ID == id {
			return true
		}
	}
	return false
}

// selectedFleetChecks keeps, of the fleet checks' findings and judgements left open,
// those of the checks --check names (all when it names none).
func (sc *scope) selectedFleetChecks(cross []diagnose.ReportFinding, open []diagnose.FleetNotChecked) ([]diagnose.ReportFinding, []diagnose.FleetNotChecked) {
	if len(sc.checks) == 0 && !sc.noTargetChecks {
		return cross, open
	}
	cross = slices.DeleteFunc(cross, func(f diagnose.ReportFinding) bool { return !slices.Contains(sc.fleetChecks, f.Check) })
	open = slices.DeleteFunc(open, func(n diagnose.FleetNotChecked) bool { return !slices.Contains(sc.fleetChecks, n.Check) })
	return cross, open
}

// fleetConfig is the fleet the flags describe, before any account or region is looked up.
func fleetConfig(g *globals, sc *scope, ff *fleetFlags) (ecrops.FleetConfig, error) {
	if sc.eventsFile != "" || sc.imagesFile == "-" {
		return ecrops.FleetConfig{}, usageError{errors.New("--events-file and --images-file - are read once: give them for one account-region")}
	}
	sc.fleet = true
	if err := sc.splitFleetChecks(); err != nil {
		return ecrops.FleetConfig{}, err
	}
	base, err := g.config()
	if err != nil {
		return ecrops.FleetConfig{}, err
	}
	return ff.config(g, base)
}

type fleetResult struct {
	name   string // the ecrops.Target's String
	target diagnose.FleetTarget
	scan   *fleetScan
}

// runFleet scans and diagnoses every target, calling shown with each as it finishes, and
// returns them in the targets' order.
func runFleet(ctx context.Context, g *globals, sc *scope, base ecrops.Config, targets []ecrops.Target, parallel int, stats bool,
	shown func(diagnose.FleetTarget, ecrops.Target)) []fleetResult {
	defer ecrops.FleetRun(targets)() // the targets' probes share what they learn (joins a run under way)
	in := make(chan ecrops.Target, len(targets))
	for _, t := range targets {
		in <- t
	}
	close(in)
	return runFleetFrom(ctx, g, sc, base, in, parallel, stats, shown)
}

// runFleetFrom is runFleet over targets handed on as they are found, in the order they were.
func runFleetFrom(ctx context.Context, g *globals, sc *scope, base ecrops.Config, in <-chan ecrops.Target, parallel int, stats bool,
	shown func(diagnose.FleetTarget, ecrops.Target)) []fleetResult {
	var mu sync.Mutex
	index := map[string]int{}
	var results []fleetResult
	var starts []time.Time
	relay := make(chan ecrops.Target)
	go func() {
		for t := range in {
			mu.Lock()
			index[t.String()] = len(results)
			results, starts = append(results, fleetResult{name: t.String()}), append(starts, time.Time{})
			mu.Unlock()
			relay <- t
		}
		close(relay)
	}()
	ecrops.EachTargetFrom(ctx, base, relay, parallel,
		func(ctx context.Context, t ecrops.Target, acc *ecrops.Account) (*fleetScan, error) {
			mu.Lock()
			starts[index[t.String()]] = time.Now()
			mu.Unlock()
			d, err := sc.run(ctx, g, &session{acc: acc}, nil)
			if err != nil {
				return nil, err
			}
			rep := d.report(stats)
			return &fleetScan{report: &rep, view: diagnose.FleetView(d.snap)}, nil
		},
		func(t ecrops.Target, s *fleetScan, err error) {
			mu.Lock()
			defer mu.Unlock()
			i := index[t.String()]
			ft := diagnose.FleetTarget{Target: model.Printable(t.String()), Source: model.Printable(t.Source), Account: t.Account,
				AccountName: model.Printable(t.AccountName), Region: t.Region}
			if !starts[i].IsZero() {
				ft.Seconds = time.Since(starts[i]).Seconds()
			}
			switch {
			case err != nil:
				ft.State, ft.Error = diagnose.TargetFailed, model.Printable(oneLine(err.Error()))
			case s.report.Complete:
				ft.State, ft.Report = diagnose.TargetComplete, s.report
			default:
				ft.State, ft.Report = diagnose.TargetIncomplete, s.report
			}
			if s != nil {
				ft.Account, ft.Region = s.report.Account, s.report.Region
			}
			results[i] = fleetResult{name: t.String(), target: ft, scan: s}
			shown(ft, t)
		})
	return results
}

// watchedPrincipals are the pulling principals the cross-account checks judge: the
// config's watch list and --principal.
func watchedPrincipals(g *globals, sc *scope) []string {
	principals := append([]string(nil), sc.principals...)
	if cfg, err := g.loadConfig(sc.configPath); err == nil {
		principals = append(cfg.Watch.Principals, principals...)
	}
	return principals
}

func failedTargets(results []fleetResult) []diagnose.FleetTarget {
	var out []diagnose.FleetTarget
	for _, r := range results {
		if r.target.State == diagnose.TargetFailed {
			out = append(out, r.target)
		}
	}
	return out
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// printFleetTarget prints one target as it finishes: a header, then doctor's report of it
// (or why it has none), with fix commands that name the target.
func printFleetTarget(w io.Writer, t diagnose.FleetTarget, scopeArgs string) {
	fmt.Fprintf(w, "\n=== %s: %s\n", t.Target, strings.ToUpper(t.State))
	if t.Report == nil {
		fmt.Fprintf(w, "    not scanned: %s\n", t.Error)
		return
	}
	printReport(w, *t.Report, scopeArgs)
}

// printFleetSummary is the table at the end: one line a target, then the fleet's totals
// and the cross-account findings.
func printFleetSummary(w io.Writer, r diagnose.FleetReport) {
	fmt.Fprintln(w, "\n=== FLEET")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tACCOUNT\tREGION\tSTATE\tERRORS\tWARNINGS\tINFO\tSECONDS")
	for _, t := range r.Targets {
		e, wn, in := "-", "-", "-"
		if t.Report != nil {
			e, wn, in = fmt.Sprint(t.Report.Summary.Errors), fmt.Sprint(t.Report.Summary.Warnings), fmt.Sprint(t.Report.Summary.Info)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\n", t.Target, orDash(t.Account), t.Region, t.State, e, wn, in, t.Seconds)
	}
	tw.Flush()
	for _, t := range r.Targets {
		if t.State == diagnose.TargetFailed {
			fmt.Fprintf(w, "FAILED  %s: %s\n", t.Target, t.Error)
		}
	}
	printSkipped(w, r.Skipped)
	for _, f := range r.CrossAccount {
		fmt.Fprintf(w, "\n[%s] %-7s %s  (%s %s)\n", f.ID, strings.ToUpper(f.Severity), f.Check, f.Subject.Kind, f.Subject.Name)
		say(w, "    ", "    ", f.Title)
		say(w, "    ", "    ", f.Explanation)
		for _, e := range f.Evidence {
			say(w, "    evidence: ", "      ", e.Call+" → "+e.Answer)
		}
		printCrossFixes(w, f.Fixes)
	}
	for _, n := range r.CrossAccountNotChecked {
		fmt.Fprintf(w, "\nNOT CHECKED  %s: %s: %s\n", n.Check, n.Subject, n.Reason)
	}
	s := r.Summary
	fmt.Fprintf(w, "\n%s: %d complete, %d incomplete, %d failed; %s, %s, %d info (%d cross-account)\n",
		plural(s.Targets, "account-region"), s.Complete, s.Incomplete, s.Failed, plural(s.Errors, "error"), plural(s.Warnings, "warning"), s.Info, len(r.CrossAccount))
}

// printSkipped says what discovery left out, one line per account and reason: an account
// whose regions are not enabled is one line listing them, not one line a region.
func printSkipped(w io.Writer, skipped []diagnose.FleetSkipped) {
	var order []string
	regions := map[string][]string{}
	for _, s := range skipped {
		k := s.Source + "\x00" + s.Reason
		if _, ok := regions[k]; !ok {
			order = append(order, k)
			regions[k] = nil
		}
		if s.Region != "" {
			regions[k] = append(regions[k], s.Region)
		}
	}
	for _, k := range order {
		source, reason, _ := strings.Cut(k, "\x00")
		if rs := regions[k]; len(rs) > 0 {
			fmt.Fprintf(w, "skipped %s: %s: %s\n", source, reason, strings.Join(rs, ", "))
		} else {
			fmt.Fprintf(w, "skipped %s: %s\n", source, reason)
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printCrossFixes prints a cross-account finding's fixes: each a step by hand in the
// account it names (no plan of one target applies it), so its text is printed whole.
func printCrossFixes(w io.Writer, fixes []diagnose.ReportFix) {
	for i, fx := range fixes {
		say(w, fmt.Sprintf("    fix %d: ", i+1), "      ", fx.Title+"  [by hand]")
		if fx.Manual != "" && fx.Manual != fx.Title+"." {
			printManual(w, fx.Manual, "      ")
		}
	}
}
