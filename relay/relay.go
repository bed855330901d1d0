// Package relay is the bottom of coal's own protocols: the versioned
// protocol ids every coal protocol is negotiated under (libp2p's
// multistream-select: the dialer proposes ids in its order of preference,
// the listener takes the first it speaks), and Conn, a pair of CODA wire
// streams (docs/coda.md §7) carried over one libp2p stream, one in each
// direction. CTP, sync and peer exchange all speak through a Conn; the
// framing is specified byte by byte in docs/protocols.md.
package relay

// One direction of a Conn is exactly one CODA wire stream:
//
//	"CODW" ‖ 0x01 ‖ uvarint(n) ‖ n × schema id (32)   the sender's context
//	frame*                                          uvarint(k) ‖ uvarint(len) ‖ body
//	0x00                                            end frame (CloseWrite)
//
// The header goes out with the first frame (or the end frame of an empty
// stream). A frame body longer than Options.MaxMessage is refused before
// anything is allocated for it.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// The protocol ids of coal's protocols. The version is semantic: a
// listener that speaks only 1.0.0 is still reached by a dialer proposing
// [2.0.0, 1.0.0].
const (
	CTP  = "/coal/ctp/1.0.0"  // content transfer (package ctp)
	Sync = "/coal/sync/1.0.0" // world sync (package replica)
	PEX  = "/coal/pex/1.0.0"  // peer exchange (package swarm)
)

// Defaults of Options.
const (
	DefaultMaxMessage  = 8 << 20
	DefaultIdleTimeout = 30 * time.Second
)

// Options configure a Conn. The zero value uses the defaults.
type Options struct {
	// MaxMessage is the largest frame body accepted, in bytes; 0 means
	// DefaultMaxMessage. It bounds what one Recv allocates.
	MaxMessage int
	// IdleTimeout is the deadline of each Send and Recv on streams that
	// have SetReadDeadline / SetWriteDeadline (libp2p streams, net.Conn):
	// a peer that sends nothing for that long fails the Recv. 0 means
	// DefaultIdleTimeout; a negative value sets no deadline.
	IdleTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxMessage <= 0 {
		o.MaxMessage = DefaultMaxMessage
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	return o
}

// Conn carries CODA objects both ways over one stream: each direction is a
// CODA wire stream (coda.WireWriter / coda.WireReader) whose context is the
// sender's schema list. One goroutine may send while another receives;
// Send and Recv are each serialized. The zero Conn is not usable: call
// NewConn.
type Conn struct {
	s    io.ReadWriteCloser
	opts Options

	wmu sync.Mutex
	w   *coda.WireWriter
	cw  countWriter

	rmu sync.Mutex
	r   *coda.WireReader
	cr  countReader

	closeOnce sync.Once
	closeErr  error
	stop      func() bool // stops Dial's and Accept's context watch
}

// NewConn returns a Conn over s that sends under the wire context send and
// resolves the schemas of the peer's context with res. With a nil res,
// Recv fails and RecvObject passes object bytes on unchecked.
func NewConn(s io.ReadWriteCloser, send []coda.ID, res coda.Resolver, opts Options) *Conn {
	opts = opts.withDefaults()
	c := &Conn{s: s, opts: opts}
	c.cw = countWriter{w: s}
	c.cr = countReader{r: s}
	c.w = coda.NewWireWriter(&c.cw, send)
	lim := coda.Limits{MaxSize: opts.MaxMessage}
	c.r = coda.NewWireReader(&c.cr, coda.DecodeOptions{Limits: lim, Resolver: res})
	return c
}

type readDeadliner interface{ SetReadDeadline(time.Time) error }
type writeDeadliner interface{ SetWriteDeadline(time.Time) error }

func (c *Conn) readDeadline() {
	if d, ok := c.s.(readDeadliner); ok && c.opts.IdleTimeout > 0 {
		_ = d.SetReadDeadline(time.Now().Add(c.opts.IdleTimeout))
	}
}

func (c *Conn) writeDeadline() {
	if d, ok := c.s.(writeDeadliner); ok && c.opts.IdleTimeout > 0 {
		_ = d.SetWriteDeadline(time.Now().Add(c.opts.IdleTimeout))
	}
}

// Send encodes v, a value of schema s (which must be in the send context),
// as the next frame.
func (c *Conn) Send(s *coda.Schema, v coda.Value) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.writeDeadline()
	return c.sendErr(c.w.Write(s, v))
}

