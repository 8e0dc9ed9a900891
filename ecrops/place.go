package ecrops

import (
	"context"
	"fmt"
	"strings"
)

// A plan's writes are journaled with the place they were made: the account (as
// GetCallerIdentity answers) and the region, and how the credentials reached them (a
// profile, a role). One journal serves every account and region a machine writes to (a
// fleet's fix writes to many), so an undo first reads where it would write and refuses,
// before any call that changes anything, a plan that ran somewhere else: deleting a
// template in the wrong account is worse than not undoing at all.

// Place is where writes are made: an account and region, and how they were reached.
type Place struct {
	Account, Region, Profile, Role string
}

// String says the place as a person reads it: "account 111111111111 us-east-1 (profile prod)".
func (p Place) String() string {
	s := "account " + orDefault(p.Account, "(unknown)") + " " + orDefault(p.Region, "(no region)")
	switch {
	case p.Role != "":
		s += " (role " + p.Role + ")"
	case p.Profile != "":
		s += " (profile " + p.Profile + ")"
	}
	return s
}

// Place reads where this account's writes go: the caller's account (GetCallerIdentity,
// asked once) and the region in use. A caller that cannot be read is an error: a write,
// or an undo, that cannot say where it lands is not made.
func (a *Account) Place(ctx context.Context) (Place, error) {
	id, err := a.Whoami(ctx)
	if err != nil {
		return Place{}, fmt.Errorf("which account these credentials reach could not be confirmed (sts:GetCallerIdentity: %w); nothing was written", err)
	}
	return Place{Account: id.Account, Region: a.aws.Region, Profile: a.cfg.Profile, Role: a.cfg.AssumedRole}, nil
}

func (e *JournalEntry) setPlace(p Place) {
	e.Account, e.Region, e.Profile, e.Role = p.Account, p.Region, p.Profile, p.Role
}

// PlaceOf is where a journal entry's write was made; ok is false for a line written
// before ptcdoctor recorded it.
func (e JournalEntry) PlaceOf() (p Place, ok bool) {
	p = Place{Account: e.Account, Region: e.Region, Profile: e.Profile, Role: e.Role}
	return p, e.Account != "" && e.Region != ""
}

// ElsewhereError refuses to undo a plan in an account or region other than the one it
// ran in. Ran is where it ran; Here is where the undo would write.
type ElsewhereError struct {
	Plan      string
	Ran, Here Place
}

func (e *ElsewhereError) Error() string {
	return fmt.Sprintf("plan %s ran in %s, and these credentials write to %s: nothing was written. Undo it from its account and region",
		e.Plan, e.Ran, e.Here)
}

// UnrecordedError refuses to undo a plan journaled before ptcdoctor recorded where each
// write was made: where it ran is not known, so an undo here might undo nothing of it
// and change another account's resources. UndoOptions.Unrecorded lifts it.
type UnrecordedError struct {
	Plan string
	Here Place
}

func (e *UnrecordedError) Error() string {
	return fmt.Sprintf("plan %s was journaled without its account and region (written by an older ptcdoctor): it cannot be confirmed that it ran in %s; "+
		"nothing was written. Check with `ptcdoctor doctor` that this is its account and region, then `ptcdoctor undo %s --force`",
		e.Plan, e.Here, e.Plan)
}

// checkPlace refuses an undo of planID where it did not run: every journaled write of the
// plan must have been made here. unrecorded allows lines that do not say where. Before a
// write (mustSee), a plan none of whose lines could be read is refused too: where it ran is
// then not known (UndoPlan says "no finished step" of such a plan itself).
func checkPlace(here Place, entries []JournalEntry, planID string, unrecorded, mustSee bool) error {
	seen := false
	for _, e := range entries {
		if e.Plan != planID || e.Phase == "ack" {
			continue
		}
		seen = true
		ran, ok := e.PlaceOf()
		switch {
		case !ok && !unrecorded:
			return &UnrecordedError{Plan: planID, Here: here}
		case ok && (ran.Account != here.Account || !strings.EqualFold(ran.Region, here.Region)):
			return &ElsewhereError{Plan: planID, Ran: ran, Here: here}
		}
	}
	if !seen && mustSee {
		return fmt.Errorf("no journal line of plan %s could be read, so where it ran is not known: nothing was written", planID)
	}
	return nil
}

// UndoOptions loosen UndoPlan's refusals for a person who checked.
type UndoOptions struct {
	// Unrecorded undoes a plan whose journal lines do not say where it ran (older
	// lines) in the account at hand. A plan recorded elsewhere is refused all the same.
	Unrecorded bool
}
