package coins

import (
	"encoding/binary"
	"io"
	"time"
)

// Standard slots: where coal's hosts (coal run, calls) attach the shipped
// devices.
const (
	ConsoleSlot = 1
	ClockSlot   = 2
	RandomSlot  = 3
)

// StandardDevices returns the device table coal's hosts use: a console on
// in and out in slot 1, a clock reading now in slot 2 and a random device
// seeded with seed in slot 3.
func StandardDevices(in io.Reader, out io.Writer, now time.Time, seed uint64) [Slots]Device {
	var d [Slots]Device
	d[ConsoleSlot] = NewConsole(in, out)
	d[ClockSlot] = NewClock(now)
	d[RandomSlot] = NewRandom(seed)
	return d
}

// Console is the console device: it writes the program's output to a
// writer and reads its input from a reader, both given by the host. It does
// no I/O of its own accord: only when the program sends it a command.
//
// Commands (out[0] of a SEND):
//
//	0x01 putc   write the byte out[1]
//	0x02 write  write out[2 : 2+out[1]] (out[1] ≤ 62)
//	0x03 read   read up to out[1] bytes (1..63; 0 means 63); the answer is
//	            in[0] = the count, in[1:1+count] = the bytes, the rest of
//	            in zero. A count below the request means end of input.
//
// A read returns fewer bytes than asked only at the end of input, never
// because of how the reader chunks its data, so a run with the same input
// bytes behaves the same. Before reading, Console flushes its writer if the
// writer has a Flush() error method, so prompts appear.
type Console struct {
	r io.Reader
	w io.Writer
}

// Console commands.
const (
	ConsolePutc  byte = 0x01
	ConsoleWrite byte = 0x02
	ConsoleRead  byte = 0x03
)

// NewConsole returns a console reading r and writing w. Either may be nil:
// a nil reader is empty, a nil writer discards.
func NewConsole(r io.Reader, w io.Writer) *Console { return &Console{r: r, w: w} }

var consoleID = nameID("coins.console")

// ID returns "coins.console", zero-padded.
func (c *Console) ID() [IDSize]byte { return consoleID }

// Send carries out one console command; errors from the writer or reader
// (other than end of input) stop the machine.
func (c *Console) Send(out, in *[BufferSize]byte, done bool) error {
	switch out[0] {
	case ConsolePutc:
		return c.write(out[1:2])
	case ConsoleWrite:
		return c.write(out[2 : 2+min(int(out[1]), BufferSize-2)])
	case ConsoleRead:
		n := int(out[1])
		if n == 0 || n > BufferSize-1 {
			n = BufferSize - 1
		}
		clear(in[:])
		if f, ok := c.w.(interface{ Flush() error }); ok {
			if err := f.Flush(); err != nil {
				return err
			}
		}
		if c.r == nil {
			return nil
		}
		got, err := io.ReadFull(c.r, in[1:1+n])
		in[0] = byte(got)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = nil
		}
		return err
	}
	return nil
}

func (c *Console) write(p []byte) error {
	if c.w == nil {
		return nil
	}
	_, err := c.w.Write(p)
	return err
}

// Clock is the clock device. It reports the time the host gave it, not
// the wall clock, so runs are replayable. Any SEND fills the input buffer:
//
//	in[0:8]   seconds since 1970-01-01 UTC (int64)
//	in[8:12]  nanoseconds within the second (uint32)
//	in[12:14] year, in[14] month 1-12, in[15] day 1-31,
//	in[16] hour, in[17] minute, in[18] second, in[19] weekday (0 = Sunday),
//	in[20:22] day of the year 1-366, all UTC; the rest zero.
type Clock struct {
	t time.Time
}

// NewClock returns a clock that always reads t.
func NewClock(t time.Time) *Clock { return &Clock{t: t.UTC()} }

var clockID = nameID("coins.clock")

// ID returns "coins.clock", zero-padded.
func (c *Clock) ID() [IDSize]byte { return clockID }

// Send answers with the time.
func (c *Clock) Send(out, in *[BufferSize]byte, done bool) error {
	t := c.t
	clear(in[:])
	binary.LittleEndian.PutUint64(in[0:], uint64(t.Unix()))
	binary.LittleEndian.PutUint32(in[8:], uint32(t.Nanosecond()))
	binary.LittleEndian.PutUint16(in[12:], uint16(t.Year()))
	in[14], in[15] = byte(t.Month()), byte(t.Day())
	in[16], in[17], in[18] = byte(t.Hour()), byte(t.Minute()), byte(t.Second())
	in[19] = byte(t.Weekday())
	binary.LittleEndian.PutUint16(in[20:], uint16(t.YearDay()))
	return nil
}

// Random is the random device: a SplitMix64 generator seeded by the host,
// so the same seed gives the same bytes. Any SEND fills the input buffer
// with the next eight 64-bit outputs, little-endian.
type Random struct {
	state uint64
}

// NewRandom returns a random device seeded with seed.
func NewRandom(seed uint64) *Random { return &Random{state: seed} }

var randomID = nameID("coins.random")

// ID returns "coins.random", zero-padded.
func (r *Random) ID() [IDSize]byte { return randomID }

// Send fills in with 64 fresh bytes.
func (r *Random) Send(out, in *[BufferSize]byte, done bool) error {
	for i := 0; i < BufferSize; i += 8 {
		binary.LittleEndian.PutUint64(in[i:], r.next())
	}
	return nil
}

// next is SplitMix64 (Steele, Lea and Flood 2014).
func (r *Random) next() uint64 {
	r.state += 0x9E3779B97F4A7C15
	z := r.state
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}
