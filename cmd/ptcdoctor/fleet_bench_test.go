package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
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
// issue's full size is 50x3x200x10). It prints:
//   - the whole scan against 1.15 x the bound of its slowest target, the bound: the
//     most calls any one operation of the target needs (throttled attempts sent again not
//     counted), over the rate; when every target's scan (its AWS reads) was done, and so
//     how long the checks' probes of the upstreams, which no AWS limit paces, took after;
//     and, for scale, the time of one target scanned alone at the same limits;
//   - the CPU the tool used (this process's rusage: the stand-in is another process), the
//     stand-in's (its /proc stat), and the CPU-seconds the machine had (cores x whole
//     scan): where the two add up to nearly all of it, the machine, not the targets'
//     limits, is what bounds the scan; and the tool's CPU per call;
//   - the threads' run delay (time ready to run but waiting for a core), which
//     says how much other work on the machine held the two processes back;
//   - the AWS calls against the minimum (what a scan must read: see below), and the
//     registry calls apart;
//   - the time to the targets' list and to the first target done, and the peak RSS.
//
// PTCDOCTOR_BENCH_PARALLEL (default: every target at once), PTCDOCTOR_BENCH_CONCURRENCY
// (default 8) and PTCDOCTOR_BENCH_PROBE_LIMIT (default 200) are doctor's --parallel,
// --target-concurrency and --probe-limit.
// PTCDOCTOR_BENCH_HEAPPROFILE=FILE writes a heap profile each time the heap in use passes
// its last high by a tenth: the file then holds the heap at (about) its peak.
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
	info, simPID := startSimProcess(b, file)

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
		ff := &fleetFlags{roleARN: "arn:aws:iam::{account}:role/" + sim.GeneratedAuditRole, organization: true, regions: regionList, parallel: benchParallel(accounts * regions), perTarget: benchPerTarget()}
		fc, err := ff.config(g, base)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		mem := watchMemory(os.Getenv("PTCDOCTOR_BENCH_HEAPPROFILE"))
		toolCPU0, simCPU0 := processCPU(), childCPU(simPID)
		toolWait0, simWait0 := runDelay(os.Getpid()), runDelay(simPID)
		start := time.Now()
		targets, _, err := ecrops.Targets(ctx, fc)
		if err != nil {
			b.Fatal(err)
		}
		listed := time.Since(start)
		var first, scansDone time.Duration
		var once sync.Once
		sc := &scope{probeLimit: benchProbeLimit()}
		results := runFleet(ctx, g, sc, fc.Base, targets, ff.parallel, true, func(t diagnose.FleetTarget, _ ecrops.Target) {
			now := time.Since(start)
			once.Do(func() { first = now })
			if t.Report != nil && t.Report.Stats != nil { // its scan ended its checks' time before now
				checks := time.Duration((t.Seconds - t.Report.Stats.SecondsToComplete) * float64(time.Second))
				scansDone = max(scansDone, now-checks)
			}
		})
		whole := time.Since(start)
		toolCPU, simCPU := processCPU()-toolCPU0, childCPU(simPID)-simCPU0
		toolWait, simWait := runDelay(os.Getpid())-toolWait0, runDelay(simPID)-simWait0
		mem.done()
		b.StopTimer()

		// The bound of a target (the issue's): its busiest operation's calls over the rate.
		// Registry calls (the checks' probes of the upstreams) are not AWS's: counted apart,
		// and no part of the bound, which is AWS's limits per account-region.
		var calls, registryCalls, throttled, failed int
		var slowest, slowestScan, bound float64
		busiestOp := ""
		for _, r := range results {
			if r.target.Report == nil || r.target.Report.Stats == nil {
				failed++
				continue
			}
			st := r.target.Report.Stats
			for op, n := range st.Calls {
				throttled += st.Throttled[op]
				if strings.HasPrefix(op, "registry ") {
					registryCalls += n
					continue
				}
				calls += n
				// An attempt the stand-in throttled is one more call, not one the scan needs.
				if need := float64(n-st.Throttled[op]) / rate; need > bound {
					bound, busiestOp = need, op
				}
			}
			if r.target.Seconds > slowest {
				slowest, slowestScan = r.target.Seconds, st.SecondsToComplete
			}
		}
		// The least a scan reads: the caller, rules, templates, registry policy, the
		// repository pages; per cache repository its image pages, lifecycle policy,
		// repository policy and tags.
		minimum := len(targets) * (4 + (repos+999)/1000 + repos*(3+(images+999)/1000))
		// For scale: the same scan of one target alone, at the same limits (every
		// generated target has the same shape).
		aloneStart := time.Now()
		aloneResult := runFleet(ctx, g, sc, fc.Base, targets[:1], 1, true, func(diagnose.FleetTarget, ecrops.Target) {})
		alone, aloneScan := time.Since(aloneStart).Seconds(), 0.0
		if r := aloneResult[0].target.Report; r != nil && r.Stats != nil {
			aloneScan = r.Stats.SecondsToComplete
		}
		if os.Getenv("PTCDOCTOR_BENCH_DEBUG") != "" && results[0].target.Report != nil {
			fmt.Printf("  one target's calls: %v\n", results[0].target.Report.Stats.Calls)
		}
		cores := runtime.NumCPU()
		available := float64(cores) * whole.Seconds()
		b.ReportMetric(whole.Seconds(), "s/fleet")
		b.ReportMetric(whole.Seconds()/bound, "x-bound")
		b.ReportMetric(toolCPU.Seconds(), "s-tool-CPU")
		b.ReportMetric(simCPU.Seconds(), "s-sim-CPU")
		b.ReportMetric(float64(toolCPU.Microseconds())/float64(max(calls+registryCalls, 1)), "us-tool-CPU/call")
		b.ReportMetric(float64(peakRSS())/(1<<20), "MB-peak-RSS")
		load, _ := os.ReadFile("/proc/loadavg")
		fmt.Printf("fleet %dx%dx%dx%d (%d targets, %d images), throttled at %g calls/s per operation per account-region, %d targets at once:\n",
			accounts, regions, repos, images, len(targets), len(targets)*repos*images, rate, ff.parallel)
		fmt.Printf("  whole scan %.2f s against 1.15 x the bound of its slowest target, 1.15 x %.2f s = %.2f s (%s, %.2f x the bound; the bound: %.0f %s calls at %g/s)\n",
			whole.Seconds(), bound, 1.15*bound, verdict(whole.Seconds() <= 1.15*bound), whole.Seconds()/bound, bound*rate, busiestOp, rate)
		fmt.Printf("  every target's scan done after %.2f s (%.2f x the bound: %s), then the checks (the upstreams' probes, no AWS limit) until the end\n",
			scansDone.Seconds(), scansDone.Seconds()/bound, verdict(scansDone.Seconds() <= 1.15*bound))
		fmt.Printf("  slowest target in the fleet %.2f s (its scan %.2f s, then its checks); one target alone at the same limits %.2f s (its scan %.2f s)\n",
			slowest, slowestScan, alone, aloneScan)
		fmt.Printf("  CPU: tool %.2f s, stand-in %.2f s, of %.2f s available (%d cores x %.2f s): %.0f %% used; tool %.0f us per call (AWS and registry)\n",
			toolCPU.Seconds(), simCPU.Seconds(), available, cores, whole.Seconds(), 100*(toolCPU+simCPU).Seconds()/available,
			float64(toolCPU.Microseconds())/float64(max(calls+registryCalls, 1)))
		fmt.Printf("  waited for a core while ready to run (the threads' run delay): tool %.2f s, stand-in %.2f s\n", toolWait.Seconds(), simWait.Seconds())
		fmt.Printf("  AWS calls %d against a minimum of %d (%d throttled); registry calls %d; %d targets failed\n", calls, minimum, throttled, registryCalls, failed)
		fmt.Printf("  targets listed after %.3f s; first target done after %.3f s\n", listed.Seconds(), first.Seconds())
		fmt.Printf("  peak RSS %d MB (target < 400 MB: %s); at the Go runtime's peak (%d MB): %d MB of heap live at the last GC, %d MB of stacks, %d goroutines\n",
			peakRSS()>>20, verdict(peakRSS() < 400<<20), mem.total>>20, mem.heap>>20, mem.stacks>>20, mem.goroutines)
		fmt.Printf("  load average %s", load)
		b.StartTimer()
	}
}

