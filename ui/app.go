package ui

import (
	"context"
	"slices"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// Options are what the interface starts with.
type Options struct {
	Images     []string // references to watch
	Principals []string // principals that pull
	NoColor    bool
	// Now is the clock the screens tell ages by; time.Now when nil.
	Now func() time.Time
	// Reopen opens the account in another region or profile, for :region and :profile.
	Reopen func(region, profile string) (Engine, error)
	// Setup opens the setup screen once the account is read (ptcdoctor setup, in a terminal).
	Setup bool
	// Notice is shown on the status line at start (a plan that did not finish, say).
	Notice string
	// Fleet, when set, is several account-regions: the interface opens on the fleet
	// screen, with no account behind the tabs until one is entered (the engine New
	// is given may then be nil).
	Fleet FleetEngine
}

// App is the interface's root model: a router. It keeps the chrome (header, tabs, the
// status line, the footer), the way back, and the mode; the screens keep the rest.
type App struct {
	c    *common
	help help.Model
	spin spinner.Model

	width, height int

	tabs    [4]component // rules, repositories, findings, journal
	fleet   *fleetScreen // nil for one account-region
	active  component
	history []component
	// open are the screens active or on the way back at the last show: one no
	// longer among them is closed (its requests cancelled).
	open []component

	mode            mode
	filter, cmdline textinput.Model
	status          *note
	pinned          *note // the start notice: it owns the line until ! shows it and it is closed
	q               *question
	keyN            int               // key presses so far: a note lives until the next one
	held            []tea.KeyPressMsg // typed while an answer they are meant for was awaited
	showDetail      bool              // the status line's error details fill the body
	quitting        bool              // quit once the plan being applied has stopped
	scan            scanState
}

// New builds the interface over an engine.
func New(ctx context.Context, eng Engine, opts Options) *App {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.NoColor = opts.NoColor || noColorWanted()
	a := &App{help: help.New(), spin: spinner.New(spinner.WithSpinner(spinner.Line)), width: 80, height: 24}
	a.c = &common{ctx: ctx, eng: eng, opts: opts, st: newStyles(opts.NoColor), keys: newKeyMap(), nav: a}
	if opts.NoColor {
		plain, keyStyle := lipgloss.NewStyle(), lipgloss.NewStyle().Bold(true)
		a.help.Styles = help.Styles{ShortKey: keyStyle, ShortDesc: plain, ShortSeparator: plain, Ellipsis: plain,
			FullKey: keyStyle, FullDesc: plain, FullSeparator: plain}
	}
	a.filter = newInput("/")
	a.cmdline = newInput(":")
	a.cmdline.ShowSuggestions = true
	a.cmdline.SetSuggestions(commandNames)
	a.tabs = [4]component{newRulesScreen(a.c), newReposScreen(a.c, ""), newFindingsScreen(a.c), newJournalScreen(a.c)}
	a.active = a.tabs[0]
	if opts.Fleet != nil {
		a.fleet = newFleetScreen(a.c, opts.Fleet)
		a.active = a.fleet
	}
	if opts.Notice != "" {
		// Not a note of the scan's: the scan's notes and errors must not replace it.
		a.pinned = &note{text: model.Printable(opts.Notice), detail: opts.Notice, err: true, sticky: true, source: "start"}
	}
	a.resize()
	return a
}

func (a *App) Init() tea.Cmd {
	if a.fleet != nil {
		return a.fleet.start()
	}
	return tea.Batch(a.startScan(), a.c.track(a.journalCmd()))
}

// busy reports whether the interface waits on an answer: a scan (of the account or
// the fleet), the checks, a plan.
func (a *App) busy() bool {
	return a.scan.running || a.c.pending > 0 || (a.fleet != nil && a.fleet.running)
}

// newInput is a text input with a steady cursor: nothing on screen blinks for attention.
func newInput(prompt string) textinput.Model {
	ti := textinput.New()
	ti.Prompt = prompt
	st := ti.Styles()
	st.Cursor.Blink = false
	ti.SetStyles(st)
	return ti
}

// Update is the interface's one entry for events; it never waits on the network.
func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case answeredMsg:
		a.c.pending--
		_, cmd := a.Update(msg.msg)
		if a.quitting && a.c.applying == 0 {
			return a, a.quit() // the plan stopped: the journal has what it did
		}
		if msg.held {
			a.c.holding--
			return a, tea.Batch(cmd, a.release())
		}
		return a, cmd
	case thenMsg:
		return a, msg()
	case tea.WindowSizeMsg:
		a.width, a.height = msg.Width, msg.Height
		a.resize()
		return a, nil
	case spinner.TickMsg:
		if !a.scan.running && a.c.applying == 0 {
			return a, nil
		}
		var cmd tea.Cmd
		a.spin, cmd = a.spin.Update(msg)
		return a, cmd
	case scanProgressMsg, scanDoneMsg, diagnosedMsg, journalMsg:
		return a, a.scanUpdate(msg)
	case fleetRowMsg, fleetDoneMsg:
		return a, a.fleet.Update(msg)
	case fleetOpenedMsg:
		return a, a.openTarget(msg)
	case tea.MouseClickMsg:
		return a, a.click(msg.Mouse())
	case tea.MouseWheelMsg:
		return a, a.active.Update(msg)
	case tea.KeyPressMsg:
		return a, a.key(msg)
	}
	// Answers and the forms' own messages: the screens on the way back get them
	// too, and each keeps only its own.
	cmds := []tea.Cmd{a.active.Update(msg)}
	for _, s := range a.history {
		cmds = append(cmds, s.Update(msg))
	}
	return a, tea.Batch(cmds...)
}

