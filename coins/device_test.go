package coins

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// echoSrc copies console input to output a byte at a time.
const echoSrc = `
loop:
	LIT16 0x0103 LIT8 0 LIT8 0xC0 LIT8 1 DVW16 ( read 1 byte )
	LIT8 0 LIT8 1 DVR16 ( count byte )
	SWP8 LIT8 0 EQU8 LIT8 &end JCR8
	LIT8 1 SWP8 LIT8 0 LIT8 0xC0 LIT8 1 DVW16 ( putc )
	LIT8 &loop JPR8
end:
	DRD HALT`

func TestConsole(t *testing.T) {
	in := strings.Repeat("hello, world\n", 10)
	var out bytes.Buffer
	m := newMachine(t, echoSrc, Options{Devices: StandardDevices(strings.NewReader(in), &out, time.Time{}, 0)})
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	if out.String() != in {
		t.Errorf("echo wrote %q, want %q", out.String(), in)
	}

	out.Reset()
	// write: out[0] = 2, out[1] = 5, out[2:7] = "hello".
	m = newMachine(t, `
		LIT64 0x6c6c65680502 LIT8 0 LIT8 0 LIT8 1 DVW64
		LIT8 0x6f LIT8 6 LIT8 0xC0 LIT8 1 DVW8`, Options{Devices: StandardDevices(nil, &out, time.Time{}, 0)})
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	if out.String() != "hello" {
		t.Errorf("write wrote %q, want %q", out.String(), "hello")
	}

	// A read of 63 bytes returns what there is and says how much.
	m = newMachine(t, `LIT16 0x0003 LIT8 0 LIT8 0xC0 LIT8 1 DVW16 LIT8 0 LIT8 1 DVR32`,
		Options{Devices: StandardDevices(strings.NewReader("abc"), nil, time.Time{}, 0)})
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	if got, want := m.DataStack(), []byte{3, 'a', 'b', 'c'}; !bytes.Equal(got, want) {
		t.Errorf("read: stack % x, want % x", got, want)
	}
}

type failDevice struct{}

func (failDevice) ID() [IDSize]byte                                { return nameID("fail") }
func (failDevice) Send(out, in *[BufferSize]byte, done bool) error { return errors.New("broken") }

