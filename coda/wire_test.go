package coda_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/coda/codatest"
	"github.com/coalescent/coal/errs"
)

type wireItem struct {
	s *coda.Schema
	v coda.Value
}

func wireItems() []wireItem {
	return []wireItem{
		{codatest.Date, coda.Struct(coda.U8(1), coda.U8(2), coda.U32(3))},
		{codatest.Person, codatest.PersonValue()},
		{codatest.Date, coda.Struct(coda.U8(31), coda.U8(12), coda.U32(1999))},
		{codatest.Kind, coda.Enum(0)},
		{codatest.Holder, coda.Struct(coda.AnyOf(codatest.Kind, coda.Enum(1, coda.U32(9))))},
	}
}

func wireContext() []coda.ID {
	return []coda.ID{codatest.Date.ID, codatest.Person.ID, codatest.Kind.ID, codatest.Holder.ID}
}

func writeStream(t testing.TB, ctx []coda.ID, items []wireItem) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := coda.NewWireWriter(&buf, ctx)
	for _, it := range items {
		if err := w.Write(it.s, it.v); err != nil {
			t.Fatalf("Write(%s): %v", it.s.Name, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func wireOpts() coda.DecodeOptions { return coda.DecodeOptions{Resolver: codatest.DefaultResolver} }

func TestWireGolden(t *testing.T) {
	got := writeStream(t, []coda.ID{codatest.Date.ID}, wireItems()[:1])
	want := "434f4457" + "01" + // "CODW", version 1
		"01" + hexID(codatest.Date.ID) + // context: 1 schema
		"01" + "06" + "010203000000" + // frame: schema 0 (k=1), 6 bytes, Date{1,2,3}
		"00" // end
	if h := hexOf(got); h != want {
		t.Errorf("stream =\n%s\nwant\n%s", h, want)
	}
	empty := writeStream(t, nil, nil)
	if h := hexOf(empty); h != "434f44570100"+"00" {
		t.Errorf("empty stream = %s", h)
	}
}

func hexID(id coda.ID) string { return hexOf(id[:]) }

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(digits[c>>4])
		s.WriteByte(digits[c&15])
	}
	return s.String()
}

func TestWireRoundTrip(t *testing.T) {
	items := wireItems()
	stream := writeStream(t, wireContext(), items)

	r := coda.NewWireReader(bytes.NewReader(stream), wireOpts())
	ctx, err := r.Context()
	if err != nil || len(ctx) != 4 || ctx[1] != codatest.Person.ID {
		t.Fatalf("Context() = %v, %v", ctx, err)
	}
	for i, it := range items {
		s, v, err := r.Next()
		if err != nil {
			t.Fatalf("Next %d: %v", i, err)
		}
		if s != it.s || !coda.Equal(v, it.v) {
			t.Errorf("Next %d = %s %v, want %s %v", i, s.Name, v, it.s.Name, it.v)
		}
	}
	for range 2 {
		if _, _, err := r.Next(); err != io.EOF {
			t.Fatalf("Next after the end = %v, want io.EOF", err)
		}
	}

	// NextObject gives object bytes; WriteObject writes them back.
	var again bytes.Buffer
	w := coda.NewWireWriter(&again, wireContext())
	r = coda.NewWireReader(bytes.NewReader(stream), wireOpts())
	for i := 0; ; i++ {
		obj, err := r.NextObject()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("NextObject %d: %v", i, err)
		}
		want, _ := coda.EncodeObject(items[i].s, items[i].v)
		if !bytes.Equal(obj, want) {
			t.Errorf("NextObject %d = %x, want %x", i, obj, want)
		}
		if err := w.WriteObject(obj); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), stream) {
		t.Errorf("WriteObject stream differs from Write stream")
	}
}

