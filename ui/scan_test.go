package ui_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ptcdoctor/ptcdoctor/model"
	"github.com/ptcdoctor/ptcdoctor/ui"
)

// stopped is a cancellation that does not say "context canceled" (an SDK's own words).
type stopped struct{}

func (stopped) Error() string        { return "the operation was stopped" }
func (stopped) Is(target error) bool { return target == context.Canceled }

func windowSize(w, h int) tea.WindowSizeMsg { return tea.WindowSizeMsg{Width: w, Height: h} }

// batchOf runs a batch command, giving the commands it holds.
func batchOf(cmd tea.Cmd) []tea.Cmd {
	if b, ok := cmd().(tea.BatchMsg); ok {
		return b
	}
	return nil
}

// r during a scan starts another; the first one's end, cancelled, neither ends the
// second's progress nor says the scan failed.
func TestACancelledScanLeavesTheNextOneAlone(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	eng := &fakeEngine{scan: func(ctx context.Context, n int) (*model.Snapshot, error) {
		if n > 0 {
			select {
			case <-release:
			case <-ctx.Done():
			}
		} else {
			<-ctx.Done()
		}
		return nil, stopped{}
	}}
	app := ui.New(context.Background(), eng, ui.Options{NoColor: true})
	app.Update(windowSize(100, 30))
	first := batchOf(app.Init())
	app.Update(tea.KeyPressMsg{Code: 'r', Text: "r"})
	app.Update(first[0]()) // the first scan's end, once r cancelled it
	s := screenText(app)
	if !strings.Contains(s, "scanning") {
		t.Fatalf("the cancelled scan's end switched the running scan's progress off:\n%s", s)
	}
	if strings.Contains(s, "failed") {
		t.Fatalf("a cancelled scan is reported as failed:\n%s", s)
	}
}

// A scan counts every repository it reads; the screen gets the reports that carry a
// snapshot, every one, and at most one count per 50 ms of the scan (5,000 messages and
// redraws made the TUI scan at half doctor's speed).
func TestScanProgressIsCoalesced(t *testing.T) {
	var got []ui.Progress
	var mu sync.Mutex
	report := ui.Coalesce(func(p ui.Progress) { mu.Lock(); got = append(got, p); mu.Unlock() })
	snap := &model.Snapshot{}
	start := time.Now()
	report(ui.Progress{Stage: "rules", Snapshot: snap})
	report(ui.Progress{Stage: "repositories", Snapshot: snap, ReposTotal: 5000})
	var wg sync.WaitGroup
	for w := range 4 { // the scan reports from several goroutines
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1250 {
				report(ui.Progress{Stage: "images", ReposDone: w*1250 + i + 1, ReposTotal: 5000})
			}
		}()
	}
	wg.Wait()
	report(ui.Progress{Stage: "done", Snapshot: snap, ReposDone: 5000, ReposTotal: 5000})
	elapsed := time.Since(start)
	var stages []string
	counts := 0
	for _, p := range got {
		if p.Snapshot != nil {
			stages = append(stages, p.Stage)
		} else {
			counts++
		}
	}
	if strings.Join(stages, ",") != "rules,repositories,done" {
		t.Fatalf("the reports with a snapshot: %v", stages)
	}
	if most := int(elapsed/(50*time.Millisecond)) + 1; counts < 1 || counts > most {
		t.Fatalf("%d counts reached the screen in %v (at most %d, at least one)", counts, elapsed, most)
	}
}
