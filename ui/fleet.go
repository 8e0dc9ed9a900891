package ui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// The fleet screen: one row per account-region, filled as each target is scanned, and
// the cross-account findings (and what they could not judge) once all are. An account
// whose regions are still being looked for (--regions all) is one row, discovering, until
// its account-regions take its place. enter opens a target in the screens of one
// account (rules, repositories, findings, journal); F or :fleet comes back here.
//
// The fleet's scan has a generation, as one account's has: its rows and its end carry
// it, and those of a scan replaced by r are dropped.

// FleetEngine is what the interface needs of a fleet. cmd/ptcdoctor/uiengine adapts
// ecrops' targets to it; tests give a fake.
type FleetEngine interface {
	// Targets are the account-regions known before any is scanned, and the accounts
	// whose regions are still to be found (Discover).
	Targets() []FleetTarget
	// Scan scans and checks every target, at the bounds the engine keeps. report is
	// called as each target starts and again as it ends, one call at a time, and once
	// for each discovering account, with the account-regions found (Found); the
	// cross-account findings come back once every target has ended.
	Scan(ctx context.Context, report func(FleetRow)) FleetCross
	// Open opens one target's account, for the screens of one account.
	Open(ctx context.Context, id string) (Engine, error)
	// ReadOnly says whether the targets open read-only (the header says it before any is).
	ReadOnly() bool
}

// FleetTarget is one account-region. ID names it uniquely; Account is "" for a profile
// until its scan reads whose account it is. Discover marks an account whose regions
// are still to be found: its row stands for them until Scan reports them.
type FleetTarget struct {
	ID, Source, Account, Region string
	// AccountName is the account's name in its Organization, where known.
	AccountName string
	Discover    bool
}

// The states of a fleet's target.
const (
	FleetDiscovering = "discovering" // an account whose regions are being looked for
	FleetQueued      = "queued"
	FleetScanning    = "scanning"
	FleetDone        = "done"
	FleetIncomplete  = "incomplete" // scanned, but some part or probe could not be read
	FleetFailed      = "failed"     // not scanned: Reason says why
)

// FleetRow is a target's state and, once scanned, what it holds.
type FleetRow struct {
	FleetTarget
	// Reason says, in a line, why a target failed or is incomplete; Detail in full.
	State, Reason, Detail   string
	Rules, Repositories     int
	Errors, Warnings, Infos int
	// Found, for a discovering account, are its account-regions: they take its row's
	// place. None found: the row stays, its State and Reason saying why.
	Found []FleetTarget
}

// FleetCross is what the cross-account checks said once every target had ended.
type FleetCross struct {
	Findings   []FleetFinding
	NotChecked []FleetNotChecked
}

// FleetNotChecked is a cross-account judgement a failed target (or an unread part of
// one) left open.
type FleetNotChecked struct {
	Check, Subject, Reason string
}

// FleetFinding is a cross-account finding: one only a view of several accounts makes.
type FleetFinding struct {
	ID, Check, Severity, Title, Explanation string
	// Subject is what it is about, Kind what kind of thing that is; Differs tells the
	// check's findings on one subject apart (for fleet-upstream-drift: what differs).
	Kind, Subject, Differs string
	Evidence               []model.Evidence
	// Fixes are steps by hand (Manual), in the accounts they name: no plan of one
	// target applies them.
	Fixes []model.Fix
}

type fleetRowMsg struct {
	gen int
	row FleetRow
	ch  <-chan tea.Msg
}

func (m fleetRowMsg) from(ch <-chan tea.Msg) tea.Msg { m.ch = ch; return m }

type fleetDoneMsg struct {
	gen   int
	cross FleetCross
}

// fleetOpenedMsg answers enter on a target: its engine, or why it could not be opened.
type fleetOpenedMsg struct {
	gen int
	id  string
	eng Engine
	err error
}

type fleetScreen struct {
	*listScreen
	fleet   FleetEngine
	rows    []FleetRow // in the targets' order
	cross   FleetCross
	gen     int
	running bool
	ended   bool // a scan has ended: its cross-account counts are known
	cancel  context.CancelFunc
	// opening is the id of the open request awaited; open is the target whose screens
	// are behind the tabs ("" before the first enter).
	opening int
	open    string
	// principals are the watched pulling principals of every account; an opened
	// target is given its own account's (diagnose.PrincipalsFor).
	principals []string
}

