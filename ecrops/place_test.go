package ecrops_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// One journal serves every account a machine writes to. The same template made in two
// accounts of a fleet: each plan is journaled with its account, region and role, and
// the undo of one plan, asked of the other account, is refused before any write, both
// when the undo is planned (UndoPlan) and when a plan built elsewhere is applied here.
func TestUndoRefusesAPlanThatRanInAnotherAccount(t *testing.T) {
	f := simtest.StartFleet(t, crossAccountFleet)
	base := fleetBase(t, f)
	targets, _, err := ecrops.Targets(ctx(t), ecrops.FleetConfig{Base: base,
		RoleARN: "arn:aws:iam::{account}:role/ptcdoctor-audit", Accounts: []string{"222222222222", "333333333333"}, Regions: []string{"us-east-1"}})
	if err != nil || len(targets) != 2 {
		t.Fatalf("targets %v: %v", targets, err)
	}
	accs := map[string]*ecrops.Account{}
	plans := map[string]string{}
	for _, tg := range targets {
		acc, err := ecrops.OpenTarget(ctx(t), base, tg)
		if err != nil {
			t.Fatal(err)
		}
		apply(t, acc, ecrops.ApplyOptions{}, step(model.StepCreateTemplate, "ecr:CreateRepositoryCreationTemplate", "ptc-place",
			map[string]string{"appliedFor": "PULL_THROUGH_CACHE", "imageTagMutability": "MUTABLE", "encryptionType": "AES256"},
			map[string]string{"exists": "false"}))
		accs[tg.Account], plans[tg.Account] = acc, lastPlan(t, acc)
	}
	entries, _ := accs["222222222222"].Journal().Entries()
	for _, e := range entries {
		p, ok := e.PlaceOf()
		want := "333333333333"
		if e.Plan == plans["222222222222"] {
			want = "222222222222"
		}
		if !ok || p.Account != want || p.Region != "us-east-1" || p.Role != "arn:aws:iam::"+want+":role/ptcdoctor-audit" {
			t.Fatalf("journaled place of %s: %+v", e.Plan, p)
		}
	}
	writes := func(account string) int {
		n := 0
		for _, e := range f.Member(account, "us-east-1").Events(0) {
			n += map[bool]int{true: 1}[e.Write]
		}
		return n
	}
	before := writes("333333333333")

	_, err = accs["333333333333"].UndoPlan(ctx(t), plans["222222222222"], ecrops.UndoOptions{Unrecorded: true})
	var ee *ecrops.ElsewhereError
	if !errors.As(err, &ee) || ee.Ran.Account != "222222222222" || ee.Here.Account != "333333333333" ||
		!strings.Contains(err.Error(), "ran in account 222222222222 us-east-1 (role arn:aws:iam::222222222222:role/ptcdoctor-audit)") {
		t.Fatalf("undo planned in the wrong account: %v", err)
	}
	// The plan that undoes 222's, made there, applied with 333's credentials.
	u, err := accs["222222222222"].UndoPlan(ctx(t), plans["222222222222"], ecrops.UndoOptions{})
	if err != nil || len(u.Plan.Steps) != 1 {
		t.Fatalf("undo planned in its own account: %+v %v", u, err)
	}
	if _, err := accs["333333333333"].Apply(ctx(t), u.Plan, ecrops.ApplyOptions{Force: true, Unrecorded: true}); !errors.As(err, &ee) {
		t.Fatalf("undo applied in the wrong account: %v", err)
	}
	if got := writes("333333333333"); got != before {
		t.Fatalf("%d writes to the wrong account", got-before)
	}
	// In its own account the undo runs.
	if _, err := accs["222222222222"].Apply(ctx(t), u.Plan, ecrops.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
}

// A plan journaled before accounts were recorded is refused, unless the person says
// they checked (UndoOptions.Unrecorded, undo --force).
func TestUndoOfAnUnrecordedPlanNeedsForce(t *testing.T) {
	s := start(t, "demo")
	apply(t, s.acc, ecrops.ApplyOptions{}, addStatementStep(statementFor("Old", "eks-node")))
	id := lastPlan(t, s.acc)
	// The same lines as an older ptcdoctor wrote them: no account, no region.
	entries, _ := s.acc.Journal().Entries()
	old := &ecrops.Journal{Dir: t.TempDir()}
	for _, e := range entries {
		e.Account, e.Region = "", ""
		if err := old.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	cfg := s.cfg
	cfg.StateDir = old.Dir
	acc := s.open(cfg)
	var ue *ecrops.UnrecordedError
	if _, err := acc.UndoPlan(ctx(t), id, ecrops.UndoOptions{}); !errors.As(err, &ue) || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("unrecorded: %v", err)
	}
	u, err := acc.UndoPlan(ctx(t), id, ecrops.UndoOptions{Unrecorded: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acc.Apply(ctx(t), u.Plan, ecrops.ApplyOptions{}); !errors.As(err, &ue) {
		t.Fatalf("applied without the option: %v", err)
	}
	if _, err := acc.Apply(ctx(t), u.Plan, ecrops.ApplyOptions{Unrecorded: true}); err != nil {
		t.Fatal(err)
	}
}

// An undo whose plan has no readable line in this journal (another machine's, a journal
// moved or cut) is refused before it writes: where the plan ran is not known.
func TestAnUndoWhosePlanIsNotInTheJournalIsRefused(t *testing.T) {
	s := start(t, "demo")
	apply(t, s.acc, ecrops.ApplyOptions{}, addStatementStep(statementFor("Gone", "eks-node")))
	id := lastPlan(t, s.acc)
	u, err := s.acc.UndoPlan(ctx(t), id, ecrops.UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.cfg
	cfg.StateDir = t.TempDir() // an empty journal
	acc := s.open(cfg)
	for _, opts := range []ecrops.ApplyOptions{{}, {Unrecorded: true, Force: true}} {
		if _, err := acc.Apply(ctx(t), u.Plan, opts); err == nil || !strings.Contains(err.Error(), "where it ran is not known") {
			t.Fatalf("applied %+v: %v", opts, err)
		}
	}
}
