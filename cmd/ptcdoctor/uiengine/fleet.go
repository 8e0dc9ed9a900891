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
}

// NewFleet adapts the targets; principals are the watched pulling principals the
// cross-account checks judge, besides each account's caller.
func NewFleet(base ecrops.Config, targets []ecrops.Target, parallel int, principals []string) *Fleet {
	f := &Fleet{base: base, targets: targets, parallel: parallel, principals: principals, byID: map[string]ecrops.Target{}}
	for _, t := range targets {
		f.byID[t.String()] = t
	}
	return f
}

func (f *Fleet) Targets() []ui.FleetTarget {
	out := make([]ui.FleetTarget, len(f.targets))
	for i, t := range f.targets {
		out[i] = target(t)
	}
	return out
}

func target(t ecrops.Target) ui.FleetTarget {
	return ui.FleetTarget{ID: t.String(), Source: t.Source, Account: t.Account, Region: t.Region}
}

// scanned is one target's outcome: what the cross-account checks read, and its row.
type scanned struct {
	view *model.Snapshot
	row  ui.FleetRow
}

func (f *Fleet) Scan(ctx context.Context, report func(ui.FleetRow)) []ui.FleetFinding {
	var mu sync.Mutex // report is called one call at a time
	say := func(r ui.FleetRow) {
		mu.Lock()
		defer mu.Unlock()
		report(r)
	}
	var views []*model.Snapshot
	var failed []diagnose.FleetTarget
	ecrops.EachTarget(ctx, f.base, f.targets, f.parallel,
		func(ctx context.Context, t ecrops.Target, acc *ecrops.Account) (scanned, error) {
			say(ui.FleetRow{FleetTarget: target(t), State: ui.FleetScanning})
			snap, err := acc.Scan(ctx, ecrops.Scope{}, nil)
			if err != nil {
				return scanned{}, err
			}
			if e := ecrops.RegionRefused(snap); e != nil {
				return scanned{}, regionRefused{fmt.Errorf("region %s is not enabled for account %s: %s answered %s: %s", snap.Region, snap.AccountID, e.Operation, e.Code, e.Message)}
			}
			var principals []string
			if own := diagnose.PrincipalsFor(f.principals, snap.AccountID); len(own) > 0 {
				principals = append([]string{snap.Identity.ARN}, own...)
			}
			res := diagnose.Diagnose(ctx, snap, Engine{Account: acc}, diagnose.Options{Principals: principals})
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
		},
		func(t ecrops.Target, s scanned, err error) {
			if err != nil {
				detail := model.Printable(strings.Join(strings.Fields(err.Error()), " "))
				failed = append(failed, diagnose.FleetTarget{Account: t.Account, Region: t.Region, Error: detail})
				say(ui.FleetRow{FleetTarget: target(t), State: ui.FleetFailed, Reason: model.Printable(reason(err)), Detail: detail})
				return
			}
			views = append(views, s.view)
			say(s.row)
		})
	cross, _ := diagnose.FleetChecks(views, failed, f.principals)
	out := make([]ui.FleetFinding, len(cross))
	for i, c := range cross {
		out[i] = ui.FleetFinding{ID: c.ID, Check: c.Check, Severity: c.Severity, Subject: c.Subject.Name, Title: c.Title, Explanation: c.Explanation}
	}
	return out
}

// regionRefused is a target whose region the account has not enabled.
type regionRefused struct{ error }

// reason words a target's failure for its row: AWS's error code first (the SDK's
// wording of the call, its status and request id are left to the detail).
func reason(err error) string {
	var rr regionRefused
	if errors.As(err, &rr) {
		return "region not enabled"
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
	t, ok := f.byID[id]
	if !ok {
		return nil, fmt.Errorf("no target %q in the fleet", id)
	}
	acc, err := ecrops.OpenTarget(ctx, f.base, t)
	if err != nil {
		return nil, err
	}
	return New(ctx, acc, f.Demo), nil
}
