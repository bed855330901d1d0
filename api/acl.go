package api

import (
	"fmt"
	"net/http"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// The ACL and group routes: coal acl and coal group (internal/cli/acl.go,
// group.go) as the request's identity. What they read and edit is package
// acl's (acl.Snapshot); the handlers parse, name principals and commit.

// parseWho reads a principal as coal takes one (acl.ParsePrincipal): a
// name that is not anyone, group:NAME or a public key names a key of this
// node's home.
func (s *server) parseWho(text string) (acl.Who, error) {
	return acl.ParsePrincipal(text, func(name string) ([32]byte, error) {
		id, err := s.h.Key(name)
		if err != nil {
			return [32]byte{}, err
		}
		return id.Public32(), nil
	})
}

// keyNames returns the local names of the keys among whos that this
// node's home holds, by their text form (ed25519:…), for the CLI to show
// beside them.
func (s *server) keyNames(whos ...acl.Who) map[string]string {
	var names map[string]string
	var byKey map[string]string
	for _, w := range whos {
		if w.Kind != acl.KeyWho {
			continue
		}
		if byKey == nil {
			byKey = map[string]string{s.h.NodeKey().Key(): cdb.NodeKeyName}
			if keys, err := s.h.Keys(); err == nil {
				for _, k := range keys {
					byKey[k.Public] = k.Name
				}
			}
		}
		k := w.String()
		if n, ok := byKey[k]; ok {
			if names == nil {
				names = map[string]string{}
			}
			names[k] = n
		}
	}
	return names
}

// snapshot returns the commit at names (the head if "") of the request's
// world as the caller sees it. With view, the commit is resolved through
// the caller's view (one it may not see is unknown); without, in the
// world: acl show --at answers what the caller could do then, also at a
// commit that a later revocation hides from it.
func (s *server) snapshot(r *http.Request, c *call, at string, view bool) (*acl.Snapshot, error) {
	v, err := s.view(r, c)
	if err != nil {
		return nil, err
	}
	var id coda.ID
	switch {
	case at == "":
		id, err = v.World().Head()
	case view:
		id, err = rev(v, "at", at)
	default:
		if id, err = v.World().Resolve(at); err != nil {
			err = fmt.Errorf("at: %w", err)
		}
	}
	if err != nil {
		return nil, err
	}
	return acl.NewSnapshot(v, id)
}

func (s *server) aclShow(w http.ResponseWriter, r *http.Request, c *call) error {
	sn, err := s.snapshot(r, c, r.URL.Query().Get("at"), false)
	if err != nil {
		return err
	}
	// {path...} drops the leading slash; a trailing one (a directory's
	// entries) is kept.
	sh, err := sn.Show(c.who.Public32(), treePath(r))
	if err != nil {
		return err
	}
	out := ACLShow{Path: sh.Path, As: c.who.Key(), Rights: sh.Rights, Source: sh.Source, Rules: []ACLRule{}}
	whos := []acl.Who{acl.Key(c.who.Public32())}
	for _, rule := range sh.Rules {
		out.Rules = append(out.Rules, ACLRule{ACL: rule.ACL, Who: rule.Who, Rights: rule.Rights})
		whos = append(whos, rule.Who)
	}
	out.Names = s.keyNames(whos...)
	return writeJSON(w, 0, out)
}

func (s *server) grant(w http.ResponseWriter, r *http.Request, c *call) error {
	var req GrantRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Path == "" || req.Who == "" {
		return errs.E(errs.Invalid, "want path and who")
	}
	rights, err := acl.ParseRights(req.Rights)
	if err != nil {
		return errs.E(errs.Invalid, err)
	}
	who, err := s.parseWho(req.Who)
	if err != nil {
		return err
	}
	sn, err := s.snapshot(r, c, "", true)
	if err != nil {
		return err
	}
	op, msg, err := sn.Grant(req.Path, who, rights)
	if err != nil {
		return err
	}
	return s.commit(w, r, c, []cdb.Op{op}, msg)
}

func (s *server) revoke(w http.ResponseWriter, r *http.Request, c *call) error {
	var req RevokeRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Path == "" || req.Who == "" {
		return errs.E(errs.Invalid, "want path and who")
	}
	who, err := s.parseWho(req.Who)
	if err != nil {
		return err
	}
	sn, err := s.snapshot(r, c, "", true)
	if err != nil {
		return err
	}
	op, msg, err := sn.Revoke(req.Path, who, req.Force)
	if err != nil {
		return err
	}
	return s.commit(w, r, c, []cdb.Op{op}, msg)
}

// group is the message of one group, with the local names of its keys.
func (s *server) groupMessage(g acl.NamedGroup) Group {
	return Group{Name: g.Name, Members: g.Members, Names: s.keyNames(g.Members...)}
}

func (s *server) groups(w http.ResponseWriter, r *http.Request, c *call) error {
	sn, err := s.snapshot(r, c, "", true)
	if err != nil {
		return err
	}
	gs, err := sn.Groups()
	if err != nil {
		return err
	}
	out := []Group{}
	for _, g := range gs {
		out = append(out, s.groupMessage(g))
	}
	return writeJSON(w, 0, out)
}

func (s *server) group(w http.ResponseWriter, r *http.Request, c *call) error {
	sn, err := s.snapshot(r, c, "", true)
	if err != nil {
		return err
	}
	g, err := sn.Group(r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, 0, s.groupMessage(g))
}

func (s *server) groupAdd(w http.ResponseWriter, r *http.Request, c *call) error {
	var req GroupRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	return s.changeGroup(w, r, c, req.Name, req.Members, true)
}

func (s *server) groupRemove(w http.ResponseWriter, r *http.Request, c *call) error {
	var req GroupRequest
	if r.ContentLength != 0 {
		if err := s.decodeJSON(w, r, &req); err != nil {
			return err
		}
	}
	return s.changeGroup(w, r, c, r.PathValue("name"), req.Members, false)
}

func (s *server) changeGroup(w http.ResponseWriter, r *http.Request, c *call, name string, members []string, add bool) error {
	if _, err := acl.GroupPath(name); err != nil {
		return err
	}
	whos := make([]acl.Who, 0, len(members))
	for _, m := range members {
		wh, err := s.parseWho(m)
		if err != nil {
			return err
		}
		whos = append(whos, wh)
	}
	sn, err := s.snapshot(r, c, "", true)
	if err != nil {
		return err
	}
	var op cdb.Op
	var msg string
	if add {
		op, msg, err = sn.AddMembers(name, whos, members)
	} else {
		op, msg, err = sn.RemoveMembers(name, whos, members)
	}
	if err != nil {
		return err
	}
	return s.commit(w, r, c, []cdb.Op{op}, msg)
}

func (s *server) conflicts(w http.ResponseWriter, r *http.Request, c *call) error {
	v, err := s.view(r, c)
	if err != nil {
		return err
	}
	id, err := rev(v, "commit", r.URL.Query().Get("commit"))
	if err != nil {
		return err
	}
	cs, err := v.Conflicts(id)
	if err != nil {
		return err
	}
	reg, err := v.World().Schemas(id)
	if err != nil {
		return err
	}
	side := func(id coda.ID, st tree.Stamp, it *cdb.Item) ConflictSide {
		sd := ConflictSide{ID: id, Time: formatTime(hlcTime(st.Time)), Author: cdb.KeyString(st.Author[:])}
		if it != nil && it.Kind == cdb.ItemValue && it.Schema != nil {
			if j, err := it.JSON(reg); err == nil {
				sd.Value = j
			}
		}
		return sd
	}
	out := []Conflict{}
	for _, k := range cs {
		out = append(out, Conflict{Path: k.Path, Meta: k.Meta,
			Winner: side(k.Winner, k.WinnerStamp, k.WinnerItem), Loser: side(k.Loser, k.LoserStamp, k.LoserItem)})
	}
	return writeJSON(w, 0, out)
}
