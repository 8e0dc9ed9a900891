package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/table"
	"charm.land/bubbles/v2/textinput"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// screen is what the body of the interface shows.
type screen int

const (
	screenRules screen = iota
	screenRepos
	screenImages
	screenFindings
	screenJournal
	screenPlan
	screenExplain
	screenDescribe
	screenHelp
	screenSetup
)

var screenNames = map[screen]string{screenRules: "Rules", screenRepos: "Repositories", screenImages: "Images",
	screenFindings: "Findings", screenJournal: "Journal", screenPlan: "Plan", screenExplain: "Explain",
	screenDescribe: "Describe", screenHelp: "Help", screenSetup: "Setup"}

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
	// Notice is shown in the banner at start (a plan that did not finish, say).
	Notice string
}

// App is the interface's root model.
type App struct {
	ctx    context.Context
	cancel context.CancelFunc
	eng    Engine
	opts   Options
	st     styles
	keys   keyMap
	help   help.Model
	spin   spinner.Model

	width, height int

	snap     *model.Snapshot
	findings []model.Finding
	journal  []JournalRow
	scanning bool
	progress Progress

	banner, bannerDetail string
	showDetail           bool
	status               string

	screen  screen
	history []screen
	table   table.Model
	list    listing
	sorts   map[screen]sorting // each list's order, kept while the user moves about
	rule    string             // the rule whose repositories are shown; "" for all
	repo    *model.Repository
	// upstream holds, for the repository on screen, each tag's digest upstream.
	upstream map[string]string

	filter     textinput.Model
	filtering  bool
	cmdline    textinput.Model
	commanding bool
	body       viewport.Model // details, plans, explanations, descriptions

	plan         *model.Plan
	planFor      *model.Finding
	planState    string // "", confirm, applying, done
	confirm      textinput.Model
	secretUser   textinput.Model
	secretToken  textinput.Model
	secretFocus  int
	explainInput textinput.Model
	askWrites    bool
	setup        *setupState
	lastResult   string // what the last applied plan did
}

// New builds the interface over an engine.
func New(ctx context.Context, eng Engine, opts Options) *App {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.NoColor = opts.NoColor || noColorWanted()
	a := &App{ctx: ctx, eng: eng, opts: opts, st: newStyles(opts.NoColor), keys: newKeyMap(), help: help.New(),
		spin: spinner.New(spinner.WithSpinner(spinner.Line)), width: 80, height: 24}
	a.table = table.New(table.WithFocused(true), table.WithStyles(a.st.table), table.WithKeyMap(a.keys.tableKeys()))
	if opts.NoColor {
		plain, keyStyle := lipgloss.NewStyle(), lipgloss.NewStyle().Bold(true)
		a.help.Styles = help.Styles{ShortKey: keyStyle, ShortDesc: plain, ShortSeparator: plain, Ellipsis: plain,
			FullKey: keyStyle, FullDesc: plain, FullSeparator: plain}
	}
	a.filter = newInput("/")
	a.cmdline = newInput(":")
	a.cmdline.ShowSuggestions = true
	a.cmdline.SetSuggestions([]string{"rules", "repos", "findings", "journal", "explain ", "setup", "region ", "profile ", "refresh", "help", "quit"})
	a.confirm = newInput("type the name to confirm: ")
	a.explainInput = newInput("reference or error: ")
	a.explainInput.Placeholder = "nginx:1.27, a cache URI, or a pasted error message"
	a.secretUser = newInput("upstream user name: ")
	a.secretToken = newInput("access token: ")
	a.secretToken.EchoMode = textinput.EchoPassword
	a.body = viewport.New()
	a.body.KeyMap = a.keys.viewportKeys()
	a.body.SoftWrap = true
	if opts.Notice != "" {
		a.setBanner(opts.Notice, opts.Notice)
	}
	a.layout()
	return a
}