func newFleetScreen(c *common, fl FleetEngine) *fleetScreen {
	s := &fleetScreen{fleet: fl, principals: c.opts.Principals}
	for _, t := range fl.Targets() {
		s.rows = append(s.rows, FleetRow{FleetTarget: t, State: initialState(t)})
	}
	cols := []column{{name: "account", title: "ACCOUNT", width: 12, keep: true}, {name: "name", title: "NAME", width: 16, hideBelow: 120},
		{name: "region", title: "REGION", width: 14},
		{name: "rules", title: "RULES", width: 5, quantity: true}, {name: "repos", title: "REPOS", width: 5, quantity: true},
		{name: "findings", title: "FINDINGS", width: 8, quantity: true}, {name: "state", title: "STATE", width: 60}}
	s.listScreen = &listScreen{title: "Fleet", tabN: -1}
	s.list = newList(c, "rows", "The fleet has no account-region.", cols, s.build)
	s.list.ownData = true
	s.list.more = s.summary
	s.listScreen.open = s.enter
	s.describe = func(r *row) any { return s.describeText(r) }
	// explain reads one account: the selected row's, once it is the one entered.
	s.keys = func(msg tea.KeyPressMsg, r *row) (tea.Cmd, bool) {
		if !key.Matches(msg, c.keys.Explain) {
			return nil, false
		}
		if r == nil {
			return nil, false // the list says no row is selected
		}
		if t, ok := r.ref.(FleetRow); c.eng == nil || !ok || t.ID != s.open {
			c.nav.note("e explains a reference in one account-region: enter opens the selected one first")
			return nil, true
		}
		return nil, false
	}
	return s
}

func (s *fleetScreen) ShortHelp() []key.Binding {
	k := s.c.keys
	return []key.Binding{k.Enter, k.Describe, k.Filter, k.Sort, k.Refresh}
}

// initialState is a target's state before the scan reaches it.
func initialState(t FleetTarget) string {
	if t.Discover {
		return FleetDiscovering
	}
	return FleetQueued
}

// build is the list's rows: the targets, then the cross-account findings and what
// they could not judge.
func (s *fleetScreen) build() []row {
	var out []row
	for i := range s.rows {
		r := &s.rows[i]
		state := r.State
		if r.Reason != "" {
			state += ": " + model.Printable(r.Reason)
		}
		cells := map[string]string{"account": orDash(model.Printable(r.Account)), "region": orDash(model.Printable(r.Region)),
			"rules": "-", "repos": "-", "findings": "-", "state": state}
		nums := map[string]float64{}
		if r.State == FleetDone || r.State == FleetIncomplete {
			cells["rules"], cells["repos"] = fmt.Sprint(r.Rules), fmt.Sprint(r.Repositories)
			cells["findings"] = fmt.Sprintf("%dE %dW %dI", r.Errors, r.Warnings, r.Infos)
			nums = map[string]float64{"rules": float64(r.Rules), "repos": float64(r.Repositories),
				"findings": float64(r.Errors)*1e6 + float64(r.Warnings)*1e3 + float64(r.Infos)}
		}
		if r.Account == "" {
			cells["account"] = model.Printable(r.Source) // a profile, until its account is read
		}
		cells["name"] = model.Printable(r.AccountName)
		out = append(out, row{id: "target " + r.ID, cells: cells, nums: nums, ref: *r})
	}
	// The cross-account rows: ACCOUNT says so, REGION names the check; the state, what
	// it is about, is shortened in its middle, where a subject's words matter least.
	for _, f := range s.cross.Findings {
		lead := "" // what differs, for the drift: two rows on one upstream are told apart by it
		if f.Differs != "" && f.Check == "fleet-upstream-drift" {
			lead = f.Differs + ": "
		}
		out = append(out, crossRow("cross "+f.ID, f, f.Check, strings.ToUpper(f.Severity[:min(1, len(f.Severity))]), lead, f.Subject))
	}
	for i, n := range s.cross.NotChecked {
		out = append(out, crossRow(fmt.Sprintf("unjudged %d %s %s", i, n.Check, n.Subject), n, n.Check, "-", "not checked: ", n.Subject))
	}
	return out
}

