package bench

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/coda/codatest"
	"github.com/coalescent/coal/errs"
)

// sampleProfile is codatest.ProfileValue as a Go struct.
func sampleProfile() *Profile {
	nick := "Ada"
	return &Profile{
		ID:       1234567890123,
		Name:     "Ada Lovelace",
		Email:    "ada@analytical-engine.example",
		Age:      36,
		Verified: true,
		Birthday: Date{Day: 10, Month: 12, Year: 1815},
		Tags:     []string{"mathematics", "poetry", "engines", "notes", "bernoulli"},
		Scores:   map[string]int64{"algebra": 97, "analysis": 88, "geometry": -3, "logic": 1 << 40, "music": 12},
		Friends:  []uint64{1, 2, 3, 5, 8, 13, 21, 34},
		Kind:     Kind{},
		Nick:     &nick,
	}
}

// toValue is the dynamic coda.Value of p.
func toValue(p *Profile) coda.Value {
	tags := make([]coda.Value, len(p.Tags))
	for i, t := range p.Tags {
		tags[i] = coda.String(t)
	}
	var scores []coda.MapEntry
	for k, v := range p.Scores {
		scores = append(scores, coda.MapEntry{Key: coda.String(k), Value: coda.I64(v)})
	}
	friends := make([]coda.Value, len(p.Friends))
	for i, f := range p.Friends {
		friends[i] = coda.U64(f)
	}
	kind := coda.Enum(0)
	if p.Kind.Robot {
		kind = coda.Enum(1, coda.U32(p.Kind.Serial))
	}
	nick := coda.None()
	if p.Nick != nil {
		nick = coda.Some(coda.String(*p.Nick))
	}
	return coda.Struct(
		coda.U64(p.ID), coda.String(p.Name), coda.String(p.Email), coda.U32(p.Age), coda.Bool(p.Verified),
		coda.Struct(coda.U8(p.Birthday.Day), coda.U8(p.Birthday.Month), coda.U32(p.Birthday.Year)),
		coda.List(tags...), coda.Map(scores...), coda.List(friends...), kind, nick,
	)
}

func randomProfile(rng *rand.Rand) *Profile {
	str := func() string {
		const alphabet = "abcé☃\x00 z"
		rs := []rune(alphabet)
		n := rng.IntN(4) * rng.IntN(6)
		out := make([]rune, n)
		for i := range out {
			out[i] = rs[rng.IntN(len(rs))]
		}
		return string(out)
	}
	p := &Profile{
		ID: rng.Uint64(), Name: str(), Email: str(), Age: rng.Uint32(), Verified: rng.IntN(2) == 1,
		Birthday: Date{uint8(rng.Uint32()), uint8(rng.Uint32()), rng.Uint32()},
		Kind:     Kind{Robot: rng.IntN(2) == 1},
	}
	if p.Kind.Robot {
		p.Kind.Serial = rng.Uint32()
	}
	if n := rng.IntN(5); n > 0 {
		for range n {
			p.Tags = append(p.Tags, str())
		}
	}
	if n := rng.IntN(20); n > 0 {
		p.Scores = map[string]int64{}
		for range n {
			p.Scores[str()] = int64(rng.Uint64())
		}
	}
	if n := rng.IntN(5); n > 0 {
		for range n {
			p.Friends = append(p.Friends, rng.Uint64()>>rng.IntN(64))
		}
	}
	if rng.IntN(2) == 1 {
		s := str()
		p.Nick = &s
	}
	return p
}

func TestSampleIsCodatestProfile(t *testing.T) {
	if !coda.Equal(toValue(sampleProfile()), codatest.ProfileValue()) {
		t.Fatal("sampleProfile differs from codatest.ProfileValue")
	}
}

// TestProfileMatchesGeneric checks the hand-written codec against the
// generic one: the same bytes, and decoding gives the same value.
func TestProfileMatchesGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	profiles := []*Profile{sampleProfile(), {}}
	for range 500 {
		profiles = append(profiles, randomProfile(rng))
	}
	for i, p := range profiles {
		want, err := coda.AppendBody(nil, codatest.Profile, toValue(p))
		if err != nil {
			t.Fatalf("%d: AppendBody: %v", i, err)
		}
		got := p.AppendCODA(nil)
		if !bytes.Equal(got, want) {
			t.Fatalf("%d: AppendCODA =\n%x\nwant (AppendBody)\n%x", i, got, want)
		}
		if p.Size() != len(got) {
			t.Errorf("%d: Size() = %d, want %d", i, p.Size(), len(got))
		}
		var back Profile
		if err := back.DecodeCODA(got); err != nil {
			t.Fatalf("%d: DecodeCODA: %v", i, err)
		}
		if !reflect.DeepEqual(&back, p) {
			t.Fatalf("%d: DecodeCODA = %+v, want %+v", i, back, *p)
		}
		v, err := coda.DecodeBody(codatest.Profile, got, coda.DecodeOptions{})
		if err != nil {
			t.Fatalf("%d: DecodeBody: %v", i, err)
		}
		if !coda.Equal(toValue(&back), v) {
			t.Fatalf("%d: DecodeCODA and DecodeBody disagree", i)
		}
	}
}

// TestProfileRejectsWhatGenericRejects mutates encodings and checks that the
// hand-written decoder accepts exactly what the generic decoder accepts,
// with the same value.
func TestProfileRejectsWhatGenericRejects(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for i := range 3000 {
		b := randomProfile(rng).AppendCODA(nil)
		switch rng.IntN(4) {
		case 0:
			b[rng.IntN(len(b))] = byte(rng.Uint32())
		case 1:
			b = b[:rng.IntN(len(b))]
		case 2:
			b = append(b, byte(rng.Uint32()))
		case 3:
			at := rng.IntN(len(b))
			b = append(b[:at:at], append([]byte{0x80 | b[at]}, b[at:]...)...)
		}
		sameVerdict(t, i, b)
	}
}

func sameVerdict(t *testing.T, i int, b []byte) {
	t.Helper()
	var p Profile
	herr := p.DecodeCODA(b)
	v, gerr := coda.DecodeBody(codatest.Profile, b, coda.DecodeOptions{})
	if (herr == nil) != (gerr == nil) {
		t.Fatalf("%d: %x: DecodeCODA err = %v, DecodeBody err = %v", i, b, herr, gerr)
	}
	if herr != nil {
		if !errors.Is(herr, errs.Invalid) {
			t.Fatalf("%d: DecodeCODA error %v is not errs.Invalid", i, herr)
		}
		return
	}
	if !coda.Equal(toValue(&p), v) {
		t.Fatalf("%d: %x: DecodeCODA and DecodeBody disagree", i, b)
	}
}

// FuzzProfileDecode checks the hand-written decoder against the generic one
// on arbitrary bytes.
func FuzzProfileDecode(f *testing.F) {
	f.Add(sampleProfile().AppendCODA(nil))
	f.Add((&Profile{}).AppendCODA(nil))
	f.Fuzz(func(t *testing.T, b []byte) { sameVerdict(t, 0, b) })
}

func TestDateDecodeAllocatesNothing(t *testing.T) {
	b := (&Date{Day: 1, Month: 2, Year: 2024}).AppendCODA(nil)
	want, err := coda.AppendBody(nil, codatest.Date, coda.Struct(coda.U8(1), coda.U8(2), coda.U32(2024)))
	if err != nil || !bytes.Equal(b, want) {
		t.Fatalf("Date.AppendCODA = %x, want %x (%v)", b, want, err)
	}
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
