package coda

import (
	"errors"
	"testing"

	"github.com/coalescent/coal/errs"
)

func TestUvarintRoundTrip(t *testing.T) {
	for _, x := range []uint64{0, 1, 127, 128, 255, 300, 16383, 16384, 1<<32 - 1, 1<<63 - 1, 1<<64 - 1} {
		b := AppendUvarint(nil, x)
		if len(b) != UvarintLen(x) {
			t.Errorf("UvarintLen(%d) = %d, want %d", x, UvarintLen(x), len(b))
		}
		r := NewReader(b)
		got, err := r.Uvarint()
		if err != nil || got != x || r.Remaining() != 0 {
			t.Errorf("Uvarint(%x) = %d, %v (rem %d); want %d", b, got, err, r.Remaining(), x)
		}
	}
}

func TestUvarintRejectsNonCanonical(t *testing.T) {
	bad := [][]byte{
		{},           // empty
		{0x80},       // truncated
		{0x80, 0x00}, // non-minimal zero
		{0xff, 0x00}, // non-minimal 127
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, // overflow
		{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01},
	}
	for _, b := range bad {
		r := NewReader(b)
		if _, err := r.Uvarint(); !errors.Is(err, errs.Invalid) {
			t.Errorf("Uvarint(%x) err = %v, want Invalid", b, err)
		}
	}
}

func TestBoolRejectsNonCanonical(t *testing.T) {
	for b := 0; b < 256; b++ {
		_, err := NewReader([]byte{byte(b)}).Bool()
		if ok := err == nil; ok != (b == 0 || b == 0xff) {
			t.Errorf("Bool(0x%02x) err = %v", b, err)
		}
	}
}