// processCPU is the user and system CPU this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// childCPU is the user and system CPU of a running process, from /proc/PID/stat (fields
// 14 and 15, in clock ticks: 100 a second on Linux); 0 where /proc has none.
func childCPU(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // the name may hold spaces
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * (time.Second / 100)
}

// runDelay is the time the threads of a process have spent ready to run but waiting for
// a core (/proc/PID/task/*/schedstat, the second field, in ns): where it is a large part
// of the wall time, the machine, not the scan, sets the pace. 0 where /proc has none.
func runDelay(pid int) time.Duration {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var sum int64
	for _, t := range tasks {
		raw, err := os.ReadFile(t)
		if f := strings.Fields(string(raw)); err == nil && len(f) >= 2 {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			sum += n
		}
	}
	return time.Duration(sum)
}

// memoryPeak samples the Go runtime's memory every 100 ms, keeps what it held when its
// total was highest, and, when profile is not "", writes a heap profile there each time
// the heap in use passes its last high by a tenth (the file then holds the heap at about
// its peak), and the goroutines (at about their peak) to FILE.goroutines.
type memoryPeak struct {
	stop, finished chan struct{}
	total          uint64 // the highest of /memory/classes/total:bytes
	heap, stacks   uint64 // the heap live at the last GC, and goroutine stacks, at that moment
	goroutines     uint64
}