// key sends a key press where the mode says: the question, an input, or the screen.
func (a *App) key(msg tea.KeyPressMsg) tea.Cmd {
	a.keyN++
	k := msg.String()
	if k == "ctrl+c" {
		return a.quit()
	}
	if a.c.holding > 0 {
		if stop := a.c.stopHeld; stop != nil && key.Matches(msg, a.c.keys.Back, a.c.keys.Quit) {
			// What was awaited is stopped; the keys typed for it go with it.
			stop()
			a.held = nil
			if key.Matches(msg, a.c.keys.Quit) {
				return a.quit()
			}
			return nil
		}
		a.held = append(a.held, msg)
		return nil
	}
	switch a.mode {
	case modeQuestion:
		return a.answer(k)
	case modeFilter:
		return a.filterKey(msg)
	case modeCommand:
		return a.commandKey(msg)
	}
	a.expire()
	if a.active.Capturing() {
		return a.active.Update(msg)
	}
	if a.showDetail {
		if k == "esc" || k == "!" {
			a.showDetail = false // read, and so dismissed
			if a.pinned != nil {
				a.pinned = nil
			} else {
				a.status = nil
			}
		}
		return nil
	}
	keys := a.c.keys
	switch {
	case key.Matches(msg, keys.Quit):
		if a.c.applying != 0 {
			a.ask(question{text: "A plan is being applied. Stop it after the step under way, then quit? y / n", yes: a.quitAfterApply})
			return nil
		}
		return a.quit()
	case a.c.applying != 0 && key.Matches(msg, keys.Rules, keys.Repos, keys.Findings, keys.Journal, keys.Help, keys.Command, keys.Refresh, keys.Checks, keys.Writes):
		// The plan's screen stays until its results are in: they come back to it. Writes are
		// not turned off under a plan that is writing (the account checks read-only once, at
		// its start), so w waits too.
		a.note("a plan is being applied: its results follow here")
	case k == "!":
		if title, detail := notCheckedText(a.c.notChecked); (a.status == nil || !a.status.sticky) && title != "" {
			a.fail("scan", title, detail) // read again, after it was dismissed
		}
		a.showDetail = a.pinned != nil || (a.status != nil && a.status.detail != "")
		if !a.showDetail {
			a.note("no error to show: ! shows the details of one on this line")
		}
	case a.fleet != nil && key.Matches(msg, keys.Fleet):
		a.toFleet()
	case a.fleet != nil && a.active == a.fleet && key.Matches(msg, keys.Refresh):
		return a.fleet.start()
	case key.Matches(msg, keys.Rules, keys.Repos, keys.Findings, keys.Journal, keys.Refresh, keys.Checks, keys.Writes) && a.needsTarget():
		// one account's keys, before a fleet's account-region is entered: said so
	case key.Matches(msg, keys.Help):
		a.push(newHelpScreen(a.c, a.active))
	case key.Matches(msg, keys.Command):
		a.mode = modeCommand
		a.cmdline.SetValue("")
		return a.cmdline.Focus()
	case key.Matches(msg, keys.Filter):
		if f, ok := a.active.(filterable); ok {
			a.mode = modeFilter
			a.filter.SetValue(f.filterValue())
			a.filter.CursorEnd()
			return a.filter.Focus()
		}
	case key.Matches(msg, keys.Rules, keys.Repos, keys.Findings, keys.Journal):
		return a.jump(int(k[0] - '1'))
	case key.Matches(msg, keys.Refresh):
		return a.startScan()
	case key.Matches(msg, keys.Checks):
		return a.recheck()
	case key.Matches(msg, keys.Writes):
		a.toggleWrites()
	case key.Matches(msg, keys.Back):
		return a.escape(msg)
	default:
		return a.active.Update(msg)
	}
	return nil
}

