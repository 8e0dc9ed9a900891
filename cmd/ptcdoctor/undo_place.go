package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// An undo writes where its plan ran, and nowhere else. The journal records each plan's
// account and region (and the profile or role that reached them); undo reads it first,
// takes the plan's region when --region is not given, reaches the account through
// --profile or --assume-role-arn (the role assumed in the plan's account), and the
// engine refuses, before any write, credentials that reach another account.

// journaledPlace is where the journal says a plan ran; ok is false when no line of it
// records that (older lines) or the plan is not in the journal. A journal that could not
// be read, with no line of the plan in what was read, is an error, not an older line.
func journaledPlace(g *globals, planID string) (ecrops.Place, bool, error) {
	entries, err := (&ecrops.Journal{Dir: g.stateDir()}).Entries()
	found := false
	for _, e := range entries {
		if e.Plan == planID {
			found = true
			if p, ok := e.PlaceOf(); ok {
				return p, true, nil
			}
		}
	}
	if err != nil && !found {
		return ecrops.Place{}, false, fmt.Errorf("the journal could not be read, so where plan %s ran is not known: %w", planID, err)
	}
	return ecrops.Place{}, false, nil
}

// openForUndo opens the account an undo of planID writes to: the flags' account, in the
// plan's region unless --region names one; with roleARN, that role assumed in the plan's
// account (the base credentials, --profile's or the default chain's, assume it).
func openForUndo(ctx context.Context, g *globals, planID, roleARN string) (*session, error) {
	if g.demoFleet {
		// The demo fleet starts afresh each run: what an earlier run wrote is gone with it.
		return nil, usageError{errors.New("the demo fleet starts afresh each run, and the plans of an earlier run went with it: " +
			"undo a demo fleet's plan in the interface that made it (ptcdoctor --demo-fleet, a target's journal tab, u)")}
	}
	ran, recorded, err := journaledPlace(g, planID)
	if err != nil {
		return nil, err
	}
	if recorded && g.region == "" && !g.demo {
		g.region = ran.Region
	}
	if roleARN == "" {
		return g.open(ctx)
	}
	if g.demo || g.demoFleet {
		return nil, usageError{errors.New("--assume-role-arn reaches a real account; the demo's undo runs with --demo alone")}
	}
	if !recorded {
		return nil, usageError{fmt.Errorf("plan %s does not record its account (an older journal line): reach its account with --profile, not --assume-role-arn", planID)}
	}
	base, err := g.config()
	if err != nil {
		return nil, err
	}
	base.Region = orDefault(base.Region, ran.Region)
	targets, err := ecrops.FleetAccounts(ctx, ecrops.FleetConfig{Base: base, RoleARN: roleARN, Accounts: []string{ran.Account}})
	if err != nil {
		return nil, usageError{err}
	}
	t := targets[0]
	t.Region = base.Region
	acc, err := ecrops.OpenTarget(ctx, base, t)
	if err != nil {
		return nil, usageError{err}
	}
	return &session{acc: acc}, nil
}

// reachPlace adds, to an undo refused for running elsewhere, the command that reaches
// the account and region the plan ran in, from what the journal recorded.
func reachPlace(err error, g *globals, planID string) error {
	var ee *ecrops.ElsewhereError
	if !errors.As(err, &ee) {
		return err
	}
	var b strings.Builder
	b.WriteString("ptcdoctor undo " + shellQuote(planID))
	switch {
	case g.demo:
		b.WriteString(" --demo")
	case ee.Ran.Role != "":
		b.WriteString(" --assume-role-arn " + shellQuote(strings.Replace(ee.Ran.Role, ee.Ran.Account, "{account}", 1)))
		if g.profile != "" {
			b.WriteString(" --profile " + shellQuote(g.profile)) // the credentials that assume it
		}
	case ee.Ran.Profile != "":
		b.WriteString(" --profile " + shellQuote(ee.Ran.Profile))
	}
	b.WriteString(" --region " + shellQuote(ee.Ran.Region))
	if g.endpointURL != "" {
		b.WriteString(" --endpoint-url " + shellQuote(g.endpointURL))
	}
	b.WriteString(" --dry-run")
	if ee.Ran.Role == "" && ee.Ran.Profile == "" && !g.demo {
		b.WriteString("   (with credentials of account " + ee.Ran.Account + ": it ran with the default chain's)")
	}
	return fmt.Errorf("%w:\n  %s", err, model.Printable(b.String()))
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
