package sim

import (
	"sync"
	"time"
)

// Clock is the stand-in's time: real time plus an offset that tests and the admin
// endpoint move forward, so that 24-hour windows pass without waiting.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
	start  time.Duration // the offset it started with, which Rewind restores
	real   func() time.Time
}

func NewClock(start time.Time) *Clock {
	skew := start.Sub(time.Now())
	return &Clock{offset: skew, start: skew, real: time.Now}
}

// Rewind takes back every Advance: the clock reads real time again as it did at the start.
func (c *Clock) Rewind() {
	c.mu.Lock()
	c.offset = c.start
	c.mu.Unlock()
}

func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.real().Add(c.offset).UTC()
}

// Advance moves the clock forward by d (never backward).
func (c *Clock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}
