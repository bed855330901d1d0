// Package hlc is coal's hybrid logical clock (docs/cdb.md, "Clock"): a time
// is 48 bits of Unix milliseconds ‖ 16 logical bits, so times order like
// wall-clock time when clocks agree and still strictly increase when they
// don't.
package hlc

import (
	"fmt"
	"sync"
	"time"
)

// Time is a hybrid logical time: Unix milliseconds << 16 | logical counter.
type Time uint64

// LogicalBits is the width of the logical counter.
const LogicalBits = 16

// FromWall returns the time of the wall-clock instant t with logical 0.
func FromWall(t time.Time) Time {
	ms := t.UnixMilli()
	if ms < 0 {
		ms = 0
	}
	return Time(uint64(ms) << LogicalBits)
}

// Millis returns the milliseconds part of t.
func (t Time) Millis() int64 { return int64(t >> LogicalBits) }

// Logical returns the logical counter of t.
func (t Time) Logical() uint16 { return uint16(t) }

// Wall returns the wall-clock instant of t's milliseconds, in UTC.
func (t Time) Wall() time.Time { return time.UnixMilli(t.Millis()).UTC() }

// String formats t as RFC 3339 with milliseconds, plus "+N" for a nonzero
// logical counter.
func (t Time) String() string {
	s := t.Wall().Format("2006-01-02T15:04:05.000Z07:00")
	if l := t.Logical(); l != 0 {
		s += fmt.Sprintf("+%d", l)
	}
	return s
}

// Clock issues strictly increasing times. It is safe for concurrent use.
// The zero Clock reads time.Now and starts at 0.
type Clock struct {
	mu   sync.Mutex
	wall func() time.Time
	last Time
}

// New returns a clock reading wall (nil: time.Now) that never issues a time
// at or below last (the persisted last time of a previous run).
func New(wall func() time.Time, last Time) *Clock {
	return &Clock{wall: wall, last: last}
}

func (c *Clock) now() time.Time {
	if c.wall == nil {
		return time.Now()
	}
	return c.wall()
}

// Wall returns the wall-clock time as a Time (logical 0), without
// advancing the clock.
func (c *Clock) Wall() Time { return FromWall(c.now()) }

// Now returns a new time: max(wall, last+1), and after every time given to
// Observe.
func (c *Clock) Now() Time {
	w := c.Wall()
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.last + 1
	if w > t {
		t = w
	}
	c.last = t
	return t
}

// After returns a new time greater than every time in ts and every time the
// clock has issued or observed.
func (c *Clock) After(ts ...Time) Time {
	for _, t := range ts {
		c.Observe(t)
	}
	return c.Now()
}

// Observe records a time seen elsewhere (a received commit): later times
// are greater than it.
func (c *Clock) Observe(t Time) {
	c.mu.Lock()
	if t > c.last {
		c.last = t
	}
	c.mu.Unlock()
}

// Last returns the greatest time issued or observed.
func (c *Clock) Last() Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// Ahead reports whether t is ahead of the wall clock by more than skew: a
// commit with such a time is held, not applied (docs/cdb.md).
func (c *Clock) Ahead(t Time, skew time.Duration) bool {
	return t > FromWall(c.now().Add(skew))
}
