package ui_test

import (
	"context"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ptcdoctor/ptcdoctor/model"
	"github.com/ptcdoctor/ptcdoctor/ui"
)

// fakeEngine is an account the test writes: each scan answers with the next
// snapshot of scans (the last one again when they run out), or with what scan says;
// its journal, undo plan and apply are the test's too.
type fakeEngine struct {
	bigEngine
	mu       sync.Mutex
	scans    []*model.Snapshot
	scan     func(ctx context.Context, n int) (*model.Snapshot, error)
	calls    int
	readOnly bool
	journal  []ui.JournalRow
	undo     model.Plan
	applied  []model.Plan
}

func (e *fakeEngine) Scan(ctx context.Context, _ func(ui.Progress)) (*model.Snapshot, error) {
	e.mu.Lock()
	n := e.calls
	e.calls++
	e.mu.Unlock()
	if e.scan != nil {
		return e.scan(ctx, n)
	}
	return e.scans[min(n, len(e.scans)-1)], nil
}

func (e *fakeEngine) ReadOnly() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.readOnly
}

func (e *fakeEngine) SetReadOnly(v bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.readOnly = v
}

func (e *fakeEngine) Journal() ([]ui.JournalRow, error)                    { return e.journal, nil }
func (e *fakeEngine) UndoPlan(context.Context, string) (model.Plan, error) { return e.undo, nil }

func (e *fakeEngine) Apply(_ context.Context, p model.Plan, _ map[string]string) ([]ui.StepOutcome, error) {
	e.mu.Lock()
	e.applied = append(e.applied, p)
	e.mu.Unlock()
	var out []ui.StepOutcome
	for _, s := range p.Steps {
		out = append(out, ui.StepOutcome{Step: s, Status: "done"})
	}
	return out, nil
}

// account is a snapshot of one account with the repositories named.
func account(repos ...string) *model.Snapshot {
	snap := &model.Snapshot{AccountID: "111122223333", Region: "us-east-1", Identity: model.Identity{ARN: "arn:aws:iam::111122223333:user/admin"},
		Rules: []model.Rule{{Prefix: "hub", UpstreamRegistry: "docker-hub", UpstreamURL: "registry-1.docker.io"}}}
	for _, r := range repos {
		snap.Repositories = append(snap.Repositories, model.Repository{Name: r, RulePrefix: "hub", ImagesKnown: true, LifecycleKnown: true})
	}
	return snap
}

// started is an interface over the engine, 100×30, with its first scan and checks done.
func started(t *testing.T, eng ui.Engine, width, height int) *ui.App {
	t.Helper()
	app := ui.New(context.Background(), eng, ui.Options{NoColor: true, Now: func() time.Time { return time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC) }})
	app.Update(tea.WindowSizeMsg{Width: width, Height: height})
	drive(app, app.Init())
	return app
}

// demoApp is the interface over the demo account, width×height, its first scan and
// checks done.
func demoApp(t *testing.T, width, height int) *ui.App {
	t.Helper()
	_, eng := demo(t)
	app := newApp(eng)
	app.Update(tea.WindowSizeMsg{Width: width, Height: height})
	drive(app, app.Init())
	return app
}

// findingsMatching opens the findings filtered by text.
func findingsMatching(app *ui.App, text string) {
	key(app, "3", "/")
	typeText(app, text)
	key(app, "enter")
}
