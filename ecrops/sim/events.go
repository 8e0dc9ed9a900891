package sim

import (
	"sort"
	"sync"
	"time"
)

// Event is one call the stand-in answered, in the order it answered them.
type Event struct {
	Seq       int       `json:"seq"`
	Time      time.Time `json:"time"`
	Principal string    `json:"principal,omitempty"`
	Service   string    `json:"service"`
	Operation string    `json:"operation"`
	// Outcome is "ok" or the error code the caller got.
	Outcome   string `json:"outcome"`
	Status    int    `json:"status"`
	Write     bool   `json:"write"`
	RequestID string `json:"requestId,omitempty"`
	// Detail says more where the operation alone does not: the repository and reference
	// of a registry request, the upstream call a pull through made.
	Detail string `json:"detail,omitempty"`
}

// maxEvents bounds each log so that a long rehearsal or a benchmark cannot exhaust memory;
// the oldest events go first.
const maxEvents = 1 << 20

// minMemberEvents is the least an account-region of a fleet keeps (see NewFleet).
const minMemberEvents = 1 << 16

// eventLog is every call one account-region answered. Each request adds one event, so
// adding costs a lock and a copy: once full, the log is a ring whose oldest event the
// newest overwrites, not a slice shifted (and copied again whenever it regrows).
type eventLog struct {
	mu      sync.Mutex
	events  []Event // in order from start, wrapping around once the log is full
	start   int
	max     int // maxEvents unless a test says fewer
	dropped int
	next    int
}

func (l *eventLog) add(now time.Time, e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.next++
	e.Seq, e.Time = l.next, now
	limit := l.max
	if limit == 0 {
		limit = maxEvents
	}
	if len(l.events) < limit {
		l.events = append(l.events, e)
		return
	}
	l.events[l.start] = e
	l.start = (l.start + 1) % len(l.events)
	l.dropped++
}

// since returns the events after sequence number seq, oldest first.
func (l *eventLog) since(seq int) []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.events)
	at := func(i int) *Event { return &l.events[(l.start+i)%n] }
	// Sequence numbers grow along the log: the first one after seq is found by halving.
	first := sort.Search(n, func(i int) bool { return at(i).Seq > seq })
	if first == n {
		return nil
	}
	out := make([]Event, 0, n-first)
	for i := first; i < n; i++ {
		out = append(out, *at(i))
	}
	return out
}

func (l *eventLog) reset() {
	l.mu.Lock()
	l.events, l.start, l.dropped = nil, 0, 0
	l.mu.Unlock()
}
