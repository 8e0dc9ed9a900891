package uiengine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/smithy-go"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
	"github.com/ptcdoctor/ptcdoctor/ui"
)

// Fleet adapts ecrops' targets to the interface's FleetEngine: each target scanned and
// checked as doctor does one (ecrops.EachTarget: bounded in total and per target), then
// the cross-account checks over what was read.
type Fleet struct {
	base       ecrops.Config
	targets    []ecrops.Target
	parallel   int
	principals []string
	byID       map[string]ecrops.Target
	// Demo marks the embedded demo fleet in the header of each target opened.
	Demo bool

	// discover are accounts whose regions are to be found (--regions all), each a row
	// until a Scan finds them (one cancelled first leaves them here); fc says where to look.
	fc       ecrops.FleetConfig
	discover []ecrops.Target
	// reached are the account-regions found so far: an account a second source reaches
	// (two profiles of it) is scanned once, under the first, which also names the other
	// (also, by the first's ID), as doctor's fleet does.
	reached ecrops.Reached
	also    map[string][]string
	mu      sync.Mutex // guards targets, byID, discover, reached and also while regions are found
	// scanning holds one Scan at a time: a scan replaced waits for the one it replaces
	// to wind down, so that the accounts it left undiscovered are looked in again.
	scanning sync.Mutex
}

// NewFleet adapts the targets; principals are the watched pulling principals the
// cross-account checks judge, besides each account's caller.
func NewFleet(base ecrops.Config, targets []ecrops.Target, parallel int, principals []string) *Fleet {
	f := &Fleet{base: base, targets: targets, parallel: parallel, principals: principals, byID: map[string]ecrops.Target{},
		reached: ecrops.Reached{}, also: map[string][]string{}}
	f.reached.Add(targets) // ecrops.Targets named each once already
	for _, t := range targets {
		f.byID[t.String()] = t
	}
	return f
}

// Discover adds accounts whose regions are to be found as fc says (AllRegions asks
// every candidate region): the interface lists them at once, before any region is asked.
func (f *Fleet) Discover(fc ecrops.FleetConfig, accounts []ecrops.Target) {
	f.fc, f.discover = fc, accounts
}

func (f *Fleet) Targets() []ui.FleetTarget {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]ui.FleetTarget, 0, len(f.targets)+len(f.discover))
	for _, t := range f.targets {
		out = append(out, f.namedLocked(target(t)))
	}
	for _, a := range f.discover {
		out = append(out, accountRow(a))
	}
	return out
}

// named is a target under every source that reached it.
func (f *Fleet) named(t ui.FleetTarget) ui.FleetTarget {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.namedLocked(t)
}

func (f *Fleet) namedLocked(t ui.FleetTarget) ui.FleetTarget {
	for _, s := range f.also[t.ID] {
		t.Source += model.Printable(" (also " + s + ")")
	}
	return t
}

// accountRow is the row of an account whose regions are being looked for.
func accountRow(a ecrops.Target) ui.FleetTarget {
	return ui.FleetTarget{ID: "discover " + a.Source, Source: a.Source, Account: a.Account, AccountName: a.AccountName, Discover: true}
}

func (f *Fleet) ReadOnly() bool { return f.base.ReadOnly }

// discoverRegions finds one account's regions and reports them (they take the
// account's row, and join the targets). An account-region another source reached first
// is not a target again: the first is named again, with this source too (again). A scan
// cancelled meanwhile (its answers may be cut short) leaves the account to be looked in
// again: ok is false.
func (f *Fleet) discoverRegions(ctx context.Context, a ecrops.Target, say func(ui.FleetRow), again func(id string)) (found []ecrops.Target, ok bool) {
	found, skipped := ecrops.AccountTargets(ctx, f.fc, a)
	row := ui.FleetRow{FleetTarget: accountRow(a), State: ui.FleetDone}
	f.mu.Lock()
	if ctx.Err() != nil {
		f.mu.Unlock()
		return nil, false
	}
	for i, d := range f.discover {
		if d.Source == a.Source {
			f.discover = append(f.discover[:i:i], f.discover[i+1:]...)
			break
		}
	}
	found, also := f.reached.Add(found)
	for _, t := range found {
		f.targets = append(f.targets, t)
		f.byID[t.String()] = t
		row.Found = append(row.Found, target(t))
	}
	for _, d := range also {
		id := d.Target.String()
		f.also[id] = append(f.also[id], d.Source)
	}
	f.mu.Unlock()
	switch {
	case len(found) == 0 && len(also) > 0:
		row.Reason = model.Printable(fmt.Sprintf("the same account as %s: its account-regions are scanned once, under that name", also[0].Target.Source))
	case len(found) == 0:
		row.Reason = fmt.Sprintf("no pull through cache rule in any region (%d not enabled)", len(skipped))
	}
	say(row)
	for _, d := range also {
		again(d.Target.String())
	}
	return found, true
}