func (a *App) Init() tea.Cmd { return a.startScan() }

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
	case tea.WindowSizeMsg:
		a.width, a.height = msg.Width, msg.Height
		a.layout()
		a.refreshList()
		if a.screen == screenHelp {
			a.body.SetContent(a.helpText())
		}
		return a, nil
	case spinner.TickMsg:
		if !a.scanning && a.planState != "applying" {
			return a, nil
		}
		var cmd tea.Cmd
		a.spin, cmd = a.spin.Update(msg)
		return a, cmd
	case scanProgressMsg:
		a.progress = msg.p
		if msg.p.Snapshot != nil && (msg.p.Stage == "rules" || msg.p.Stage == "repositories") {
			a.snap = msg.p.Snapshot // rules and repositories on screen before the images are read
			a.refreshList()
		}
		return a, listen(msg.ch)
	case scanDoneMsg:
		a.scanning = false
		if msg.err != nil {
			if a.ctx.Err() == nil && !strings.Contains(msg.err.Error(), "context canceled") {
				a.setBanner("The scan failed", msg.err.Error())
			}
			return a, nil
		}
		a.snap = msg.snap
		a.setPartErrors()
		a.refreshList()
		a.status = "scanned; running the checks…"
		if a.opts.Setup && a.setup == nil {
			a.opts.Setup = false
			return a, tea.Batch(a.diagnoseCmd(msg.snap), a.openSetup())
		}
		return a, a.diagnoseCmd(msg.snap)
	case diagnosedMsg:
		a.findings = msg.findings
		a.status = fmt.Sprintf("%d findings", len(msg.findings))
		if len(msg.bad) > 0 {
			a.setBanner("Some watched references cannot be read", strings.Join(msg.bad, "\n"))
		}
		if title, detail := notCheckedBanner(msg.notChecked); title != "" {
			a.setBanner(title, detail)
		}
		a.refreshList()
		return a, nil
	case applyDoneMsg:
		return a, a.applied(msg)
	case secretsListedMsg:
		return a, a.secretsListed(msg)
	case credsCheckedMsg:
		return a, a.credsChecked(msg)
	case provedMsg:
		if a.plan != nil {
			a.renderPlan(a.lastResult + msg.text)
		}
		return a, nil
	case explainDoneMsg:
		a.body.SetContent(wrapText(msg.text, a.body.Width()))
		a.body.GotoTop()
		return a, nil
	case upstreamMsg:
		if a.repo != nil && msg.repo == a.repo.Name {
			a.upstream = msg.digests
			a.refreshList()
		}
		return a, nil
	case journalMsg:
		if msg.err != nil {
			a.setBanner("The journal could not be read", msg.err.Error())
		}
		a.journal = msg.rows
		a.refreshList()
		return a, nil
	case tea.MouseWheelMsg:
		m := msg.Mouse()
		if a.isListScreen() {
			if m.Button == tea.MouseWheelUp {
				a.table.MoveUp(3)
			} else if m.Button == tea.MouseWheelDown {
				a.table.MoveDown(3)
			}
			a.updateDetail()
		} else {
			var cmd tea.Cmd
			a.body, cmd = a.body.Update(msg)
			return a, cmd
		}
		return a, nil
	case tea.MouseClickMsg:
		return a, a.click(msg.Mouse())
	case tea.KeyPressMsg:
		return a, a.key(msg)
	}
	if a.screen == screenSetup {
		return a, a.setupUpdate(msg) // the form's own messages
	}
	return a, nil
}

