package sim

import (
	"testing"
	"time"
)

func TestTheEventLogKeepsTheNewestInOrder(t *testing.T) {
	l := &eventLog{max: 3}
	seqs := func(since int) []int {
		var out []int
		for _, e := range l.since(since) {
			out = append(out, e.Seq)
		}
		return out
	}
	for range 2 {
		l.add(time.Now(), Event{Operation: "DescribeImages"})
	}
	if got := seqs(0); len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("before full: %v", got)
	}
	for range 5 {
		l.add(time.Now(), Event{Operation: "DescribeImages"})
	}
	if got := seqs(0); len(got) != 3 || got[0] != 5 || got[1] != 6 || got[2] != 7 {
		t.Fatalf("full, wrapped: %v, want [5 6 7]", got)
	}
	if got := seqs(5); len(got) != 2 || got[0] != 6 {
		t.Fatalf("since 5: %v, want [6 7]", got)
	}
	if got := seqs(7); got != nil {
		t.Fatalf("since the last: %v", got)
	}
	if l.dropped != 4 {
		t.Fatalf("dropped %d, want 4", l.dropped)
	}
	l.reset()
	l.add(time.Now(), Event{})
	if got := seqs(0); len(got) != 1 || got[0] != 8 {
		t.Fatalf("after a reset: %v, want [8] (sequence numbers go on)", got)
	}
}
