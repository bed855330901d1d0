// Package audit is the node-local, append-only, hash-chained log of every
// read and write a node serves (DESIGN.md, "Reads are logged too";
// docs/security.md, "Audit log"). It is not replicated: it would leak who
// read what.
//
// The log is two files in its directory (HOME/audit):
//
//	log   one record per line, JSON, "\n"-terminated:
//	      {"seq":N,"time":"RFC3339 UTC ms","actor":"ed25519:…","action":"get",
//	       "world":"…","path":"/a","commit":"…","result":"ok","prev":"HEX"}
//	      fields in that order; actor, world, path and commit are left out
//	      when empty; seq counts from 1 with no gap; prev is the lowercase
//	      hex BLAKE3-256 of the previous line's bytes (without its "\n"),
//	      64 zeros for the first record. Each line is exactly what encoding/json
//	      writes for the record, so a record has one encoding.
//	head  one line: "coal-audit-head-v1 SEQ HASH SIG\n": the last record's
//	      seq and line hash, and (if the log has a signing key) the base64
//	      ed25519 signature by the node key of "coal-audit-head-v1 SEQ HASH"
//	      ("-" without one).
//
// Appends write the lines and fsync the log, then replace head (write,
// fsync, rename, fsync of the directory; head.tmp is written while the
// log syncs, and renamed only after both; on Linux head.tmp is kept, rewritten
// in place and swapped with head instead): a crash leaves at most a torn or unacknowledged tail
// after the record head names, which Open cuts off. Concurrent appends
// are group-committed (one write and two fsyncs for everything queued
// while the previous group synced). Append returns once its records are
// synced; AppendLater (reads) returns at once and its records go out
// with the next group, so a crash may lose the records of the reads
// served in the last group's time (see docs/security.md §13). Verify finds any edited,
// removed, inserted or reordered record (the chain breaks at it) and a log
// cut short or extended past head (head does not match), and names the
// first bad record. Someone who can rewrite the whole log and head at will
// defeats a hash chain; the signature of head by the node key means they
// must also hold the key.
//
// A Log is safe for concurrent use within one process; the home's store
// lock keeps other processes out.
package audit

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// Record is one audit record.
type Record struct {
	Seq    uint64    `json:"seq"`             // 1, 2, 3, … with no gaps
	Time   time.Time `json:"time"`            // UTC, millisecond precision
	Actor  string    `json:"actor,omitempty"` // the acting key (ed25519:…), "" if unknown
	Action string    `json:"action"`          // get, list, log, diff, show, commit, merge, receive, …
	World  coda.ID   `json:"world,omitzero"`  // the world
	Path   string    `json:"path,omitempty"`  // the path read or written
	Commit coda.ID   `json:"commit,omitzero"` // the commit read or made
	Result string    `json:"result"`          // ok, or an error kind (not-exist, permission, …)
	Prev   string    `json:"prev"`            // hash of the previous record's line
}

// Options configures Open.
type Options struct {
	// Clock is the wall clock; nil is time.Now.
	Clock func() time.Time
	// Key, if it can sign (a private key), signs the head; Public is its
	// public key, which Verify checks the head against.
	Key    ed25519.PrivateKey
	Public ed25519.PublicKey
}

const headMagic = "coal-audit-head-v1"

var zeroHash = strings.Repeat("0", 64)

// Log is an open audit log.
type Log struct {
	dir  string
	opts Options

	mu   sync.Mutex
	f    *os.File
	seq  uint64
	hash string // of the last line

	// Concurrent Appends are group-committed: the first caller writes
	// whatever has queued up meanwhile with one fsync of the log and one
	// of head, and hands every waiter its result.
	qmu   sync.Mutex // guards queue and busy
	queue []*appendReq
	busy  bool
	// lateErr is the first failure to write records of AppendLater.
	lateErr error

	// hf holds head and head.tmp open to swap them (nil: not yet, or
	// noExchange: the system cannot swap files); guarded by mu.
	hf         *headFiles
	noExchange bool
}

type appendReq struct {
	recs []Record
	done chan error // nil for AppendLater
}

func lineHash(line []byte) string {
	h := coda.Sum(line)
	return hex.EncodeToString(h[:])
}

