package ui_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// probingEngine answers the checks' probes at once; once armed, a probe of the
// upstream waits until its context ends (or a minute passes), and says so.
type probingEngine struct {
	*fakeEngine
	mu        sync.Mutex
	armed     bool
	calls     int
	started   chan struct{}
	cancelled chan struct{}
}

func (e *probingEngine) ProbeUpstream(ctx context.Context, _ model.Rule, _ string) model.UpstreamProbe {
	e.mu.Lock()
	armed := e.armed
	if armed {
		e.calls++
		if e.calls == 1 {
			close(e.started)
		}
	}
	e.mu.Unlock()
	if !armed {
		return model.UpstreamProbe{}
	}
	select {
	case <-ctx.Done():
		close(e.cancelled)
		return model.UpstreamProbe{Class: "canceled"}
	case <-time.After(time.Minute):
		return model.UpstreamProbe{Exists: true, Digest: "sha256:late"}
	}
}

// Leaving the images screen cancels its upstream probes: the probe under way sees its
// context end, and the tags after it are not asked.
func TestLeavingTheImagesCancelsTheProbes(t *testing.T) {
	snap := account("hub/app")
	for i, tag := range []string{"a", "b", "c"} {
		snap.Repositories[0].Images = append(snap.Repositories[0].Images, model.Image{Digest: model.ParseDigest("sha256:" + strings.Repeat(string(rune('1'+i)), 64)), Tags: []string{tag}})
	}
	eng := &probingEngine{fakeEngine: &fakeEngine{scans: []*model.Snapshot{snap}}, started: make(chan struct{}), cancelled: make(chan struct{})}
	app := newApp(eng)
	tm := teatest.NewTestModel(t, app, teatest.WithInitialTermSize(120, 40))
	waitDrawn(t, tm, `1 rules`)
	func() {
		eng.mu.Lock()
		eng.armed = true // the checks have asked what they asked
		eng.mu.Unlock()
		press(tm, "2", "enter")
		waitFor(t, eng.started, "the images screen to probe the upstream")
		press(tm, "esc")
		waitFor(t, eng.cancelled, "leaving the screen to cancel the probe")
	}()
	tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second))
	eng.mu.Lock()
	defer eng.mu.Unlock()
	if eng.calls != 1 {
		t.Fatalf("%d tags were probed; after the screen was left, none should have been", eng.calls)
	}
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("waited 30 s for %s", what)
	}
}