// escape clears a filter, goes back, or cancels the scan, in that order; a screen
// that is busy (a plan being applied) keeps esc for itself.
func (a *App) escape(msg tea.KeyPressMsg) tea.Cmd {
	if e, ok := a.active.(interface{ holdsEscape() bool }); ok && e.holdsEscape() {
		return a.active.Update(msg)
	}
	switch f, ok := a.active.(filterable); {
	case ok && f.filterValue() != "":
		f.setFilter("")
	case len(a.history) > 0:
		a.back()
	case a.scan.running:
		a.cancelScan()
	}
	return nil
}

func (a *App) quit() tea.Cmd {
	a.cancelScan()
	return tea.Quit
}

// quitAfterApply stops the plan being applied between steps, and quits once it has
// stopped: a write is never cut in its call, so the journal knows its outcome.
func (a *App) quitAfterApply() tea.Cmd {
	if a.c.applying == 0 || a.c.stopApply == nil {
		return a.quit()
	}
	a.quitting = true
	a.c.stopApply(true)
	return nil
}

// push opens a screen on top of the current one; back returns to it.
func (a *App) push(s component) {
	a.history = append(a.history, a.active)
	a.show(s)
}

func (a *App) replace(s component) {
	a.show(s)
}

func (a *App) rescan() tea.Cmd { return a.startScan() }

func (a *App) back() {
	if len(a.history) == 0 {
		return
	}
	prev := a.history[len(a.history)-1]
	a.history = a.history[:len(a.history)-1]
	a.show(prev)
}

// jump opens a tab, forgetting the way there.
func (a *App) jump(i int) tea.Cmd {
	a.history = nil
	a.show(a.tabs[i])
	if i == 3 {
		return a.c.hold(a.journalCmd())
	}
	return nil
}

func (a *App) openFinding(id string) {
	a.jump(2)
	a.tabs[2].(*findingsScreen).focus(id)
}

// show makes s the active screen; the notes of the screen left behind go with it,
// and a screen left for good (not on the way back) is closed.
func (a *App) show(s component) {
	a.active = s
	now := append([]component{s}, a.history...)
	for _, old := range a.open {
		if c, ok := old.(closer); ok && !slices.Contains(now, old) {
			c.close()
		}
	}
	a.open = now
	a.showDetail = false
	if a.status != nil && !a.status.sticky && a.status.screen != nil && a.status.screen != s {
		a.status = nil
	}
	a.resize()
}

// resize gives the active screen the body: everything but the header, the tabs, the
// status line and the footer.
func (a *App) resize() {
	a.help.SetWidth(a.width)
	a.active.SetSize(a.width, max(3, a.height-4))
}
