package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/audit"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

func (s *server) handlers() map[string]handler {
	hs := map[string]handler{
		"GET /v1/info":                             s.info,
		"GET /v1/openapi.json":                     s.openapi,
		"GET /v1/audit":                            s.audit,
		"GET /v1/worlds":                           s.worlds,
		"POST /v1/worlds":                          s.newWorld,
		"GET /v1/worlds/{world}/status":            s.status,
		"GET /v1/worlds/{world}/tree/{path...}":    s.get,
		"PUT /v1/worlds/{world}/tree/{path...}":    s.put,
		"DELETE /v1/worlds/{world}/tree/{path...}": s.del,
		"POST /v1/worlds/{world}/transactions":     s.transaction,
		"POST /v1/worlds/{world}/import":           s.importTar,
		"GET /v1/worlds/{world}/log":               s.logs,
		"GET /v1/worlds/{world}/commits/{id}":      s.show,
		"GET /v1/worlds/{world}/diff":              s.diff,
		"POST /v1/worlds/{world}/revert":           s.revert,
		"POST /v1/worlds/{world}/reset":            s.reset,
		"GET /v1/worlds/{world}/branches":          s.branches,
		"POST /v1/worlds/{world}/branches":         s.newBranch,
		"POST /v1/worlds/{world}/merge":            s.merge,
		"GET /v1/worlds/{world}/schemas":           s.schemas,
		"POST /v1/worlds/{world}/schemas":          s.addSchemas,
		"GET /v1/worlds/{world}/schemas/{name}":    s.schema,
		"GET /v1/worlds/{world}/watch":             s.watch,
		"GET /v1/worlds/{world}/conflicts":         s.conflicts,
		"GET /v1/worlds/{world}/acl/{path...}":     s.aclShow,
		"POST /v1/worlds/{world}/acl/grant":        s.grant,
		"POST /v1/worlds/{world}/acl/revoke":       s.revoke,
		"GET /v1/worlds/{world}/groups":            s.groups,
		"POST /v1/worlds/{world}/groups":           s.groupAdd,
		"GET /v1/worlds/{world}/groups/{name}":     s.group,
		"DELETE /v1/worlds/{world}/groups/{name}":  s.groupRemove,
		"GET /v1/peers":                            s.peers,
		"POST /v1/peers":                           s.connectPeer,
		"DELETE /v1/peers/{id}":                    s.removePeer,
		"POST /v1/worlds/{world}/sync":             s.sync,
		"POST /v1/worlds/{world}/call/{path...}":   s.callProgram,
		"POST /v1/worlds/{world}/triggers":         s.setTrigger,

		// Programs and the code library (api/programs.go).
		"POST /v1/worlds/{world}/programs/{path...}": s.addProgram,
		"GET /v1/worlds/{world}/source/{path...}":    s.programSource,
		"GET /v1/worlds/{world}/lib":                 s.libList,
		"GET /v1/worlds/{world}/lib/{id}":            s.libShow,
	}
	maps.Copy(hs, s.historyHandlers())
	maps.Copy(hs, s.queryHandlers())
	maps.Copy(hs, s.moduleHandlers())
	return hs
}

func (s *server) worldList() ([]World, error) {
	ws, err := s.h.Worlds()
	if err != nil {
		return nil, err
	}
	var def coda.ID
	if d, err := s.h.World(""); err == nil {
		def = d.ID()
	}
	out := []World{}
	for _, w := range ws {
		out = append(out, World{Name: w.Name, ID: w.ID, Branch: w.Branch, Head: w.Head, Default: w.ID == def})
	}
	return out, nil
}

func (s *server) info(w http.ResponseWriter, r *http.Request, c *call) error {
	ws, err := s.worldList()
	if err != nil {
		return err
	}
	info := Info{Version: s.opts.Version, Key: s.h.NodeKey().Key(), As: c.who.Key(), Worlds: ws}
	s.netInfo(&info)
	return writeJSON(w, 0, info)
}

func (s *server) worlds(w http.ResponseWriter, r *http.Request, c *call) error {
	ws, err := s.worldList()
	if err != nil {
		return err
	}
	return writeJSON(w, 0, ws)
}

func (s *server) newWorld(w http.ResponseWriter, r *http.Request, c *call) error {
	var req NewWorldRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	wd, err := s.h.NewWorldAs(req.Name, c.who)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, NewWorld{Commit: wd.ID(), World: wd.ID(), Name: wd.Name()})
}