func TestDeviceError(t *testing.T) {
	var devs [Slots]Device
	devs[4] = failDevice{}
	m := newMachine(t, `NOP LIT8 0 LIT8 0 LIT8 0x80 LIT8 4 DVW8`, Options{Devices: devs})
	err := m.Run()
	var f *Fault
	if !errors.As(err, &f) || f.Reason != DeviceError || f.PC != 9 || f.Err == nil {
		t.Fatalf("Run() = %v, want a device error at pc 9", err)
	}
	if want := "fault: device error at pc=0x0009 op=0x94 (DVW8): broken"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestSystemDevice(t *testing.T) {
	var debug bytes.Buffer
	m := newMachine(t, `
		LIT32 0x21690203 LIT8 0 LIT8 0xC0 LIT8 0 DVW32 ( print "i!" )
		LIT16 0x0701 LIT8 0 LIT8 0xC0 LIT8 0 DVW16 ( exit code 7 )
		LIT8 0 LIT8 0 DVR8 ( read it back )
		LIT16 0x0902 LIT8 0 LIT8 0xC0 LIT8 0 DVW16 ( exit 9 )
		LIT8 0xEE`, Options{Debug: &debug})
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	if !m.Halted() || m.ExitCode() != 9 || m.Steps() != 18 {
		t.Errorf("halted %v, exit code %d, steps %d; want true, 9, 18", m.Halted(), m.ExitCode(), m.Steps())
	}
	if got := m.DataStack(); !bytes.Equal(got, []byte{7}) {
		t.Errorf("stack % x, want 07", got)
	}
	if debug.String() != "i!" {
		t.Errorf("debug output %q, want %q", debug.String(), "i!")
	}
	// The query answer.
	var devs [Slots]Device
	devs[3] = NewRandom(1)
	m = newMachine(t, `LIT8 0 LIT8 0 LIT8 0x80 LIT8 0 DVW8`, Options{Devices: devs, MaxSteps: 1000, MaxMemory: 8192})
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	in := m.slots[0].in
	if mask := binary.LittleEndian.Uint16(in[1:]); mask != 1|1<<3 {
		t.Errorf("slot mask %#x, want %#x", mask, 1|1<<3)
	}
	if steps, limit, mem := binary.LittleEndian.Uint64(in[3:]), binary.LittleEndian.Uint64(in[11:]), binary.LittleEndian.Uint64(in[27:]); steps != 5 || limit != 1000 || mem != 8192 {
		t.Errorf("steps %d, limit %d, memory limit %d; want 5, 1000, 8192", steps, limit, mem)
	}
}

func TestDevicePoll(t *testing.T) {
	m := newMachine(t, `LIT16 0x100 LIT8 1 DVP16 LIT8 0x40 LIT8 2 DVP8`,
		Options{Devices: StandardDevices(nil, nil, time.Time{}, 0)})
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[uint32]string{0x100: "coins.console", 0x40: "coins.clock"} {
		got := make([]byte, IDSize)
		m.ReadMemory(addr, got)
		if w := nameID(want); !bytes.Equal(got, w[:]) {
			t.Errorf("id at %#x = %q, want %q", addr, got, want)
		}
	}
}

func TestClockAndRandom(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 34, 56, 789, time.UTC)
	src := `LIT8 0 LIT8 0 LIT8 0x80 LIT8 2 DVW8 LIT8 0 LIT8 2 DVR64 LIT8 12 LIT8 2 DVR16
		LIT8 0 LIT8 0 LIT8 0x80 LIT8 3 DVW8 LIT8 0 LIT8 3 DVR64`
	var first []byte
	for run := range 2 {
		m := newMachine(t, src, Options{Devices: StandardDevices(nil, nil, now, 0)})
		if err := m.Run(); err != nil {
			t.Fatal(err)
		}
		st := m.DataStack()
		if secs := binary.LittleEndian.Uint64(st); secs != uint64(now.Unix()) {
			t.Errorf("clock seconds %d, want %d", secs, now.Unix())
		}
		if year := binary.LittleEndian.Uint16(st[8:]); year != 2026 {
			t.Errorf("clock year %d, want 2026", year)
		}
		// SplitMix64 from seed 0: the first output is 0xe220a8397b1dcdaf.
		if r := binary.LittleEndian.Uint64(st[10:]); r != 0xe220a8397b1dcdaf {
			t.Errorf("random %#x, want 0xe220a8397b1dcdaf", r)
		}
		if run == 1 && !bytes.Equal(first, st) {
			t.Errorf("second run % x, first % x", st, first)
		}
		first = st
	}
}

// blockDevice is a DMA device holding one block of bytes: DMA reads give
// it to the program, DMA writes replace it.
type blockDevice struct {
	data        []byte
	err         error
	controllers []int // the controllers of the requests, in order
}

func (d *blockDevice) ID() [IDSize]byte                                { return nameID("test.block") }
func (d *blockDevice) Send(out, in *[BufferSize]byte, done bool) error { return nil }
func (d *blockDevice) Transfer(r DMARequest) (uint32, error) {
	d.controllers = append(d.controllers, r.Controller)
	w := r.Window
	if d.err != nil {
		return 0, d.err
	}
	if r.Write {
		d.data = make([]byte, w.Len())
		n, err := w.ReadAt(d.data, 0)
		return uint32(n), err
	}
	n, err := w.WriteAt(d.data, 0)
	if errors.Is(err, ErrMemoryLimit) {
		return 0, err
	}
	return uint32(n), nil
}

