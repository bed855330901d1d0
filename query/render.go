package query

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
)

// A row's value is the CODA JSON mapping of the value (docs/coda.md §6),
// with each followed link field's id replaced by
//
//	{"id": ID, "value": VALUE}   the object linked, followed in turn
//	{"id": ID, "cycle": true}    an object already on the way from the row's value
//	null                         a missing object, or one the reader may not read
//
// (a list of links becomes a list of those) and, with Select, only the
// fields selected (docs/query.md §3).

func (r *runner) row(m match) (Row, error) {
	b, err := r.render(m.s, m.v, r.chains, 0, []coda.ID{m.id}, r.q.Select)
	if err != nil {
		return Row{}, err
	}
	return Row{Path: m.path, ID: m.id, Schema: m.s, Commit: m.commit, Value: b}, nil
}

// render writes v (of schema s) as JSON, following chains (field chains
// whose first field is in s) while hops < depth; seen holds the ids on
// the way here.
func (r *runner) render(s *coda.Schema, v coda.Value, chains [][]string, hops int, seen []coda.ID, sel []string) ([]byte, error) {
	if s.Kind != coda.KindStruct || (len(chains) == 0 || hops >= r.depth) && len(sel) == 0 {
		return coda.SchemaToJSON(s, v, r.reg)
	}
	b := []byte{'{'}
	n := 0
	for i := range s.Fields {
		f := &s.Fields[i]
		if len(sel) > 0 && !slices.Contains(sel, f.Name) {
			continue
		}
		if i >= v.Len() {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		name, _ := json.Marshal(f.Name)
		b = append(b, name...)
		b = append(b, ':')
		var sub [][]string
		recurse := false
		for _, ch := range chains {
			if ch[0] == f.Name {
				if len(ch) == 1 {
					recurse = true
				} else {
					sub = append(sub, ch[1:])
				}
			}
		}
		if recurse {
			sub = append(sub, r.chains...)
		}
		if (len(sub) > 0 || recurse) && hops < r.depth && hasLink(&f.Type) {
			fb, err := r.follow(&f.Type, v.Index(i), sub, hops, seen)
			if err != nil {
				return nil, err
			}
			b = append(b, fb...)
			continue
		}
		fb, err := coda.ToJSON(&f.Type, v.Index(i), r.reg)
		if err != nil {
			return nil, err
		}
		b = append(b, fb...)
	}
	return append(b, '}'), nil
}

// follow writes the link value v of type t (link, optional link, list of
// links) with the objects linked inline.
func (r *runner) follow(t *coda.Type, v coda.Value, chains [][]string, hops int, seen []coda.ID) ([]byte, error) {
	switch t.Kind {
	case coda.KindOptional:
		if !v.IsSome() {
			return []byte("null"), nil
		}
		return r.follow(t.Elem, v.Index(0), chains, hops, seen)
	case coda.KindList:
		b := []byte{'['}
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b = append(b, ',')
			}
			eb, err := r.follow(t.Elem, v.Index(i), chains, hops, seen)
			if err != nil {
				return nil, err
			}
			b = append(b, eb...)
		}
		return append(b, ']'), nil
	}
	id := v.AsID()
	idj, _ := json.Marshal(id.String())
	if slices.Contains(seen, id) {
		return append(append([]byte(`{"id":`), idj...), `,"cycle":true}`...), nil
	}
	if !r.linkReadable(id) {
		return []byte("null"), nil
	}
	s, tv := r.load(id)
	if s == nil {
		return []byte("null"), nil
	}
	r.stats.Read++
	var keep [][]string
	for _, ch := range chains {
		if s.Kind == coda.KindStruct && s.FieldIndex(ch[0]) >= 0 {
			keep = append(keep, ch)
		}
	}
	vb, err := r.render(s, tv, keep, hops+1, append(slices.Clip(seen), id), nil)
	if err != nil {
		return nil, err
	}
	b := append([]byte(`{"id":`), idj...)
	b = append(b, `,"value":`...)
	b = append(b, vb...)
	return append(b, '}'), nil
}

// linkReadable reports whether object id is held at a path of the queried
// tree that the reader may read (docs/query.md §3: a link resolves only
// to such an object). The first call walks the tree once.
func (r *runner) linkReadable(id coda.ID) bool {
	if r.readable == nil {
		r.readable = map[coda.ID]bool{}
		r.tr.Walk(r.root, "/", func(p string, e tree.Entry) error {
			if !r.readable[e.ID] && !strings.Contains(p, "/"+IndexDir+"/") && r.read(p) {
				r.readable[e.ID] = true
			}
			return nil
		})
	}
	return r.readable[id]
}
