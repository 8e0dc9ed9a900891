package ui_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/ptcdoctor/ptcdoctor/cmd/ptcdoctor/uiengine"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
	"github.com/ptcdoctor/ptcdoctor/ui"
)

// updating reports whether -update was given (the flag is teatest's, shared with it).
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

var demoImages = []string{"111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/nginx:latest", "nginx:1.27", "redis:7.4",
	"quay.io/prometheus/node-exporter:v1.8.1"}

// demo starts the demo account in the stand-in and an engine over it.
func demo(t testing.TB) (*sim.Server, uiengine.Engine) {
	t.Helper()
	srv := simtest.Start(t, "demo")
	info := srv.Info()
	acc, err := ecrops.Open(context.Background(), ecrops.Config{Region: info.Region, EndpointURL: info.Endpoint, Resolve: info.Resolve,
		StateDir: t.TempDir(), Credentials: credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, ""),
		Retryer: ecrops.NoBackoff(3)})
	if err != nil {
		t.Fatal(err)
	}
	return srv, uiengine.New(context.Background(), acc, true)
}

func newApp(eng ui.Engine) *ui.App {
	return ui.New(context.Background(), eng, ui.Options{NoColor: true, Images: demoImages,
		Principals: []string{"arn:aws:iam::111122223333:role/eks-node"}})
}

// drive runs a command and every command its messages lead to, as the runtime
// would, feeding their messages to the model one at a time, until the interface waits
// on nothing (no scan, no request unanswered) and no command has answered for a
// moment: the commands still out then are timers (a cursor's blink). The spinner's
// ticks are dropped. It reports whether the interface quit.
func drive(m tea.Model, cmd tea.Cmd) (quit bool) {
	app := m.(*ui.App)
	results := make(chan tea.Msg, 1024)
	run := func(c tea.Cmd) {
		if c != nil {
			go func() { results <- c() }()
		}
	}
	run(cmd)
	deadline := time.After(2 * time.Minute)
	for {
		select {
		case msg := <-results:
			switch msg := msg.(type) {
			case nil, spinner.TickMsg:
				continue
			case tea.QuitMsg:
				quit = true
				continue
			case tea.BatchMsg:
				for _, c := range msg {
					run(c)
				}
				continue
			}
			_, next := m.Update(msg)
			run(next)
		case <-time.After(50 * time.Millisecond):
			if !ui.Busy(app) {
				return quit
			}
		case <-deadline:
			panic("the interface stayed busy for two minutes")
		}
	}
}

// driveWaiting is drive, for a command that takes long (a plan applied): drive
// waits for it already.
func driveWaiting(m tea.Model, cmd tea.Cmd, _ time.Duration) { drive(m, cmd) }

func key(m tea.Model, keys ...string) {
	for _, k := range keys {
		var msg tea.KeyPressMsg
		switch k {
		case "enter":
			msg = tea.KeyPressMsg{Code: tea.KeyEnter}
		case "esc":
			msg = tea.KeyPressMsg{Code: tea.KeyEscape}
		case "down":
			msg = tea.KeyPressMsg{Code: tea.KeyDown}
		case "tab":
			msg = tea.KeyPressMsg{Code: tea.KeyTab}
		case "backspace":
			msg = tea.KeyPressMsg{Code: tea.KeyBackspace}
		default:
			r := []rune(k)
			msg = tea.KeyPressMsg{Code: r[0], Text: k}
		}
		_, cmd := m.Update(msg)
		drive(m, cmd)
	}
}

func typeText(m tea.Model, s string) {
	for _, r := range s {
		key(m, string(r))
	}
}

var (
	timestampRE = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)
	requestRE   = regexp.MustCompile(`request [0-9a-f-]{36}`)
	planIDRE    = regexp.MustCompile(`\b\d{8}T\d{6}-[0-9a-f]{12}\b`)
	planTailRE  = regexp.MustCompile(`…[0-9a-f]{8}\b`) // the journal's column: a plan id's tail
)