func watchMemory(profile string) *memoryPeak {
	m := &memoryPeak{stop: make(chan struct{}), finished: make(chan struct{})}
	go func() {
		defer close(m.finished)
		samples := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/gc/heap/live:bytes"},
			{Name: "/memory/classes/heap/stacks:bytes"}, {Name: "/sched/goroutines:goroutines"}}
		var written, dumped uint64
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-m.stop:
				return
			case <-tick.C:
			}
			metrics.Read(samples)
			if total := samples[0].Value.Uint64(); total > m.total {
				m.total, m.heap, m.stacks, m.goroutines = total, samples[1].Value.Uint64(), samples[2].Value.Uint64(), samples[3].Value.Uint64()
				if profile != "" && m.goroutines > dumped+dumped/5 { // a dump stops the world: not every 100 ms
					dumped = m.goroutines
					if f, err := os.Create(profile + ".goroutines"); err == nil {
						pprof.Lookup("goroutine").WriteTo(f, 1)
						f.Close()
					}
				}
			}
			if heap := samples[1].Value.Uint64(); profile != "" && heap > written+written/10 {
				written = heap
				if f, err := os.Create(profile); err == nil {
					pprof.WriteHeapProfile(f)
					f.Close()
				}
			}
		}
	}()
	return m
}

// done stops the sampling.
func (m *memoryPeak) done() { close(m.stop); <-m.finished }

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
func startSimProcess(b *testing.B, file string) (sim.FleetInfo, int) {
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
	return info, cmd.Process.Pid
}

// benchPerTarget is the calls in flight to one account-region (PTCDOCTOR_BENCH_CONCURRENCY,
// default that of --target-concurrency).
func benchPerTarget() int {
	if n, err := strconv.Atoi(os.Getenv("PTCDOCTOR_BENCH_CONCURRENCY")); err == nil && n > 0 {
		return n
	}
	return 8
}

// benchParallel is the targets scanned at once (PTCDOCTOR_BENCH_PARALLEL, default all).
func benchParallel(all int) int {
	if n, err := strconv.Atoi(os.Getenv("PTCDOCTOR_BENCH_PARALLEL")); err == nil && n > 0 {
		return n
	}
	return all
}

// benchProbeLimit is doctor's --probe-limit (PTCDOCTOR_BENCH_PROBE_LIMIT, default 200, as
// doctor's): 1 leaves nearly all the stale-tag probes out, to look at the scan's cost alone.
func benchProbeLimit() int {
	if n, err := strconv.Atoi(os.Getenv("PTCDOCTOR_BENCH_PROBE_LIMIT")); err == nil && n > 0 {
		return n
	}
	return 200
}