func (s *server) audit(w http.ResponseWriter, r *http.Request, c *call) error {
	// The audit log says who read what: only the node's own identity
	// reads it.
	if err := s.nodeOnly(c, "audit: only the node key reads the audit log"); err != nil {
		return err
	}
	n, err := intParam(r, "n")
	if err != nil {
		return err
	}
	l, err := s.h.AuditLog()
	if err != nil {
		return err
	}
	recs, err := l.List(n)
	if err != nil {
		return err
	}
	if recs == nil {
		recs = []audit.Record{}
	}
	return writeJSON(w, 0, recs)
}

func (s *server) status(w http.ResponseWriter, r *http.Request, c *call) error {
	wd, err := s.world(r)
	if err != nil {
		return err
	}
	head, err := wd.Head()
	if err != nil {
		return err
	}
	cm, err := wd.LoadCommit(head)
	if err != nil {
		return err
	}
	return writeJSON(w, 0, Status{World: wd.ID(), Branch: wd.Branch(), Head: head, Root: cm.Tree, Peers: s.peerSync(c, wd.ID())})
}

func (s *server) get(w http.ResponseWriter, r *http.Request, c *call) error {
	v, at, err := s.viewAt(r, c)
	if err != nil {
		return err
	}
	p := treePath(r)
	if boolParam(r, "list") {
		return s.list(w, v, at, p)
	}
	it, err := v.Get(at, p)
	if err != nil {
		return err
	}
	w.Header().Set(KindHeader, string(it.Kind))
	meta := boolParam(r, "meta")
	if meta && it.Kind != cdb.ItemValue {
		// The client decides from this what to read next (a blob's
		// bytes, a directory's entries), at the same commit.
		out := Value{Path: it.Path, Kind: string(it.Kind), At: at}
		if it.Kind == cdb.ItemBlob {
			out.ID, out.Size = it.ID, it.Size
		}
		return writeJSON(w, 0, out)
	}
	switch it.Kind {
	case cdb.ItemDir:
		if boolParam(r, "raw") {
			return errs.E(errs.Invalid, errs.Path(it.Path), "is a directory, which has no bytes (list it without raw=1, or with coal ls)")
		}
		ents, err := v.List(at, p)
		if err != nil {
			return err
		}
		out := []Entry{}
		for _, e := range ents {
			out = append(out, Entry{Name: e.Name, Dir: e.Kind == cdb.ItemDir, Kind: string(e.Kind), ID: e.ID, Size: e.Size, Withheld: e.Withheld})
		}
		return writeJSON(w, 0, out)
	case cdb.ItemBlob:
		b, err := v.OpenBlob(at, p)
		if err != nil {
			return err
		}
		defer b.Close()
		ct := mime.TypeByExtension(path.Ext(p))
		if ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.Header().Set("ETag", `"`+it.ID.String()+`"`)
		if boolParam(r, "download") {
			// Save as the path's last segment (RFC 6266; non-ASCII
			// names as filename*=UTF-8''...).
			w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(it.Path)}))
		}
		http.ServeContent(w, r, "", stampTime(it), b)
		return nil
	}
	if boolParam(r, "raw") {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("ETag", `"`+it.ID.String()+`"`)
		_, err := w.Write(it.Raw)
		return err
	}
	if it.Schema == nil {
		return errs.E(errs.NotExist, errs.Path(it.Path), fmt.Sprintf("the schema of object %s is not in /sys/schemas (read its bytes with raw=1: coal get --raw)", it.ID))
	}
	reg, err := v.World().Schemas(at)
	if err != nil {
		return err
	}
	j, err := it.JSON(reg)
	if err != nil {
		return errs.E(errs.Path(it.Path), err)
	}
	w.Header().Set("ETag", `"`+it.ID.String()+`"`)
	if meta {
		return writeJSON(w, 0, Value{Path: it.Path, ID: it.ID, Kind: string(it.Kind), Schema: it.Schema.ID, Value: j, At: at})
	}
	w.Header().Set("Content-Type", "application/json")
	_, err = w.Write(append(j, '\n'))
	return err
}

func (s *server) commit(w http.ResponseWriter, r *http.Request, c *call, ops []cdb.Op, msg string) error {
	wd, err := s.world(r)
	if err != nil {
		return err
	}
	ci, err := wd.Commit(r.Context(), c.who, ops, msg)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if r.Method == http.MethodPut || r.Method == http.MethodPost {
		status = http.StatusCreated
	}
	return writeJSON(w, status, CommitResult{Commit: ci.ID})
}

