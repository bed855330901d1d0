package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/api/message"
	"github.com/coalescent/coal/bundle"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// The routes the CLI's branch, maintenance, bundle and key commands go
// through (docs/api.md): switch, audit --verify, fsck, replay, bundles,
// and the home's keys.

type (
	SwitchRequest    = message.SwitchRequest
	AuditVerify      = message.AuditVerify
	Fsck             = message.Fsck
	Replay           = message.Replay
	BundleStats      = message.BundleStats
	BundleApply      = message.BundleApply
	Key              = message.Key
	NewKeyRequest    = message.NewKeyRequest
	ImportKeyRequest = message.ImportKeyRequest
	KeyExport        = message.KeyExport
)

func init() {
	for name, t := range map[string]reflect.Type{
		"SwitchRequest": reflect.TypeFor[SwitchRequest](), "AuditVerify": reflect.TypeFor[AuditVerify](),
		"Fsck": reflect.TypeFor[Fsck](), "Replay": reflect.TypeFor[Replay](), "BundleApply": reflect.TypeFor[BundleApply](),
		"Key": reflect.TypeFor[Key](), "NewKeyRequest": reflect.TypeFor[NewKeyRequest](),
		"ImportKeyRequest": reflect.TypeFor[ImportKeyRequest](), "KeyExport": reflect.TypeFor[KeyExport](),
	} {
		jsonTypes[name] = t
	}
}

// untimed reports whether a route's handler runs without the request
// timeout: streams, and bodies as large as a bundle.
func untimed(rt Route) bool {
	switch rt.Method + " " + rt.Pattern {
	case "GET /v1/worlds/{world}/watch", "GET /v1/worlds/{world}/bundle",
		"POST /v1/worlds/{world}/bundle", "POST /v1/bundles":
		return true
	}
	return false
}

func (s *server) historyHandlers() map[string]handler {
	return map[string]handler{
		"POST /v1/worlds/{world}/switch":            s.switchBranch,
		"DELETE /v1/worlds/{world}/branches/{name}": s.deleteBranch,
		"GET /v1/audit/verify":                      s.auditVerify,
		"GET /v1/fsck":                              s.fsck,
		"GET /v1/worlds/{world}/replay":             s.replay,
		"GET /v1/worlds/{world}/bundle":             s.bundleCreate,
		"POST /v1/worlds/{world}/bundle":            s.bundleApply,
		"POST /v1/bundles":                          s.bundleApplyHome,
		"GET /v1/keys":                              s.keys,
		"POST /v1/keys":                             s.newKey,
		"POST /v1/keys/import":                      s.importKey,
		"GET /v1/keys/{name}/export":                s.exportKey,
	}
}

// nodeOnly refuses a call unless it acts as the node key: the audit log,
// whole-store checks and the home's private keys are the node's own.
func (s *server) nodeOnly(c *call, what string) error {
	if !bytes.Equal(c.who.Public, s.h.NodeKey().Public) {
		return errs.E(errs.Permission, what)
	}
	return nil
}

func (s *server) switchBranch(w http.ResponseWriter, r *http.Request, c *call) error {
	var req SwitchRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	wd, err := s.world(r)
	if err != nil {
		return err
	}
	if err := acl.CheckRefChange(wd, c.who.Public32(), "switch to "+req.Name); err != nil {
		return err
	}
	if err := wd.Switch(req.Name); err != nil {
		return err
	}
	head, err := wd.Head()
	if err != nil {
		return err
	}
	return writeJSON(w, 0, Branch{Name: wd.Branch(), Head: head, Current: true})
}