// crossLabel is a fleet check's name short enough for the REGION column.
func crossLabel(check string) string {
	switch check {
	case "fleet-upstream-drift":
		return "drift"
	case "fleet-ecr-upstream-policy":
		return "ecr-upstream"
	}
	return model.Printable(strings.TrimPrefix(check, "fleet-"))
}

// crossRow is a row of the cross-account checks: grouped after the targets whatever
// the sort, its state (lead, then what it is about) cut in the middle of what it is about.
func crossRow(id string, ref any, check, severity, lead, about string) row {
	lead, about = model.Printable(lead), model.Printable(about)
	group := 1
	if _, open := ref.(FleetNotChecked); open {
		group = 2
	}
	return row{id: id, ref: ref, group: group, cells: map[string]string{"account": "cross-acct", "region": crossLabel(check),
		"rules": "", "repos": "", "findings": severity, "state": lead + about},
		shorten: func(col, cell string, width int) string {
			if col != "state" {
				return truncate(cell, width)
			}
			return lead + middleCut(about, max(0, width-cellWidth(lead)))
		}}
}

// summary is the count line's tail: how far the scan is.
func (s *fleetScreen) summary() string {
	n := map[string]int{}
	for _, r := range s.rows {
		n[r.State]++
	}
	var parts []string
	for _, st := range []string{FleetDone, FleetIncomplete, FleetFailed, FleetScanning, FleetQueued, FleetDiscovering} {
		if n[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[st], st))
		}
	}
	out := " · " + strings.Join(parts, ", ")
	if s.ended && !s.running && len(s.rows) > 0 {
		out += fmt.Sprintf(" · %d cross-account", len(s.cross.Findings))
		if n := len(s.cross.NotChecked); n > 0 {
			out += fmt.Sprintf(", %d not checked", n)
		}
	}
	return out
}

// selectedNote says what the selected row's cells cut: why a target failed, what a
// cross-account finding is.
func (s *fleetScreen) selectedNote() string {
	r := s.selected()
	if r == nil {
		return ""
	}
	switch ref := r.ref.(type) {
	case FleetRow:
		where := model.Printable(strings.TrimSpace(targetName(ref.FleetTarget) + " " + ref.Region))
		switch {
		case ref.State == FleetFailed:
			return where + " failed: " + model.Printable(ref.Reason) + " (d: in full)"
		case ref.Reason != "":
			return where + ": " + model.Printable(ref.Reason) + " (d: in full)"
		}
		return where + ": " + ref.State
	case FleetFinding:
		return model.Printable(ref.Title) + " (enter: in full)"
	case FleetNotChecked:
		return model.Printable(ref.Reason) + " (d: in full)"
	}
	return ""
}

// targetName names a target's account: its id and, where known, its name in the
// Organization; a profile whose account is not read yet, by the profile.
func targetName(t FleetTarget) string {
	switch {
	case t.Account == "":
		return t.Source
	case t.AccountName != "":
		return t.Account + " (" + t.AccountName + ")"
	}
	return t.Account
}

// start scans the fleet; its rows come back one message each.
func (s *fleetScreen) start() tea.Cmd {
	if s.cancel != nil {
		s.cancel() // replaced: its answers will be dropped
	}
	ctx, cancel := context.WithCancel(s.c.ctx)
	s.gen, s.running, s.cancel, s.cross = s.c.nextID(), true, cancel, FleetCross{}
	// The rows are the engine's targets as they stand: a scan replaced may have found
	// some accounts' regions, and left others to be looked in again.
	s.rows = s.rows[:0]
	for _, t := range s.fleet.Targets() {
		s.rows = append(s.rows, FleetRow{FleetTarget: t, State: initialState(t)})
	}
	s.c.version++
	gen, fl := s.gen, s.fleet
	// Each known target reports twice at most: the channel holds those answers, and the
	// scan does not wait on the screen for them. Targets found while it runs may make
	// it wait; once it is replaced (its context done), nothing waits for a reader.
	ch := make(chan tea.Msg, 2*len(s.rows)+1)
	send := func(m tea.Msg) {
		select {
		case ch <- m:
		case <-ctx.Done():
		}
	}
	go func() {
		cross := fl.Scan(ctx, func(r FleetRow) { send(fleetRowMsg{gen: gen, row: r}) })
		send(fleetDoneMsg{gen: gen, cross: cross})
		close(ch)
	}()
	return listen(ch)
}

