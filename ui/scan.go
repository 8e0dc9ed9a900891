package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// The account is read in the background. Every scan has a generation: its progress, its
// end and the checks run over it carry that number, and the answers of a scan that was
// replaced (r pressed again, the region changed) are dropped, so they cannot switch
// the new scan's progress off or put an older snapshot on screen.

type scanState struct {
	gen      int
	running  bool
	cancel   context.CancelFunc
	progress Progress
}

type scanProgressMsg struct {
	gen int
	p   Progress
	ch  <-chan tea.Msg
}

type scanDoneMsg struct {
	gen  int
	snap *model.Snapshot
	err  error
}

type diagnosedMsg struct {
	gen  int
	snap *model.Snapshot
	res  diagnose.Result
	bad  []string
}

type journalMsg struct {
	rows []JournalRow
	err  error
}

func (s scanState) progressText() string {
	p := s.progress
	text := "scanning: " + p.Stage
	if p.ReposTotal > 0 {
		width := 20
		done := width * p.ReposDone / p.ReposTotal
		text += fmt.Sprintf(" [%s%s] %d/%d repositories, %d images", strings.Repeat("█", done), strings.Repeat("░", width-done), p.ReposDone, p.ReposTotal, p.Images)
	}
	return text + "  (esc cancels)"
}

// startScan runs a scan in the background; its progress comes back message by message,
// so the screen fills as rules and repositories arrive.
func (a *App) startScan() tea.Cmd {
	if a.scan.cancel != nil {
		a.scan.cancel() // replaced: its answers will be dropped
	}
	if a.status != nil && a.status.source == "scan" {
		a.status = nil // the last scan's errors: this scan says again what it cannot read
	}
	ctx, cancel := context.WithCancel(a.c.ctx)
	a.scan = scanState{gen: a.c.nextID(), running: true, cancel: cancel, progress: Progress{Stage: "starting"}}
	gen, eng := a.scan.gen, a.c.eng
	ch := make(chan tea.Msg, 64)
	go func() {
		snap, err := eng.Scan(ctx, coalesce(func(p Progress) {
			select {
			case ch <- scanProgressMsg{gen: gen, p: p}:
			default: // the screen is behind: drop a progress report, never block the scan
			}
		}))
		ch <- scanDoneMsg{gen: gen, snap: snap, err: err}
		close(ch)
	}()
	return tea.Batch(listen(ch), a.spin.Tick)
}

// progressEvery is the least time between two counts of the scan sent to the screen.
// A scan counts every repository it reads (5,000 on a large account): a message, an
// Update and a redraw each took as much CPU as the scan itself, and twice its time.
const progressEvery = 50 * time.Millisecond

// coalesce passes on every report that carries a snapshot (the rules and repositories
// to show, the end) and at most one count every progressEvery; a count held back is
// followed by a later one, or by the end. The scan calls it from many goroutines.
func coalesce(send func(Progress)) func(Progress) {
	var mu sync.Mutex
	var last time.Time
	return func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		if p.Snapshot == nil {
			now := time.Now()
			if now.Sub(last) < progressEvery {
				return
			}
			last = now
		}
		send(p)
	}
}

// streamed is a message followed by more on its channel (a scan's progress, a fleet's
// rows): it carries the channel, to be listened to again once it is taken.
type streamed interface {
	from(ch <-chan tea.Msg) tea.Msg
}

func (m scanProgressMsg) from(ch <-chan tea.Msg) tea.Msg { m.ch = ch; return m }

// listen waits for the next message of a running scan.
func listen(ch <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg {
		msg, ok := <-ch
		if !ok {
			return nil
		}
		if s, ok := msg.(streamed); ok {
			return s.from(ch) // the next message is read when this one is taken
		}
		return msg
	}
}

func (a *App) cancelScan() {
	if a.scan.cancel != nil {
		a.scan.cancel()
	}
	if a.scan.running {
		a.scan.running = false
		a.note("scan cancelled")
	}
}

