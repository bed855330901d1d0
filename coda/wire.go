package coda

// Wire contexts (docs/coda.md §7): a stream of objects in which the 32-byte
// schema ids are replaced by small integers declared at its start.
//
//	stream = "CODW" ‖ 0x01 ‖ uvarint(n) ‖ n × schema id (32) ‖ frame* ‖ 0x00
//	frame  = uvarint(k) ‖ uvarint(body length) ‖ body
//	         k ≥ 1: an object of schema k−1 of the context
//
// The 0x00 end frame tells a complete stream from a truncated one. The
// context lists each schema at most once, so a sequence of objects has one
// stream encoding for a given context.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"github.com/coalescent/coal/errs"
)

// WireMagic starts every wire stream; WireVersion follows it.
const (
	WireMagic   = "CODW"
	WireVersion = 1
)

// MaxWireContext is the most schemas a wire context may declare.
const MaxWireContext = 1 << 16

// WireWriter writes a stream of objects under a wire context. It writes the
// header with the first frame and each frame with one Write call; Close
// writes the end frame. A WireWriter is not safe for concurrent use. After
// an error, every later call returns that error.
type WireWriter struct {
	w       io.Writer
	ids     []ID
	index   map[ID]uint64 // schema id → k (context index + 1)
	body    []byte        // scratch for encoding bodies
	out     []byte        // scratch for frames
	started bool          // header written
	closed  bool
	err     error
}

// NewWireWriter returns a writer whose context is schemas, in that order.
// A schema listed twice, or more than MaxWireContext schemas, make every
// call fail with errs.Invalid.
func NewWireWriter(w io.Writer, schemas []ID) *WireWriter {
	ww := &WireWriter{w: w, ids: append([]ID(nil), schemas...), index: make(map[ID]uint64, len(schemas))}
	if len(schemas) > MaxWireContext {
		ww.err = errs.E(errs.Invalid, fmt.Sprintf("coda: wire context of %d schemas exceeds the limit %d", len(schemas), MaxWireContext))
	}
	for i, id := range schemas {
		if _, dup := ww.index[id]; dup {
			ww.err = errs.E(errs.Invalid, fmt.Sprintf("coda: schema %s listed twice in the wire context", id))
		}
		ww.index[id] = uint64(i) + 1
	}
	return ww
}

func (w *WireWriter) check() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errs.E(errs.Invalid, "coda: write to a closed wire stream")
	}
	return nil
}

// Write encodes v, a value of schema s, as the next frame. The schema must
// be in the context. A value that does not fit s is reported as a
// *ValueError, and the stream stays as it was.
func (w *WireWriter) Write(s *Schema, v Value) error {
	if err := w.check(); err != nil {
		return err
	}
	if s == nil {
		return errs.E(errs.Invalid, "coda: wire: nil schema")
	}
	k, ok := w.index[s.ID]
	if !ok {
		return errs.E(errs.Invalid, fmt.Sprintf("coda: schema %s (%s) is not in the wire context", s.Name, s.ID))
	}
	body, err := AppendBody(w.body[:0], s, v)
	if err != nil {
		return err
	}
	w.body = body
	return w.frame(k, body)
}

// WriteObject writes object bytes (schema id ‖ body) as the next frame. The
// body is not checked here; readers check every body.
func (w *WireWriter) WriteObject(obj []byte) error {
	if err := w.check(); err != nil {
		return err
	}
	if len(obj) < IDSize {
		return errs.E(errs.Invalid, fmt.Sprintf("coda: object of %d bytes is shorter than a schema id", len(obj)))
	}
	k, ok := w.index[ID(obj[:IDSize])]
	if !ok {
		return errs.E(errs.Invalid, fmt.Sprintf("coda: schema %s is not in the wire context", ID(obj[:IDSize])))
	}
	return w.frame(k, obj[IDSize:])
}

// appendHeader appends the stream header the first time it is called.
func (w *WireWriter) appendHeader(out []byte) []byte {
	if w.started {
		return out
	}
	w.started = true
	out = append(out, WireMagic...)
	out = append(out, WireVersion)
	out = AppendUvarint(out, uint64(len(w.ids)))
	for _, id := range w.ids {
		out = append(out, id[:]...)
	}
	return out
}

// frame writes k, the body's length and the body in one Write call.
func (w *WireWriter) frame(k uint64, body []byte) error {
	out := w.appendHeader(w.out[:0])
	out = AppendUvarint(out, k)
	out = AppendUvarint(out, uint64(len(body)))
	out = append(out, body...)
	w.out = out
	if _, err := w.w.Write(out); err != nil {
		w.err = fmt.Errorf("coda: write wire frame: %w", err)
		return w.err
	}
	return nil
}

