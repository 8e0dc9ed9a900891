package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
)

// doctor --events-file: the failed image pulls of Kubernetes events, explained against
// the account the doctor just read, grouped by cause.

// pullEvents are the failed pulls read from events; nil when no events were given.
type pullEvents struct {
	list []diagnose.PullEvent
}

// readEvents reads --events-file, if given.
func (sc *scope) readEvents() (*pullEvents, error) {
	if sc.eventsFile == "" {
		return nil, nil
	}
	if sc.eventsFile == "-" && sc.imagesFile == "-" {
		return nil, usageError{fmt.Errorf("--events-file and --images-file cannot both read stdin")}
	}
	raw, err := readInput(sc.eventsFile)
	if err != nil {
		return nil, usageError{fmt.Errorf("--events-file: %w", err)}
	}
	evs, err := eventsIn(raw, "--events-file")
	if err == nil && evs == nil {
		err = usageError{fmt.Errorf("--events-file %s: not Kubernetes events (want the output of kubectl get events -A -o json)", sc.eventsFile)}
	}
	return evs, err
}

// eventsIn reads events from raw; nil, nil when raw is not events.
func eventsIn(raw []byte, flag string) (*pullEvents, error) {
	list, isEvents, err := diagnose.ReadEvents(raw)
	if err != nil {
		return nil, usageError{fmt.Errorf("%s: %w", flag, err)}
	}
	if !isEvents {
		return nil, nil
	}
	return &pullEvents{list: list}, nil
}

// explainEvents explains the failed pulls against the account the doctor read, with the
// same principals.
func (d *diagnosis) explainEvents(ctx context.Context, s *session) []diagnose.PullGroup {
	if d.events == nil {
		return nil
	}
	return diagnose.ExplainEvents(ctx, &diagnose.Account{Snap: d.snap, Prober: s.acc, Opts: d.opts}, d.events.list)
}

// printPullFailures prints the groups: a cause, then each image it failed, the pods, and
// the verdict and fix for that image.
func printPullFailures(w io.Writer, groups []diagnose.PullGroup) {
	if groups == nil {
		return
	}
	fmt.Fprintf(w, "\nFailed image pulls in the events: %s\n", plural(len(groups), "cause"))
	for _, g := range groups {
		check := ""
		if g.Check != "" {
			check = "  [check " + g.Check + "]"
		}
		// The same word as --json's cause: unexplained, back-off-only, or a cause id.
		fmt.Fprintln(w)
		say(w, "", "    ", g.Cause+": "+g.Title+check)
		for _, p := range g.Pulls {
			say(w, "  ", "      ", fmt.Sprintf("%s  (%s; %s)", p.Image, plural(p.Events, "event"), strings.Join(p.Objects, ", ")))
			say(w, "    ", "    ", p.Verdict)
			if p.Fix != "" {
				say(w, "    fix: ", "         ", p.Fix)
			}
			for _, n := range p.Needs {
				say(w, "    would settle it: ", "      ", n)
			}
		}
	}
	if len(groups) == 0 {
		fmt.Fprintln(w, "  none: no event tells of a failed image pull.")
	}
}