func (s *fleetScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case fleetRowMsg:
		if msg.gen != s.gen {
			return nil // a replaced scan: its channel drains, unread
		}
		s.place(msg.row)
		s.c.version++
		return listen(msg.ch)
	case fleetDoneMsg:
		if msg.gen != s.gen {
			return nil
		}
		s.running, s.ended, s.cross = false, true, msg.cross
		s.c.version++
		return nil
	}
	return s.listScreen.Update(msg)
}

// place puts a reported row on screen: over the row of the same target, or, for a
// discovering account whose regions were found, in its place, queued.
func (s *fleetScreen) place(r FleetRow) {
	for i := range s.rows {
		if s.rows[i].ID != r.ID {
			continue
		}
		if len(r.Found) == 0 {
			s.rows[i] = r
			return
		}
		var found []FleetRow
		for _, t := range r.Found {
			found = append(found, FleetRow{FleetTarget: t, State: FleetQueued})
		}
		s.rows = append(s.rows[:i], append(found, s.rows[i+1:]...)...)
		return
	}
	s.rows = append(s.rows, r) // not listed before: kept all the same
}

// enter opens a target's account, in the background; a cross-account finding, or a
// judgement left open, is described.
func (s *fleetScreen) enter(r *row) tea.Cmd {
	t, ok := r.ref.(FleetRow)
	if !ok {
		s.c.nav.push(newTextScreen(s.c, s.rowTitle(r), s.describeText(r)))
		return nil
	}
	switch {
	case t.State == FleetFailed:
		// Nothing of it was read: its screens would say "nothing found" of data never seen.
		s.c.nav.note(model.Printable(targetName(t.FleetTarget)+" "+t.Region) + " was not scanned (" + model.Printable(t.Reason) +
			"): nothing to open; d shows why, r scans the fleet again")
		return nil
	case t.State == FleetDiscovering:
		s.c.nav.note("its regions are still being looked for: enter opens one of them once it is listed")
		return nil
	case t.Discover: // looked in, and no region of it is a target
		s.c.nav.note("no account-region of this account to open: " + model.Printable(t.Reason))
		return nil
	}
	if t.ID == s.open && s.c.eng != nil {
		return func() tea.Msg { return fleetOpenedMsg{gen: s.opening, id: t.ID, eng: s.c.eng} }
	}
	s.opening = s.c.nextID()
	s.c.nav.note("opening " + model.Printable(t.ID) + "…")
	ctx, fl, gen := s.c.ctx, s.fleet, s.opening
	return s.c.track(func() tea.Msg {
		eng, err := fl.Open(ctx, t.ID)
		return fleetOpenedMsg{gen: gen, id: t.ID, eng: eng, err: err}
	})
}

// openTarget puts an opened target behind the tabs and shows its findings, read afresh.
func (a *App) openTarget(msg fleetOpenedMsg) tea.Cmd {
	f := a.fleet
	if msg.gen != f.opening {
		return nil // an enter since: this answer is not wanted
	}
	if msg.err != nil {
		a.fail("fleet", "Could not open "+msg.id, msg.err.Error())
		return nil
	}
	if msg.id == f.open && msg.eng == a.c.eng {
		return a.jump(2)
	}
	f.open = msg.id
	a.c.eng = msg.eng
	a.c.opts.Principals = f.principalsOf(msg.id)
	a.c.notChecked = nil
	a.c.setData(nil, nil)
	a.c.setJournal(nil)
	a.jump(2)
	return tea.Batch(a.startScan(), a.c.track(a.journalCmd()))
}

