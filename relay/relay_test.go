package relay

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

const testCoda = `
schema Note {
  n:    u64
  text: string
}

schema Blob {
  data: bytes
}
`

func testSchemas(t testing.TB) (*coda.Registry, *coda.Schema, *coda.Schema) {
	t.Helper()
	reg := coda.NewRegistry()
	list, err := reg.Compile("test.coda", []byte(testCoda))
	if err != nil || len(list) != 2 {
		t.Fatalf("compile: %v", err)
	}
	note, _ := reg.Lookup("Note")
	blob, _ := reg.Lookup("Blob")
	return reg, note, blob
}

// rw joins a reader and a writer into a stream.
type rw struct {
	io.Reader
	io.Writer
}

func (rw) Close() error { return nil }

func TestRoundTrip(t *testing.T) {
	reg, note, blob := testSchemas(t)
	var buf bytes.Buffer
	tx := NewConn(rw{strings.NewReader(""), &buf}, []coda.ID{note.ID, blob.ID}, nil, Options{})
	for i := range 3 {
		if err := tx.Send(note, coda.Struct(coda.U64(uint64(i)), coda.String("hello"))); err != nil {
			t.Fatal(err)
		}
	}
	obj, err := coda.EncodeObject(blob, coda.Struct(coda.Bytes([]byte("raw"))))
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.SendObject(obj); err != nil {
		t.Fatal(err)
	}
	if err := tx.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	sent, _ := tx.Counts()
	if sent != int64(buf.Len()) {
		t.Errorf("sent count %d, want %d", sent, buf.Len())
	}

	rx := NewConn(rw{bytes.NewReader(buf.Bytes()), io.Discard}, nil, reg, Options{})
	for i := range 3 {
		s, v, err := rx.Recv()
		if err != nil {
			t.Fatalf("Recv %d: %v", i, err)
		}
		if s.ID != note.ID || v.Index(0).AsUint() != uint64(i) || v.Index(1).AsString() != "hello" {
			t.Errorf("Recv %d: got %s %v", i, s.Name, v)
		}
	}
	got, err := rx.RecvObject()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, obj) {
		t.Errorf("RecvObject: got %x, want %x", got, obj)
	}
	if _, _, err := rx.Recv(); err != io.EOF {
		t.Errorf("after the end frame: got %v, want io.EOF", err)
	}
	if _, recv := rx.Counts(); recv != int64(buf.Len()) {
		t.Errorf("recv count %d, want %d", recv, buf.Len())
	}
}

func TestSendOutsideContext(t *testing.T) {
	_, note, blob := testSchemas(t)
	tx := NewConn(rw{strings.NewReader(""), io.Discard}, []coda.ID{note.ID}, nil, Options{})
	err := tx.Send(blob, coda.Struct(coda.Bytes(nil)))
	if !errs.Is(err, errs.Invalid) {
		t.Errorf("send of a schema outside the context: got %v, want errs.Invalid", err)
	}
}

// stream builds the bytes of a wire stream by hand.
func stream(ids []coda.ID, frames ...[]byte) []byte {
	b := []byte("CODW\x01")
	b = coda.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		b = append(b, id[:]...)
	}
	for _, f := range frames {
		b = append(b, f...)
	}
	return b
}

func frame(k uint64, body []byte) []byte {
	b := coda.AppendUvarint(nil, k)
	b = coda.AppendUvarint(b, uint64(len(body)))
	return append(b, body...)
}

func TestRecvErrors(t *testing.T) {
	reg, note, blob := testSchemas(t)
	good, _ := coda.EncodeObject(note, coda.Struct(coda.U64(7), coda.String("x")))
	body := good[coda.IDSize:]
	big := make([]byte, 100)
	bigObj, _ := coda.EncodeObject(blob, coda.Struct(coda.Bytes(big)))
	unknown := coda.ID{1, 2, 3}
	ctx := []coda.ID{note.ID, blob.ID}
	hdr := len(stream(ctx))
	tests := []struct {
		name string
		in   []byte
		kind errs.Kind
		msg  string // in the error text
	}{
		{"bad magic", []byte("CODX\x01\x00\x00"), errs.Invalid, "byte 0"},
		{"bad version", []byte("CODW\x02\x00\x00"), errs.Invalid, "byte 4"},
		{"index beyond context", stream(ctx, frame(3, body)), errs.Invalid, "byte " + strconv.Itoa(hdr)},
		{"bad body", stream(ctx, frame(1, append(append([]byte{}, body...), 0))), errs.Invalid, "frame at byte " + strconv.Itoa(hdr)},
		{"over the limit", stream(ctx, frame(2, bigObj[coda.IDSize:])), errs.Limit, "byte " + strconv.Itoa(hdr+1)},
		{"truncated header", []byte("CODW\x01\x02"), errs.Unavailable, "before its end frame"},
		{"no end frame", stream(ctx, frame(1, body)), errs.Unavailable, "before its end frame"},
		{"truncated body", stream(ctx, frame(1, body))[:hdr+5], errs.Unavailable, "byte " + strconv.Itoa(hdr+5)},
		{"unknown schema", stream([]coda.ID{unknown}, frame(1, body)), errs.NotExist, "frame at byte " + strconv.Itoa(len(stream([]coda.ID{unknown})))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConn(rw{bytes.NewReader(tt.in), io.Discard}, nil, reg, Options{MaxMessage: 64})
			var err error
			for range 3 {
				if _, _, err = c.Recv(); err != nil {
					break
				}
			}
			if err == nil || err == io.EOF {
				t.Fatalf("got %v, want an error", err)
			}
			if !errs.Is(err, tt.kind) {
				t.Errorf("got kind %v (%v), want %v", errs.KindOf(err), err, tt.kind)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
			if _, _, again := c.Recv(); again == nil || again == io.EOF {
				t.Errorf("Recv after an error: got %v, want the error again", again)
			}
		})
	}
}

func TestIdleTimeout(t *testing.T) {
	reg, _, _ := testSchemas(t)
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := NewConn(a, nil, reg, Options{IdleTimeout: 20 * time.Millisecond})
	_, _, err := c.Recv()
	if !errs.Is(err, errs.Canceled) {
		t.Errorf("silent peer: got %v, want errs.Canceled", err)
	}
}

func TestCloseWithoutEnd(t *testing.T) {
	reg, note, _ := testSchemas(t)
	a, b := net.Pipe()
	tx := NewConn(a, []coda.ID{note.ID}, nil, Options{})
	rx := NewConn(b, nil, reg, Options{})
	go func() {
		_ = tx.Send(note, coda.Struct(coda.U64(1), coda.String("")))
		_ = tx.Close()
	}()
	if _, _, err := rx.Recv(); err != nil {
		t.Fatal(err)
	}
	_, _, err := rx.Recv()
	if err == io.EOF || !errs.Is(err, errs.Unavailable) {
		t.Errorf("stream closed without an end frame: got %v, want errs.Unavailable", err)
	}
	if errors.Is(err, io.EOF) {
		t.Errorf("a truncated stream must not look like an orderly end: %v", err)
	}
}
