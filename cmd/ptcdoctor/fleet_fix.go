package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// runFleetFix is fix over several account-regions, one after another: each diagnosed and
// fixed as fix does one account (its own plans, premises re-read before each write, its
// own journal entries, its own re-check). It stops at the first account-region whose fix
// failed (unless --keep-going), so that a plan wrong for the fleet is not repeated on
// every account; a dry run goes over them all.
func runFleetFix(cmd *cobra.Command, g *globals, sc *scope, ff *fleetFlags, fr *fixRun) error {
	if fr.tokenStdin {
		return usageError{errors.New("--token-stdin stores one token in one secret; over a fleet it would store it in one secret per account-region: fix those one account-region at a time")}
	}
	for _, a := range fr.findingIDs {
		if isNumber(a) {
			// Each target numbers its own findings: finding 1 is a different finding,
			// with a different fix, in every account-region.
			return usageError{fmt.Errorf("--finding %s: over a fleet each account-region numbers its own findings; give the finding's id, as doctor prints it", a)}
		}
	}
	ctx, out := cmd.Context(), cmd.OutOrStdout()
	fc, targets, _, err := fleetTargets(ctx, g, sc, ff)
	if err != nil {
		return err
	}
	manual := 0 // cross-account findings asked for: said, and not applied (exit 1)
	if len(fr.findingIDs) > 0 {
		var ids []string
		ids, manual = manualCrossFindings(ctx, out, g, sc, fc.Base, targets, ff.parallel, fr.findingIDs)
		if len(ids) == 0 {
			return findingsError{errQuiet}
		}
		fr.findingIDs = ids
	}
	// Each target ends done (its fixes applied and confirmed, or nothing to fix), not
	// fixed (a fix asked for was not applied, or its finding is still there: exit 1),
	// failed (not opened, not diagnosed, or a write refused: exit 3, as doctor calls a
	// target that failed), incomplete (a part unread: exit 3), or not attempted after
	// a stop (exit 3: never read). The exit code does not depend on --keep-going.
	var done, notFixed, failed, incomplete, left []string
	for i, t := range targets {
		fmt.Fprintf(out, "\n=== %s (%d of %d)\n", model.Printable(t.String()), i+1, len(targets))
		err := fixTarget(ctx, out, g, sc, fc.Base, t, fr)
		var ue usageError
		var ie incompleteError
		var we writeFailedError
		var fe findingsError
		switch {
		case errors.As(err, &ue):
			return err
		case errors.As(err, &ie):
			incomplete = append(incomplete, t.String())
		case errors.As(err, &we) || (err != nil && !errors.As(err, &fe)):
			failed = append(failed, t.String())
		case err != nil:
			notFixed = append(notFixed, t.String())
		default:
			done = append(done, t.String())
		}
		if err != nil && !errors.As(err, &ie) && !fr.dryRun && !ff.continueOnFail {
			for _, rest := range targets[i+1:] {
				left = append(left, rest.String())
			}
			fmt.Fprintf(out, "\nStopped at the first account-region whose fix failed; %d not attempted (--keep-going goes on after a failure).\n", len(left))
			break
		}
	}
	fmt.Fprintf(out, "\n=== FLEET: %d account-regions: %d done, %d not fixed, %d failed, %d incomplete, %d not attempted\n",
		len(targets), len(done), len(notFixed), len(failed), len(incomplete), len(left))
	for _, list := range []struct {
		what  string
		names []string
	}{{"not fixed", notFixed}, {"failed", failed}, {"incomplete", incomplete}, {"not attempted", left}} {
		if len(list.names) > 0 {
			fmt.Fprintf(out, "  %s: %s\n", list.what, model.Printable(strings.Join(list.names, "; ")))
		}
	}
	switch {
	case len(failed) > 0 || len(incomplete) > 0 || len(left) > 0:
		return incompleteError{errQuiet}
	case len(notFixed) > 0 || manual > 0:
		return findingsError{errQuiet}
	}
	return nil
}

// fixTarget opens one account-region and runs the fix there.
func fixTarget(ctx context.Context, out io.Writer, g *globals, sc *scope, base ecrops.Config, t ecrops.Target, fr *fixRun) error {
	acc, err := ecrops.OpenTarget(ctx, base, t)
	if err != nil {
		fmt.Fprintf(out, "  not opened: %s\n", model.Printable(oneLine(err.Error())))
		return err
	}
	if n := unfinishedNotice(acc.Journal()); n != "" {
		fmt.Fprintln(out, "  "+n)
	}
	err = fr.run(ctx, out, g, sc, &session{acc: acc})
	var ue usageError
	if err != nil && err.Error() != "" && !errors.As(err, &ue) { // not scanned (a region not enabled): said here, in its block
		fmt.Fprintf(out, "  not scanned: %s\n", model.Printable(oneLine(err.Error())))
	}
	return err
}
