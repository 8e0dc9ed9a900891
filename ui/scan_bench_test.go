package ui_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ptcdoctor/ptcdoctor/cmd/ptcdoctor/uiengine"
	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
	"github.com/ptcdoctor/ptcdoctor/ui"
)

// BenchmarkScanDoctorVsTUI scans and diagnoses one generated account twice per
// iteration: as `doctor` does (ecrops' Scan, then diagnose.Diagnose), and as the TUI
// does (the App driven headless by a loop that does what bubbletea's runtime does: each
// command in its own goroutine, each message through Update, then View, as the runtime
// renders after every message), both with the real engine against the stand-in on
// loopback. It reports each path's wall time and CPU time (the process's user+system
// time, the in-process stand-in's included, the same for both paths: the difference
// is the TUI's own). The account is PTCDOCTOR_BENCH_ACCOUNT=RULESxREPOSxIMAGES,
// 50x100x20 (5,000 repositories, 100,000 images) by default. `make bench-tui-scan`.
func BenchmarkScanDoctorVsTUI(b *testing.B) {
	size := os.Getenv("PTCDOCTOR_BENCH_ACCOUNT")
	if size == "" {
		size = "50x100x20"
	}
	var n [3]int
	for i, f := range strings.SplitN(size, "x", 3) {
		n[i], _ = strconv.Atoi(f)
	}
	if n[0] <= 0 || n[1] <= 0 || n[2] <= 0 {
		b.Fatalf("PTCDOCTOR_BENCH_ACCOUNT=%q: want RULESxREPOSITORIESxIMAGES", size)
	}
	srv := simtest.Start(b, "generate: {rules: "+strconv.Itoa(n[0])+", repositoriesPerRule: "+strconv.Itoa(n[1])+
		", imagesPerRepository: "+strconv.Itoa(n[2])+"}\n")
	info := srv.Info()
	open := func() *ecrops.Account {
		acc, err := ecrops.Open(context.Background(), ecrops.Config{Region: info.Region, EndpointURL: info.Endpoint, Resolve: info.Resolve,
			StateDir: b.TempDir(), Credentials: credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, ""),
			Retryer: ecrops.NoBackoff(3)})
		if err != nil {
			b.Fatal(err)
		}
		return acc
	}
	images := n[0] * n[1] * n[2]
	b.Run("doctor", func(b *testing.B) {
		for range b.N {
			acc := open()
			measure(b, acc, func() {
				snap, err := acc.Scan(context.Background(), ecrops.Scope{}, func(ecrops.Progress) {})
				if err != nil || snap.Stats.ImagesScanned != images {
					b.Fatalf("the scan: %v, %d images", err, snap.Stats.ImagesScanned)
				}
				_ = diagnose.Diagnose(context.Background(), snap, acc, diagnose.Options{})
			})
		}
	})
	b.Run("tui", func(b *testing.B) {
		for range b.N {
			acc := open()
			app := ui.New(context.Background(), uiengine.New(context.Background(), acc, false), ui.Options{NoColor: true})
			app.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
			var frames int
			measure(b, acc, func() { frames = runHeadless(b, app) })
			b.ReportMetric(float64(frames), "frames")
			if got := screenText(app); !strings.Contains(got, "checked: ") {
				b.Fatalf("the checks did not finish:\n%s", got)
			}
		}
	})
}

// measure reports the wall and CPU time of f, and the calls acc made meanwhile (the
// same on both paths: neither scans, diagnoses nor probes twice).
func measure(b *testing.B, acc *ecrops.Account, f func()) {
	b.Helper()
	cpu := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	calls := func() (n int) {
		c, _, _ := acc.Calls()
		for _, k := range c {
			n += k
		}
		return n
	}
	start, cpu0, calls0 := time.Now(), cpu(), calls()
	f()
	b.ReportMetric(time.Since(start).Seconds(), "s-wall")
	b.ReportMetric((cpu() - cpu0).Seconds(), "s-cpu")
	b.ReportMetric(float64(calls()-calls0), "calls")
}

// runHeadless runs the interface from its Init until it waits on nothing, as the
// runtime would: a goroutine per command, Update and View per message. It returns the
// frames drawn.
func runHeadless(b *testing.B, app *ui.App) (frames int) {
	msgs := make(chan tea.Msg, 256)
	run := func(c tea.Cmd) {
		if c != nil {
			go func() { msgs <- c() }()
		}
	}
	run(app.Init())
	_ = app.View()
	deadline := time.After(5 * time.Minute)
	for ui.Busy(app) {
		select {
		case msg := <-msgs:
			switch msg := msg.(type) {
			case nil:
				continue
			case tea.BatchMsg:
				for _, c := range msg {
					run(c)
				}
				continue
			}
			_, next := app.Update(msg)
			run(next)
			_ = app.View()
			frames++
		case <-deadline:
			b.Fatal("the interface stayed busy for five minutes")
		}
	}
	return frames
}