// SendObject sends object bytes (schema id ‖ body) whose schema is in the
// send context.
func (c *Conn) SendObject(obj []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.writeDeadline()
	return c.sendErr(c.w.WriteObject(obj))
}

// CloseWrite sends the end frame, then half-closes the stream if it can:
// the peer's Recv returns io.EOF. The Conn can still receive.
func (c *Conn) CloseWrite() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.writeDeadline()
	if err := c.w.Close(); err != nil {
		return c.sendErr(err)
	}
	if cw, ok := c.s.(interface{ CloseWrite() error }); ok {
		if err := cw.CloseWrite(); err != nil {
			return errs.E(errs.Unavailable, errs.Op("relay.CloseWrite"), err)
		}
	}
	return nil
}

func (c *Conn) sendErr(err error) error {
	if err == nil {
		return nil
	}
	kind := errs.KindOf(err)
	if kind == errs.Other {
		kind = ioKind(err)
	}
	return errs.E(kind, errs.Op("relay.Send"), fmt.Errorf("after %d bytes sent: %w", c.cw.n.Load(), err))
}

// Recv reads and decodes the next object. It returns io.EOF after the
// peer's end frame. Otherwise errors have a kind and name the byte offset
// in the peer's stream: errs.Invalid for malformed data (a bad header, an
// index beyond the context, a body that does not decode), errs.Limit for a
// frame body over MaxMessage, errs.NotExist for a schema the resolver does
// not know, errs.Unavailable when the stream ends before the end frame or
// fails, errs.Canceled when the idle deadline passes. After an error every
// later Recv fails the same way.
func (c *Conn) Recv() (*coda.Schema, coda.Value, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	c.readDeadline()
	s, v, err := c.r.Next()
	if err != nil {
		return nil, coda.Value{}, c.recvErr(err)
	}
	return s, v, nil
}

// RecvObject reads the next object's bytes (schema id ‖ body), checked
// against its schema when the Conn has a resolver. Errors are as Recv's.
func (c *Conn) RecvObject() ([]byte, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	c.readDeadline()
	obj, err := c.r.NextObject()
	if err != nil {
		return nil, c.recvErr(err)
	}
	return obj, nil
}

// recvErr classifies a wire reader's error.
func (c *Conn) recvErr(err error) error {
	if err == io.EOF {
		return io.EOF
	}
	op := errs.Op("relay.Recv")
	var de *coda.DecodeError
	if errors.As(err, &de) {
		switch {
		case strings.Contains(de.Msg, "truncated stream"):
			return errs.E(errs.Unavailable, op, fmt.Errorf("stream ended at byte %d before its end frame: %w", de.Offset, io.ErrUnexpectedEOF))
		case strings.Contains(de.Msg, "exceeds the limit"):
			return errs.E(errs.Limit, op, err)
		}
		return errs.E(errs.Invalid, op, err)
	}
	if k := errs.KindOf(err); k != errs.Other {
		return errs.E(k, op, err)
	}
	return errs.E(ioKind(err), op, fmt.Errorf("after %d bytes received: %w", c.cr.n.Load(), err))
}

// ioKind classifies a transport error.
func ioKind(err error) errs.Kind {
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return errs.Canceled
	}
	var te interface{ Timeout() bool }
	if errors.As(err, &te) && te.Timeout() {
		return errs.Canceled
	}
	return errs.Unavailable
}

// Close closes the stream both ways without an end frame (a peer's Recv
// sees errs.Unavailable). Use CloseWrite first for an orderly end.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		if c.stop != nil {
			c.stop()
		}
		c.closeErr = c.s.Close()
	})
	return c.closeErr
}

// Reset aborts the stream (libp2p's Stream.Reset) if it can, else closes
// it.
func (c *Conn) Reset() error {
	if c.stop != nil {
		c.stop()
	}
	if r, ok := c.s.(interface{ Reset() error }); ok {
		return r.Reset()
	}
	return c.Close()
}

// Stream returns the underlying stream.
func (c *Conn) Stream() io.ReadWriteCloser { return c.s }

// Counts returns the bytes written to and read from the stream so far
// (reads include what the reader buffered ahead).
func (c *Conn) Counts() (sentBytes, recvBytes int64) { return c.cw.n.Load(), c.cr.n.Load() }

type countWriter struct {
	w io.Writer
	n atomic.Int64
}

func (w *countWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	w.n.Add(int64(n))
	return n, err
}

type countReader struct {
	r io.Reader
	n atomic.Int64
}

func (r *countReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n.Add(int64(n))
	return n, err
}
