// Package bench holds a hand-written CODA codec for representative Go
// structs, checked against package coda's generic codec, and the benchmarks
// comparing it with the dynamic coda API, protobuf-go and encoding/json
// (docs/perf.md, "CODA"). It is a separate package so that the protobuf
// dependency stays out of package coda.
//
// The hand-written codec is the pattern coal's own types (commits, directory
// entries, …) follow: AppendCODA appends the canonical body with coda's
// primitives; DecodeCODA reads it back with a coda.Reader, rejecting every
// non-canonical form the generic decoder rejects.
package bench

// The CODA schemas, as .coda text:
//
//	schema Date { day: u8  month: u8  year: u32 }
//	schema User {
//	  id: u64
//	  name: string
//	  email: string
//	  age: u32
//	  balance: i64
//	  birthday: Date
//	  tags: list<string>
//	  scores: map<string, i64>
//	}
//
// Body layout of User (docs/coda.md §2):
//
//	id        8 bytes LE
//	name      uvarint(len) ‖ UTF-8
//	email     uvarint(len) ‖ UTF-8
//	age       4 bytes LE
//	balance   8 bytes LE, two's complement
//	birthday  day (1) ‖ month (1) ‖ year (4 LE)
//	tags      uvarint(count) ‖ (uvarint(len) ‖ UTF-8)*
//	scores    uvarint(count) ‖ (key string ‖ i64 LE)*, keys strictly increasing

import (
	"encoding/binary"
	"slices"
	"unicode/utf8"

	"github.com/coalescent/coal/coda"
)

// Schema is the source text of the schemas of this package's types.
const Schema = `schema Date { day: u8  month: u8  year: u32 }
schema User {
  id: u64
  name: string
  email: string
  age: u32
  balance: i64
  birthday: Date
  tags: list<string>
  scores: map<string, i64>
}
`

// Date is a fixed-size struct: its body is always 6 bytes.
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

// User is a representative record: strings, integers, a nested fixed-size
// struct, a list and a map.
type User struct {
	ID       uint64           `json:"id"`
	Name     string           `json:"name"`
	Email    string           `json:"email"`
	Age      uint32           `json:"age"`
	Balance  int64            `json:"balance"`
	Birthday Date             `json:"birthday"`
	Tags     []string         `json:"tags"`
	Scores   map[string]int64 `json:"scores"`
}

// Size returns the length of u's body, so that callers can allocate once.
func (u *User) Size() int {
	n := 8 + coda.UvarintLen(uint64(len(u.Name))) + len(u.Name) +
		coda.UvarintLen(uint64(len(u.Email))) + len(u.Email) + 4 + 8 + DateSize +
		coda.UvarintLen(uint64(len(u.Tags))) + coda.UvarintLen(uint64(len(u.Scores)))
	for _, t := range u.Tags {
		n += coda.UvarintLen(uint64(len(t))) + len(t)
	}
	for k := range u.Scores {
		n += coda.UvarintLen(uint64(len(k))) + len(k) + 8
	}
	return n
}

// AppendCODA appends u's canonical body. Strings must be valid UTF-8 (the
// generic encoder checks; this one trusts its caller, as decoding checks).
func (u *User) AppendCODA(dst []byte) []byte {
	dst = slices.Grow(dst, u.Size())
	dst = binary.LittleEndian.AppendUint64(dst, u.ID)
	dst = coda.AppendString(dst, u.Name)
	dst = coda.AppendString(dst, u.Email)
	dst = binary.LittleEndian.AppendUint32(dst, u.Age)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(u.Balance))
	dst = u.Birthday.AppendCODA(dst)
	dst = coda.AppendUvarint(dst, uint64(len(u.Tags)))
	for _, t := range u.Tags {
		dst = coda.AppendString(dst, t)
	}
	// Map keys in canonical (bytewise) order; small maps sort on the stack.
	var buf [16]string
	keys := buf[:0]
	for k := range u.Scores {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = coda.AppendUvarint(dst, uint64(len(keys)))
	for _, k := range keys {
		dst = coda.AppendString(dst, k)
		dst = binary.LittleEndian.AppendUint64(dst, uint64(u.Scores[k]))
	}
	return dst
}

// maxElems bounds list and map counts, as coda.DefaultMaxElems does for the
// generic decoder.
const maxElems = coda.DefaultMaxElems

// DecodeCODA sets u from exactly one canonical User body.
func (u *User) DecodeCODA(b []byte) error {
	r := coda.NewReader(b)
	var err error
	if u.ID, err = r.U64(); err != nil {
		return err
	}
	if u.Name, err = readString(r); err != nil {
		return err
	}
	if u.Email, err = readString(r); err != nil {
		return err
	}
	if u.Age, err = r.U32(); err != nil {
		return err
	}
	bal, err := r.U64()
	if err != nil {
		return err
	}
	u.Balance = int64(bal)
	if err := u.Birthday.read(r); err != nil {
		return err
	}
	n, err := r.Len(1, maxElems) // each tag takes at least its length byte
	if err != nil {
		return err
	}
	u.Tags = nil
	if n > 0 {
		u.Tags = make([]string, n)
		for i := range u.Tags {
			if u.Tags[i], err = readString(r); err != nil {
				return err
			}
		}
	}
	if n, err = r.Len(1+8, maxElems); err != nil {
		return err
	}
	u.Scores = nil
	if n > 0 {
		u.Scores = make(map[string]int64, n)
		var prev []byte
		for i := 0; i < n; i++ {
			k, err := r.StringBytes(maxStringLen)
			if err != nil {
				return err
			}
			if i > 0 && string(prev) >= string(k) {
				return r.Errorf("map keys out of order or repeated")
			}
			if !utf8.Valid(k) {
				return r.Errorf("invalid UTF-8 in string")
			}
			prev = k
			v, err := r.U64()
			if err != nil {
				return err
			}
			u.Scores[string(k)] = int64(v)
		}
	}
	return r.End()
}

const maxStringLen = coda.DefaultMaxSize

func readString(r *coda.Reader) (string, error) {
	b, err := r.StringBytes(maxStringLen)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", r.Errorf("invalid UTF-8 in string")
	}
	return string(b), nil
}
