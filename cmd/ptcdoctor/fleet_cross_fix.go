package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// A cross-account finding (fleet-consumer-pull, fleet-ecr-upstream-policy,
// fleet-upstream-drift) is judged across targets, so no plan of one target fixes it:
// its fix is a step by hand in the account it names. fix --finding with its id says so
// and prints the step, rather than looking for it in each target in turn.

// manualCrossFindings prints the cross-account findings among ids (the fleet is scanned
// and checked as doctor does it to know them) and returns the ids left for the targets.
// Nothing is applied: cross is how many of ids were cross-account findings.
func manualCrossFindings(ctx context.Context, out io.Writer, g *globals, sc *scope, base ecrops.Config, targets []ecrops.Target, parallel int, ids []string) (left []string, cross int) {
	results := runFleet(ctx, g, sc, base, targets, parallel, false, func(diagnose.FleetTarget, ecrops.Target) {})
	var views []*model.Snapshot
	for _, r := range results {
		if r.scan != nil {
			views = append(views, r.scan.view)
		}
	}
	found, _ := diagnose.FleetChecks(views, failedTargets(results), watchedPrincipals(g, sc))
	for _, id := range ids {
		i := slices.IndexFunc(found, func(f diagnose.ReportFinding) bool { return f.ID == strings.ToLower(id) })
		if i < 0 {
			left = append(left, id)
			continue
		}
		cross++
		f := found[i]
		fmt.Fprintf(out, "\n[%s] %s is a cross-account finding: no plan of one target fixes it: its fix is a step by hand; nothing was applied.\n", f.ID, f.Check)
		say(out, "    ", "    ", f.Title)
		printCrossFixes(out, f.Fixes)
	}
	return left, cross
}
