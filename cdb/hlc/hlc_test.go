package hlc

import (
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	wall := time.UnixMilli(1000)
	c := New(func() time.Time { return wall }, 0)
	tests := []struct {
		name    string
		step    func() Time
		ms      int64
		logical uint16
	}{
		{"wall", c.Now, 1000, 0},
		{"same ms", c.Now, 1000, 1},
		{"again", c.Now, 1000, 2},
		{"wall moves on", func() Time { wall = time.UnixMilli(1005); return c.Now() }, 1005, 0},
		{"wall goes back", func() Time { wall = time.UnixMilli(900); return c.Now() }, 1005, 1},
		{"after a parent ahead", func() Time { return c.After(Time(2000<<LogicalBits | 7)) }, 2000, 8},
		{"observe", func() Time { c.Observe(Time(3000 << LogicalBits)); return c.Now() }, 3000, 1},
	}
	var last Time
	for _, tt := range tests {
		got := tt.step()
		if got.Millis() != tt.ms || got.Logical() != tt.logical {
			t.Errorf("%s: %d+%d, want %d+%d", tt.name, got.Millis(), got.Logical(), tt.ms, tt.logical)
		}
		if got <= last {
			t.Errorf("%s: %v not after %v", tt.name, got, last)
		}
		last = got
	}
	// A restart from the persisted last time never goes back.
	r := New(func() time.Time { return time.UnixMilli(0) }, c.Last())
	if got := r.Now(); got <= last {
		t.Errorf("after restart: %v not after %v", got, last)
	}
	if !c.Ahead(Time(5000<<LogicalBits), time.Second) || c.Ahead(Time(1500<<LogicalBits), time.Second) {
		t.Error("Ahead")
	}
	if s := Time(1000<<LogicalBits | 3).String(); s != "1970-01-01T00:00:01.000Z+3" {
		t.Errorf("String = %q", s)
	}
}
