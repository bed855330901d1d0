package call

import (
	"fmt"
	"sync"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/prog"
)

// LibDir is where a world keeps its code library (prog: /lib/NAME).
const LibDir = "/lib"

// ReadLib reads the library values of /lib in commit at (zero: the head)
// as v's reader may read them. Values it may not read, and values that are
// not Lib objects, are left out: they link nothing.
func ReadLib(v *cdb.View, at coda.ID) (map[string]*prog.Lib, error) {
	libs := map[string]*prog.Lib{}
	ents, err := v.List(at, LibDir)
	if errs.Is(err, errs.NotExist) {
		return libs, nil
	}
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if e.Kind != cdb.ItemValue || e.Withheld {
			continue
		}
		it, err := v.Get(at, LibDir+"/"+e.Name)
		if err != nil {
			if errs.Is(err, errs.NotExist) || errs.Is(err, errs.Permission) {
				continue
			}
			return nil, err
		}
		if l, err := prog.DecodeLib(it.Raw); err == nil {
			libs[e.Name] = l
		}
	}
	return libs, nil
}

// load decodes the Program object obj and returns the ROM to run, linked
// against the world's /lib if it imports library routines, and the
// address of entry ("" or "main": 0).
func load(e env, obj []byte, entry string) ([]byte, uint16, error) {
	p, err := decode(obj)
	if err != nil {
		return nil, 0, errs.E(errs.Invalid, fmt.Errorf("program %s: %w", coda.Sum(obj).Short(), err))
	}
	addr, err := p.Entry(entry)
	if err != nil {
		return nil, 0, errs.E(errs.Invalid, fmt.Errorf("program %s: %w", coda.Sum(obj).Short(), err))
	}
	rom := p.Code
	if len(p.Imports) > 0 {
		lib, err := library(e)
		if err != nil {
			return nil, 0, err
		}
		if rom, err = prog.Link(p, lib.Lookup); err != nil {
			return nil, 0, errs.E(errs.Invalid, fmt.Errorf("program %s: %w", coda.Sum(obj).Short(), err))
		}
	}
	return rom, addr, nil
}

// library reads the world's /lib as the caller may read it.
func library(e env) (*prog.Library, error) {
	lib := prog.NewLibrary()
	tr := tree.New(e.st)
	ents, err := tr.List(e.root, LibDir)
	if errs.Is(err, errs.NotExist) {
		return lib, nil
	}
	if err != nil {
		return nil, err
	}
	for _, d := range ents {
		p := LibDir + "/" + d.Name
		if d.Kind != tree.KindValue || e.readable != nil && !e.readable(p) {
			continue
		}
		b, err := e.st.Get(d.ID)
		if err != nil {
			return nil, err
		}
		if err := lib.Add(d.Name, b); err != nil {
			continue // not a library value: it links nothing
		}
	}
	return lib, nil
}

// programs caches decoded programs by object id: a program object never
// changes, and decoding one (its source checked too) costs more than
// running a small call.
var programs struct {
	sync.Mutex
	m map[coda.ID]*prog.Program
}

// maxPrograms bounds the cache.
const maxPrograms = 256

// decode is prog.Decode, cached. The Program returned is shared: callers
// must not change it.
func decode(obj []byte) (*prog.Program, error) {
	id := coda.Sum(obj)
	programs.Lock()
	p := programs.m[id]
	programs.Unlock()
	if p != nil {
		return p, nil
	}
	p, err := prog.Decode(obj)
	if err != nil {
		return nil, err
	}
	programs.Lock()
	if programs.m == nil || len(programs.m) >= maxPrograms {
		programs.m = map[coda.ID]*prog.Program{}
	}
	programs.m[id] = p
	programs.Unlock()
	return p, nil
}