// principalsOf are the watched principals for one target: its own account's, once its
// account is known.
func (s *fleetScreen) principalsOf(id string) []string {
	for _, r := range s.rows {
		if r.ID == id && r.Account != "" {
			return diagnose.PrincipalsFor(s.principals, r.Account)
		}
	}
	var out []string // a profile's account not read yet: the placeholder cannot be filled
	for _, p := range s.principals {
		if !strings.Contains(p, diagnose.AccountPlaceholder) {
			out = append(out, p)
		}
	}
	return out
}

// toFleet shows the fleet screen; the open target stays behind the tabs.
func (a *App) toFleet() {
	if a.fleet == nil {
		a.fail("", "This is one account-region, not a fleet: give doctor's fleet flags (--profile twice, --assume-role-arn with --accounts, --regions a,b)", "")
		return
	}
	a.history = nil
	a.fleet.refreshOpen(a.c.snap, a.c.findings, a.c.notChecked)
	a.show(a.fleet)
}

// refreshOpen brings the opened target's row up to what its screens last read (after a
// fix, a refresh): the row says what is so now, not what the fleet's scan saw. The
// cross-account findings wait for the fleet's next scan (r), which reads every target.
func (s *fleetScreen) refreshOpen(snap *model.Snapshot, findings []model.Finding, notChecked []model.NotChecked) {
	if snap == nil || s.open == "" || s.running {
		return
	}
	for i := range s.rows {
		r := &s.rows[i]
		if r.ID != s.open || r.Account != snap.AccountID || r.Region != snap.Region || r.State == FleetFailed {
			continue // a failure stays until a fleet scan reads the target
		}
		*r = FleetRow{FleetTarget: r.FleetTarget, State: FleetDone, Rules: len(snap.Rules), Repositories: len(snap.Repositories)}
		if len(snap.Errors) > 0 || len(notChecked) > 0 {
			r.State = FleetIncomplete
			r.Reason = fmt.Sprintf("%d parts unread, %d subjects not checked", len(snap.Errors), len(notChecked))
		}
		for _, f := range findings {
			switch f.Severity {
			case model.SeverityError:
				r.Errors++
			case model.SeverityWarning:
				r.Warnings++
			default:
				r.Infos++
			}
		}
		s.c.version++
	}
}

// needsTarget says, before the fleet's first enter, that a key is one account's.
func (a *App) needsTarget() bool {
	if a.c.eng != nil {
		return false
	}
	a.note("enter opens the selected account-region; its rules, repositories, findings and journal follow")
	return true
}

// count names the fleet's size for the header: its account-regions, and the accounts
// whose regions are still being looked for.
func (s *fleetScreen) count() string {
	regions, discovering := 0, 0
	for _, r := range s.rows {
		if r.State == FleetDiscovering {
			discovering++
		} else {
			regions++
		}
	}
	out := fmt.Sprintf("%d account-region%s", regions, plurals(regions))
	if discovering > 0 {
		out += fmt.Sprintf(", %d account%s discovering", discovering, plurals(discovering))
	}
	return out
}

// rowTitle names a row for the screen that shows it whole.
func (s *fleetScreen) rowTitle(r *row) string {
	switch ref := r.ref.(type) {
	case FleetRow:
		return "target " + model.Printable(strings.TrimSpace(targetName(ref.FleetTarget)+" "+ref.Region))
	case FleetFinding:
		return "finding " + ref.ID
	}
	return "not checked"
}