// scanUpdate takes the scan's messages, the checks' and the journal's.
func (a *App) scanUpdate(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case scanProgressMsg:
		if msg.gen != a.scan.gen {
			return nil // a replaced scan: its channel drains, unread
		}
		a.scan.progress = msg.p
		if msg.p.Snapshot != nil && (msg.p.Stage == "rules" || msg.p.Stage == "repositories") {
			a.c.setData(msg.p.Snapshot, a.c.findings) // rules and repositories on screen before the images are read
		}
		return listen(msg.ch)
	case scanDoneMsg:
		if msg.gen != a.scan.gen {
			return nil
		}
		a.scan.running = false
		if msg.err != nil {
			if !errors.Is(msg.err, context.Canceled) {
				a.fail("scan", "The scan failed", msg.err.Error())
			}
			return nil
		}
		a.c.setData(msg.snap, a.c.findings)
		a.partErrors()
		a.note("scanned; running the checks…")
		cmd := a.diagnoseCmd(msg.gen, msg.snap)
		if a.c.opts.Setup {
			a.c.opts.Setup = false
			a.push(newSetupScreen(a.c))
			return tea.Batch(cmd, a.active.(*setupScreen).start())
		}
		return cmd
	case diagnosedMsg:
		if msg.gen != a.scan.gen || msg.snap != a.c.snap {
			return nil // the checks of a snapshot no longer on screen
		}
		a.c.setResult(msg.snap, msg.res)
		if a.status == nil || !a.status.sticky {
			a.status = &note{text: fmt.Sprintf("checked: %d findings", len(msg.res.Findings)), key: a.keyN}
		}
		if len(msg.bad) > 0 {
			a.fail("scan", "Some watched references cannot be read", strings.Join(msg.bad, "\n"))
		}
		if title, detail := notCheckedText(msg.res.NotChecked); title != "" {
			a.fail("scan", title, detail)
		}
		return nil
	case journalMsg:
		if msg.err != nil {
			a.fail("journal", "The journal could not be read", msg.err.Error())
		}
		a.c.setJournal(msg.rows)
	}
	return nil
}

// partErrors says which parts of the scan could not be read.
func (a *App) partErrors() {
	snap := a.c.snap
	if snap == nil || len(snap.Errors) == 0 {
		return
	}
	var lines []string
	for _, e := range snap.Errors {
		lines = append(lines, e.Error())
	}
	a.fail("scan", fmt.Sprintf("%d parts of the account could not be read", len(snap.Errors)), strings.Join(lines, "\n"))
}

// notCheckedText words what the checks could not judge: a line for the status line,
// and one line a subject for its details.
func notCheckedText(nc []model.NotChecked) (string, string) {
	if len(nc) == 0 {
		return "", ""
	}
	var lines []string
	for _, n := range nc {
		subject := n.Subject.Kind + " " + n.Subject.Name
		if n.Subject.Kind == "all" { // "every subject of the check" says it already
			subject = n.Subject.Name
		}
		lines = append(lines, fmt.Sprintf("%s: %s: %s failed: %s %s", n.Check, model.Printable(subject),
			n.Failed.Operation, n.Failed.Code, model.Printable(n.Failed.Message)))
	}
	// The line names the failure that left the most subjects unjudged.
	count := map[model.PartError]int{}
	first := nc[0].Failed
	for _, n := range nc {
		k := model.PartError{Operation: n.Failed.Operation, Code: n.Failed.Code, Message: n.Failed.Message}
		if count[k]++; count[k] > count[model.PartError{Operation: first.Operation, Code: first.Code, Message: first.Message}] {
			first = k
		}
	}
	return fmt.Sprintf("Not checked: %d subjects could not be judged; %s failed: %s %s", len(nc), first.Operation, first.Code, first.Message), strings.Join(lines, "\n")
}

// recheck runs the checks again over the snapshot on screen.
func (a *App) recheck() tea.Cmd {
	if a.c.snap == nil || a.scan.running {
		return nil
	}
	a.note("running the checks…")
	return a.diagnoseCmd(a.scan.gen, a.c.snap)
}

func (a *App) diagnoseCmd(gen int, snap *model.Snapshot) tea.Cmd {
	c := a.c
	ctx, eng, opts := c.ctx, c.eng, c.opts
	return c.track(func() tea.Msg {
		refs, bad := parseRefs(snap, opts.Images)
		res := diagnose.Diagnose(ctx, snap, eng, diagnose.Options{Refs: refs, Principals: principals(snap, opts.Principals)})
		return diagnosedMsg{gen: gen, snap: snap, res: res, bad: bad}
	})
}

func (a *App) journalCmd() tea.Cmd {
	eng := a.c.eng
	return func() tea.Msg {
		rows, err := eng.Journal()
		return journalMsg{rows: rows, err: err}
	}
}

func parseRefs(snap *model.Snapshot, inputs []string) ([]model.Ref, []string) {
	var refs []model.Ref
	var bad []string
	for _, in := range inputs {
		r, err := model.ParseRef(in, snap.AccountID, snap.Region, snap.Rules)
		if err != nil && r.Repository == "" {
			bad = append(bad, err.Error())
			continue
		}
		refs = append(refs, r)
	}
	return refs, bad
}

func principals(snap *model.Snapshot, extra []string) []string {
	if len(extra) == 0 {
		return nil
	}
	return append([]string{snap.Identity.ARN}, extra...)
}