// deleteBranch deletes a branch: the rights of making one (admin of /),
// then cdb's refusals (main, the current branch: 400; unknown: 404).
func (s *server) deleteBranch(w http.ResponseWriter, r *http.Request, c *call) error {
	wd, err := s.world(r)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	if err := acl.CheckRefChange(wd, c.who.Public32(), "delete branch "+name); err != nil {
		return err
	}
	if _, err := wd.DeleteBranch(name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *server) auditVerify(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.nodeOnly(c, "audit: only the node key reads the audit log"); err != nil {
		return err
	}
	l, err := s.h.AuditLog()
	if err != nil {
		return err
	}
	n, err := l.Verify()
	if err != nil {
		return err
	}
	return writeJSON(w, 0, AuditVerify{Records: n})
}

func (s *server) fsck(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.nodeOnly(c, "fsck: only the node key checks the store"); err != nil {
		return err
	}
	var worlds []*cdb.World
	if name := r.URL.Query().Get("world"); name != "" {
		wd, err := s.h.World(name)
		if err != nil {
			return err
		}
		worlds = append(worlds, wd)
	} else {
		infos, err := s.h.Worlds()
		if err != nil {
			return err
		}
		for _, wi := range infos {
			wd, err := s.h.World(wi.ID.String())
			if err != nil {
				return err
			}
			worlds = append(worlds, wd)
		}
	}
	out := Fsck{Worlds: []string{}, Problems: []string{}, Withheld: []string{}}
	for _, wd := range worlds {
		out.Worlds = append(out.Worlds, wd.Name())
		_, err := wd.FsckReport(func(p string) {
			out.Problems = append(out.Problems, fmt.Sprintf("world %s: %s", wd.Name(), p))
		}, func(l string) {
			out.Withheld = append(out.Withheld, fmt.Sprintf("world %s: %s", wd.Name(), l))
		})
		if err != nil && !errs.Is(err, errs.Corrupt) {
			return err
		}
	}
	return writeJSON(w, 0, out)
}

func (s *server) replay(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.nodeOnly(c, "replay: only the node key replays a world"); err != nil {
		return err
	}
	wd, err := s.world(r)
	if err != nil {
		return err
	}
	res, err := wd.Replay(nil)
	if err != nil {
		return err
	}
	return writeJSON(w, 0, Replay{Commits: res.Count, Root: res.Root})
}

// worldRev resolves a revision parameter in the whole world, not only
// what the caller sees: a bundle carries every commit of a history (the
// values the caller may not read are withheld).
func worldRev(wd *cdb.World, name, rev string) (coda.ID, error) {
	if rev == "" {
		return coda.ID{}, nil
	}
	id, err := wd.Resolve(rev)
	if err != nil {
		return coda.ID{}, fmt.Errorf("%s: %w", name, err)
	}
	return id, nil
}

// bundleCreate streams a bundle made as the caller. Its stats follow the
// bytes in the Coal-Bundle-Stats trailer; the bundle is made whole before
// the first byte is sent, so errors are problem documents.
func (s *server) bundleCreate(w http.ResponseWriter, r *http.Request, c *call) error {
	wd, err := s.world(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var opts bundle.CreateOptions
	if opts.Since, err = worldRev(wd, "since", q.Get("since")); err != nil {
		return err
	}
	if opts.Head, err = worldRev(wd, "head", q.Get("head")); err != nil {
		return err
	}
	w.Header().Set("Trailer", message.BundleStatsTrailer)
	w.Header().Set("Content-Type", "application/octet-stream")
	st, err := bundle.Create(wd, c.who, w, opts)
	if err != nil {
		w.Header().Del("Trailer")
		return err
	}
	b, err := json.Marshal(st)
	if err != nil {
		return errs.E(errs.Internal, err)
	}
	w.Header().Set(message.BundleStatsTrailer, string(b))
	return nil
}

func bundleApplied(wd *cdb.World, res cdb.ReceiveResult) BundleApply {
	out := BundleApply{World: wd.ID(), Name: wd.Name(), Head: res.Head, Commits: res.Commits, Objects: res.Objects,
		Withheld: res.Withheld, FastForward: res.FastForward}
	if res.Merge != nil {
		out.Merge = res.Merge.ID
	}
	return out
}

// bundleApply applies the bundle in the body to {world}.
func (s *server) bundleApply(w http.ResponseWriter, r *http.Request, c *call) error {
	wd, err := s.world(r)
	if err != nil {
		return err
	}
	res, err := bundle.Apply(r.Context(), wd, http.MaxBytesReader(w, r.Body, s.opts.MaxBlob), "")
	if err != nil {
		return s.bodyError(err)
	}
	return writeJSON(w, 0, bundleApplied(wd, res))
}

// bundleApplyHome applies the bundle in the body to the world it belongs
// to, creating it if the home has none.
func (s *server) bundleApplyHome(w http.ResponseWriter, r *http.Request, c *call) error {
	wd, res, err := bundle.ApplyHome(r.Context(), s.h, http.MaxBytesReader(w, r.Body, s.opts.MaxBlob))
	if err != nil {
		return s.bodyError(err)
	}
	return writeJSON(w, 0, bundleApplied(wd, res))
}

// bodyError is err, or the limit error if the body was too large.
func (s *server) bodyError(err error) error {
	if isMaxBytes(err) {
		return errs.E(errs.Limit, fmt.Sprintf("request body over %d bytes", s.opts.MaxBlob))
	}
	return err
}

func (s *server) keys(w http.ResponseWriter, r *http.Request, c *call) error {
	ks, err := s.h.Keys()
	if err != nil {
		return err
	}
	if ks == nil {
		ks = []Key{}
	}
	return writeJSON(w, 0, ks)
}

const keysNodeOnly = "keys: only the node key manages the home's keys"

func (s *server) newKey(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.nodeOnly(c, keysNodeOnly); err != nil {
		return err
	}
	var req NewKeyRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	id, err := s.h.NewKey(req.Name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, Key{Name: req.Name, Public: id.Key()})
}

func (s *server) importKey(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.nodeOnly(c, keysNodeOnly); err != nil {
		return err
	}
	var req ImportKeyRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	id, err := s.h.ImportKey(req.Name, []byte(req.Export))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, Key{Name: id.Name, Public: id.Key()})
}

func (s *server) exportKey(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.nodeOnly(c, keysNodeOnly); err != nil {
		return err
	}
	name := r.PathValue("name")
	b, err := s.h.ExportKey(name)
	if err != nil {
		return err
	}
	return writeJSON(w, 0, KeyExport{Name: name, Export: string(b)})
}