// notCheckedBanner words what the checks could not judge, for the banner.
func notCheckedBanner(nc []model.NotChecked) (string, string) {
	if len(nc) == 0 {
		return "", ""
	}
	var lines []string
	for _, n := range nc {
		lines = append(lines, fmt.Sprintf("%s: %s %s: %s failed: %s %s", n.Check, n.Subject.Kind, model.Printable(n.Subject.Name),
			n.Failed.Operation, n.Failed.Code, model.Printable(n.Failed.Message)))
	}
	// The banner names the failure that left the most subjects unjudged.
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

func (a *App) setBanner(title, detail string) {
	a.banner, a.bannerDetail = model.Printable(title), detail
}

// setPartErrors says, in the banner, which parts of the scan failed.
func (a *App) setPartErrors() {
	if a.snap == nil || len(a.snap.Errors) == 0 {
		return
	}
	var lines []string
	for _, e := range a.snap.Errors {
		lines = append(lines, e.Error())
	}
	a.setBanner(fmt.Sprintf("%d parts of the account could not be read (press ! for details)", len(a.snap.Errors)), strings.Join(lines, "\n"))
}

// key handles one key press, by what has the focus: a dialog, an input, or the screen.
func (a *App) key(msg tea.KeyPressMsg) tea.Cmd {
	k := msg.String()
	if k == "ctrl+c" {
		return a.quit()
	}
	switch {
	case a.askWrites:
		a.askWrites = false
		if k == "y" {
			a.eng.SetReadOnly(false)
			a.status = "writes are ON"
		} else {
			a.status = "writes stay off"
		}
		return nil
	case a.filtering:
		return a.filterKey(msg)
	case a.commanding:
		return a.commandKey(msg)
	case a.screen == screenSetup:
		if k == "esc" {
			a.setup = nil
			a.back()
			return nil
		}
		return a.setupUpdate(msg)
	case a.screen == screenExplain && a.explainInput.Focused():
		return a.explainKey(msg)
	case a.screen == screenPlan && (a.planState == "confirm" || a.planState == "secret"):
		return a.planKey(msg)
	}
	switch {
	case key.Matches(msg, a.keys.Quit):
		return a.quit()
	case k == "!":
		a.showDetail = !a.showDetail
		return nil
	case key.Matches(msg, a.keys.Help):
		a.openHelp()
		return nil
	case key.Matches(msg, a.keys.Back):
		if a.scanning && a.cancel != nil && a.screen != screenPlan {
			a.cancel()
			a.scanning = false
			a.status = "scan cancelled"
			return nil
		}
		a.back()
		return nil
	case key.Matches(msg, a.keys.Rules):
		a.rule = ""
		a.jump(screenRules)
	case key.Matches(msg, a.keys.Repos):
		a.rule = ""
		a.jump(screenRepos)
	case key.Matches(msg, a.keys.Findings):
		a.jump(screenFindings)
	case key.Matches(msg, a.keys.Journal):
		a.jump(screenJournal)
		return a.journalCmd()
	case key.Matches(msg, a.keys.Filter):
		if a.isListScreen() {
			a.filtering = true
			return a.filter.Focus()
		}
	case key.Matches(msg, a.keys.Command):
		a.commanding = true
		a.cmdline.SetValue("")
		return a.cmdline.Focus()
	case key.Matches(msg, a.keys.Sort) && a.isListScreen():
		a.nextSort()
		return nil
	case key.Matches(msg, a.keys.Reverse) && a.isListScreen():
		a.reverseSort()
		return nil
	case key.Matches(msg, a.keys.Refresh):
		return a.startScan()
	case key.Matches(msg, a.keys.Checks):
		if a.snap != nil {
			a.status = "running the checks…"
			return a.diagnoseCmd(a.snap)
		}
	case key.Matches(msg, a.keys.Writes):
		if a.eng.ReadOnly() {
			a.askWrites = true
		} else {
			a.eng.SetReadOnly(true)
			a.status = "read-only again"
		}
		return nil
	case key.Matches(msg, a.keys.Explain):
		return a.openExplain("")
	case key.Matches(msg, a.keys.Describe):
		a.describe()
		return nil
	case key.Matches(msg, a.keys.Fix):
		return a.openPlan(0)
	case key.Matches(msg, a.keys.Undo):
		if a.screen == screenJournal {
			return a.openUndo()
		}
	case a.screen == screenPlan && key.Matches(msg, a.keys.Confirm):
		return a.confirmPlan()
	case key.Matches(msg, a.keys.Enter):
		return a.enter()
	case a.screen == screenFindings && len(k) == 1 && k[0] >= '1' && k[0] <= '9':
		return a.openPlan(int(k[0] - '1')) // the finding's fix number k
	}
	if a.isListScreen() {
		var cmd tea.Cmd
		a.table, cmd = a.table.Update(msg)
		a.updateDetail()
		return cmd
	}
	var cmd tea.Cmd
	a.body, cmd = a.body.Update(msg)
	return cmd
}

func (a *App) quit() tea.Cmd {
	if a.cancel != nil {
		a.cancel()
	}
	return tea.Quit
}

func (a *App) isListScreen() bool {
	switch a.screen {
	case screenRules, screenRepos, screenImages, screenFindings, screenJournal:
		return true
	}
	return false
}

// go_ opens a screen on top of the current one; back returns.
func (a *App) go_(s screen) {
	if s != a.screen {
		a.history = append(a.history, a.screen)
	}
	a.screen = s
	a.filter.SetValue("")
	a.refreshList()
}

// jump opens a top-level screen, forgetting the way there.
func (a *App) jump(s screen) {
	a.history = nil
	a.screen = s
	a.filter.SetValue("")
	a.refreshList()
}

// sortOf is the current list's order; a list starts in its natural order.
func (a *App) sortOf() sorting {
	if by, ok := a.sorts[a.screen]; ok {
		return by
	}
	return sorting{col: -1}
}

// nextSort orders the list by the next column (after the last: the natural
// order again); quantities start largest first, text from A.
func (a *App) nextSort() {
	by := a.sortOf()
	by.col++
	if by.col >= len(a.list.columns) {
		by.col = -1
	}
	_, quantity := a.list.nums[by.col]
	by.desc = quantity
	a.setSort(by)
}

func (a *App) reverseSort() {
	by := a.sortOf()
	if by.col < 0 {
		return
	}
	by.desc = !by.desc
	a.setSort(by)
}

func (a *App) setSort(by sorting) {
	if a.sorts == nil {
		a.sorts = map[screen]sorting{}
	}
	a.sorts[a.screen] = by
	a.refreshList()
	a.table.SetCursor(0)
	a.updateDetail()
	if by.col < 0 {
		a.status = "natural order (s sorts by a column)"
	} else {
		a.status = "sorted by " + a.list.columns[by.col].Title + " (s: next column, S: reverse)"
	}
}

func (a *App) openHelp() {
	a.go_(screenHelp)
	a.body.SetContent(a.helpText())
	a.body.GotoTop()
}

func (a *App) back() {
	if len(a.history) == 0 {
		return
	}
	a.screen = a.history[len(a.history)-1]
	a.history = a.history[:len(a.history)-1]
	a.planState = ""
	a.refreshList()
}

func (a *App) enter() tea.Cmd {
	if !a.isListScreen() || a.table.Cursor() >= len(a.list.refs) || len(a.list.refs) == 0 {
		return nil
	}
	switch ref := a.list.refs[a.table.Cursor()].(type) {
	case *model.Rule:
		a.rule = ref.Prefix
		a.go_(screenRepos)
	case *model.Repository:
		a.repo, a.upstream = ref, nil
		a.go_(screenImages)
		return a.probeUpstreamCmd(ref)
	case *model.Finding:
		return a.openPlan(0)
	case imageRef:
		a.describe()
	}
	return nil
}

func (a *App) selectedFinding() *model.Finding {
	if a.screen != screenFindings || len(a.list.refs) == 0 || a.table.Cursor() >= len(a.list.refs) {
		return nil
	}
	f, _ := a.list.refs[a.table.Cursor()].(*model.Finding)
	return f
}

// describe shows the raw data of what is selected.
func (a *App) describe() {
	if !a.isListScreen() || len(a.list.refs) == 0 || a.table.Cursor() >= len(a.list.refs) {
		return
	}
	v := a.list.refs[a.table.Cursor()]
	switch x := v.(type) {
	case imageRef:
		v = x.img
	case *model.Rule:
		// A rule with the creation template that shapes its repositories.
		v = struct {
			Rule     *model.Rule
			Template *model.Template
		}{x, model.TemplateFor(a.snap.Templates, x.Prefix+"/x")}
	}
	b, _ := json.MarshalIndent(v, "", "  ")
	a.body.SetContent(string(b)) // strings from outside are already escaped by JSON

	a.go_(screenDescribe)
	a.body.GotoTop()
}

func (a *App) filterKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "enter":
		a.filtering = false
		a.filter.Blur()
		return nil
	case "esc":
		a.filtering = false
		a.filter.Blur()
		a.filter.SetValue("")
		a.refreshList()
		return nil
	}
	var cmd tea.Cmd
	a.filter, cmd = a.filter.Update(msg)
	a.refreshList()
	return cmd
}

