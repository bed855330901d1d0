package bench

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"testing"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

func sampleUser() *User {
	return &User{
		ID:       1 << 40,
		Name:     "Ada Lovelace",
		Email:    "ada@analytical.engine",
		Age:      36,
		Balance:  -1234567,
		Birthday: Date{Day: 10, Month: 12, Year: 1815},
		Tags:     []string{"math", "poetry", "engines", "notes"},
		Scores:   map[string]int64{"analysis": 98, "chess": -3, "bernoulli": 1 << 50},
	}
}

// sampleUserHex is the canonical body of sampleUser, annotated.
const sampleUserHex = "" +
	"0000000000010000" + // id 1<<40
	"0c" + "416461204c6f76656c616365" + // name
	"15" + "61646140616e616c79746963616c2e656e67696e65" + // email
	"24000000" + // age 36
	"7929edffffffffff" + // balance -1234567
	"0a0c17070000" + // birthday 10.12.1815
	"04" + "046d617468" + "06706f65747279" + "07656e67696e6573" + "056e6f746573" + // tags
	"03" + "08616e616c79736973" + "6200000000000000" + // scores: analysis 98
	"09626572" + "6e6f756c6c69" + "0000000000000400" + // bernoulli 1<<50
	"056368657373" + "fdffffffffffffff" // chess -3

func TestUserGolden(t *testing.T) {
	want, err := hex.DecodeString(sampleUserHex)
	if err != nil {
		t.Fatal(err)
	}
	u := sampleUser()
	got := u.AppendCODA(nil)
	if !bytes.Equal(got, want) {
		t.Fatalf("AppendCODA =\n%x\nwant\n%x", got, want)
	}
	if len(got) != u.Size() {
		t.Errorf("Size() = %d, want %d", u.Size(), len(got))
	}
	var back User
	if err := back.DecodeCODA(got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, u) {
		t.Errorf("DecodeCODA = %+v, want %+v", back, *u)
	}
}

func TestUserEmpty(t *testing.T) {
	var u User
	b := u.AppendCODA(nil)
	var back User
	if err := back.DecodeCODA(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, u) {
		t.Errorf("DecodeCODA = %+v, want %+v", back, u)
	}
}

func TestUserRejectsNonCanonical(t *testing.T) {
	good := sampleUser().AppendCODA(nil)
	// Offsets: name length at 8, tags count at 8+1+12+1+21+4+8+6 = 61.
	const scoresAt = 61 + 1 + 5 + 7 + 8 + 6
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name string
		b    []byte
	}{
		{"trailing", append(bytes.Clone(good), 0)},
		{"truncated", good[:len(good)-1]},
		{"empty", nil},
		{"non-minimal length", mutate(func(b []byte) []byte {
			return append(append(b[:8:8], 0x8c, 0x00), b[9:]...)
		})},
		{"invalid UTF-8", mutate(func(b []byte) []byte { b[9] = 0xff; return b })},
		{"huge tag count", mutate(func(b []byte) []byte { b[61] = 0x7f; return b })},
		{"keys out of order", mutate(func(b []byte) []byte {
			copy(b[scoresAt+1:], "\x08bnalysis") // "bnalysis" > "bernoulli"
			return b
		})},
	}
	for _, tt := range tests {
		var u User
		err := u.DecodeCODA(tt.b)
		if !errors.Is(err, errs.Invalid) {
			t.Errorf("%s: DecodeCODA(%x) = %v, want an errs.Invalid error", tt.name, tt.b, err)
		}
	}
}

func TestDateDecodeAllocatesNothing(t *testing.T) {
	b := (&Date{Day: 1, Month: 2, Year: 2024}).AppendCODA(nil)
	var d Date
	allocs := testing.AllocsPerRun(1000, func() {
		if err := d.DecodeCODA(b); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Date.DecodeCODA allocates %v times per run, want 0", allocs)
	}
	if d != (Date{1, 2, 2024}) {
		t.Errorf("Date.DecodeCODA = %+v", d)
	}
	if err := d.DecodeCODA(b[:5]); !errors.Is(err, errs.Invalid) {
		t.Errorf("short Date: err = %v", err)
	}
	if err := d.DecodeCODA(append(b, 0)); !errors.Is(err, errs.Invalid) {
		t.Errorf("long Date: err = %v", err)
	}
}

var _ = coda.DefaultMaxElems
