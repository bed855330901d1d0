package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/coalescent/coal/acl"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/tree"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// The ACL and group routes do what coal acl and coal group do
// (internal/cli/acl.go, group.go), as the request's identity.

// aclView reads .acl entries and groups of one revision as an identity:
// rights are evaluated on the whole tree (acl.Checker), entries are read
// only through the identity's view.
type aclView struct {
	view    *cdb.View
	rev     coda.ID
	reader  acl.Reader
	checker *acl.Checker
	who     cdb.Identity
}

func (s *server) aclView(v *cdb.View, who cdb.Identity, rev coda.ID) (*aclView, error) {
	c, err := v.World().LoadCommit(rev)
	if err != nil {
		return nil, err
	}
	r := acl.TreeReader(s.h.Store(), c.Tree)
	return &aclView{view: v, rev: rev, reader: r, checker: acl.NewChecker(r), who: who}, nil
}

func (v *aclView) item(path string) (cdb.Item, bool, error) {
	it, err := v.view.Get(v.rev, path)
	if errs.Is(err, errs.NotExist) {
		return cdb.Item{}, false, nil
	}
	return it, err == nil, err
}

func aclPathOf(dir string) (string, string, error) {
	segs, err := tree.SplitPath(dir)
	if err != nil {
		return "", "", errs.E(errs.Invalid, err)
	}
	p := tree.JoinPath(segs)
	if len(segs) == 0 {
		return p, "/" + acl.ACLName, nil
	}
	return p, p + "/" + acl.ACLName, nil
}

func readACL(v *aclView, path string) (acl.ACL, bool, error) {
	it, ok, err := v.item(path)
	if !ok {
		return acl.ACL{}, false, err
	}
	if it.Kind != cdb.ItemValue {
		return acl.ACL{}, false, errs.E(errs.Invalid, errs.Path(path), "not an ACL")
	}
	a, err := acl.DecodeACL(it.Raw)
	if err != nil {
		return acl.ACL{}, true, nil
	}
	return a, true, nil
}

// parseWho reads a principal as the CLI takes it, or a key of this home
// by name.
func (s *server) parseWho(text string) (acl.Who, error) {
	if text == "anyone" || strings.HasPrefix(text, "group:") || strings.HasPrefix(text, cdb.KeyPrefix) {
		w, err := acl.ParseWho(text)
		if err != nil {
			return acl.Who{}, errs.E(errs.Invalid, err)
		}
		return w, nil
	}
	id, err := s.h.Key(text)
	if err != nil {
		return acl.Who{}, err
	}
	return acl.Key(id.Public32()), nil
}

func (s *server) aclShow(w http.ResponseWriter, r *http.Request, c *call) error {
	v, err := s.view(r, c)
	if err != nil {
		return err
	}
	at, err := rev(v, "at", r.URL.Query().Get("at"))
	if err != nil {
		return err
	}
	path := treePath(r)
	segs, err := tree.SplitPath(strings.TrimSuffix(path, "/"))
	if err != nil {
		return errs.E(errs.Invalid, err)
	}
	p := tree.JoinPath(segs)
	judged, dirSegs := p, segs
	isDir := strings.HasSuffix(path, "/") || len(segs) == 0
	av, err := s.aclView(v, c.who, at)
	if err != nil {
		return err
	}
	if !isDir {
		it, ok, err := av.item(p)
		if err != nil {
			return err
		}
		isDir = ok && it.Kind == cdb.ItemDir
	}
	if isDir {
		judged = strings.TrimSuffix(p, "/") + "/"
	} else {
		dirSegs = segs[:len(segs)-1]
	}
	rights, src, err := av.checker.Effective(c.who.Public32(), judged)
	if err != nil {
		return err
	}
	out := ACLShow{Path: p, As: c.who.Key(), Rights: rights, Source: src, Rules: []ACLRule{}}
	for i := len(dirSegs); i >= 0; i-- {
		_, ap, err := aclPathOf(tree.JoinPath(dirSegs[:i]))
		if err != nil {
			return err
		}
		a, ok, err := readACL(av, ap)
		if err != nil {
			return err
		}
		nearest := src.ACL == ap
		for _, rule := range a.Rules {
			if ok && (nearest || rule.Rights.Has(acl.Admin)) {
				out.Rules = append(out.Rules, ACLRule{ACL: ap, Who: rule.Who, Rights: rule.Rights})
			}
		}
	}
	return writeJSON(w, 0, out)
}

func (s *server) grant(w http.ResponseWriter, r *http.Request, c *call) error {
	var req GrantRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Rights == "" {
		return errs.E(errs.Invalid, "grant: no rights given (want a comma list of read, write, admin)")
	}
	return s.changeACL(w, r, c, req.Path, req.Who, req.Rights, false)
}

func (s *server) revoke(w http.ResponseWriter, r *http.Request, c *call) error {
	var req RevokeRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	return s.changeACL(w, r, c, req.Path, req.Who, "", req.Force)
}