func target(t ecrops.Target) ui.FleetTarget {
	return ui.FleetTarget{ID: t.String(), Source: t.Source, Account: t.Account, AccountName: t.AccountName, Region: t.Region}
}

// scanned is one target's outcome: what the cross-account checks read, and its row.
type scanned struct {
	view *model.Snapshot
	row  ui.FleetRow
}

// Scan scans the known targets and, at the same time, looks for the regions of the
// accounts still to be looked in: each account's targets are scanned as soon as they
// are found, not once every account's are. One bound (parallel) holds over all scans.
func (f *Fleet) Scan(ctx context.Context, report func(ui.FleetRow)) ui.FleetCross {
	var mu sync.Mutex                // report is called one call at a time; views, failed and last are shared
	last := map[string]ui.FleetRow{} // each row as last reported, before it was named
	say := func(r ui.FleetRow) {
		mu.Lock()
		defer mu.Unlock()
		last[r.ID] = r
		r.FleetTarget = f.named(r.FleetTarget)
		report(r)
	}
	// again reports a target's row once more, now that another source reached it too.
	again := func(id string) {
		mu.Lock()
		defer mu.Unlock()
		if r, ok := last[id]; ok {
			r.FleetTarget = f.named(r.FleetTarget)
			report(r)
		}
	}
	var views []*model.Snapshot
	var failed []diagnose.FleetTarget
	slots := make(chan struct{}, max(1, f.parallel))
	scan := func(targets []ecrops.Target) {
		ecrops.EachTarget(ctx, f.base, targets, f.parallel,
			func(ctx context.Context, t ecrops.Target, acc *ecrops.Account) (scanned, error) {
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					return scanned{}, ctx.Err()
				}
				defer func() { <-slots }()
				return f.scanOne(ctx, t, acc, say)
			},
			func(t ecrops.Target, s scanned, err error) {
				if err != nil {
					detail := model.Printable(strings.Join(strings.Fields(err.Error()), " "))
					say(ui.FleetRow{FleetTarget: target(t), State: ui.FleetFailed, Reason: model.Printable(reason(err)), Detail: detail})
					mu.Lock()
					failed = append(failed, diagnose.FleetTarget{Account: t.Account, Region: t.Region, Error: detail})
					mu.Unlock()
					return
				}
				say(s.row)
				mu.Lock()
				views = append(views, s.view)
				mu.Unlock()
			})
	}
	f.scanning.Lock()
	defer f.scanning.Unlock()
	f.mu.Lock()
	known, pending := append([]ecrops.Target(nil), f.targets...), append([]ecrops.Target(nil), f.discover...)
	f.mu.Unlock()
	defer ecrops.FleetRun(append(known, pending...))() // one run: the targets found later share the probes' answers too
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		scan(known)
	}()
	looking := make(chan struct{}, max(1, f.parallel)) // accounts looked in at once
	for _, a := range pending {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case looking <- struct{}{}:
			case <-ctx.Done():
				return
			}
			found, ok := f.discoverRegions(ctx, a, say, again)
			<-looking
			if ok {
				scan(found)
			}
		}()
	}
	wg.Wait()
	cross, notChecked := diagnose.FleetChecks(views, failed, f.principals)
	var out ui.FleetCross
	for _, c := range cross {
		out.Findings = append(out.Findings, fleetFinding(c))
	}
	for _, n := range notChecked {
		out.NotChecked = append(out.NotChecked, ui.FleetNotChecked{Check: n.Check, Subject: n.Subject, Reason: n.Reason})
	}
	return out
}

// fleetFinding is a cross-account finding as the interface shows it: whole, with its
// evidence and its steps by hand.
func fleetFinding(c diagnose.ReportFinding) ui.FleetFinding {
	f := ui.FleetFinding{ID: c.ID, Check: c.Check, Severity: c.Severity, Kind: c.Subject.Kind, Subject: c.Subject.Name, Title: c.Title, Explanation: c.Explanation}
	// The key is check|kind|subject, then what tells the check's findings on it apart.
	f.Differs = strings.TrimPrefix(strings.TrimPrefix(c.Key, c.Check+"|"+c.Subject.Kind+"|"+c.Subject.Name), "|")
	for _, e := range c.Evidence {
		f.Evidence = append(f.Evidence, model.Evidence{Call: e.Call, Answer: e.Answer})
	}
	for _, fx := range c.Fixes {
		f.Fixes = append(f.Fixes, model.Fix{Title: fx.Title, Manual: fx.Manual})
	}
	return f
}

