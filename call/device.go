package call

// The tree device (docs/coins.md §8.9): the program's window on the world.
//
// A request is written by DMA (data RAM → device) on a controller bound to
// the device's slot, and carried out within that DMW:
//
//	request = op u8 ‖ len u16 ‖ path[len] ‖ payload
//
//	0x01 GET     path           answer: the value's object bytes
//	0x02 LIST    path           answer: entries (kind u8 ‖ len u16 ‖ name)…
//	0x03 PUT     path, object   collect a put of the object at path
//	0x04 DELETE  path           collect a delete of path
//	0x05 INPUT   —              answer: the input's object bytes
//	0x06 OUTPUT  — , object     set the call's output
//	0x07 SCHEMA  name           answer: the 32-byte id of /sys/schemas/NAME
//
// The answer is read by DMA (device → data RAM), continuing where the last
// read stopped. A SEND (DVW) with out[0] = 0 fills the input buffer with
// in[0] = the last request's status, in[1:5] = the answer's length (u32),
// in[5:9] = the bytes of it not yet read (u32).

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/coins"
	"github.com/coalescent/coal/errs"
)

// TreeSlot is the device slot of the tree device in a call.
const TreeSlot = 4

// Requests.
const (
	OpGet    byte = 0x01
	OpList   byte = 0x02
	OpPut    byte = 0x03
	OpDelete byte = 0x04
	OpInput  byte = 0x05
	OpOutput byte = 0x06
	OpSchema byte = 0x07
)

// Statuses of a request.
const (
	StatusOK       byte = 0x00
	StatusNotFound byte = 0x01 // missing, deleted, or not readable by the caller
	StatusBad      byte = 0x02 // a malformed request
	StatusLimit    byte = 0x03 // beyond a limit (the call then fails)
	StatusNotValue byte = 0x04 // a directory or blob where a value was asked, or a value where a directory was
)

// Limits of one call.
const (
	// MaxWrites bounds the puts and deletes of one call.
	MaxWrites = 1 << 20
	// MaxWriteBytes bounds the object bytes one call puts.
	MaxWriteBytes = 256 << 20
	// MaxMemory is the memory limit of every call's machine (fixed: a
	// re-execution must meet the same limit).
	MaxMemory = 64 << 20
)

// List entry kinds.
const (
	KindValue byte = 1
	KindDir   byte = 2
)

var treeID = func() (id [coins.IDSize]byte) { copy(id[:], "coal.tree"); return }()

// device is the tree device of one run. Its state depends only on the
// parent tree, the reader's filter, the input, the entry and the requests,
// so a run is deterministic.
type device struct {
	st       tree.Store // reads the parent tree; objects are never written to it
	tr       *tree.Tree
	root     coda.ID
	readable func(path string) bool // nil: everything
	onRead   func(action, path string, err error)
	input    []byte

	writes     []cdb.CallWrite
	pending    map[string]int // path → index in writes
	writeBytes int
	output     []byte
	fatal      error // a limit broken: the call fails

	dirs    map[string]*dirCache // the directories GET read from
	reg     *coda.Registry       // /sys/schemas of root, loaded on first SCHEMA
	status  byte
	answer  []byte
	off     int
	request []byte
}

func newDevice(st tree.Store, root coda.ID, readable func(string) bool, input []byte) *device {
	return &device{st: st, tr: tree.New(st), root: root, readable: readable, input: input, pending: map[string]int{}, dirs: map[string]*dirCache{}}
}

// dirCache holds a directory's entries once GET has read many values of
// it: one listing then answers them all, where each tree.Get would walk
// (and decode) the path from the root again.
type dirCache struct {
	gets, after int
	ents        map[string]tree.Entry // nil until listed
}

// listAfter is how many GETs in one directory make the device list it,
// at least; a directory of n live values is listed after n/listShare
// GETs, so that listing it costs no more than the lookups it saves.
const (
	listAfter = 16
	listShare = 32
)

