package coda

import (
	"errors"
	"testing"

	"github.com/coalescent/coal/errs"
)

func TestIDTextRoundTrip(t *testing.T) {
	id := Sum([]byte("hello"))
	s := id.String()
	if len(s) != IDTextLen {
		t.Fatalf("len(String()) = %d, want %d", len(s), IDTextLen)
	}
	got, err := ParseID(s)
	if err != nil || got != id {
		t.Fatalf("ParseID(%q) = %v, %v; want %v", s, got, err, id)
	}
	if !id.HasPrefix(s[:5]) {
		t.Fatalf("HasPrefix(%q) = false", s[:5])
	}
}

func TestParseIDRejects(t *testing.T) {
	good := Sum(nil).String()
	bad := []string{"", "abc", good + "a", good[:51] + "1", good[:51] + "b"}
	for _, s := range bad {
		if _, err := ParseID(s); !errors.Is(err, errs.Invalid) {
			t.Errorf("ParseID(%q) err = %v, want Invalid", s, err)
		}
	}
}

// The BLAKE3 test vector for the empty input pins the hash function.
func TestSumEmptyVector(t *testing.T) {
	const want = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
	got := Sum(nil)
	const hexdigits = "0123456789abcdef"
	var b []byte
	for _, c := range got {
		b = append(b, hexdigits[c>>4], hexdigits[c&15])
	}
	if string(b) != want {
		t.Fatalf("Sum(nil) = %s, want %s", b, want)
	}
}
