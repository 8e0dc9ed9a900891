package main

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
)

// The built binary, in a real terminal: tmux runs it with --demo, keys are typed, and
// the screen is read back as a person would see it.
func TestTUIInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (.ci/run installs it); skipping the terminal end-to-end run")
	}
	bin := binary(t)
	state := t.TempDir()
	tm := startTmux(t, 120, 36, "env", "XDG_STATE_HOME="+state, "XDG_CONFIG_HOME="+state, "NO_COLOR=1", bin, "--demo")
	waitFor, keys := tm.waitFor, tm.keys
	session := tm.session

	s := waitFor("findings")
	for _, want := range []string{"111122223333 · us-east-1", "WRITES ON", "docker-hub/", "registry-1.docker.io", "1 Rules 6"} {
		if !strings.Contains(s, want) {
			t.Errorf("the first screen lacks %q:\n%s", want, s)
		}
	}
	keys("3")
	s = waitFor("CHECK")
	if !strings.Contains(s, "name-mismatch") || !strings.Contains(s, "Evidence") {
		t.Errorf("findings screen:\n%s", s)
	}
	keys("/", "docker-hub/nginx", "Enter", "f")
	waitFor("[DESTRUCTIVE]")
	keys("y")
	waitFor("Type its name")
	keys("docker-hub/nginx", "Enter")
	s = waitFor("Re-checked")
	// The demo's watch list still pulls docker-hub/nginx:latest, so the problem is still
	// there under the reference's name: the tool must not say FIXED.
	if !strings.Contains(s, "NOT fixed") || strings.Contains(s, "FIXED") {
		t.Errorf("after the fix:\n%s", s)
	}
	keys("Escape", "4")
	s = waitFor("ecr:DeleteRepository")
	if !strings.Contains(s, "docker-hub/nginx") {
		t.Errorf("journal:\n%s", s)
	}
	keys("?")
	waitFor("toggle writes")
	keys("q")
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if exec.Command("tmux", "has-session", "-t", session).Run() != nil {
			return // the program quit and the session closed
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("q did not quit")
}

// tmuxRun is a program running in a tmux session of a given size, read back as a person
// sees it.
type tmuxRun struct {
	t       *testing.T
	session string
}

var sessions int

// startTmux runs the command in a new detached session of width×height; the session
// is killed when the test ends.
func startTmux(t *testing.T, width, height int, command ...string) *tmuxRun {
	sessions++ // a test may run several
	tm := &tmuxRun{t: t, session: "ptcdoctor-e2e-" + strings.ReplaceAll(t.Name(), "/", "-") + "-" + strconv.Itoa(sessions)}
	tm.run(append([]string{"new-session", "-d", "-s", tm.session, "-x", strconv.Itoa(width), "-y", strconv.Itoa(height)}, command...)...)
	t.Cleanup(func() { exec.Command("tmux", "kill-session", "-t", tm.session).Run() })
	return tm
}