// Close writes the end frame (and the header, for an empty stream). It does
// not close the underlying writer.
func (w *WireWriter) Close() error {
	if err := w.check(); err != nil {
		return err
	}
	out := append(w.appendHeader(w.out[:0]), 0x00)
	w.closed = true
	if _, err := w.w.Write(out); err != nil {
		w.err = fmt.Errorf("coda: write wire end: %w", err)
		return w.err
	}
	return nil
}

// WireReader reads a stream written by a WireWriter, checking every body as
// DecodeObject does. If the underlying reader is not an io.ByteReader it is
// buffered, and the WireReader may read past the end of the stream. A
// WireReader is not safe for concurrent use.
type WireReader struct {
	r       io.ByteReader
	rr      io.Reader
	opts    DecodeOptions
	off     int64
	ids     []ID
	schemas []*Schema // resolved lazily
	started bool
	done    bool
	err     error
}

// NewWireReader returns a reader of the stream in r. opts.Limits bound each
// body (MaxSize) as well as its decoding; opts.Resolver finds the context's
// schemas.
func NewWireReader(r io.Reader, opts DecodeOptions) *WireReader {
	opts.Limits = opts.Limits.WithDefaults()
	br, ok := r.(io.ByteReader)
	if !ok {
		b := bufio.NewReader(r)
		br, r = b, b
	}
	return &WireReader{r: br, rr: r, opts: opts}
}

// errAt returns a decode error at stream offset off.
func (r *WireReader) errAt(off int64, format string, args ...any) error {
	return &DecodeError{Offset: int(off), Msg: "wire: " + fmt.Sprintf(format, args...)}
}

// fail records a sticky error.
func (r *WireReader) fail(err error) error {
	r.err = err
	return err
}

func (r *WireReader) byte() (byte, error) {
	b, err := r.r.ReadByte()
	if err != nil {
		if err == io.EOF {
			return 0, r.errAt(r.off, "truncated stream: %v", io.ErrUnexpectedEOF)
		}
		return 0, fmt.Errorf("coda: read wire stream: %w", err)
	}
	r.off++
	return b, nil
}

func (r *WireReader) full(p []byte) error {
	n, err := io.ReadFull(r.rr, p)
	r.off += int64(n)
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return r.errAt(r.off, "truncated stream: %v", io.ErrUnexpectedEOF)
		}
		return fmt.Errorf("coda: read wire stream: %w", err)
	}
	return nil
}

// uvarint reads a minimal uvarint, as Reader.Uvarint does.
func (r *WireReader) uvarint() (uint64, error) {
	start := r.off
	var x uint64
	for i := 0; i < 10; i++ {
		b, err := r.byte()
		if err != nil {
			return 0, err
		}
		if i == 9 && b > 1 {
			return 0, r.errAt(start, "uvarint overflows 64 bits")
		}
		x |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			if b == 0 && i > 0 {
				return 0, r.errAt(start, "non-minimal uvarint")
			}
			return x, nil
		}
	}
	return 0, r.errAt(start, "uvarint longer than 10 bytes")
}

func (r *WireReader) readHeader() error {
	r.started = true
	var magic [len(WireMagic) + 1]byte
	if err := r.full(magic[:]); err != nil {
		return err
	}
	if string(magic[:len(WireMagic)]) != WireMagic {
		return r.errAt(0, "not a wire stream (magic %q, want %q)", magic[:len(WireMagic)], WireMagic)
	}
	if magic[len(WireMagic)] != WireVersion {
		return r.errAt(int64(len(WireMagic)), "unsupported wire version %d (want %d)", magic[len(WireMagic)], WireVersion)
	}
	start := r.off
	n, err := r.uvarint()
	if err != nil {
		return err
	}
	if n > MaxWireContext {
		return r.errAt(start, "wire context of %d schemas exceeds the limit %d", n, MaxWireContext)
	}
	ids := make([]ID, 0, min(n, 64))
	seen := make(map[ID]bool, min(n, 64))
	for i := uint64(0); i < n; i++ {
		var id ID
		at := r.off
		if err := r.full(id[:]); err != nil {
			return err
		}
		if seen[id] {
			return r.errAt(at, "schema %s listed twice in the wire context", id)
		}
		seen[id] = true
		ids = append(ids, id)
	}
	r.ids = ids
	r.schemas = make([]*Schema, len(ids))
	return nil
}