// lookup is tree.Get(d.root, p), answered from the directory's listing
// when it is read often.
func (d *device) lookup(p string) (tree.Entry, error) {
	i := strings.LastIndexByte(p, '/')
	dir, name := p[:i], p[i+1:]
	if dir == "" {
		dir = "/"
	}
	c := d.dirs[dir]
	if c == nil {
		c = &dirCache{after: listAfter}
		if e, err := d.tr.Get(d.root, dir); err == nil && e.Kind == tree.KindDir {
			c.after = max(listAfter, int(min(e.Live, 1<<40)/listShare))
		}
		d.dirs[dir] = c
	}
	c.gets++
	if c.ents == nil && c.gets > c.after {
		ents, err := d.tr.List(d.root, dir)
		if err != nil {
			ents = nil // not a live directory: every name in it is missing
		}
		c.ents = make(map[string]tree.Entry, len(ents))
		for _, e := range ents {
			if _, ok := c.ents[e.Name]; !ok { // a value before a directory of the same name
				c.ents[e.Name] = e.Entry
			}
		}
	}
	if c.ents == nil {
		return d.tr.Get(d.root, p)
	}
	e, ok := c.ents[name]
	if !ok {
		return tree.Entry{}, errs.E(errs.NotExist, errs.Path(p), "tree: no such path")
	}
	return e, nil
}

func (d *device) ID() [coins.IDSize]byte { return treeID }

// Send answers the status query (out[0] = 0); other commands do nothing.
func (d *device) Send(out, in *[coins.BufferSize]byte, done bool) error {
	if out[0] != 0 {
		return nil
	}
	clear(in[:])
	in[0] = d.status
	binary.LittleEndian.PutUint32(in[1:], uint32(len(d.answer)))
	binary.LittleEndian.PutUint32(in[5:], uint32(len(d.answer)-d.off))
	return nil
}

// Transfer carries out a request (Write) or reads the answer.
func (d *device) Transfer(r coins.DMARequest) (uint32, error) {
	if !r.Write {
		n, _ := r.Window.WriteAt(d.answer[d.off:], 0)
		if n < 0 {
			n = 0
		}
		d.off += n
		return uint32(n), nil
	}
	n := r.Window.Len()
	if n > cdb.MaxValueSize+3+0xFFFF {
		d.reply(StatusLimit, nil)
		return 0, errs.E(errs.Limit, "tree device: request too large")
	}
	d.request = slices.Grow(d.request[:0], n)[:n]
	if _, err := r.Window.ReadAt(d.request, 0); err != nil && n > 0 {
		d.reply(StatusBad, nil)
		return 0, err
	}
	st, err := d.do(d.request)
	if st != StatusOK {
		if err == nil {
			err = fmt.Errorf("tree device: status %d", st)
		}
		return uint32(n), err
	}
	return uint32(n), nil
}

func (d *device) reply(status byte, answer []byte) {
	d.status, d.answer, d.off = status, answer, 0
}

func (d *device) do(req []byte) (byte, error) {
	d.reply(StatusOK, nil)
	if len(req) < 3 {
		d.status = StatusBad
		return StatusBad, nil
	}
	op := req[0]
	n := int(binary.LittleEndian.Uint16(req[1:]))
	if 3+n > len(req) {
		d.status = StatusBad
		return StatusBad, nil
	}
	arg, payload := string(req[3:3+n]), req[3+n:]
	var st byte
	switch op {
	case OpGet:
		st = d.get(arg)
	case OpList:
		st = d.list(arg)
	case OpPut:
		st = d.put(arg, payload, false)
	case OpDelete:
		st = d.put(arg, nil, true)
	case OpInput:
		if d.input == nil {
			st = StatusNotFound
		} else {
			d.answer = d.input
		}
	case OpOutput:
		if len(payload) < coda.IDSize || len(payload) > cdb.MaxValueSize {
			st = StatusBad
		} else {
			d.output = bytes.Clone(payload)
		}
	case OpSchema:
		st = d.schema(arg)
	default:
		st = StatusBad
	}
	d.status = st
	return st, nil
}

// canon returns the clean form of an absolute path, or false.
func canon(p string) (string, bool) {
	segs, err := tree.SplitPath(p)
	if err != nil || !strings.HasPrefix(p, "/") {
		return "", false
	}
	return tree.JoinPath(segs), true
}

func (d *device) can(p string, dir bool) bool {
	if d.readable == nil || p == "/" {
		return true
	}
	return d.readable(p) || dir && d.readable(p+"/")
}

