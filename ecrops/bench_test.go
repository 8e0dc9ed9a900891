package ecrops_test

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
)

// BenchmarkScan scans generated accounts whose every operation the stand-in throttles to
// a rate (PTCDOCTOR_BENCH_RATE calls per second, default 200), with the scanner kept to
// the same rate. It reports the wall time against the bound (the most calls any one
// operation needs, over the rate), the calls made against the minimum, the throttled and
// retried calls, the time to the first rules and repositories, and the peak heap the scan
// adds. Run it with `make bench-scan`.
func BenchmarkScan(b *testing.B) {
	rate := 200.0
	if v, err := strconv.ParseFloat(os.Getenv("PTCDOCTOR_BENCH_RATE"), 64); err == nil && v > 0 {
		rate = v
	}
	for _, size := range []struct {
		name                  string
		rules, repos, perRepo int
	}{
		{"50rules-1000repos-20000images", 50, 20, 20},
		{"50rules-5000repos-100000images", 50, 100, 20},
		// One repository of 100,000 images: 100 DescribeImages pages one after the other,
		// which the stand-in must serve as fast as the rate lets the scanner ask.
		{"1rule-1repo-100000images", 1, 1, 100000},
	} {
		b.Run(size.name, func(b *testing.B) {
			s := startWith(b, simtest.Start(b, fmt.Sprintf(
				"generate: {rules: %d, repositoriesPerRule: %d, imagesPerRepository: %d}\nfaults: [{operation: \"*\", throttlePerSecond: %g}]\n",
				size.rules, size.repos, size.perRepo, rate)))
			cfg := s.cfg
			cfg.Rates = map[string]float64{"*": rate}
			cfg.Concurrency = 32
			acc := s.open(cfg)
			repos := size.rules * size.repos
			// The fewest calls: one page of each listing (1,000 a page), a DescribeImages
			// per 1,000 images and one GetLifecyclePolicy per repository.
			pages := repos * max(1, (size.perRepo+999)/1000)
			minimum := 4 + (repos+999)/1000 + pages + repos
			bound := time.Duration(float64(max(pages, repos)) / rate * float64(time.Second))

			b.ResetTimer()
			for range b.N {
				runtime.GC()
				var base runtime.MemStats
				runtime.ReadMemStats(&base)
				var peak atomic.Uint64
				stop := make(chan struct{})
				var wg sync.WaitGroup
				wg.Add(1)
				go func() {
					defer wg.Done()
					var m runtime.MemStats
					for {
						runtime.ReadMemStats(&m)
						if m.HeapInuse > peak.Load() {
							peak.Store(m.HeapInuse)
						}
						select {
						case <-stop:
							return
						case <-time.After(20 * time.Millisecond):
						}
					}
				}()
				start := time.Now()
				snap, err := acc.Scan(b.Context(), ecrops.Scope{}, nil)
				wall := time.Since(start)
				close(stop)
				wg.Wait()
				if err != nil {
					b.Fatal(err)
				}
				if len(snap.Errors) > 0 || snap.Stats.ImagesScanned != repos*size.perRepo {
					b.Fatalf("%d errors (%v), %d images", len(snap.Errors), snap.Errors, snap.Stats.ImagesScanned)
				}
				calls, throttled := 0, 0
				for _, n := range snap.Stats.Calls {
					calls += n
				}
				for _, n := range snap.Stats.Throttled {
					throttled += n
				}
				if calls > minimum {
					b.Logf("calls per operation: %v", snap.Stats.Calls)
				}
				b.ReportMetric(wall.Seconds()/bound.Seconds(), "x-bound")
				b.ReportMetric(float64(calls), "calls")
				b.ReportMetric(float64(calls-minimum), "calls-over-min")
				b.ReportMetric(float64(throttled), "throttled")
				b.ReportMetric(float64(snap.Stats.Retried), "retried")
				b.ReportMetric(float64(snap.Stats.FirstRules.Milliseconds()), "ms-to-rules")
				b.ReportMetric(float64(snap.Stats.FirstRepos.Milliseconds()), "ms-to-repos")
				b.ReportMetric(float64(peak.Load()-min(peak.Load(), base.HeapInuse))/(1<<20), "MB-peak-added")
			}
		})
	}
}
