package diagnose

import (
	"context"
	"sync"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// blockingProber holds the first upstream probe until the same question is asked again,
// either of it (a second probe: what the memo must not make) or of the memo (a waiter).
type blockingProber struct {
	mu      sync.Mutex
	calls   int
	again   chan struct{}
	waiting chan struct{}
}

func (b *blockingProber) ProbeUpstream(_ context.Context, _ model.Rule, ref string) model.UpstreamProbe {
	b.mu.Lock()
	b.calls++
	first := b.calls == 1
	b.mu.Unlock()
	if first {
		select {
		case <-b.again:
		case <-b.waiting:
		}
	} else {
		close(b.again)
	}
	return model.UpstreamProbe{Reference: ref, Exists: true, Status: 200}
}
func (b *blockingProber) ProbeCache(context.Context, string, string) model.CacheProbe {
	return model.CacheProbe{}
}
func (b *blockingProber) ProbePermissions(context.Context, string, string, string, []string) model.PermissionProbe {
	return model.PermissionProbe{}
}

// A question asked while the same one is in flight waits for its answer: the upstream
// is probed once, not once per rule that asked at the same moment.
func TestTheSameQuestionInFlightIsAskedOnce(t *testing.T) {
	p := &blockingProber{again: make(chan struct{}), waiting: make(chan struct{})}
	var once sync.Once
	testHookWaiting = func() { once.Do(func() { close(p.waiting) }) }
	t.Cleanup(func() { testHookWaiting = nil })
	m := newMemo(p)
	var wg sync.WaitGroup
	answers := make([]model.UpstreamProbe, 2)
	for i, rule := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = m.Upstream(context.Background(), model.Rule{Prefix: rule}, "public.ecr.aws/team/app:v1")
		}()
	}
	wg.Wait()
	if p.calls != 1 || !answers[0].Exists || !answers[1].Exists {
		t.Fatalf("%d probes for one question asked twice at once, want 1; answers %+v", p.calls, answers)
	}
}
