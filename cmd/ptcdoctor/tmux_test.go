package main

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The built binary, in a real terminal: tmux runs it with --demo, keys are typed, and
// the screen is read back as a person would see it.
func TestTUIInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (.ci/run installs it); skipping the terminal end-to-end run")
	}
	bin := binary(t)
	session := "ptcdoctor-e2e-" + strings.ReplaceAll(t.Name(), "/", "-")
	state := t.TempDir()
	tmux := func(args ...string) string {
		out, err := exec.Command("tmux", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "36",
		"env", "XDG_STATE_HOME="+state, "XDG_CONFIG_HOME="+state, "NO_COLOR=1", bin, "--demo")
	defer exec.Command("tmux", "kill-session", "-t", session).Run()
	screen := func() string { return tmux("capture-pane", "-t", session, "-p") }
	waitFor := func(what string) string {
		deadline := time.Now().Add(15 * time.Second)
		for {
			s := screen()
			if strings.Contains(s, what) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("the screen never showed %q:\n%s", what, s)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	keys := func(k ...string) {
		tmux(append([]string{"send-keys", "-t", session}, k...)...)
		time.Sleep(150 * time.Millisecond)
	}

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
	if !strings.Contains(s, "FIXED") {
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