// scanOne scans and checks one target, as doctor does one account-region.
func (f *Fleet) scanOne(ctx context.Context, t ecrops.Target, acc *ecrops.Account, say func(ui.FleetRow)) (scanned, error) {
	say(ui.FleetRow{FleetTarget: target(t), State: ui.FleetScanning})
	snap, err := acc.Scan(ctx, ecrops.Scope{}, nil)
	if err != nil {
		return scanned{}, err
	}
	if snap.AccountID == "" { // as doctor says: no part of it can be told whose it is
		return scanned{}, unreadAccount{snap.Errors}
	}
	if e := ecrops.RegionRefused(snap); e != nil {
		return scanned{}, regionRefused{fmt.Errorf("region %s is not enabled for account %s: %s answered %s: %s", snap.Region, snap.AccountID, e.Operation, e.Code, e.Message)}
	}
	var principals []string
	if own := diagnose.PrincipalsFor(f.principals, snap.AccountID); len(own) > 0 {
		principals = append([]string{snap.Identity.ARN}, own...)
	}
	res := diagnose.Diagnose(ctx, snap, Engine{Account: acc}, diagnose.Options{Principals: principals, Patterns: f.principals})
	row := ui.FleetRow{FleetTarget: target(t), State: ui.FleetDone, Rules: len(snap.Rules), Repositories: len(snap.Repositories)}
	row.Account, row.Region = snap.AccountID, snap.Region
	if len(snap.Errors) > 0 || len(res.NotChecked) > 0 {
		row.State = ui.FleetIncomplete
		row.Reason = fmt.Sprintf("%d parts unread, %d subjects not checked", len(snap.Errors), len(res.NotChecked))
	}
	for _, fd := range res.Findings {
		switch fd.Severity {
		case model.SeverityError:
			row.Errors++
		case model.SeverityWarning:
			row.Warnings++
		default:
			row.Infos++
		}
	}
	return scanned{view: diagnose.FleetView(snap), row: row}, nil
}

// regionRefused is a target whose region the account has not enabled.
type regionRefused struct{ error }

// unreadAccount is a target whose scan could not tell which account it is (the
// credentials refused everywhere): failed, as doctor counts it, not incomplete.
type unreadAccount struct{ errs []model.PartError }

func (e unreadAccount) Error() string {
	var parts []string
	for _, pe := range e.errs {
		parts = append(parts, pe.Operation+": "+strings.TrimSpace(pe.Code+" "+pe.Message))
	}
	return "could not tell which account this is: " + strings.Join(parts, "; ")
}

// first is the first failed read's code, which names the cause the others share.
func (e unreadAccount) first() string {
	if len(e.errs) == 0 {
		return "no answer"
	}
	return orNone(e.errs[0].Code, e.errs[0].Message)
}

// reason words a target's failure for its row: AWS's error code first (the SDK's
// wording of the call, its status and request id are left to the detail).
func reason(err error) string {
	var rr regionRefused
	if errors.As(err, &rr) {
		return "region not enabled"
	}
	var ua unreadAccount
	if errors.As(err, &ua) {
		return "could not tell which account this is: " + ua.first()
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return err.Error()
	}
	if msg := err.Error(); strings.HasPrefix(msg, "cannot assume ") {
		role := strings.TrimPrefix(strings.SplitN(msg, ": ", 2)[0], "cannot assume ")
		if i := strings.Index(role, ":role/"); i >= 0 {
			role = role[i+1:] // the account is the row's
		}
		return ae.ErrorCode() + " assuming " + role
	}
	return ae.ErrorCode() + ": " + ae.ErrorMessage()
}

// Open opens one target's account, as its scan did.
func (f *Fleet) Open(ctx context.Context, id string) (ui.Engine, error) {
	f.mu.Lock()
	t, ok := f.byID[id]
	f.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("no target %q in the fleet", id)
	}
	acc, err := ecrops.OpenTarget(ctx, f.base, t)
	if err != nil {
		return nil, err
	}
	return New(ctx, acc, f.Demo), nil
}

func orNone(s, or string) string {
	if s == "" {
		return or
	}
	return s
}
