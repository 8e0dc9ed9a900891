package ui_test

import (
	"context"
	"strings"
	"testing"

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