func (s *server) put(w http.ResponseWriter, r *http.Request, c *call) error {
	p := treePath(r)
	q := r.URL.Query()
	msg := q.Get("message")
	if msg == "" {
		msg = "put " + p
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		b, err := readBody(w, r, s.opts.MaxJSON)
		if err != nil {
			return err
		}
		if !json.Valid(b) {
			// The body is the value at p: errors name it so.
			var v any
			return errs.E(errs.Invalid, jsonError(p, b, json.Unmarshal(b, &v)))
		}
		return s.commit(w, r, c, []cdb.Op{{Kind: cdb.Put, Path: p, Schema: q.Get("schema"), JSON: b}}, msg)
	}
	if q.Get("schema") != "" {
		return errs.E(errs.Invalid, "schema: a blob has no schema (send a value as application/json)")
	}
	size := r.ContentLength
	if size > s.opts.MaxBlob {
		return errs.E(errs.Limit, fmt.Sprintf("request body over %d bytes", s.opts.MaxBlob))
	}
	if size >= 0 && size <= smallBlob {
		// Small: read whole, then committed as one (cdb does not stage
		// bytes already in memory).
		b, err := readBody(w, r, size)
		if err != nil {
			return uploadError(r, err, s.opts.MaxBlob)
		}
		return s.commit(w, r, c, []cdb.Op{{Kind: cdb.PutBlob, Path: p, Blob: bytes.NewReader(b), Size: size}}, msg)
	}
	if err := s.checkWrite(r, c, p); err != nil {
		return err
	}
	body := http.MaxBytesReader(w, r.Body, s.opts.MaxBlob)
	err := s.commit(w, r, c, []cdb.Op{{Kind: cdb.PutBlob, Path: p, Blob: body, Size: size}}, msg)
	return uploadError(r, err, s.opts.MaxBlob)
}

func isMaxBytes(err error) bool {
	var mbe *http.MaxBytesError
	return errorsAs(err, &mbe)
}

func (s *server) del(w http.ResponseWriter, r *http.Request, c *call) error {
	p := treePath(r)
	msg := r.URL.Query().Get("message")
	if msg == "" {
		msg = "rm " + p
	}
	return s.commit(w, r, c, []cdb.Op{{Kind: cdb.Delete, Path: p, Recursive: boolParam(r, "recursive")}}, msg)
}

func (s *server) transaction(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := readBody(w, r, s.opts.MaxJSON)
	if err != nil {
		return err
	}
	ops, err := ParseOps("body", b)
	if err != nil {
		return err
	}
	msg := r.URL.Query().Get("message")
	if msg == "" {
		msg = fmt.Sprintf("apply %d ops", len(ops))
	}
	return opError(ops, s.commit(w, r, c, ops, msg))
}

var opKinds = map[string]cdb.OpKind{"put": cdb.Put, "delete": cdb.Delete, "move": cdb.Move, "copy": cdb.Copy, "mkdir": cdb.Mkdir}

// ParseOps reads a JSON list of ops (coal apply's OPS.json) into cdb ops;
// errors name the op (NAME: ops[i]).
func ParseOps(name string, data []byte) ([]cdb.Op, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, errs.E(errs.Invalid, jsonError(name, data, err)+" (want a JSON list of ops)")
	}
	if len(raw) == 0 {
		return nil, errs.E(errs.Invalid, errs.Path(name), "no ops")
	}
	ops := make([]cdb.Op, 0, len(raw))
	for i, r := range raw {
		where := fmt.Sprintf("%s: ops[%d]", name, i)
		bad := func(format string, args ...any) error {
			return errs.E(errs.Invalid, errs.Path(where), fmt.Sprintf(format, args...))
		}
		dec := json.NewDecoder(bytes.NewReader(r))
		dec.DisallowUnknownFields()
		var a Op
		if err := dec.Decode(&a); err != nil {
			return nil, bad("%v", err)
		}
		kind, ok := opKinds[a.Op]
		if !ok {
			return nil, bad("unknown op %q (want put, delete, move, copy or mkdir)", a.Op)
		}
		if a.Path == "" {
			return nil, bad("no path")
		}
		hasValue := len(a.Value) > 0
		switch {
		case kind == cdb.Put && !hasValue:
			return nil, bad("put %s: no value", a.Path)
		case kind != cdb.Put && hasValue:
			return nil, bad("%s %s: value is for put only", a.Op, a.Path)
		case (kind == cdb.Move || kind == cdb.Copy) && a.From == "":
			return nil, bad("%s %s: no from", a.Op, a.Path)
		case kind != cdb.Move && kind != cdb.Copy && a.From != "":
			return nil, bad("%s %s: from is for move and copy only", a.Op, a.Path)
		case kind == cdb.Mkdir && a.Schema == "":
			return nil, bad("mkdir %s: no schema", a.Path)
		case kind != cdb.Put && kind != cdb.Mkdir && a.Schema != "":
			return nil, bad("%s %s: schema is for put and mkdir only", a.Op, a.Path)
		case kind != cdb.Delete && a.Recursive:
			return nil, bad("%s %s: recursive is for delete only", a.Op, a.Path)
		}
		ops = append(ops, cdb.Op{Path: a.Path, Kind: kind, Schema: a.Schema, JSON: a.Value, From: a.From, Recursive: a.Recursive})
	}
	return ops, nil
}

