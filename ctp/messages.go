package ctp

// Messages (ctp.coda), each one frame of a relay.Conn. The asker's stream
// has the context [Want]; the server's [Block, Manifest, Missing]. For
// every Want the server sends one reply per id, in the order of the ids:
//
//	Want     = world (32) ‖ commit (32) ‖ uvarint(len) ‖ path ‖ uvarint(n) ‖ n × id (32)
//	Block    = uvarint(len) ‖ data                  coda.Sum(data) = the id asked for
//	Manifest = id (32) ‖ size u64 LE ‖ uvarint(n) ‖ n × (chunk id (32) ‖ len u32 LE)
//	Missing  = id (32)                              = the id asked for
//
// A Manifest's body is byte for byte store.Manifest's encoding, and its id
// is the id asked for.

import (
	_ "embed"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

//go:embed ctp.coda
var ctpCoda []byte

// MaxWantIDs is the most ids one Want may carry.
const MaxWantIDs = 4096

var (
	schemasOnce sync.Once
	schemaReg   *coda.Registry
	schemaErr   error
)

// The message schemas, set by loadSchemas.
var wantSchema, blockSchema, manifestSchema, missingSchema *coda.Schema

func loadSchemas() error {
	schemasOnce.Do(func() {
		schemaReg = coda.NewRegistry()
		if _, err := schemaReg.Compile("ctp.coda", ctpCoda); err != nil {
			schemaErr = errs.E(errs.Internal, fmt.Errorf("ctp: compile ctp.coda: %w", err))
			return
		}
		wantSchema, _ = schemaReg.Lookup("Want")
		blockSchema, _ = schemaReg.Lookup("Block")
		manifestSchema, _ = schemaReg.Lookup("Manifest")
		missingSchema, _ = schemaReg.Lookup("Missing")
	})
	return schemaErr
}

// Schemas returns the registry of CTP's messages.
func Schemas() *coda.Registry {
	if loadSchemas() != nil {
		return coda.NewRegistry()
	}
	return schemaReg
}

// Want asks a server for objects. The asker must be allowed to read Path
// at Commit (zero: the world's head) in World; each id must be the value
// at that path or, for a chunked value, one of its chunks.
type Want struct {
	World  coda.ID
	Commit coda.ID
	Path   string
	IDs    []coda.ID
}

// EncodeWant returns the object bytes of w.
func EncodeWant(w Want) ([]byte, error) {
	if err := loadSchemas(); err != nil {
		return nil, err
	}
	if err := w.check(); err != nil {
		return nil, err
	}
	ids := make([]coda.Value, len(w.IDs))
	for i, id := range w.IDs {
		ids[i] = coda.FixedBytes(id[:])
	}
	return coda.EncodeObject(wantSchema, coda.Struct(coda.FixedBytes(w.World[:]), coda.FixedBytes(w.Commit[:]),
		coda.String(w.Path), coda.List(ids...)))
}

func (w Want) check() error {
	if len(w.IDs) == 0 {
		return errs.E(errs.Invalid, "ctp: want: no ids")
	}
	if len(w.IDs) > MaxWantIDs {
		return errs.E(errs.Limit, fmt.Sprintf("ctp: want: %d ids, more than %d", len(w.IDs), MaxWantIDs))
	}
	if len(w.Path) > tree.MaxPath {
		return errs.E(errs.Limit, fmt.Sprintf("ctp: want: path of %d bytes, more than %d", len(w.Path), tree.MaxPath))
	}
	return nil
}

// DecodeWant decodes the object bytes of a Want. Errors are errs.Invalid
// (errs.Limit for too many ids or too long a path) and name the byte
// offset.
func DecodeWant(obj []byte) (Want, error) {
	if err := loadSchemas(); err != nil {
		return Want{}, err
	}
	if len(obj) < coda.IDSize || coda.ID(obj[:coda.IDSize]) != wantSchema.ID {
		return Want{}, errs.E(errs.Invalid, "ctp: not a Want")
	}
	body := obj[coda.IDSize:]
	// The decoder bounds a list's length by the bytes present, so the id
	// count is checked after decoding.
	v, err := coda.DecodeBody(wantSchema, body, coda.DecodeOptions{Resolver: schemaReg})
	if err != nil {
		return Want{}, errs.E(errs.Invalid, fmt.Errorf("ctp: want (offsets from the body, after the 32-byte schema id): %w", err))
	}
	w := Want{World: coda.ID(v.Index(0).AsBytes()), Commit: coda.ID(v.Index(1).AsBytes()), Path: v.Index(2).AsString()}
	list := v.Index(3)
	w.IDs = make([]coda.ID, list.Len())
	for i := range w.IDs {
		w.IDs[i] = coda.ID(list.Index(i).AsBytes())
	}
	if err := w.check(); err != nil {
		return Want{}, err
	}
	return w, nil
}

// Reply kinds.
const (
	replyBlock = iota + 1
	replyManifest
	replyMissing
)

// encodeBlock returns the object bytes of Block{data}.
func encodeBlock(data []byte) []byte { return appendBlock(nil, data) }

// appendBlock appends the object bytes of Block{data} to b.
func appendBlock(b, data []byte) []byte {
	return append(appendBlockHeader(b, len(data)), data...)
}

// appendBlockHeader appends what precedes a Block's n data bytes.
func appendBlockHeader(b []byte, n int) []byte {
	b = append(b, blockSchema.ID[:]...)
	return binary.AppendUvarint(b, uint64(n))
}

// blockHeaderLen returns the length of the header of the encoded Block msg.
func blockHeaderLen(msg []byte) int64 {
	_, k := binary.Uvarint(msg[coda.IDSize:])
	return int64(coda.IDSize + k)
}

// encodeManifest returns the object bytes of a Manifest.
func encodeManifest(m *store.Manifest) ([]byte, error) {
	return m.AppendBinary(append(make([]byte, 0, coda.IDSize+64+36*len(m.Chunks)), manifestSchema.ID[:]...))
}

// encodeMissing returns the object bytes of Missing{id}.
func encodeMissing(id coda.ID) []byte {
	return append(append(make([]byte, 0, 2*coda.IDSize), missingSchema.ID[:]...), id[:]...)
}

// reply is a decoded reply.
type reply struct {
	kind     int
	data     []byte          // Block
	manifest *store.Manifest // Manifest
	id       coda.ID         // Missing
}

// decodeReply decodes the object bytes of a Block, Manifest or Missing,
// rejecting every non-canonical encoding with errs.Invalid naming the byte
// offset in obj.
func decodeReply(obj []byte) (reply, error) {
	if err := loadSchemas(); err != nil {
		return reply{}, err
	}
	if len(obj) < coda.IDSize {
		return reply{}, errs.E(errs.Invalid, fmt.Sprintf("ctp: reply of %d bytes is shorter than a schema id", len(obj)))
	}
	body := obj[coda.IDSize:]
	switch coda.ID(obj[:coda.IDSize]) {
	case blockSchema.ID:
		r := coda.NewReader(body)
		n, err := r.Uvarint()
		if err != nil {
			return reply{}, errs.E(errs.Invalid, fmt.Errorf("ctp: block: length at byte %d: %w", coda.IDSize, err))
		}
		if rest := uint64(len(body) - r.Offset()); n != rest {
			return reply{}, errs.E(errs.Invalid, fmt.Sprintf("ctp: block: length %d at byte %d, but %d bytes follow", n, coda.IDSize, rest))
		}
		return reply{kind: replyBlock, data: body[r.Offset():]}, nil
	case manifestSchema.ID:
		m, err := store.DecodeManifest(body)
		if err != nil {
			return reply{}, errs.E(errs.Invalid, fmt.Errorf("ctp: manifest (body at byte %d): %v", coda.IDSize, err))
		}
		return reply{kind: replyManifest, manifest: &m}, nil
	case missingSchema.ID:
		if len(body) != coda.IDSize {
			return reply{}, errs.E(errs.Invalid, fmt.Sprintf("ctp: missing: body of %d bytes at byte %d, want %d", len(body), coda.IDSize, coda.IDSize))
		}
		return reply{kind: replyMissing, id: coda.ID(body)}, nil
	}
	return reply{}, errs.E(errs.Invalid, fmt.Sprintf("ctp: reply at byte 0: schema %s is not Block, Manifest or Missing", coda.ID(obj[:coda.IDSize])))
}
