// Package bench holds a hand-written CODA codec for a representative Go
// struct, checked against package coda's generic codec, and the benchmarks
// comparing it with the dynamic coda API, protobuf-go and encoding/json
// (docs/perf.md, "CODA"). It is a separate package so that the protobuf
// dependency stays out of package coda.
//
// The hand-written codec is the pattern for coal's own types (commits,
// directory entries, …): AppendCODA appends the canonical body with coda's
// primitives; DecodeCODA reads it back with a coda.Reader and rejects every
// non-canonical form the generic decoder rejects.
package bench

// The schemas (codatest.Profile and its Date and Kind):
//
//	schema Date { day: u8  month: u8  year: u32 }
//	enum Kind { Human  Robot(u32) }
//	schema Profile {
//	  id: u64  name: string  email: string  age: u32  verified: bool
//	  birthday: Date  tags: list<string>  scores: map<string, i64>
//	  friends: list<u64>  kind: Kind  nick: optional<string>
//	}
//
// Body of a Profile (docs/coda.md §2):
//
//	id        8 bytes LE
//	name      uvarint(len) ‖ UTF-8
//	email     uvarint(len) ‖ UTF-8
//	age       4 bytes LE
//	verified  00 | FF
//	birthday  day (1) ‖ month (1) ‖ year (4 LE)
//	tags      uvarint(count) ‖ (uvarint(len) ‖ UTF-8)*
//	scores    uvarint(count) ‖ (uvarint(len) ‖ UTF-8 ‖ i64 LE)*, keys strictly increasing
//	friends   uvarint(count) ‖ (8 bytes LE)*
//	kind      00 (Human) | 01 ‖ u32 LE (Robot)
//	nick      00 | 01 ‖ uvarint(len) ‖ UTF-8

import (
	"encoding/binary"
	"slices"
	"unicode/utf8"

	"github.com/coalescent/coal/coda"
)

// Date is a fixed-size struct: its body is always DateSize bytes.
type Date struct {
	Day   uint8  `json:"day"`
	Month uint8  `json:"month"`
	Year  uint32 `json:"year"`
}

// DateSize is the size of a Date's body.
const DateSize = 6

// AppendCODA appends d's canonical body.
func (d *Date) AppendCODA(dst []byte) []byte {
	dst = append(dst, d.Day, d.Month)
	return binary.LittleEndian.AppendUint32(dst, d.Year)
}

// DecodeCODA sets d from exactly one canonical Date body. It allocates
// nothing.
func (d *Date) DecodeCODA(b []byte) error {
	r := coda.NewReader(b)
	if err := d.read(r); err != nil {
		return err
	}
	return r.End()
}

func (d *Date) read(r *coda.Reader) error {
	b, err := r.Take(DateSize)
	if err != nil {
		return err
	}
	d.Day, d.Month, d.Year = b[0], b[1], binary.LittleEndian.Uint32(b[2:])
	return nil
}

// Kind is the enum Kind { Human  Robot(u32) }: Robot false is Human.
type Kind struct {
	Robot  bool   `json:"robot"`
	Serial uint32 `json:"serial"` // Robot's payload; zero for Human
}

// Profile is a representative record: strings, integers, a bool, a nested
// fixed-size struct, lists, a map, an enum and an optional.
type Profile struct {
	ID       uint64           `json:"id"`
	Name     string           `json:"name"`
	Email    string           `json:"email"`
	Age      uint32           `json:"age"`
	Verified bool             `json:"verified"`
	Birthday Date             `json:"birthday"`
	Tags     []string         `json:"tags"`
	Scores   map[string]int64 `json:"scores"`
	Friends  []uint64         `json:"friends"`
	Kind     Kind             `json:"kind"`
	Nick     *string          `json:"nick"`
}

func strLen(s string) int { return coda.UvarintLen(uint64(len(s))) + len(s) }

// Size returns the length of p's body.
func (p *Profile) Size() int {
	n := 8 + strLen(p.Name) + strLen(p.Email) + 4 + 1 + DateSize +
		coda.UvarintLen(uint64(len(p.Tags))) + coda.UvarintLen(uint64(len(p.Scores))) +
		coda.UvarintLen(uint64(len(p.Friends))) + 8*len(p.Friends) + 1 + 1
	for _, t := range p.Tags {
		n += strLen(t)
	}
	for k := range p.Scores {
		n += strLen(k) + 8
	}
	if p.Kind.Robot {
		n += 4
	}
	if p.Nick != nil {
		n += strLen(*p.Nick)
	}
	return n
}