// TestWireStopsAtEnd checks that a reader given an io.ByteReader consumes
// exactly the stream, so that streams can follow one another.
func TestWireStopsAtEnd(t *testing.T) {
	stream := writeStream(t, wireContext(), wireItems())
	in := bytes.NewReader(append(bytes.Clone(stream), "next"...))
	r := coda.NewWireReader(in, wireOpts())
	for {
		if _, _, err := r.Next(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if in.Len() != 4 {
		t.Errorf("reader left %d bytes, want 4", in.Len())
	}
}

func TestWireTruncated(t *testing.T) {
	stream := writeStream(t, wireContext(), wireItems())
	for n := 0; n < len(stream); n++ {
		r := coda.NewWireReader(bytes.NewReader(stream[:n]), wireOpts())
		var err error
		for err == nil {
			_, _, err = r.Next()
		}
		if err == io.EOF || !errors.Is(err, errs.Invalid) {
			t.Fatalf("stream cut at %d of %d: err = %v, want an errs.Invalid error", n, len(stream), err)
		}
	}
}

func TestWireReaderErrors(t *testing.T) {
	date := codatest.Date.ID
	head := func(ids ...coda.ID) string {
		s := "CODW\x01" + string(coda.AppendUvarint(nil, uint64(len(ids))))
		for _, id := range ids {
			s += string(id[:])
		}
		return s
	}
	tests := []struct {
		name, stream, want string
		limits             coda.Limits
		kind               errs.Kind
	}{
		{name: "magic", stream: "CODX\x01\x00\x00", want: "not a wire stream"},
		{name: "version", stream: "CODW\x02\x00\x00", want: "unsupported wire version 2"},
		{name: "context count non-minimal", stream: "CODW\x01\x80\x00\x00", want: "non-minimal uvarint"},
		{name: "context too big", stream: "CODW\x01\xff\xff\x7f", want: "exceeds the limit 65536"},
		{name: "context duplicate", stream: head(date, date) + "\x00", want: "listed twice"},
		{name: "index beyond context", stream: head(date) + "\x02\x06\x01\x02\x03\x00\x00\x00\x00", want: "schema index 2 beyond the context of 1"},
		{name: "frame index non-minimal", stream: head(date) + "\x81\x00\x06\x01\x02\x03\x00\x00\x00\x00", want: "non-minimal uvarint"},
		{name: "body too long for its schema", stream: head(date) + "\x01\x07\x01\x02\x03\x00\x00\x00\xff\x00", want: "trailing bytes"},
		{name: "body too short", stream: head(date) + "\x01\x05\x01\x02\x03\x00\x00\x00", want: "unexpected end"},
		{name: "body over the size limit", stream: head(date) + "\x01\x06\x01\x02\x03\x00\x00\x00\x00", want: "body of 6 bytes exceeds the limit 5", limits: coda.Limits{MaxSize: 5}},
		{name: "lying length", stream: head(date) + "\x01\x80\x80\x80\x80\x02" + strings.Repeat("x", 100), want: "truncated stream"},
		{name: "unknown schema", stream: head(coda.ID{1}) + "\x01\x00\x00", want: "codatest: no schema", kind: errs.NotExist},
		{name: "no end frame", stream: head(date), want: "truncated stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := coda.NewWireReader(strings.NewReader(tt.stream), coda.DecodeOptions{Limits: tt.limits, Resolver: codatest.DefaultResolver})
			var err error
			for err == nil {
				_, _, err = r.Next()
			}
			if err == io.EOF || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			kind := tt.kind
			if kind == errs.Other {
				kind = errs.Invalid
			}
			if !errors.Is(err, kind) {
				t.Errorf("err = %v, want kind %v", err, kind)
			}
			if _, _, again := r.Next(); again != err {
				t.Errorf("error not sticky: %v then %v", err, again)
			}
		})
	}
}

func TestWireWriterErrors(t *testing.T) {
	var buf bytes.Buffer
	w := coda.NewWireWriter(&buf, []coda.ID{codatest.Date.ID})
	if err := w.Write(codatest.Kind, coda.Enum(0)); !errors.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "not in the wire context") {
		t.Errorf("Write of a schema outside the context: %v", err)
	}
	err := w.Write(codatest.Date, coda.Struct(coda.U8(1), coda.U16(2), coda.U32(3)))
	var ve *coda.ValueError
	if !errors.As(err, &ve) || ve.Path != "month" {
		t.Errorf("Write of a bad value: %v, want a ValueError at month", err)
	}
	if err := w.WriteObject([]byte{1, 2}); !errors.Is(err, errs.Invalid) {
		t.Errorf("WriteObject of 2 bytes: %v", err)
	}
	if buf.Len() != 0 {
		t.Errorf("failed writes wrote %d bytes", buf.Len())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(codatest.Date, coda.Struct(coda.U8(1), coda.U8(2), coda.U32(3))); !errors.Is(err, errs.Invalid) {
		t.Errorf("Write after Close: %v", err)
	}
	dup := coda.NewWireWriter(&buf, []coda.ID{codatest.Date.ID, codatest.Date.ID})
	if err := dup.Close(); !errors.Is(err, errs.Invalid) {
		t.Errorf("duplicate context: %v", err)
	}
}

// FuzzWire reads arbitrary bytes as a wire stream: no panic, and a stream
// read to its end frame writes back to exactly the bytes consumed.
func FuzzWire(f *testing.F) {
	f.Add(writeStream(f, wireContext(), wireItems()))
	f.Add(writeStream(f, nil, nil))
	f.Add(writeStream(f, []coda.ID{codatest.Tree.ID, codatest.Expr.ID}, nil))
	opts := coda.DecodeOptions{Resolver: codatest.DefaultResolver, Limits: coda.Limits{MaxSize: 1 << 20}}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := bytes.NewReader(data)
		r := coda.NewWireReader(in, opts)
		var items []wireItem
		for {
			s, v, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return
			}
			items = append(items, wireItem{s, v})
		}
		ctx, err := r.Context()
		if err != nil {
			t.Fatalf("Context after a complete stream: %v", err)
		}
		consumed := data[:len(data)-in.Len()]
		if got := writeStream(t, ctx, items); !bytes.Equal(got, consumed) {
			t.Fatalf("re-encoded stream differs:\n got %x\nwant %x", got, consumed)
		}
	})
}
