package sim

import (
	"sync/atomic"
	"time"
)

// Clock is the stand-in's time: real time plus an offset that tests and the admin
// endpoint move forward, so that 24-hour windows pass without waiting. Every request of
// every account-region of a fleet reads it, several times: the offset is an atomic, not
// a lock they would all queue on.
type Clock struct {
	offset atomic.Int64  // nanoseconds
	start  time.Duration // the offset it started with, which Rewind restores
}

func NewClock(start time.Time) *Clock {
	c := &Clock{start: start.Sub(time.Now())}
	c.offset.Store(int64(c.start))
	return c
}

// Rewind takes back every Advance: the clock reads real time again as it did at the start.
func (c *Clock) Rewind() { c.offset.Store(int64(c.start)) }

func (c *Clock) Now() time.Time {
	return time.Now().Add(time.Duration(c.offset.Load())).UTC()
}

// Advance moves the clock forward by d (never backward).
func (c *Clock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.offset.Add(int64(d))
}