// AppendCODA appends p's canonical body. Strings must be valid UTF-8: the
// generic encoder checks that, this one leaves it to the decoder.
func (p *Profile) AppendCODA(dst []byte) []byte {
	dst = slices.Grow(dst, p.Size())
	dst = binary.LittleEndian.AppendUint64(dst, p.ID)
	dst = coda.AppendString(dst, p.Name)
	dst = coda.AppendString(dst, p.Email)
	dst = binary.LittleEndian.AppendUint32(dst, p.Age)
	dst = coda.AppendBool(dst, p.Verified)
	dst = p.Birthday.AppendCODA(dst)
	dst = coda.AppendUvarint(dst, uint64(len(p.Tags)))
	for _, t := range p.Tags {
		dst = coda.AppendString(dst, t)
	}
	// Map keys in canonical (bytewise) order; small maps sort on the stack.
	var buf [16]string
	keys := buf[:0]
	for k := range p.Scores {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = coda.AppendUvarint(dst, uint64(len(keys)))
	for _, k := range keys {
		dst = coda.AppendString(dst, k)
		dst = binary.LittleEndian.AppendUint64(dst, uint64(p.Scores[k]))
	}
	dst = coda.AppendUvarint(dst, uint64(len(p.Friends)))
	for _, f := range p.Friends {
		dst = binary.LittleEndian.AppendUint64(dst, f)
	}
	if p.Kind.Robot {
		dst = append(dst, 1)
		dst = binary.LittleEndian.AppendUint32(dst, p.Kind.Serial)
	} else {
		dst = append(dst, 0)
	}
	if p.Nick == nil {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	return coda.AppendString(dst, *p.Nick)
}

// maxElems bounds list and map counts, as coda.DefaultMaxElems does for the
// generic decoder.
const maxElems = coda.DefaultMaxElems

// DecodeCODA sets p from exactly one canonical Profile body. The decoded
// strings share one copy of b (one allocation instead of one per string),
// so keeping any of them keeps that copy alive.
func (p *Profile) DecodeCODA(b []byte) error {
	d := decoder{r: coda.NewReader(b), src: string(b)}
	r := d.r
	var err error
	if p.ID, err = r.U64(); err != nil {
		return err
	}
	if p.Name, err = d.string(); err != nil {
		return err
	}
	if p.Email, err = d.string(); err != nil {
		return err
	}
	if p.Age, err = r.U32(); err != nil {
		return err
	}
	if p.Verified, err = r.Bool(); err != nil {
		return err
	}
	if err := p.Birthday.read(r); err != nil {
		return err
	}

	n, err := r.Len(1, maxElems) // a tag takes at least its length byte
	if err != nil {
		return err
	}
	p.Tags = nil
	if n > 0 {
		p.Tags = make([]string, n)
		for i := range p.Tags {
			if p.Tags[i], err = d.string(); err != nil {
				return err
			}
		}
	}

	if n, err = r.Len(1+8, maxElems); err != nil {
		return err
	}
	p.Scores = nil
	if n > 0 {
		p.Scores = make(map[string]int64, n)
		prev := ""
		for i := 0; i < n; i++ {
			at := r.Offset()
			k, err := d.string()
			if err != nil {
				return err
			}
			if i > 0 && prev >= k {
				return &coda.DecodeError{Offset: at, Path: "scores", Msg: "map keys out of order or repeated"}
			}
			prev = k
			v, err := r.U64()
			if err != nil {
				return err
			}
			p.Scores[k] = int64(v)
		}
	}

	if n, err = r.Len(8, maxElems); err != nil {
		return err
	}
	p.Friends = nil
	if n > 0 {
		raw, _ := r.Take(8 * n) // Len checked the bytes are there
		p.Friends = make([]uint64, n)
		for i := range p.Friends {
			p.Friends[i] = binary.LittleEndian.Uint64(raw[8*i:])
		}
	}

	tag, err := r.Uvarint()
	if err != nil {
		return err
	}
	switch tag {
	case 0:
		p.Kind = Kind{}
	case 1:
		serial, err := r.U32()
		if err != nil {
			return err
		}
		p.Kind = Kind{Robot: true, Serial: serial}
	default:
		return &coda.DecodeError{Offset: r.Offset() - 1, Path: "kind", Msg: "unknown enum tag"}
	}

	flag, err := r.Byte()
	if err != nil {
		return err
	}
	switch flag {
	case 0:
		p.Nick = nil
	case 1:
		nick, err := d.string()
		if err != nil {
			return err
		}
		p.Nick = &nick
	default:
		return &coda.DecodeError{Offset: r.Offset() - 1, Path: "nick", Msg: "non-canonical optional flag"}
	}
	return r.End()
}

// decoder reads strings as substrings of src, a copy of the Reader's input.
type decoder struct {
	r   *coda.Reader
	src string
}

func (d *decoder) string() (string, error) {
	b, err := d.r.StringBytes(coda.DefaultMaxSize)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", d.r.Errorf("invalid UTF-8 in string")
	}
	end := d.r.Offset()
	return d.src[end-len(b) : end], nil
}
