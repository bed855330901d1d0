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
//	head, head.tmp  the head, in two slots: each empty or one line
//	      "coal-audit-head-v1 SEQ HASH SIG\n": a record's seq and line hash,
//	      and (if the log has a signing key) the base64 ed25519 signature
//	      by the node key of "coal-audit-head-v1 SEQ HASH" ("-" without
//	      one). The head is the slot naming the greater seq.
//
// A group of appends writes the lines, then fsyncs the log while it
// writes the new head over the older slot in place and fdatasyncs it (no
// rename, no directory sync): a crash leaves at most a torn or
// unacknowledged tail after the record the head names, which Open cuts
// off, and perhaps a slot that is torn or names records the log lacks,
// which Open passes over for the other slot (then rewrites it with the
// head, and appends an "audit-repair" record saying so). Concurrent
// appends are group-committed (one write and two overlapping fsyncs for
// everything queued while the previous group synced). Append returns once
// its records are synced; AppendLater (reads) returns at once and its
// records go out with the next group, so a crash may lose the records of
// the reads served in the last group's time (see docs/security.md §13). Verify finds any edited,
// removed, inserted or reordered record (the chain breaks at it) and a log
// cut short or extended past head (head does not match), and names the
// first bad record. Someone who can rewrite the whole log and head at will
// defeats a hash chain; the signature of head by the node key means they
// must also hold the key (except to drop the last group's records: the
// other slot holds the previous head; see docs/security.md).
//
// A Log is safe for concurrent use within one process; the home's store
// lock keeps other processes out.
package audit