func TestDMA(t *testing.T) {
	dev := &blockDevice{data: []byte("a CODA value")}
	var devs [Slots]Device
	devs[5] = dev
	devs[6] = NewClock(time.Time{})
	m := newMachine(t, `
		LIT32 100 LIT32 0x2000 LIT8 0x85 LIT8 1 DMW32 ( read up to 100 bytes from slot 5 )
		LIT8 0x20 LIT8 1 DMP ( done? )
		LIT8 1 DMR ( len addr )
		LIT16 5 LIT16 0x2002 LIT8 0xC5 LIT8 2 DMW16 ( write 5 bytes at 0x2002 to slot 5 )
		LIT8 0x10 LIT8 2 DMP ( error? )
		LIT8 1 LIT8 1 LIT8 0x86 LIT8 3 DMW8 ( slot 6 cannot DMA )
		LIT8 0x10 LIT8 3 DMP LIT8 3 DMR`, Options{Devices: devs})
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	want := cat(b(0xFF), u(4, 12), u(4, 0x2000), b(0), b(0xFF), u(4, 0), u(4, 1))
	if got := m.DataStack(); !bytes.Equal(got, want) {
		t.Errorf("stack % x, want % x", got, want)
	}
	got := make([]byte, 12)
	m.ReadMemory(0x2000, got)
	if string(got) != "a CODA value" {
		t.Errorf("data RAM %q, want %q", got, "a CODA value")
	}
	if string(dev.data) != "CODA " {
		t.Errorf("device got %q, want %q", dev.data, "CODA ")
	}
	if fmt.Sprint(dev.controllers) != "[1 2]" {
		t.Errorf("requests on controllers %v, want [1 2]", dev.controllers)
	}

	// A device error sets ERROR and the program goes on.
	dev.err = errors.New("no such path")
	m = newMachine(t, `LIT8 1 LIT8 0 LIT8 0x85 LIT8 0 DMW8 LIT8 0xFF LIT8 0 DMP`, Options{Devices: devs})
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	if m.dma[0].status != DMAError|5 {
		t.Errorf("status %#x, want %#x", m.dma[0].status, DMAError|5)
	}

	// A device writing past the memory limit faults the DMW.
	dev.err, dev.data = nil, make([]byte, 3*PageSize)
	m = newMachine(t, `LIT32 0x10000 LIT32 0 LIT8 0x85 LIT8 0 DMW32`, Options{Devices: devs, MaxMemory: 2 * PageSize})
	var f *Fault
	if err := m.Run(); !errors.As(err, &f) || f.Reason != MemoryLimit || f.PC != 14 {
		t.Fatalf("Run() = %v, want a memory limit fault at pc 14", err)
	}
}

func TestInterrupts(t *testing.T) {
	dev := &blockDevice{data: []byte("x")}
	var devs [Slots]Device
	devs[5] = dev
	// The handler for slot 5 pushes 0xAA and returns; the main program
	// sets the vector, blocks, starts a DMA, pushes 1, unblocks, pushes 2.
	m := newMachine(t, `
		LIT16 @handler LIT8 5 DVV
		LIT8 0 LIT8 0 LIT8 0x20 LIT8 5 DVW8 ( BLOCK )
		LIT8 1 LIT8 0 LIT8 0x85 LIT8 0 DMW8
		LIT8 1
		LIT8 0 LIT8 0 LIT8 0 LIT8 5 DVW8 ( unblock: the interrupt comes now )
		LIT8 2 HALT
	handler:
		LIT8 0xAA RTN`, Options{Devices: devs})
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	if got, want := m.DataStack(), []byte{1, 0xAA, 2}; !bytes.Equal(got, want) {
		t.Errorf("stack % x, want % x", got, want)
	}

	// The host raises interrupts between steps; lowest slot runs first.
	m = newMachine(t, `
		LIT16 @h4 LIT8 4 DVV LIT16 @h9 LIT8 9 DVV LIT8 1 HALT
	h4: LIT8 4 RTN
	h9: LIT8 9 RTN`, Options{})
	for range 6 {
		if err := m.Step(); err != nil {
			t.Fatal(err)
		}
	}
	m.Interrupt(9)
	m.Interrupt(4)
	m.Interrupt(3) // no vector: ignored
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	if got, want := m.DataStack(), []byte{4, 9, 1}; !bytes.Equal(got, want) {
		t.Errorf("stack % x, want % x", got, want)
	}
	if err := m.Interrupt(16); err == nil {
		t.Errorf("Interrupt(16) = nil, want an error")
	}
}