// screenText is what a person sees: the view without its styling, with times and
// request ids (which change from run to run) replaced.
func screenText(m tea.Model) string {
	s := ansi.Strip(m.(*ui.App).View().Content)
	s = timestampRE.ReplaceAllString(s, "<time>")
	s = requestRE.ReplaceAllString(s, "request <id>")
	s = planIDRE.ReplaceAllString(s, "20261130T090000-0123456789ab") // a plan id, as wide as one
	s = planTailRE.ReplaceAllString(s, "…456789ab")
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		lines = append(lines, strings.TrimRight(l, " "))
	}
	return strings.Join(lines, "\n")
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".txt")
	if updating() {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ui -update to write it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from its golden file (go test ./ui -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestGoldenScreens(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		_, eng := demo(t)
		app := newApp(eng)
		_, _ = app.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		drive(app, app.Init())
		suffix := "-" + strings.Join([]string{itoa(size[0]), itoa(size[1])}, "x")
		golden(t, "rules"+suffix, screenText(app))
		key(app, "2")
		golden(t, "repositories"+suffix, screenText(app))
		key(app, "/")
		typeText(app, "library/nginx")
		key(app, "enter", "enter")
		golden(t, "images"+suffix, screenText(app))
		key(app, "3")
		golden(t, "findings"+suffix, screenText(app))
		key(app, "d")
		golden(t, "describe"+suffix, screenText(app))
		key(app, "esc", "f")
		golden(t, "plan"+suffix, screenText(app))
		key(app, "esc", "e")
		typeText(app, "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/nginx:latest")
		key(app, "enter")
		golden(t, "explain"+suffix, screenText(app))
		// A fix applied, so that the journal has a plan to show.
		key(app, "esc", "3", "/")
		typeText(app, "docker-hub/nginx")
		key(app, "enter", "f", "y")
		typeText(app, "docker-hub/nginx")
		key(app, "enter")
		golden(t, "applied"+suffix, screenText(app))
		key(app, "4")
		golden(t, "journal"+suffix, screenText(app))
		key(app, "?")
		golden(t, "help"+suffix, screenText(app))
	}
}

func itoa(n int) string {
	s := ""
	for n > 0 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	return s
}

func TestNoColorLeavesNoColour(t *testing.T) {
	_, eng := demo(t)
	app := newApp(eng)
	app.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	drive(app, app.Init())
	content := app.View().Content
	if regexp.MustCompile(`\x1b\[[0-9;]*(3[0-9]|4[0-9]|9[0-9]|10[0-9]|38;|48;)`).MatchString(content) {
		t.Fatal("NO_COLOR screens carry colour codes")
	}
}

// The journeys run the interface as a program, keys and all, and check the final screen.

func journey(t *testing.T, eng ui.Engine, steps func(tm *teatest.TestModel)) string {
	t.Helper()
	app := newApp(eng)
	tm := teatest.NewTestModel(t, app, teatest.WithInitialTermSize(120, 40))
	waitDrawn(t, tm, `[0-9]+ findings`) // the scan and the checks, against a local stand-in
	steps(tm)
	tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}) // quits from any screen, a form's included
	final := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second))
	return screenText(final)
}

// waitDrawn waits, up to 30 s, until the terminal stream has drawn text matching
// pattern (a line drawn whole), and returns what it read of the stream, which
// is then gone from tm.Output. Judgements are made on the final model; this
// only replaces a sleep that a loaded machine can outlast.
func waitDrawn(t *testing.T, tm *teatest.TestModel, pattern string) []byte {
	t.Helper()
	re := regexp.MustCompile(pattern)
	var seen []byte
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		seen = b
		return re.Match(b)
	}, teatest.WithDuration(30*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	return bytes.Clone(seen)
}

func press(tm *teatest.TestModel, keys ...string) {
	for _, k := range keys {
		switch k {
		case "enter":
			tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
		case "esc":
			tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
		default:
			tm.Type(k)
		}
	}
}

func TestJourneyFixTheNameMismatch(t *testing.T) {
	_, eng := demo(t)
	out := journey(t, eng, func(tm *teatest.TestModel) {
		press(tm, "3", "/", "docker-hub/nginx", "enter", "f", "y", "docker-hub/nginx", "enter")
		waitDrawn(t, tm, "Re-checked")
	})
	// The watch list still pulls docker-hub/nginx:latest: the name-mismatch check finds that
	// reference once the repository is gone, so the fix did not remove the problem.
	if !strings.Contains(out, "step 1 done: ecr:DeleteRepository docker-hub/nginx") || !strings.Contains(out, "Re-checked: NOT fixed") {
		t.Fatalf("final screen:\n%s", out)
	}
}

func TestJourneyExplain(t *testing.T) {
	_, eng := demo(t)
	out := journey(t, eng, func(tm *teatest.TestModel) {
		press(tm, "e", "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/nginx:latest", "enter")
		waitDrawn(t, tm, "instead")
	})
	if !strings.Contains(out, "✗ upstream reference") || !strings.Contains(out, "docker-hub/library/nginx:latest instead") {
		t.Fatalf("final screen:\n%s", out)
	}
}