func (tm *tmuxRun) run(args ...string) string {
	out, err := exec.Command("tmux", args...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (tm *tmuxRun) screen() string { return tm.run("capture-pane", "-t", tm.session, "-p") }

// waitFor waits until the screen shows what, and returns it.
func (tm *tmuxRun) waitFor(what string) string {
	deadline := time.Now().Add(15 * time.Second)
	for {
		s := tm.screen()
		if strings.Contains(s, what) {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("the screen never showed %q:\n%s", what, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (tm *tmuxRun) keys(k ...string) {
	tm.run(append([]string{"send-keys", "-t", tm.session}, k...)...)
	time.Sleep(150 * time.Millisecond)
}

// A closed terminal ends the demo: the session that ran it is killed (its pty
// closed), and the process is gone soon after, not left running. It runs under a
// shell that, as make does, holds the hangup while it waits for its child, so the
// demo sees no SIGHUP: only its terminal gone.
func TestTheDemoEndsWithItsTerminal(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed; skipping the terminal end-to-end run")
	}
	bin := binary(t)
	session := "ptcdoctor-hup-" + strings.ReplaceAll(t.Name(), "/", "-")
	state := t.TempDir()
	out, err := exec.Command("tmux", "new-session", "-d", "-s", session, "-x", "100", "-y", "30",
		"sh", "-c", `trap "" HUP; env XDG_STATE_HOME="$1" XDG_CONFIG_HOME="$1" NO_COLOR=1 "$2" --demo; true`, "sh", state, bin).CombinedOutput()
	if err != nil {
		t.Fatalf("tmux: %v\n%s", err, out)
	}
	defer exec.Command("tmux", "kill-session", "-t", session).Run()
	out, err = exec.Command("tmux", "list-panes", "-t", session, "-F", "#{pane_pid}").Output()
	if err != nil {
		t.Fatal(err)
	}
	shell := strings.TrimSpace(string(out))
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, _ := exec.Command("tmux", "capture-pane", "-t", session, "-p").Output()
		if strings.Contains(string(s), "Findings") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo never drew its screen:\n%s", s)
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, err = exec.Command("pgrep", "-P", shell).Output()
	if err != nil {
		t.Fatalf("the demo under shell %s: %v", shell, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("demo pid %q: %v", out, err)
	}
	defer syscall.Kill(pid, syscall.SIGKILL) // whatever happens, it does not outlive the test
	if err := exec.Command("tmux", "kill-session", "-t", session).Run(); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(20 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if state, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); strings.Contains(string(state), ") Z ") {
			return // exited; its parent has not reaped it yet
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs 20 s after its terminal was closed", pid)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The built binary over a fleet stand-in, at 80×24: the targets are listed at once,
// each fills in as it is scanned, a failed one says why and the rest go on; enter opens
// a target's findings and :fleet comes back.
func TestFleetTUIInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed; skipping the terminal end-to-end run")
	}
	bin := binary(t)
	f := simtest.StartFleet(t, crossAccountFleet)
	command := append([]string{"env", "-i"}, fleetEnv(t, f)...)
	command = append(command, "TERM=xterm-256color", bin, "--assume-role-arn", "arn:aws:iam::{account}:role/ptcdoctor-audit", "--organization",
		"--regions", "us-east-1,eu-west-1")
	started := time.Now()
	tm := startTmux(t, 80, 24, command...)
	tm.waitFor("8 account-regions")
	t.Logf("the fleet's rows on screen %v after the start", time.Since(started).Round(time.Millisecond))
	s := tm.waitFor("cross-account")
	for _, want := range []string{"444444444444  us-east-1", "failed: AccessDenied", "failed: region not enabled", "1E 0W 0I  done", "credentials: regi"} {
		if !strings.Contains(s, want) {
			t.Errorf("the fleet screen lacks %q:\n%s", want, s)
		}
	}
	tm.keys("Enter") // the first row: the management account in us-east-1
	s = tm.waitFor("3 Findings 1E")
	if !strings.Contains(s, "fleet › 111111111111 (central) · us-east-1") || !strings.Contains(s, "F fleet") {
		t.Errorf("the target's findings:\n%s", s)
	}
	tm.keys(":", "fleet", "Enter")
	s = tm.waitFor("fleet · 8 account-regions")
	if !strings.Contains(s, "1-4: account 111111111111") {
		t.Errorf("back on the fleet:\n%s", s)
	}
	t.Logf("the fleet screen at 80×24:\n%s", s)
	tm.keys("q")
}

// The demo fleet, in a real terminal at 80×24: the accounts and regions, a target whose
// role refuses the caller, a region not enabled, the cross-account findings and the
// judgement a failed target left open; enter opens a target, whose fix is applied
// (writes are on, as in --demo) and journaled; back on the fleet its row says what is
// so now. With --regions all the accounts are on screen before their regions are found.
func TestDemoFleetTUIInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed; skipping the terminal end-to-end run")
	}
	state := t.TempDir()
	demoFleet := func(args ...string) *tmuxRun {
		return startTmux(t, 80, 24, append([]string{"env", "XDG_STATE_HOME=" + state, "XDG_CONFIG_HOME=" + state, "NO_COLOR=1",
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", binary(t), "--demo-fleet"}, args...)...)
	}
	tm := demoFleet()
	tm.waitFor("8 account-regions")
	s := tm.waitFor("cross-account, 1 not checked")
	for _, want := range []string{"WRITES ON", "failed: AccessDenied", "failed: region not enabled", "consumer-pull", "not checked: "} {
		if !strings.Contains(s, want) {
			t.Errorf("the demo fleet's screen lacks %q:\n%s", want, s)
		}
	}
	tm.keys("/", "222222222222 us-east-1", "Enter")
	s = tm.waitFor("0E 1W 0I")
	tm.keys("Enter")
	s = tm.waitFor("3 Findings 0E 1W")
	if !strings.Contains(s, "fleet › 222222222222 (team-a) · us-east-1") || !strings.Contains(s, "creation-template") && !strings.Contains(s, "No creation template") {
		t.Errorf("team-a's findings:\n%s", s)
	}
	tm.keys("f")
	tm.waitFor("ecr:CreateRepositoryCreationTemplate")
	tm.keys("y")
	s = tm.waitFor("Re-checked")
	if !strings.Contains(s, "FIXED") {
		t.Errorf("after the fix:\n%s", s)
	}
	tm.keys("Escape")
	tm.keys("4")
	tm.waitFor("Creation templa")
	tm.keys("F")
	s = tm.waitFor("fleet · 8 account-regions")
	if !strings.Contains(s, "0E 0W 0I") {
		t.Errorf("the fixed target's row does not say so:\n%s", s)
	}
	// A cross-account finding, whole: its fix is a step by hand in the central account.
	// (an Escape sent with the next keys would read as alt+ them: it goes alone.)
	tm.keys("Escape")
	tm.waitFor(" rows · ") // the filter cleared
	tm.keys("/", "consumer-pull", "Enter", "Enter")
	tm.waitFor("Evidence")
	tm.keys("G")
	tm.waitFor("In account 111111111111, region us-east-1")
	// A target that failed is not opened: enter says why, and the fleet stays.
	tm.keys("Escape")
	tm.waitFor("fleet · 8 account-regions")
	tm.keys("Escape")
	tm.waitFor(" rows · ")
	tm.keys("/", "444444444444 us-east-1", "Enter", "Enter")
	s = tm.waitFor("was not scanned")
	if !strings.Contains(s, "fleet · 8 account-regions") {
		t.Errorf("enter on a failed target left the fleet:\n%s", s)
	}
	tm.keys("q")

	all := demoFleet("--regions", "all")
	s = all.waitFor("111111111111")
	t.Logf("the first screen with --regions all:\n%s", s)
	s = all.waitFor("cross-account")
	if strings.Contains(s, "discovering") || !strings.Contains(s, "333333333333  eu-west-1") {
		t.Errorf("after the regions were found:\n%s", s)
	}
	all.keys("q")
}
