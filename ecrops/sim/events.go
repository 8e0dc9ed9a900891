package sim

import (
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

// maxEvents bounds the log so that a long rehearsal or a benchmark cannot exhaust memory;
// the oldest events go first.
const maxEvents = 1 << 20

type eventLog struct {
	mu      sync.Mutex
	events  []Event
	dropped int
	next    int
}

func (l *eventLog) add(now time.Time, e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.next++
	e.Seq, e.Time = l.next, now
	if len(l.events) == maxEvents {
		l.events = l.events[1:]
		l.dropped++
	}
	l.events = append(l.events, e)
}

func (l *eventLog) since(seq int) []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Event
	for _, e := range l.events {
		if e.Seq > seq {
			out = append(out, e)
		}
	}
	return out
}

func (l *eventLog) reset() {
	l.mu.Lock()
	l.events, l.dropped = nil, 0
	l.mu.Unlock()
}