func TestJourneyFilterAndHelp(t *testing.T) {
	_, eng := demo(t)
	out := journey(t, eng, func(tm *teatest.TestModel) {
		press(tm, "2", "/", "legacy", "enter")
	})
	if !strings.Contains(out, "legacy-hub/library/node") || strings.Contains(out, "my-proxy") {
		t.Fatalf("filtered repositories:\n%s", out)
	}
	out = journey(t, eng, func(tm *teatest.TestModel) { press(tm, "?") })
	if !strings.Contains(out, "toggle writes") || !strings.Contains(out, ":explain REF") {
		t.Fatalf("help:\n%s", out)
	}
}

func TestJourneyReadOnlyRefusesTheWrite(t *testing.T) {
	srv, eng := demo(t)
	eng.SetReadOnly(true)
	out := journey(t, eng, func(tm *teatest.TestModel) {
		press(tm, "3", "/", "docker-hub/nginx", "enter", "f", "y")
		waitDrawn(t, tm, "nothing was written")
	})
	if !strings.Contains(out, "READ-ONLY") || !strings.Contains(out, "Read-only: nothing was written") {
		t.Fatalf("final screen:\n%s", out)
	}
	for _, e := range srv.Events(0) {
		if e.Write {
			t.Fatalf("a write reached the account in read-only mode: %+v", e)
		}
	}
}

