package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
)

// BenchmarkDoctor100kImages runs the built binary's `doctor --json --stats` against a
// generated account of 100,000 images (50 rules of 100 repositories of 20 images, the last
// 50 rules without a creation template, so their 5,000 repositories have no lifecycle
// policy either: 50 no-lifecycle findings of 100 repositories each). The stand-in is the
// binary's `sim`, another process: a child's peak resident memory (the kernel's maxrss,
// which counts what the child had before its exec, a copy of its parent) is then
// ptcdoctor's own, not the stand-in's 100,000 images. It reports that peak, the report's
// size, the calls the report counts and the wall time. Run it with `make bench-doctor`.
func BenchmarkDoctor100kImages(b *testing.B) {
	bin := binary(b)
	dir := b.TempDir()
	scenario := filepath.Join(dir, "100k.yaml")
	if err := os.WriteFile(scenario, []byte("generate:\n  rules: 50\n  repositoriesPerRule: 100\n  imagesPerRepository: 20\n  failures: {missingTemplates: 50}\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	simCmd := exec.Command(bin, "sim", "--scenario", scenario, "--env")
	stdout, err := simCmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := simCmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = simCmd.Process.Kill(); _ = simCmd.Wait() })
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "XDG_STATE_HOME=" + dir,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "NO_COLOR=1"}
	lines := bufio.NewScanner(stdout)
	for lines.Scan() { // export K='V' lines, the last one the admin endpoint's
		k, v, ok := strings.Cut(strings.TrimPrefix(lines.Text(), "export "), "=")
		if !ok {
			continue
		}
		env = append(env, k+"="+strings.Trim(v, "'"))
		if k == "PTCDOCTOR_SIM_ADMIN" {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	var peak int64
	b.ResetTimer()
	for range b.N {
		cmd := exec.Command(bin, "doctor", "--json", "--stats")
		cmd.Env = env
		start := time.Now()
		out, err := cmd.Output()
		wall := time.Since(start)
		if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() == 2) {
			b.Fatalf("doctor: %v: %s", err, out)
		}
		var r diagnose.Report
		if err := json.Unmarshal(out, &r); err != nil || r.Stats == nil || r.Stats.Images != 100000 {
			b.Fatalf("the report (%v): %.300s", err, out)
		}
		calls := 0
		for _, n := range r.Stats.Calls {
			calls += n
		}
		peak = max(peak, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) // KiB on Linux
		b.ReportMetric(float64(peak)/1024, "MB-peak-rss")                      // the highest of the runs
		b.ReportMetric(float64(len(out))/1e6, "MB-json")
		b.ReportMetric(float64(calls), "calls-counted")
		b.ReportMetric(float64(strings.Count(string(out), `"check": "no-lifecycle"`)), "no-lifecycle")
		b.ReportMetric(wall.Seconds(), "s-wall")
	}
}