func (s *server) changeACL(w http.ResponseWriter, r *http.Request, c *call, dir, whoText, rights string, force bool) error {
	if dir == "" || whoText == "" {
		return errs.E(errs.Invalid, "want path and who")
	}
	p, aclPath, err := aclPathOf(dir)
	if err != nil {
		return err
	}
	who, err := s.parseWho(whoText)
	if err != nil {
		return err
	}
	var rt acl.Rights
	if rights != "" {
		if rt, err = acl.ParseRights(rights); err != nil {
			return errs.E(errs.Invalid, err)
		}
		if rt == acl.None {
			return errs.E(errs.Invalid, "grant: no rights given (want a comma list of read, write, admin)")
		}
	}
	v, err := s.view(r, c)
	if err != nil {
		return err
	}
	head, err := v.World().Head()
	if err != nil {
		return err
	}
	av, err := s.aclView(v, c.who, head)
	if err != nil {
		return err
	}
	if p != "/" {
		it, ok, err := av.item(p)
		if err != nil {
			return err
		}
		if ok && it.Kind != cdb.ItemDir {
			return errs.E(errs.Invalid, errs.Path(p), "not a directory (an .acl belongs to a directory)")
		}
	}
	a, exists, err := readACL(av, aclPath)
	if err != nil {
		return err
	}
	var msg string
	if rights != "" {
		a.Grant(who, rt)
		msg = fmt.Sprintf("acl grant %s %s %s", p, who, rt)
	} else {
		if !exists || !a.Revoke(who) {
			return errs.E(errs.NotExist, errs.Path(aclPath), fmt.Sprintf("%s has no rule here", who))
		}
		if p == "/" && !force && !hasAdmin(a) {
			return errs.E(errs.Invalid, errs.Path(aclPath), fmt.Sprintf("revoking %s would leave / with no admin (send force to do it anyway)", who))
		}
		msg = fmt.Sprintf("acl revoke %s %s", p, who)
	}
	raw, err := a.Encode()
	if err != nil {
		return err
	}
	return s.commit(w, r, c, []cdb.Op{{Kind: cdb.Put, Path: aclPath, Raw: raw}}, msg)
}

func hasAdmin(a acl.ACL) bool {
	for _, r := range a.Rules {
		if r.Rights.Has(acl.Admin) {
			return true
		}
	}
	return false
}

func groupPath(name string) (string, error) {
	if !tree.ValidName(name) {
		return "", errs.E(errs.Invalid, fmt.Sprintf("bad group name %q: a group name is a path segment", name))
	}
	return acl.GroupsDir + "/" + name, nil
}

func readGroup(v *aclView, path string) (acl.Group, bool, error) {
	it, ok, err := v.item(path)
	if !ok {
		return acl.Group{}, false, err
	}
	if it.Kind != cdb.ItemValue {
		return acl.Group{}, false, errs.E(errs.Invalid, errs.Path(path), "not a group")
	}
	g, err := acl.DecodeGroup(it.Raw)
	if err != nil {
		return acl.Group{}, false, errs.E(errs.Invalid, errs.Path(path), err)
	}
	return g, true, nil
}

func (s *server) headACLView(r *http.Request, c *call) (*aclView, error) {
	v, err := s.view(r, c)
	if err != nil {
		return nil, err
	}
	head, err := v.World().Head()
	if err != nil {
		return nil, err
	}
	return s.aclView(v, c.who, head)
}

func (s *server) groups(w http.ResponseWriter, r *http.Request, c *call) error {
	av, err := s.headACLView(r, c)
	if err != nil {
		return err
	}
	ents, err := av.view.List(av.rev, acl.GroupsDir)
	if err != nil && !errs.Is(err, errs.NotExist) {
		return err
	}
	out := []Group{}
	for _, d := range ents {
		if d.Kind != cdb.ItemValue {
			continue
		}
		g, _, err := readGroup(av, acl.GroupsDir+"/"+d.Name)
		if err != nil {
			return err
		}
		if g.Members == nil {
			g.Members = []acl.Who{}
		}
		out = append(out, Group{Name: d.Name, Members: g.Members})
	}
	return writeJSON(w, 0, out)
}

func (s *server) group(w http.ResponseWriter, r *http.Request, c *call) error {
	name := r.PathValue("name")
	p, err := groupPath(name)
	if err != nil {
		return err
	}
	av, err := s.headACLView(r, c)
	if err != nil {
		return err
	}
	g, ok, err := readGroup(av, p)
	if err != nil {
		return err
	}
	if !ok {
		return errs.E(errs.NotExist, errs.Path(p), "no group "+name)
	}
	if g.Members == nil {
		g.Members = []acl.Who{}
	}
	return writeJSON(w, 0, Group{Name: name, Members: g.Members})
}

func (s *server) groupAdd(w http.ResponseWriter, r *http.Request, c *call) error {
	var req GroupRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	if len(req.Members) == 0 {
		return errs.E(errs.Invalid, "group add: no members")
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
	p, err := groupPath(name)
	if err != nil {
		return err
	}
	av, err := s.headACLView(r, c)
	if err != nil {
		return err
	}
	g, exists, err := readGroup(av, p)
	if err != nil {
		return err
	}
	var whos []acl.Who
	for _, m := range members {
		wh, err := s.parseWho(m)
		if err != nil {
			return err
		}
		if wh.Kind == acl.AnyoneWho {
			return errs.E(errs.Invalid, "anyone cannot be a group member (grant to anyone instead)")
		}
		whos = append(whos, wh)
	}
	var op cdb.Op
	var msg string
	switch {
	case add:
		g.Add(whos...)
		if err := acl.CheckGroup(av.reader, name, g); err != nil {
			return err
		}
		raw, err := g.Encode()
		if err != nil {
			return err
		}
		op = cdb.Op{Kind: cdb.Put, Path: p, Raw: raw}
		msg = "group add " + name + " " + strings.Join(members, " ")
	case !exists:
		return errs.E(errs.NotExist, errs.Path(p), "no group "+name)
	case len(whos) == 0:
		op = cdb.Op{Kind: cdb.Delete, Path: p}
		msg = "group rm " + name
	default:
		for i, wh := range whos {
			if !g.Remove(wh) {
				return errs.E(errs.NotExist, errs.Path(p), fmt.Sprintf("%s is not a member of group %s", members[i], name))
			}
		}
		raw, err := g.Encode()
		if err != nil {
			return err
		}
		op = cdb.Op{Kind: cdb.Put, Path: p, Raw: raw}
		msg = "group rm " + name + " " + strings.Join(members, " ")
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
