package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
)

// BenchmarkFleet scans and diagnoses a generated fleet served by `ptcdoctor sim` in a
// process of its own (so that the memory measured is the tool's alone), every
// account-region throttled on its own at PTCDOCTOR_BENCH_RATE calls a second per
// operation, as AWS throttles each account in each region. Its size is
// PTCDOCTOR_BENCH_FLEET, ACCOUNTSxREGIONSxREPOSITORIESxIMAGES (default 10x3x50x10; the
// issue's full size is 50x3x200x10). It prints: the whole scan against 1.15 x the bound of
// its slowest target (the time of one target scanned alone at the same limits: the scan
// reads in phases, rules, repositories, then images and lifecycle policies, so a target's
// floor is more than its busiest operation's calls over the rate, which is printed too),
// the calls against the minimum (what a scan must read: see below),
// the time to the targets' list and to the first target done, and the peak RSS.
func BenchmarkFleet(b *testing.B) {
	accounts, regions, repos, images := 10, 3, 50, 10
	if s := os.Getenv("PTCDOCTOR_BENCH_FLEET"); s != "" {
		if _, err := fmt.Sscanf(s, "%dx%dx%dx%d", &accounts, &regions, &repos, &images); err != nil {
			b.Fatalf("PTCDOCTOR_BENCH_FLEET=%q: want ACCOUNTSxREGIONSxREPOSITORIESxIMAGES", s)
		}
	}
	rate := 20.0
	if s := os.Getenv("PTCDOCTOR_BENCH_RATE"); s != "" {
		rate, _ = strconv.ParseFloat(s, 64)
	}
	allRegions := []string{"us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2", "eu-central-1"}
	regionList := allRegions[:min(regions, len(allRegions))]
	scenario := fmt.Sprintf("name: bench-fleet\ngenerate:\n  accounts: %d\n  regions: [%s]\n  rules: 1\n  repositoriesPerRule: %d\n  imagesPerRepository: %d\n  faults: [{operation: \"*\", throttlePerSecond: %g}]\n",
		accounts, strings.Join(regionList, ", "), repos, images, rate)
	file := filepath.Join(b.TempDir(), "fleet.yaml")
	os.WriteFile(file, []byte(scenario), 0o600)
	info := startSimProcess(b, file)

	for i := 0; i < b.N; i++ {
		g := &globals{endpointURL: info.Endpoint, rates: []string{fmt.Sprintf("*=%g", rate)}}
		for h, u := range info.Resolve {
			g.resolve = append(g.resolve, h+"="+u)
		}
		base, err := g.config()
		if err != nil {
			b.Fatal(err)
		}
		base.Region, base.StateDir = info.Region, b.TempDir()
		base.Credentials = credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, "")
		base.Retryer = ecrops.NoBackoff(8)
		ff := &fleetFlags{roleARN: "arn:aws:iam::{account}:role/" + sim.GeneratedAuditRole, organization: true, regions: regionList, parallel: accounts * regions, perTarget: benchPerTarget()}
		fc, err := ff.config(g, base)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		start := time.Now()
		targets, _, err := ecrops.Targets(ctx, fc)
		if err != nil {
			b.Fatal(err)
		}
		listed := time.Since(start)
		var first time.Duration
		var once sync.Once
		sc := &scope{probeLimit: 200}
		results := runFleet(ctx, g, sc, fc.Base, targets, ff.parallel, true, func(diagnose.FleetTarget, ecrops.Target) {
			once.Do(func() { first = time.Since(start) })
		})
		whole := time.Since(start)
		b.StopTimer()

		// The bound of each target: its busiest operation's calls over the rate.
		var calls, throttled, failed int
		var slowest, slowestBound float64
		for _, r := range results {
			if r.target.Report == nil || r.target.Report.Stats == nil {
				failed++
				continue
			}
			st := r.target.Report.Stats
			busiest := 0
			for op, n := range st.Calls {
				calls += n
				throttled += st.Throttled[op]
				busiest = max(busiest, n)
			}
			if bound := float64(busiest) / rate; bound > slowestBound {
				slowestBound = bound
			}
			slowest = max(slowest, r.target.Seconds)
		}
		// The least a scan reads: the caller, rules, templates, registry policy, the
		// repository pages; per cache repository its image pages, lifecycle policy,
		// repository policy and tags.
		minimum := len(targets) * (4 + (repos+999)/1000 + repos*(3+(images+999)/1000))
		// The bound of a target: the same scan of one target alone, at the same limits
		// (every generated target has the same shape).
		aloneStart := time.Now()
		runFleet(ctx, g, sc, fc.Base, targets[:1], 1, true, func(diagnose.FleetTarget, ecrops.Target) {})
		alone := time.Since(aloneStart).Seconds()
		if os.Getenv("PTCDOCTOR_BENCH_DEBUG") != "" {
			fmt.Printf("  one target's calls: %v\n", results[0].target.Report.Stats.Calls)
		}
		b.ReportMetric(whole.Seconds(), "s/fleet")
		b.ReportMetric(float64(peakRSS())/(1<<20), "MB-peak-RSS")
		fmt.Printf("fleet %dx%dx%dx%d (%d targets, %d images), throttled at %g calls/s per operation per account-region:\n",
			accounts, regions, repos, images, len(targets), len(targets)*repos*images, rate)
		fmt.Printf("  whole scan %.2f s; one target alone at the same limits %.2f s, x 1.15 = %.2f s (%s)\n",
			whole.Seconds(), alone, 1.15*alone, verdict(whole.Seconds() <= 1.15*alone))
		fmt.Printf("  slowest target in the fleet %.2f s; its busiest operation's calls over the rate %.2f s\n", slowest, slowestBound)
		fmt.Printf("  calls %d against a minimum of %d (%d throttled); %d targets failed\n", calls, minimum, throttled, failed)
		fmt.Printf("  targets listed after %.3f s; first target done after %.3f s\n", listed.Seconds(), first.Seconds())
		fmt.Printf("  peak RSS %d MB (target < 400 MB: %s)\n", peakRSS()>>20, verdict(peakRSS() < 400<<20))
		b.StartTimer()
	}
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// peakRSS is the process's peak resident set (VmHWM), in bytes; 0 where /proc has none.
func peakRSS() int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// startSimProcess serves a scenario file with the built binary and reads its first line.
func startSimProcess(b *testing.B, file string) sim.FleetInfo {
	cmd := exec.Command(binary(b), "sim", "--scenario", file)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("sim: %v", err)
	}
	var info sim.FleetInfo
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		b.Fatalf("sim's first line %q: %v", line, err)
	}
	sort.Slice(info.Accounts, func(i, j int) bool { return info.Accounts[i].ID < info.Accounts[j].ID })
	return info
}

// benchPerTarget is the calls in flight to one account-region (PTCDOCTOR_BENCH_CONCURRENCY,
// default that of --target-concurrency).
func benchPerTarget() int {
	if n, err := strconv.Atoi(os.Getenv("PTCDOCTOR_BENCH_CONCURRENCY")); err == nil && n > 0 {
		return n
	}
	return 8
}