// describeText is a row whole, in words (d; enter on a cross-account row): a target's
// account, region and state, and its counts only where it was scanned; a cross-account
// finding as the findings screen shows one, with its steps by hand in full.
func (s *fleetScreen) describeText(r *row) string {
	var b strings.Builder
	line := func(label, text string) {
		if text != "" {
			b.WriteString(label + model.Printable(text) + "\n")
		}
	}
	switch ref := r.ref.(type) {
	case FleetRow:
		line("Account:  ", targetName(ref.FleetTarget))
		line("Region:   ", ref.Region)
		if ref.Source != targetName(ref.FleetTarget) && ref.Source != "account "+ref.Account {
			line("Source:   ", ref.Source)
		}
		line("State:    ", ref.State)
		switch ref.State {
		case FleetDone, FleetIncomplete:
			line("Rules:    ", fmt.Sprint(ref.Rules))
			line("Repositories: ", fmt.Sprint(ref.Repositories))
			line("Findings: ", fmt.Sprintf("%d errors, %d warnings, %d info", ref.Errors, ref.Warnings, ref.Infos))
		case FleetFailed:
			b.WriteString("Not scanned: nothing of this account-region was read.\n")
		}
		line("Why:      ", ref.Reason)
		if ref.Detail != "" && ref.Detail != ref.Reason {
			b.WriteString("\n" + model.Printable(ref.Detail) + "\n")
		}
		if ref.State == FleetDiscovering {
			b.WriteString("Its regions are being looked for: each one with rules takes this row's place.\n")
		}
	case FleetFinding:
		b.WriteString(strings.ToUpper(ref.Severity) + "  " + ref.Check + "  " + model.Printable(strings.TrimSpace(ref.Kind+" "+ref.Subject)) + "  id " + ref.ID + "\n")
		b.WriteString(model.Printable(ref.Title) + "\n\n" + model.Printable(ref.Explanation) + "\n")
		if len(ref.Evidence) > 0 {
			b.WriteString("\nEvidence\n")
			for _, e := range ref.Evidence {
				b.WriteString("• " + model.Printable(e.Call) + " → " + model.Printable(e.Answer) + "\n")
			}
		}
		if len(ref.Fixes) > 0 {
			b.WriteString("\nFix, by hand (a cross-account finding: no plan of one target applies it)\n")
			for i, fx := range ref.Fixes {
				b.WriteString(fmt.Sprintf("%d. %s\n", i+1, model.Printable(fx.Title)))
				if fx.Manual != "" && fx.Manual != fx.Title+"." {
					b.WriteString("   " + model.Printable(fx.Manual) + "\n")
				}
			}
		}
	case FleetNotChecked:
		line("Check:    ", ref.Check)
		line("Subject:  ", ref.Subject)
		b.WriteString("Not checked, because " + model.Printable(ref.Reason) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// openName names the opened target for the header: its account once (with its name in
// the Organization, where known), then its region; account and region as its screens
// read them, when its row does not say.
func (s *fleetScreen) openName(account, region string) string {
	for _, r := range s.rows {
		if r.ID == s.open {
			t := r.FleetTarget
			if t.Account == "" {
				t.Account = account
			}
			return strings.TrimSpace(targetName(t) + " · " + orDash(orOther(t.Region, region)))
		}
	}
	return orDash(account) + " · " + orDash(region)
}

func orOther(s, other string) string {
	if s == "" {
		return other
	}
	return s
}

// sameAccountIn is the fleet's row for the opened target's account in another region
// (:region over a fleet opens it, as enter on its row does).
func (s *fleetScreen) sameAccountIn(region string) (FleetRow, bool) {
	account := ""
	for _, r := range s.rows {
		if r.ID == s.open {
			account = r.Account
		}
	}
	for _, r := range s.rows {
		if account != "" && r.Account == account && r.Region == region && !r.Discover {
			return r, true
		}
	}
	return FleetRow{}, false
}

// View is the list and, where the screen has room under its rows, the selected row
// whole (as d shows it): a tall terminal is not left blank.
func (s *fleetScreen) View() string {
	whole := s.list.View()
	list := whole
	r := s.selected()
	used := strings.Count(list, "\n") + 1
	if s.table.Height() > len(s.shown) { // the table keeps room for rows to come: drawn up to its last row
		lines := strings.Split(list, "\n")
		used = min(len(lines), len(s.shown)+2)
		list = strings.Join(lines[:used], "\n")
	}
	room := s.height - used - 1
	if r == nil || room < 6 {
		return whole
	}
	detail := wrapText(s.describeText(r), s.width)
	return list + "\n" + s.c.st.dim.Render(strings.Repeat("─", s.width)) + "\n" + clip(detail, room)
}

// plurals is the "s" of a count other than one.
func plurals(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