import (
	"bufio"
	"bytes"
	"cmp"
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

	// slots are the two head files, open (headSlots); cur is the one
	// holding the current head (-1: none yet), the next head goes to the
	// other. Guarded by mu.
	slots [2]*os.File
	sizes [2]int64
	cur   int
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
	l := &Log{dir: dir, opts: opts, hash: zeroHash, cur: -1}
	f, err := os.OpenFile(filepath.Join(dir, "log"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, errs.E(op, err)
	}
	fail := func(err error) (*Log, error) {
		f.Close()
		l.closeSlots()
		return nil, errs.E(op, err)
	}
	if err := l.openSlots(); err != nil {
		return fail(err)
	}
	// The head is the slot naming the greatest seq that is whole, signed
	// and names a record of the log; a slot naming more is one whose
	// group a crash cut short.
	heads := l.readSlots()
	var firstErr error
	var repair *Record
	for _, i := range newestFirst(heads) {
		h := heads[i]
		if h.err != nil {
			firstErr = cmp.Or(firstErr, h.err)
			continue
		}
		// Cut off a tail written after the head was (a crash
		// between the two): records it does not acknowledge.
		end, err := findEnd(f, h.seq, h.hash)
		if err != nil {
			firstErr = cmp.Or(firstErr, error(errs.E(errs.Corrupt, errs.Path(filepath.Join(dir, "log")), err)))
			continue
		}
		if err := f.Truncate(end); err != nil {
			return fail(err)
		}
		l.seq, l.hash, l.cur = h.seq, h.hash, i
		if o := heads[1-i]; o.err == nil && o.seq > h.seq || o.err != nil && !errors.Is(o.err, errNoHead) {
			// A crash during a group (or someone cut the log's
			// last group, which Open cannot tell apart): make the
			// other slot agree, so that Verify, which trusts the
			// newest signed slot, finds the log whole, and say so
			// in the log.
			if err := l.writeSlot(1-i, h.line); err != nil {
				return fail(err)
			}
			repair = &Record{Action: "audit-repair", Path: "/" + slotNames[1-i], Result: errs.Corrupt.String()}
		}
		break
	}
	if l.cur < 0 {
		if firstErr != nil && !errors.Is(firstErr, errNoHead) {
			return fail(firstErr)
		}
		if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
			return fail(errs.E(errs.Corrupt, errs.Path(filepath.Join(dir, "head")), "the audit log has records but no head"))
		}
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		return fail(err)
	}
	l.f = f
	if repair != nil {
		if err := l.appendSync([]Record{*repair}); err != nil {
			l.f = nil
			return fail(err)
		}
	}
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

// slotNames are the head's two files (see the package comment).
var slotNames = [2]string{"head", "head.tmp"}

// errNoHead: a slot holds no head (empty or absent).
var errNoHead = errors.New("audit: no head")

// slotHead is what a head slot holds.
type slotHead struct {
	seq  uint64
	hash string
	line []byte
	err  error // nil: a whole head, signed if the log has a key
}

// parseHead parses and checks (signature) the content of a head slot.
func (l *Log) parseHead(b []byte) slotHead {
	if len(b) == 0 {
		return slotHead{err: errNoHead}
	}
	bad := slotHead{err: errs.E(errs.Corrupt, "audit: bad head file")}
	f := strings.Fields(strings.TrimSuffix(string(b), "\n"))
	if len(f) != 4 || f[0] != headMagic || !bytes.HasSuffix(b, []byte("\n")) || bytes.Count(b, []byte("\n")) != 1 {
		return bad
	}
	seq, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil || len(f[2]) != 64 {
		return bad
	}
	if pub := l.opts.Public; pub != nil {
		sig, err := base64.StdEncoding.DecodeString(f[3])
		if err != nil || !ed25519.Verify(pub, l.headMessage(seq, f[2]), sig) {
			return slotHead{err: errs.E(errs.Corrupt, "audit: the head's signature does not verify")}
		}
	}
	return slotHead{seq: seq, hash: f[2], line: b}
}

// readSlots reads both head slots.
func (l *Log) readSlots() [2]slotHead {
	var out [2]slotHead
	for i, name := range slotNames {
		b, err := os.ReadFile(filepath.Join(l.dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			b, err = nil, nil
		}
		if err != nil {
			out[i] = slotHead{err: err}
			continue
		}
		out[i] = l.parseHead(b)
	}
	return out
}

// newestFirst returns the slots' indexes, the one naming the greater seq
// (of those that parse) first.
func newestFirst(h [2]slotHead) []int {
	if h[1].err == nil && (h[0].err != nil || h[1].seq > h[0].seq) {
		return []int{1, 0}
	}
	return []int{0, 1}
}

// readHead returns the head Verify checks the log against: the newest
// slot that is whole and signed.
func (l *Log) readHead() (uint64, string, error) {
	heads := l.readSlots()
	for _, i := range newestFirst(heads) {
		if heads[i].err == nil {
			return heads[i].seq, heads[i].hash, nil
		}
	}
	for _, h := range heads {
		if !errors.Is(h.err, errNoHead) {
			return 0, "", h.err
		}
	}
	return 0, "", fs.ErrNotExist
}

// openSlots opens (creating them) both head slots; if it creates one, it
// syncs the directory, so that the slot's name is durable before a head
// is written to it.
func (l *Log) openSlots() error {
	created := false
	for i, name := range slotNames {
		p := filepath.Join(l.dir, name)
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			created = true
		}
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return err
		}
		l.slots[i] = f
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		l.sizes[i] = fi.Size()
	}
	if !created {
		return nil
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

func (l *Log) closeSlots() {
	for i, f := range l.slots {
		if f != nil {
			f.Close()
			l.slots[i] = nil
		}
	}
}

// writeSlot writes line to slot i in place and syncs it.
func (l *Log) writeSlot(i int, line []byte) error {
	f := l.slots[i]
	if _, err := f.WriteAt(line, 0); err != nil {
		return err
	}
	if n := int64(len(line)); n != l.sizes[i] {
		if err := f.Truncate(n); err != nil {
			return err
		}
		l.sizes[i] = n
	}
	return dataSync(f)
}

// headLine returns the head line naming record seq, signed if the log has
// a key.
func (l *Log) headLine(seq uint64, hash string) []byte {
	sig := "-"
	if len(l.opts.Key) == ed25519.PrivateKeySize {
		sig = base64.StdEncoding.EncodeToString(ed25519.Sign(l.opts.Key, l.headMessage(seq, hash)))
	}
	return fmt.Appendf(nil, "%s %d %s %s\n", headMagic, seq, hash, sig)
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
	// The log's fsync and the head's write and fsync (to the slot not
	// holding the current head) overlap: a crash in between leaves a
	// slot naming records the log lacks, which Open passes over for the
	// other, and the records for a tail it cuts off.
	next := 1
	if l.cur == 1 {
		next = 0
	}
	herr := make(chan error, 1)
	go func() { herr <- l.writeSlot(next, l.headLine(seq, hash)) }()
	err := l.f.Sync()
	if e := <-herr; err == nil {
		err = e
	}
	if err != nil {
		// The slot may hold a head naming records that were not
		// synced: make it the current head's again (or empty).
		if l.cur >= 0 {
			l.writeSlot(next, l.headLine(l.seq, l.hash))
		} else if l.slots[next].Truncate(0) == nil {
			l.sizes[next] = 0
			dataSync(l.slots[next])
		}
		return errs.E(errs.Op("audit.Append"), err)
	}
	l.seq, l.hash, l.cur = seq, hash, next
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
	heads := l.readSlots()
	otherSeq := uint64(0) // the older slot's seq: its record's hash is kept
	if o := heads[newestFirst(heads)[1]]; o.err == nil {
		otherSeq = o.seq
	}
	otherHash := ""
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
		if uint64(n) == otherSeq {
			otherHash = hash
		}
	}
	// Every slot that is not empty holds a whole, signed head (Open
	// rewrote one a crash left torn); the newest names the last record,
	// the other an earlier one.
	var newest, other slotHead
	found := false
	for _, i := range newestFirst(heads) {
		h := heads[i]
		switch {
		case errors.Is(h.err, errNoHead):
		case h.err != nil:
			return n, errs.E(op, errs.Corrupt, errs.Path(filepath.Join(l.dir, slotNames[i])), h.err)
		case !found:
			newest, found = h, true
		default:
			other = h
		}
	}
	if !found {
		if n == 0 {
			return 0, nil
		}
		return bad(n-1, "the log has no head")
	}
	if newest.seq != uint64(n) {
		return bad(min(n, int(newest.seq)), "the head names %d records, the log holds %d (cut short or extended)", newest.seq, n)
	}
	if newest.hash != hash {
		return bad(n-1, "the last record does not match the head (edited)")
	}
	if other.line != nil && otherHash != other.hash {
		return bad(int(other.seq)-1, "record %d does not match the previous head (edited)", other.seq)
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
	l.closeSlots()
	if ferr != nil {
		return ferr
	}
	return err
}