func (s *server) logs(w http.ResponseWriter, r *http.Request, c *call) error {
	v, err := s.view(r, c)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	n, err := intParam(r, "n")
	if err != nil {
		return err
	}
	// The head, named, so that the audit log records where the log began.
	from, err := rev(v, "from", q.Get("from"))
	if err != nil {
		return err
	}
	cs, err := v.Log(from, q.Get("path"), n)
	if err != nil {
		return err
	}
	out := []CommitSummary{}
	for _, ci := range cs {
		out = append(out, summarize(ci))
	}
	return writeJSON(w, 0, out)
}

func (s *server) show(w http.ResponseWriter, r *http.Request, c *call) error {
	v, err := s.view(r, c)
	if err != nil {
		return err
	}
	id, err := v.Resolve(r.PathValue("id"))
	if err != nil {
		return err
	}
	cm, _, err := v.LoadCommit(id)
	if err != nil {
		return err
	}
	full, err := v.World().LoadCommit(cm.ID)
	if err != nil {
		return err
	}
	sig := "none"
	if !full.IsMerge() {
		sig = "good"
		if full.Verify() != nil {
			sig = "bad"
		}
	}
	sum := summarize(cm.Info())
	d := CommitDetail{ID: sum.ID, World: v.World().ID(), Parents: sum.Parents, Tree: sum.Tree, Author: sum.Author,
		Time: sum.Time, HLC: sum.HLC, Message: sum.Message, Signature: sig, Ops: []Change{}, Conflicts: []ConflictRef{}}
	for _, o := range cm.Ops {
		ch, id := "put", o.ID
		if o.Delete {
			ch, id = "delete", coda.ID{}
		}
		d.Ops = append(d.Ops, Change{Path: o.Path, Meta: o.Meta, Change: ch, ID: id})
	}
	for _, k := range cm.Conflicts {
		d.Conflicts = append(d.Conflicts, ConflictRef{Path: k.Path, Meta: k.Meta, Winner: k.Winner, Loser: k.Loser})
	}
	d.Call = callRecord(full.Call)
	return writeJSON(w, 0, d)
}

func (s *server) diff(w http.ResponseWriter, r *http.Request, c *call) error {
	v, err := s.view(r, c)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if q.Get("a") == "" {
		return errs.E(errs.Invalid, "a: empty commit name")
	}
	a, err := rev(v, "a", q.Get("a"))
	if err != nil {
		return err
	}
	var b coda.ID
	if q.Get("b") != "" {
		if b, err = rev(v, "b", q.Get("b")); err != nil {
			return err
		}
	}
	out := []DiffEntry{}
	err = v.Diff(a, b, func(ch tree.Change) error {
		k := ch.Kind()
		if k == tree.Hidden || k == tree.Changed && ch.A.ID == ch.B.ID {
			return nil
		}
		d := DiffEntry{Path: ch.Path, Meta: ch.Meta, Change: k.String()}
		if ch.A.Kind == tree.KindValue {
			d.A = ch.A.ID
		}
		if ch.B.Kind == tree.KindValue {
			d.B = ch.B.ID
		}
		out = append(out, d)
		return nil
	})
	if err != nil {
		return err
	}
	return writeJSON(w, 0, out)
}