func TestMouse(t *testing.T) {
	_, eng := demo(t)
	app := newApp(eng)
	app.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	drive(app, app.Init())
	// A click on the third rule (under the header, tabs, status line, count line and
	// the list's titles) selects it; a second click goes in.
	app.Update(tea.MouseClickMsg{X: 5, Y: 7, Button: tea.MouseLeft})
	_, cmd := app.Update(tea.MouseClickMsg{X: 5, Y: 7, Button: tea.MouseLeft})
	drive(app, cmd)
	if s := screenText(app); !strings.Contains(s, "› rule github/") {
		t.Fatalf("after two clicks on github/:\n%s", s)
	}
	// A click on a tab opens it; the wheel moves the cursor.
	app.Update(tea.MouseClickMsg{X: 40, Y: 1, Button: tea.MouseLeft})
	if s := screenText(app); !strings.Contains(s, "CHECK") {
		t.Fatalf("after a click on the findings tab:\n%s", s)
	}
	app.Update(tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	if s := screenText(app); !strings.Contains(s, "WARNING") && !strings.Contains(s, "ERROR permissions") {
		t.Fatalf("after the wheel:\n%s", s)
	}
}

func TestDescribeARuleShowsItsTemplate(t *testing.T) {
	_, eng := demo(t)
	app := newApp(eng)
	app.Update(tea.WindowSizeMsg{Width: 120, Height: 60})
	drive(app, app.Init())
	key(app, "1", "d")
	s := screenText(app)
	for _, want := range []string{`"Prefix": "docker-hub"`, `"Template": {`, `"LifecyclePolicy"`, `"Secret": {`} {
		if !strings.Contains(s, want) {
			t.Fatalf("describe lacks %s:\n%s", want, s)
		}
	}
}

func TestRegionCommandReopens(t *testing.T) {
	_, eng := demo(t)
	var asked string
	app := ui.New(context.Background(), eng, ui.Options{NoColor: true, Reopen: func(region, profile string) (ui.Engine, error) {
		asked = region + "|" + profile
		_, other := demo(t)
		return other, nil
	}})
	app.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	drive(app, app.Init())
	key(app, ":")
	typeText(app, "region eu-west-1")
	key(app, "enter")
	if asked != "eu-west-1|" {
		t.Fatalf(":region asked for %q", asked)
	}
	key(app, ":")
	typeText(app, "profile prod")
	key(app, "enter")
	if asked != "|prod" {
		t.Fatalf(":profile asked for %q", asked)
	}
	if s := screenText(app); !strings.Contains(s, "1 Rules 6") {
		t.Fatalf("after reopening:\n%s", s)
	}
}

// TestPagingKeysLeaveTheVerbsAlone: g and G go to the ends of a list, space pages,
// and u (undo, on the journal only) no longer pages up behind the user's back.
func TestPagingKeysLeaveTheVerbsAlone(t *testing.T) {
	app := ui.New(context.Background(), bigEngine{bigSnapshot(1000)}, ui.Options{NoColor: true})
	app.Update(tea.WindowSizeMsg{Width: 120, Height: 30})
	drive(app, app.Init())
	key(app, "2", "enter", "G")
	if got := screenText(app); !strings.Contains(got, "v999 ") {
		t.Fatalf("G did not reach the last image:\n%s", got)
	}
	key(app, "u")
	if got := screenText(app); !strings.Contains(got, "v999 ") {
		t.Fatalf("u moved the list:\n%s", got)
	}
	key(app, "g")
	if got := screenText(app); !strings.Contains(got, "v0 ") || strings.Contains(got, "v999 ") {
		t.Fatalf("g did not go back to the top:\n%s", got)
	}
	key(app, " ")
	if got := screenText(app); strings.Contains(got, " v0 ") {
		t.Fatalf("space did not page down:\n%s", got)
	}
}

// TestSortByColumn: s orders the list by the next column (quantities largest
// first), S reverses it, a filter keeps the order, and the order survives a visit
// to another screen.
func TestSortByColumn(t *testing.T) {
	_, eng := demo(t)
	app := newApp(eng)
	app.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	drive(app, app.Init())
	firstRow := func() string {
		lines := strings.Split(screenText(app), "\n")
		for i, l := range lines {
			if strings.Contains(l, "REPOSITORY") && i+1 < len(lines) {
				return strings.Fields(lines[i+1])[0]
			}
		}
		t.Fatalf("no repository list:\n%s", screenText(app))
		return ""
	}
	key(app, "2")
	if got := firstRow(); got != "docker-hub/library/alpine" {
		t.Fatalf("natural order starts with %s", got)
	}
	key(app, "s", "s", "s", "s") // REPOSITORY, RULE, IMAGES, SIZE
	if s := screenText(app); !strings.Contains(s, "SIZE ▼") || !strings.Contains(s, "sorted by SIZE") {
		t.Fatalf("not sorted by size:\n%s", s)
	}
	if got := firstRow(); got != "docker-hub/library/nginx" {
		t.Fatalf("largest first should be docker-hub/library/nginx, got %s", got)
	}
	key(app, "S")
	if got := firstRow(); got != "docker-hub/library/redis" {
		t.Fatalf("reversed, the smallest (empty, natural order among ties) should come first, got %s", got)
	}
	key(app, "1", "2")
	if s := screenText(app); !strings.Contains(s, "SIZE ▲") {
		t.Fatalf("the order was forgotten:\n%s", s)
	}
	key(app, "/", "l", "e", "g", "enter")
	if got := firstRow(); got != "legacy-hub/library/node" {
		t.Fatalf("filtered and sorted, legacy-hub/library/node (699 B) comes first, got %s", got)
	}
	key(app, "esc", "s", "s", "s")
	if s := screenText(app); strings.Contains(s, "▲") || strings.Contains(s, "▼") {
		t.Fatalf("after the last column the natural order should return:\n%s", s)
	}
}

// TestHelpScrollsOnASmallTerminal: every key can be read on a 50×12 terminal.
func TestHelpScrollsOnASmallTerminal(t *testing.T) {
	app := ui.New(context.Background(), bigEngine{bigSnapshot(3)}, ui.Options{NoColor: true})
	app.Update(tea.WindowSizeMsg{Width: 50, Height: 12})
	drive(app, app.Init())
	key(app, "?")
	if s := screenText(app); strings.Contains(s, "Mouse") {
		t.Fatalf("the help should not fit in 12 lines:\n%s", s)
	}
	for range 40 {
		key(app, "j")
	}
	if s := screenText(app); !strings.Contains(s, "Mouse") {
		t.Fatalf("scrolling down did not reach the end of the help:\n%s", s)
	}
}

// TestREADMEScreensAreTheGoldens: the screens the README shows are the golden
// screens (blank runs folded), so they cannot drift from what the TUI draws.
func TestREADMEScreensAreTheGoldens(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	fold := func(s string) string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			l = strings.TrimRight(l, " ")
			if l == "" && len(out) > 0 && out[len(out)-1] == "" {
				continue
			}
			out = append(out, l)
		}
		return strings.Trim(strings.Join(out, "\n"), "\n")
	}
	for _, name := range []string{"rules-80x24", "findings-80x24", "plan-80x24"} {
		g, err := os.ReadFile(filepath.Join("testdata", "golden", name+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		if want := "```\n" + fold(string(g)) + "\n```"; !strings.Contains(string(readme), want) {
			t.Errorf("the README does not show %s as the TUI draws it:\n%s", name, want)
		}
	}
}
