package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// A cross-account finding's fix is a step by hand: doctor prints it, and fix --finding
// with its id says so, prints the step and exits 1 (asked for, not applied), rather
// than looking for the id in each target.
func TestCrossAccountFixIsManual(t *testing.T) {
	state := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + state, "XDG_STATE_HOME=" + state, "XDG_CONFIG_HOME=" + state, "NO_COLOR=1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
	out, _ := runCLI(t, env, "doctor", "--demo-fleet")
	m := regexp.MustCompile(`\[([0-9a-f]{8})\] ERROR\s+fleet-consumer-pull`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no fleet-consumer-pull error:\n%s", out)
	}
	block := out[strings.Index(out, m[0]):]
	block = block[:strings.Index(block, "\n\n")]
	if !strings.Contains(block, "fix 1: ") || !strings.Contains(block, "In account 111111111111, region us-east-1") {
		t.Fatalf("doctor does not print the cross-account finding's fix:\n%s", block)
	}
	out, code := runCLI(t, env, "fix", "--demo-fleet", "--finding", m[1], "--dry-run")
	if code != exitFindings || !strings.Contains(out, "cross-account finding") || !strings.Contains(out, "In account 111111111111, region us-east-1") ||
		strings.Contains(out, "No finding") {
		t.Fatalf("fix --finding %s (exit %d):\n%s", m[1], code, out)
	}
}

// fix over a fleet counts a target whose region is not enabled as failed, as doctor
// does, and says why in its block, rather than "incomplete" and "Nothing to fix".
func TestFleetFixRegionNotEnabledFailed(t *testing.T) {
	state := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + state, "XDG_STATE_HOME=" + state, "XDG_CONFIG_HOME=" + state, "NO_COLOR=1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
	out, _ := runCLI(t, env, "fix", "--demo-fleet", "--dry-run")
	i := strings.Index(out, "=== account 222222222222 (team-a) eu-west-1 (")
	if i < 0 {
		t.Fatalf("no block for team-a eu-west-1:\n%s", out)
	}
	block := out[i+1:]
	block = block[:strings.Index(block, "\n===")]
	if !strings.Contains(block, "not scanned: region eu-west-1 is not enabled") || strings.Contains(block, "Nothing to fix") {
		t.Errorf("team-a eu-west-1:\n%s", block)
	}
	if !strings.Contains(out, "failed: account 222222222222 (team-a) eu-west-1") || strings.Contains(out, "incomplete: account 222222222222") {
		t.Errorf("the fleet's summary:\n%s", out[strings.LastIndex(out, "=== FLEET"):])
	}
}