func (s *server) revert(w http.ResponseWriter, r *http.Request, c *call) error {
	var req RevertRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	v, err := s.view(r, c)
	if err != nil {
		return err
	}
	id, err := rev(v, "commit", req.Commit)
	if err != nil {
		return err
	}
	ci, skipped, err := v.World().Revert(r.Context(), c.who, id)
	if err != nil {
		if len(skipped) > 0 {
			// What was left alone explains why nothing was reverted.
			tail := "was changed again later; left as it is"
			if len(skipped) > 1 {
				tail = "were changed again later; left as they are"
			}
			return errs.E(errs.KindOf(err), fmt.Errorf("%w: %s %s", err, strings.Join(skipped, ", "), tail))
		}
		return err
	}
	if skipped == nil {
		skipped = []string{}
	}
	return writeJSON(w, http.StatusCreated, RevertResult{Commit: ci.ID, Reverted: id, Skipped: skipped})
}

func (s *server) reset(w http.ResponseWriter, r *http.Request, c *call) error {
	var req ResetRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	v, err := s.view(r, c)
	if err != nil {
		return err
	}
	if req.To == "" {
		return errs.E(errs.Invalid, "to: no commit")
	}
	id, err := rev(v, "to", req.To)
	if err != nil {
		return err
	}
	ci, err := v.World().Reset(r.Context(), c.who, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, CommitResult{Commit: ci.ID})
}

func (s *server) branchList(wd *cdb.World) ([]Branch, error) {
	bs, err := wd.Branches()
	if err != nil {
		return nil, err
	}
	out := []Branch{}
	for _, b := range bs {
		out = append(out, Branch{Name: b.Name, Head: b.Head, Current: b.Current})
	}
	return out, nil
}

func (s *server) branches(w http.ResponseWriter, r *http.Request, c *call) error {
	wd, err := s.world(r)
	if err != nil {
		return err
	}
	out, err := s.branchList(wd)
	if err != nil {
		return err
	}
	return writeJSON(w, 0, out)
}

func (s *server) newBranch(w http.ResponseWriter, r *http.Request, c *call) error {
	var req NewBranchRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	v, err := s.view(r, c)
	if err != nil {
		return err
	}
	var at coda.ID
	if req.At != "" {
		if at, err = rev(v, "at", req.At); err != nil {
			return err
		}
	}
	if err := acl.CheckRefChange(v.World(), c.who.Public32(), "make branch "+req.Name); err != nil {
		return err
	}
	if err := v.World().CreateBranch(req.Name, at); err != nil {
		return err
	}
	bs, err := s.branchList(v.World())
	if err != nil {
		return err
	}
	for _, b := range bs {
		if b.Name == req.Name {
			return writeJSON(w, http.StatusCreated, b)
		}
	}
	return errs.E(errs.Internal, "branch "+req.Name+" made but not listed")
}

func (s *server) merge(w http.ResponseWriter, r *http.Request, c *call) error {
	var req MergeRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	wd, err := s.world(r)
	if err != nil {
		return err
	}
	if err := acl.CheckRefChange(wd, c.who.Public32(), "merge "+req.Branch); err != nil {
		return err
	}
	ci, _, err := wd.Merge(r.Context(), req.Branch)
	if err != nil {
		return err
	}
	return writeJSON(w, 0, MergeResult{Commit: ci.ID, Merge: ci.Merge, FastForward: ci.FastForward, Conflicts: ci.Conflicts})
}

func (s *server) schemas(w http.ResponseWriter, r *http.Request, c *call) error {
	v, at, err := s.viewAt(r, c)
	if err != nil {
		return err
	}
	ents, err := v.List(at, cdb.SchemasDir)
	if err != nil && errs.KindOf(err) != errs.NotExist {
		return err
	}
	out := []Schema{}
	reg, err := v.World().Schemas(at)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if sc, ok := reg.Lookup(e.Name); ok {
			out = append(out, Schema{Name: e.Name, ID: sc.ID})
		}
	}
	return writeJSON(w, 0, out)
}

func (s *server) addSchemas(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := readBody(w, r, s.opts.MaxJSON)
	if err != nil {
		return err
	}
	name := r.URL.Query().Get("filename")
	if name == "" {
		name = "body.coda"
	}
	wd, err := s.world(r)
	if err != nil {
		return err
	}
	ci, scs, err := wd.AddSchemas(r.Context(), c.who, name, b)
	if err != nil {
		return err
	}
	out := SchemaAdd{Commit: ci.ID, Schemas: []Schema{}}
	for _, sc := range scs {
		out.Schemas = append(out.Schemas, Schema{Name: sc.Name, ID: sc.ID})
	}
	return writeJSON(w, http.StatusCreated, out)
}