// Open opens (creating it if need be) the audit log in dir.
func Open(dir string, opts Options) (*Log, error) {
	op := errs.Op("audit.Open")
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, errs.E(op, err)
	}
	l := &Log{dir: dir, opts: opts, hash: zeroHash}
	seq, hash, err := l.readHead()
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, errs.E(op, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "log"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, errs.E(op, err)
	}
	if err == nil && seq > 0 {
		// Cut off a tail written after head was (a crash between the
		// two): records head does not acknowledge.
		end, err := findEnd(f, seq, hash)
		if err != nil {
			f.Close()
			return nil, errs.E(op, errs.Corrupt, errs.Path(filepath.Join(dir, "log")), err)
		}
		if err := f.Truncate(end); err != nil {
			f.Close()
			return nil, errs.E(op, err)
		}
		l.seq, l.hash = seq, hash
	} else if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		f.Close()
		return nil, errs.E(op, errs.Corrupt, errs.Path(filepath.Join(dir, "head")), "the audit log has records but no head")
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return nil, errs.E(op, err)
	}
	l.f = f
	return l, nil
}

// findEnd returns the offset just after the line of record seq whose hash
// is hash, scanning the file.
func findEnd(f *os.File, seq uint64, hash string) (int64, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	r := bufio.NewReader(f)
	var off int64
	var n uint64
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			n++
			off += int64(len(line))
			if n == seq {
				if lineHash(line[:len(line)-1]) != hash {
					return 0, fmt.Errorf("record %d does not match the head (verify the log)", seq)
				}
				return off, nil
			}
		}
		if err == io.EOF {
			return 0, fmt.Errorf("the log ends after %d records; the head names record %d", n, seq)
		}
		if err != nil {
			return 0, err
		}
	}
}

func (l *Log) headMessage(seq uint64, hash string) []byte {
	return fmt.Appendf(nil, "%s %d %s", headMagic, seq, hash)
}

func (l *Log) readHead() (uint64, string, error) {
	b, err := os.ReadFile(filepath.Join(l.dir, "head"))
	if err != nil {
		return 0, "", err
	}
	f := strings.Fields(strings.TrimSuffix(string(b), "\n"))
	if len(f) != 4 || f[0] != headMagic || !strings.HasSuffix(string(b), "\n") {
		return 0, "", errs.E(errs.Corrupt, "audit: bad head file")
	}
	seq, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil || len(f[2]) != 64 {
		return 0, "", errs.E(errs.Corrupt, "audit: bad head file")
	}
	if pub := l.opts.Public; pub != nil {
		sig, err := base64.StdEncoding.DecodeString(f[3])
		if err != nil || !ed25519.Verify(pub, l.headMessage(seq, f[2]), sig) {
			return 0, "", errs.E(errs.Corrupt, "audit: the head's signature does not verify")
		}
	}
	return seq, f[2], nil
}

// headFiles keeps head and head.tmp open where the two can be swapped
// (exchangeHead, Linux): a group then rewrites head.tmp in place and
// swaps it with head, instead of creating a file, renaming it over head
// (which frees the old one) and opening the directory, every group.
type headFiles struct {
	head, tmp *os.File
	tmpSize   int64 // head.tmp's size
	dir       *os.File
}

func (hf *headFiles) close() {
	hf.head.Close()
	hf.tmp.Close()
	hf.dir.Close()
}