func (a *App) commandKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		a.commanding = false
		a.cmdline.Blur()
		return nil
	case "enter":
		a.commanding = false
		a.cmdline.Blur()
		return a.run(a.cmdline.Value())
	}
	var cmd tea.Cmd
	a.cmdline, cmd = a.cmdline.Update(msg)
	return cmd
}

// run carries out a :command.
func (a *App) run(line string) tea.Cmd {
	verb, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	arg = strings.TrimSpace(arg)
	switch verb {
	case "rules":
		a.rule = ""
		a.jump(screenRules)
	case "repos", "repositories":
		a.rule = arg
		a.jump(screenRepos)
	case "findings":
		a.jump(screenFindings)
		if arg != "" {
			a.filter.SetValue(arg)
			a.refreshList()
		}
	case "journal":
		a.jump(screenJournal)
		return a.journalCmd()
	case "explain":
		return a.openExplain(arg)
	case "setup":
		return a.openSetup()
	case "refresh":
		return a.startScan()
	case "help":
		a.openHelp()
	case "q", "quit":
		return a.quit()
	case "region", "profile":
		if arg == "" || a.opts.Reopen == nil {
			a.setBanner(":"+verb+" needs a name, like :"+verb+" eu-west-1", "")
			return nil
		}
		region, profile := arg, ""
		if verb == "profile" {
			region, profile = "", arg
		}
		eng, err := a.opts.Reopen(region, profile)
		if err != nil {
			a.setBanner("Could not open "+verb+" "+arg, err.Error())
			return nil
		}
		a.eng, a.snap, a.findings = eng, nil, nil
		a.jump(screenRules)
		return a.startScan()
	case "":
	default:
		a.setBanner("Unknown command :"+model.Printable(verb)+" (try :rules, :repos, :findings, :journal, :explain REF, :region NAME, :profile NAME)", "")
	}
	return nil
}