func (d *device) get(path string) byte {
	p, ok := canon(path)
	if !ok || p == "/" {
		return StatusBad
	}
	if i, ok := d.pending[p]; ok {
		w := d.writes[i]
		if w.Delete {
			return StatusNotFound
		}
		d.answer = w.Data
		return StatusOK
	}
	e, err := d.lookup(p)
	if err != nil || !d.can(p, e.Kind == tree.KindDir) {
		d.read("call-get", p, errs.E(errs.NotExist, errs.Path(p), "no such path"))
		return StatusNotFound
	}
	if e.Kind != tree.KindValue {
		d.read("call-get", p, nil)
		return StatusNotValue
	}
	b, err := d.st.Get(e.ID)
	if err != nil {
		d.read("call-get", p, err)
		return StatusNotFound
	}
	if len(b) >= coda.IDSize && coda.ID(b[:coda.IDSize]) == coda.BlobSchema().ID {
		d.read("call-get", p, nil)
		return StatusNotValue
	}
	d.read("call-get", p, nil)
	d.answer = b
	return StatusOK
}

func (d *device) read(action, p string, err error) {
	if d.onRead != nil {
		d.onRead(action, p, err)
	}
}

func (d *device) list(path string) byte {
	p, ok := canon(path)
	if !ok {
		return StatusBad
	}
	dir := strings.TrimSuffix(p, "/")
	kinds := map[string]byte{}
	ents, err := d.tr.List(d.root, p)
	if err == nil && d.can(p, true) {
		for _, e := range ents {
			c := dir + "/" + e.Name
			switch {
			case e.Kind == tree.KindValue && d.can(c, false):
				if kinds[e.Name] == 0 {
					kinds[e.Name] = KindValue
				}
			case e.Kind == tree.KindDir && d.can(c, true):
				kinds[e.Name] = KindDir
			}
		}
	}
	// The call's own writes to children of p.
	for wp, i := range d.pending {
		if !strings.HasPrefix(wp, dir+"/") || strings.Contains(wp[len(dir)+1:], "/") {
			continue
		}
		name := wp[len(dir)+1:]
		if d.writes[i].Delete {
			if kinds[name] == KindValue {
				delete(kinds, name)
			}
		} else if kinds[name] == 0 {
			kinds[name] = KindValue
		}
	}
	if len(kinds) == 0 && (err != nil || !d.can(p, true)) {
		d.read("call-list", p, errs.E(errs.NotExist, errs.Path(p), "no such directory"))
		return StatusNotFound
	}
	d.read("call-list", p, nil)
	names := make([]string, 0, len(kinds))
	for n := range kinds {
		names = append(names, n)
	}
	slices.Sort(names)
	var out []byte
	for _, n := range names {
		out = append(out, kinds[n])
		out = binary.LittleEndian.AppendUint16(out, uint16(len(n)))
		out = append(out, n...)
	}
	if len(out) > cdb.MaxValueSize {
		d.fatal = errs.E(errs.Limit, errs.Path(p), "tree device: listing too large")
		return StatusLimit
	}
	d.answer = out
	return StatusOK
}

func (d *device) put(path string, obj []byte, del bool) byte {
	p, ok := canon(path)
	if !ok || p == "/" {
		return StatusBad
	}
	if !del && (len(obj) < coda.IDSize || len(obj) > cdb.MaxValueSize) {
		return StatusBad
	}
	if len(d.writes) >= MaxWrites || d.writeBytes+len(obj) > MaxWriteBytes {
		d.fatal = errs.E(errs.Limit, errs.Path(p), fmt.Sprintf("tree device: more than %d writes or %d bytes written", MaxWrites, MaxWriteBytes))
		return StatusLimit
	}
	d.writeBytes += len(obj)
	w := cdb.CallWrite{Path: p, Data: bytes.Clone(obj), Delete: del}
	if i, ok := d.pending[p]; ok {
		// A later write to the same path replaces the earlier one in
		// place: the tree only sees the last.
		d.writes[i] = w
		return StatusOK
	}
	d.pending[p] = len(d.writes)
	d.writes = append(d.writes, w)
	return StatusOK
}

func (d *device) schema(name string) byte {
	if d.reg == nil {
		reg, err := cdb.SchemasAt(d.st, d.root)
		if err != nil {
			return StatusNotFound
		}
		d.reg = reg
	}
	if d.readable != nil && !d.readable(cdb.SchemasDir+"/"+name) {
		return StatusNotFound
	}
	s, ok := d.reg.Lookup(name)
	if !ok {
		return StatusNotFound
	}
	d.answer = s.ID[:]
	return StatusOK
}