// openHeadFiles opens head, head.tmp (creating it) and the directory,
// or returns nil if head does not exist yet.
func (l *Log) openHeadFiles() (*headFiles, error) {
	head, err := os.OpenFile(filepath.Join(l.dir, "head"), os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	hf := &headFiles{head: head}
	if hf.tmp, err = os.OpenFile(filepath.Join(l.dir, "head.tmp"), os.O_RDWR|os.O_CREATE, 0o600); err != nil {
		head.Close()
		return nil, err
	}
	if hf.dir, err = os.Open(l.dir); err != nil {
		head.Close()
		hf.tmp.Close()
		return nil, err
	}
	fi, err := hf.tmp.Stat()
	if err != nil {
		hf.close()
		return nil, err
	}
	hf.tmpSize = fi.Size()
	return hf, nil
}

// prepareHead writes and syncs head.tmp, the head naming record seq.
func (l *Log) prepareHead(seq uint64, hash string) error {
	sig := "-"
	if len(l.opts.Key) == ed25519.PrivateKeySize {
		sig = base64.StdEncoding.EncodeToString(ed25519.Sign(l.opts.Key, l.headMessage(seq, hash)))
	}
	line := fmt.Appendf(nil, "%s %d %s %s\n", headMagic, seq, hash, sig)
	if l.hf == nil && !l.noExchange {
		hf, err := l.openHeadFiles()
		if err != nil {
			return err
		}
		l.hf = hf
	}
	if hf := l.hf; hf != nil {
		// head.tmp is no file's head: rewrite it in place.
		if _, err := hf.tmp.WriteAt(line, 0); err != nil {
			return err
		}
		if n := int64(len(line)); n != hf.tmpSize {
			if err := hf.tmp.Truncate(n); err != nil {
				return err
			}
			hf.tmpSize = n
		}
		return dataSync(hf.tmp)
	}
	f, err := os.OpenFile(filepath.Join(l.dir, "head.tmp"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(line); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// renameHead moves head.tmp to head and syncs the directory, so that the
// new head survives a crash of the machine. Where it can, it swaps the
// two (head.tmp then holds the previous head, to be rewritten next).
func (l *Log) renameHead() error {
	if hf := l.hf; hf != nil {
		err := exchangeHead(hf.dir, "head.tmp", "head")
		if err == nil {
			hf.head, hf.tmp = hf.tmp, hf.head
			hf.tmpSize = -1 // unknown: truncate at the next write
			return hf.dir.Sync()
		}
		// Not supported here (or failed): rename as below from now on.
		hf.close()
		l.hf, l.noExchange = nil, true
		if !errors.Is(err, errNoExchange) {
			return err
		}
	}
	if err := os.Rename(filepath.Join(l.dir, "head.tmp"), filepath.Join(l.dir, "head")); err != nil {
		return err
	}
	d, err := os.Open(l.dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// encode returns the line of r (without "\n").
func encode(r Record) ([]byte, error) {
	return json.Marshal(r)
}

// Append adds records (Append sets Seq, Time and Prev) and returns once
// they are synced. Concurrent Appends share their syncs: the records of
// every call queued while a sync ran are written and synced together.
func (l *Log) Append(recs ...Record) error {
	if len(recs) == 0 {
		return nil
	}
	req := &appendReq{recs: recs, done: make(chan error, 1)}
	if l.enqueue(req) {
		l.lead()
	}
	return <-req.done
}

// AppendLater adds records without waiting for them: they are written and
// synced with the next group (at once if no sync is running, else right
// after the running one), in the order of the calls. It returns the error
// of an earlier AppendLater whose records could not be written, if any:
// once records are lost, every later call fails (a node must not serve
// what it cannot log). A crash loses at most the records queued or being
// written at that moment. Flush and Close wait for them.
func (l *Log) AppendLater(recs ...Record) error {
	l.qmu.Lock()
	err := l.lateErr
	l.qmu.Unlock()
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil
	}
	if l.enqueue(&appendReq{recs: recs}) {
		go l.lead()
	}
	return nil
}

// Flush returns once every record appended before it is synced.
func (l *Log) Flush() error {
	req := &appendReq{done: make(chan error, 1)}
	if l.enqueue(req) {
		l.lead()
	}
	if err := <-req.done; err != nil {
		return err
	}
	l.qmu.Lock()
	defer l.qmu.Unlock()
	return l.lateErr
}

// enqueue queues req and reports whether the caller must lead (no
// leader is running).
func (l *Log) enqueue(req *appendReq) bool {
	l.qmu.Lock()
	defer l.qmu.Unlock()
	l.queue = append(l.queue, req)
	leader := !l.busy
	l.busy = true
	return leader
}

// lead writes and syncs what is queued, group by group, until the queue
// is empty, and hands each waiter its result.
func (l *Log) lead() {
	for {
		l.qmu.Lock()
		q := l.queue
		l.queue = nil
		if len(q) == 0 {
			l.busy = false
			l.qmu.Unlock()
			return
		}
		l.qmu.Unlock()
		var all []Record
		for _, r := range q {
			all = append(all, r.recs...)
		}
		var err error
		if len(all) > 0 {
			err = l.appendSync(all)
		}
		for _, r := range q {
			if r.done != nil {
				r.done <- err
			} else if err != nil {
				l.qmu.Lock()
				if l.lateErr == nil {
					l.lateErr = fmt.Errorf("audit: records appended without waiting were lost: %w", err)
				}
				l.qmu.Unlock()
			}
		}
	}
}

// appendSync writes recs and syncs the log and head.
func (l *Log) appendSync(recs []Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return errs.E(errs.Invalid, "audit: log closed")
	}
	seq, hash := l.seq, l.hash
	var buf bytes.Buffer
	now := l.opts.Clock().UTC().Truncate(time.Millisecond)
	for _, r := range recs {
		seq++
		r.Seq, r.Time, r.Prev = seq, now, hash
		line, err := encode(r)
		if err != nil {
			return errs.E(errs.Internal, fmt.Errorf("audit: encode: %w", err))
		}
		hash = lineHash(line)
		buf.Write(line)
		buf.WriteByte('\n')
	}
	if _, err := l.f.Write(buf.Bytes()); err != nil {
		return errs.E(errs.Op("audit.Append"), err)
	}
	// The log's fsync and head.tmp's write and fsync overlap; head.tmp
	// becomes head only once both are done, so head never names a
	// record that is not durable.
	herr := make(chan error, 1)
	go func() { herr <- l.prepareHead(seq, hash) }()
	err := l.f.Sync()
	if e := <-herr; err == nil {
		err = e
	}
	if err == nil {
		err = l.renameHead()
	}
	if err != nil {
		return errs.E(errs.Op("audit.Append"), err)
	}
	l.seq, l.hash = seq, hash
	return nil
}

// List returns the last n records (n <= 0: all), oldest first.
func (l *Log) List(n int) ([]Record, error) {
	if err := l.Flush(); err != nil {
		return nil, errs.E(errs.Op("audit.List"), err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, err := os.ReadFile(filepath.Join(l.dir, "log"))
	if err != nil {
		return nil, errs.E(errs.Op("audit.List"), err)
	}
	lines := bytes.Split(b, []byte("\n"))
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	if n > 0 && len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := make([]Record, 0, len(lines))
	for _, line := range lines {
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, errs.E(errs.Op("audit.List"), errs.Corrupt, fmt.Errorf("audit: bad record: %w", err))
		}
		out = append(out, r)
	}
	return out, nil
}

// Verify checks the whole log against its chain and head. It returns the
// number of records checked; an altered log is an errs.Corrupt error
// naming the first bad record (line and seq) and what is wrong.
func (l *Log) Verify() (int, error) {
	op := errs.Op("audit.Verify")
	if err := l.Flush(); err != nil {
		return 0, errs.E(op, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, err := os.ReadFile(filepath.Join(l.dir, "log"))
	if err != nil {
		return 0, errs.E(op, err)
	}
	bad := func(n int, format string, args ...any) (int, error) {
		return n, errs.E(op, errs.Corrupt, fmt.Sprintf("audit log: record %d (line %d): ", n+1, n+1)+fmt.Sprintf(format, args...))
	}
	hash := zeroHash
	n := 0
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return bad(n, "line not terminated (torn or cut)")
		}
		line := b[:i]
		b = b[i+1:]
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		var r Record
		if err := dec.Decode(&r); err != nil {
			return bad(n, "does not decode: %v", err)
		}
		if enc, err := encode(r); err != nil || !bytes.Equal(enc, line) {
			return bad(n, "not in canonical form (edited)")
		}
		if r.Seq != uint64(n+1) {
			return bad(n, "seq %d, want %d (a record removed, inserted or moved)", r.Seq, n+1)
		}
		if r.Prev != hash {
			return bad(n, "prev hash %s does not match the record before (it or this one was edited, removed or moved)", r.Prev)
		}
		hash = lineHash(line)
		n++
	}
	seq, hh, err := l.readHead()
	if errors.Is(err, fs.ErrNotExist) {
		if n == 0 {
			return 0, nil
		}
		return bad(n-1, "the log has no head")
	}
	if err != nil {
		return n, errs.E(op, err)
	}
	if seq != uint64(n) {
		return bad(min(n, int(seq)), "the head names %d records, the log holds %d (cut short or extended)", seq, n)
	}
	if hh != hash {
		return bad(n-1, "the last record does not match the head (edited)")
	}
	return n, nil
}

// Close syncs what AppendLater queued and closes the log.
func (l *Log) Close() error {
	ferr := l.Flush()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if l.hf != nil {
		l.hf.close()
		l.hf = nil
	}
	if ferr != nil {
		return ferr
	}
	return err
}