func (a *App) openExplain(input string) tea.Cmd {
	a.go_(screenExplain)
	a.body.SetContent("Type a reference, or paste an error message from docker, containerd or kubelet, and press enter.")
	if input == "" {
		if f := a.selectedFinding(); f != nil && f.Subject.Kind == "reference" {
			input = f.Subject.Name
		}
	}
	a.explainInput.SetValue(input)
	cmd := a.explainInput.Focus()
	if input != "" {
		a.explainInput.Blur()
		a.body.SetContent("Explaining " + model.Printable(input) + "…")
		return a.explainCmd(input)
	}
	return cmd
}

func (a *App) explainKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		a.explainInput.Blur()
		a.back()
		return nil
	case "enter":
		in := a.explainInput.Value()
		if strings.TrimSpace(in) == "" {
			return nil
		}
		a.explainInput.Blur()
		a.body.SetContent("Explaining " + model.Printable(in) + "…")
		return a.explainCmd(in)
	}
	var cmd tea.Cmd
	a.explainInput, cmd = a.explainInput.Update(msg)
	return cmd
}

// tableTop is the screen line of the table's header: after the header, tabs and banner.
const tableTop = 3

// click switches screens from the tab line, and selects a row of a list; a click on the
// selected row goes in, as enter does.
func (a *App) click(m tea.Mouse) tea.Cmd {
	if m.Button != tea.MouseLeft {
		return nil
	}
	if m.Y > tableTop && a.isListScreen() {
		lines := strings.Split(a.table.View(), "\n")
		selected := -1
		for i, l := range lines {
			if strings.Contains(l, "7m") { // the selected row is drawn in reverse video
				selected = i
				break
			}
		}
		clicked := m.Y - tableTop
		if selected < 0 || clicked >= len(lines) {
			return nil
		}
		if clicked == selected {
			return a.enter()
		}
		a.table.SetCursor(max(0, a.table.Cursor()+clicked-selected))
		a.updateDetail()
		return nil
	}
	if m.Y != 1 {
		return nil
	}
	x := 0
	for _, t := range a.tabs() {
		w := lipgloss.Width(t.label) + 2
		if m.X >= x && m.X < x+w {
			a.rule = ""
			a.jump(t.screen)
			if t.screen == screenJournal {
				return a.journalCmd()
			}
			return nil
		}
		x += w
	}
	return nil
}