// Context returns the stream's schema ids, reading the header if no object
// has been read yet.
func (r *WireReader) Context() ([]ID, error) {
	if r.err != nil {
		return nil, r.err
	}
	if !r.started {
		if err := r.readHeader(); err != nil {
			return nil, r.fail(err)
		}
	}
	return append([]ID(nil), r.ids...), nil
}

// schema resolves context entry i.
func (r *WireReader) schema(i int, at int64) (*Schema, error) {
	if s := r.schemas[i]; s != nil {
		return s, nil
	}
	if r.opts.Resolver == nil {
		return nil, errs.E(errs.NotExist, fmt.Sprintf("coda: wire: no resolver for schema %s", r.ids[i]))
	}
	s, err := r.opts.Resolver.SchemaByID(r.ids[i])
	if err != nil {
		return nil, fmt.Errorf("coda: wire: frame at byte %d: %w", at, err)
	}
	r.schemas[i] = s
	return s, nil
}

// frame reads the next frame: the context index and the body. It returns
// io.EOF after the end frame.
func (r *WireReader) frame() (int, []byte, int64, error) {
	if r.err != nil {
		return 0, nil, 0, r.err
	}
	if r.done {
		return 0, nil, 0, io.EOF
	}
	if !r.started {
		if err := r.readHeader(); err != nil {
			return 0, nil, 0, r.fail(err)
		}
	}
	at := r.off
	k, err := r.uvarint()
	if err != nil {
		return 0, nil, 0, r.fail(err)
	}
	if k == 0 {
		r.done = true
		return 0, nil, 0, io.EOF
	}
	if k > uint64(len(r.ids)) {
		return 0, nil, 0, r.fail(r.errAt(at, "schema index %d beyond the context of %d", k, len(r.ids)))
	}
	lenAt := r.off
	n, err := r.uvarint()
	if err != nil {
		return 0, nil, 0, r.fail(err)
	}
	if n > uint64(r.opts.Limits.MaxSize) {
		return 0, nil, 0, r.fail(r.errAt(lenAt, "body of %d bytes exceeds the limit %d", n, r.opts.Limits.MaxSize))
	}
	body, err := r.readBody(int(n))
	if err != nil {
		return 0, nil, 0, r.fail(err)
	}
	return int(k - 1), body, at, nil
}

// readBody reads n bytes. Bodies up to a megabyte are read into one
// allocation; larger ones start there and grow with the data that
// actually arrives, so a lying length cannot make the reader allocate
// more than the stream holds (plus a megabyte).
func (r *WireReader) readBody(n int) ([]byte, error) {
	const chunk = 1 << 20
	if n <= chunk {
		body := make([]byte, n)
		if err := r.full(body); err != nil {
			return nil, err
		}
		return body, nil
	}
	var buf bytes.Buffer
	buf.Grow(chunk)
	got, err := io.CopyN(&buf, r.rr, int64(n))
	r.off += got
	if err != nil {
		if err == io.EOF {
			return nil, r.errAt(r.off, "truncated stream: %v", io.ErrUnexpectedEOF)
		}
		return nil, fmt.Errorf("coda: read wire stream: %w", err)
	}
	return buf.Bytes(), nil
}

// Next reads and decodes the next object. It returns io.EOF after the end
// frame, and an error for a stream that ends without one.
func (r *WireReader) Next() (*Schema, Value, error) {
	i, body, at, err := r.frame()
	if err != nil {
		return nil, Value{}, err
	}
	s, err := r.schema(i, at)
	if err != nil {
		return nil, Value{}, r.fail(err)
	}
	v, err := DecodeBody(s, body, r.opts)
	if err != nil {
		return nil, Value{}, r.fail(wireBodyError(err, at))
	}
	return s, v, nil
}

// NextObject reads the next object and returns its object bytes (schema
// id ‖ body). With a Resolver the body is decoded and checked as Next does;
// without one it is passed on unchecked, for relays that forward objects
// they cannot read. It returns io.EOF after the end frame.
func (r *WireReader) NextObject() ([]byte, error) {
	i, body, at, err := r.frame()
	if err != nil {
		return nil, err
	}
	if r.opts.Resolver != nil {
		s, err := r.schema(i, at)
		if err != nil {
			return nil, r.fail(err)
		}
		if _, err := DecodeBody(s, body, r.opts); err != nil {
			return nil, r.fail(wireBodyError(err, at))
		}
	}
	obj := make([]byte, IDSize+len(body))
	copy(obj, r.ids[i][:])
	copy(obj[IDSize:], body)
	return obj, nil
}

// wireBodyError places a body's decode error in the stream.
func wireBodyError(err error, at int64) error {
	return fmt.Errorf("coda: wire: frame at byte %d: %w", at, err)
}
