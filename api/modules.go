package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/coalescent/coal/api/message"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
	"github.com/coalescent/coal/module"
)

// The module routes (docs/modules.md): publish, list, show, verify,
// evaluate and build the modules of a world's catalog (/mod).
//
// Identities: reads go through the caller's view (an impl, spec or
// result the caller may not read does not exist for it; a module whose
// interface it may not read is not found). Writes are commits made as
// the caller. The Results of verify and evaluate are signed by the node
// key (module.Options.Signer): the claim is the machine's that ran the
// checks, whoever asked — the node's key through coal serve, the home's
// node key in process. The node's Results count as the caller's own;
// the caller's own Results (made before, signed by its key) count too;
// another node's only as far as trust says (modOptions).
type (
	PublishRequest   = message.PublishRequest
	PublishResult    = message.PublishResult
	ModuleEntry      = message.ModuleEntry
	ModuleSummary    = message.ModuleSummary
	ModuleFunction   = message.ModuleFunction
	ModuleSpec       = message.ModuleSpec
	ModuleRow        = message.ModuleRow
	ModuleBuild      = message.ModuleBuild
	ModuleTable      = message.ModuleTable
	VerifyRequest    = message.VerifyRequest
	EvaluateRequest  = message.EvaluateRequest
	ModuleFailure    = message.ModuleFailure
	ModuleImplReport = message.ModuleImplReport
	ModuleReport     = message.ModuleReport
)

func init() {
	for name, t := range map[string]reflect.Type{
		"PublishRequest":  reflect.TypeFor[PublishRequest](),
		"PublishResult":   reflect.TypeFor[PublishResult](),
		"ModuleSummary":   reflect.TypeFor[ModuleSummary](),
		"ModuleTable":     reflect.TypeFor[ModuleTable](),
		"VerifyRequest":   reflect.TypeFor[VerifyRequest](),
		"EvaluateRequest": reflect.TypeFor[EvaluateRequest](),
		"ModuleReport":    reflect.TypeFor[ModuleReport](),
		"ModuleBuild":     reflect.TypeFor[ModuleBuild](),
	} {
		jsonTypes[name] = t
	}
}

func (s *server) moduleHandlers() map[string]handler {
	return map[string]handler{
		"POST /v1/worlds/{world}/modules":                 s.modPublish,
		"GET /v1/worlds/{world}/modules":                  s.modList,
		"GET /v1/worlds/{world}/modules/{name}":           s.modShow,
		"POST /v1/worlds/{world}/modules/{name}/verify":   s.modVerify,
		"POST /v1/worlds/{world}/modules/{name}/evaluate": s.modEvaluate,
		"POST /v1/worlds/{world}/modules/{name}/build":    s.modBuild,
	}
}

// modOptions are the module options of a request: the node key signs
// Results, and whose Results count beyond the caller's and the node's
// (trust in peers' verdicts and scores: docs/trust.md).
func (s *server) modOptions() module.Options {
	return module.Options{Trust: s.trustFunc(), Signer: s.h.NodeKey()} // api/trust.go
}

// modName is the request's {name}, checked.
func modName(r *http.Request) (string, error) {
	name := r.PathValue("name")
	if !module.ValidName(name) {
		return "", errs.E(errs.Invalid, fmt.Sprintf("bad module name %q (want words of a-z, 0-9 and _ joined by ::, e.g. geometry::circle)", name))
	}
	return name, nil
}

// modPublish stores the module DIR of the body in the catalog
// (POST .../modules): the files are written to a temporary DIR named as
// the client's, and module.Publish reads it, so errors name the client's
// files (DIR/FILE:LINE:COL).
func (s *server) modPublish(w http.ResponseWriter, r *http.Request, c *call) error {
	var req PublishRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	wd, err := s.world(r)
	if err != nil {
		return err
	}
	base := req.Dir
	if base == "" || base == "." || base == ".." || strings.ContainsAny(base, `/\`) || strings.ContainsRune(base, 0) {
		return errs.E(errs.Invalid, fmt.Sprintf("dir: want the DIR's base name, got %q", base))
	}
	tmp, err := os.MkdirTemp("", "coal-publish-")
	if err != nil {
		return errs.E(errs.Internal, err)
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, base)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return errs.E(errs.Internal, err)
	}
	for name, text := range req.Files {
		clean := path.Clean(name)
		if name == "" || clean != name || path.IsAbs(name) || clean == "." || clean == ".." || strings.HasPrefix(clean, "../") ||
			strings.ContainsAny(name, "\\\x00") {
			return errs.E(errs.Invalid, fmt.Sprintf("files: bad file name %q (want a clean relative slash path inside DIR)", name))
		}
		p := filepath.Join(dir, filepath.FromSlash(clean))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return errs.E(errs.Invalid, fmt.Sprintf("files: %s: %v", name, err))
		}
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			return errs.E(errs.Invalid, fmt.Sprintf("files: %s: %v", name, err))
		}
	}
	pub, err := module.Publish(r.Context(), wd, c.who, dir)
	if err != nil {
		if msg := err.Error(); strings.Contains(msg, tmp) {
			// An error naming a file by its temporary path (a file
			// interface.json names is missing): name it as the client's.
			return errs.E(errs.KindOf(err), strings.ReplaceAll(msg, tmp+string(filepath.Separator), ""))
		}
		return err
	}
	out := PublishResult{Module: pub.Module, Interface: pub.Interface, New: pub.New, Entries: []ModuleEntry{}}
	if !pub.Commit.ID.IsZero() {
		id := pub.Commit.ID
		out.Commit = &id
	}
	for _, e := range pub.Entries {
		out.Entries = append(out.Entries, ModuleEntry{Kind: e.Kind.String(), Module: e.Module, ID: e.ID, Path: e.Path})
	}
	status := http.StatusCreated
	if out.Commit == nil {
		status = http.StatusOK
	}
	return writeJSON(w, status, out)
}

// modList lists the catalog's modules the caller may read (GET .../modules).
func (s *server) modList(w http.ResponseWriter, r *http.Request, c *call) error {
	wd, err := s.world(r)
	if err != nil {
		return err
	}
	ss, err := module.List(wd, c.who)
	if err != nil {
		return err
	}
	out := []ModuleSummary{}
	for _, m := range ss {
		fs := m.Functions
		if fs == nil {
			fs = []string{}
		}
		out = append(out, ModuleSummary{Name: m.Name, Interface: m.Interface, Functions: fs, Specs: m.Specs, Impls: m.Impls,
			Benches: m.Benches, Results: m.Results, Built: m.Built})
	}
	return writeJSON(w, 0, out)
}

// modShow is one module's table (GET .../modules/{name}).
func (s *server) modShow(w http.ResponseWriter, r *http.Request, c *call) error {
	name, err := modName(r)
	if err != nil {
		return err
	}
	wd, err := s.world(r)
	if err != nil {
		return err
	}
	t, err := module.ShowWith(wd, c.who, name, s.modOptions())
	if err != nil {
		return err
	}
	out := ModuleTable{Module: t.Module, Interface: t.Interface, Doc: t.Doc, Functions: []ModuleFunction{}, Specs: []ModuleSpec{},
		Benches: t.Benches, Results: t.Results, Rows: []ModuleRow{}}
	for _, f := range t.Functions {
		out.Functions = append(out.Functions, ModuleFunction{Name: f.Name, Input: f.Input, Output: f.Output})
	}
	names := map[coda.ID]string{}
	var byKey map[string]string
	for _, row := range t.Rows {
		for _, k := range row.By {
			if byKey == nil {
				byKey = map[string]string{s.h.NodeKey().Key(): cdb.NodeKeyName}
				if keys, err := s.h.Keys(); err == nil {
					for _, k := range keys {
						byKey[k.Public] = k.Name
					}
				}
			}
			if n, ok := byKey[k]; ok {
				if out.Names == nil {
					out.Names = map[string]string{}
				}
				out.Names[k] = n
			}
		}
		names[row.Impl] = row.Name
		out.Rows = append(out.Rows, ModuleRow{Impl: row.Impl, Name: row.Name, Program: row.Program, Verified: row.Verified,
			Why: row.Why, By: row.By, Steps: row.Steps, Wall: row.Wall, Rank: row.Rank, Built: row.Built})
	}
	// The specs, by name then id: through the caller's view, as Show read them.
	v := wd.As(c.who.Public)
	ents, err := module.Catalog(v, coda.ID{}, name)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.Kind != module.KindSpec {
			continue
		}
		it, err := v.Get(coda.ID{}, e.Path)
		if err != nil {
			continue
		}
		sp, err := module.DecodeSpec(it.Raw)
		if err != nil {
			continue
		}
		out.Specs = append(out.Specs, ModuleSpec{ID: e.ID, Name: sp.Name, Cases: len(sp.Cases), Properties: len(sp.Properties)})
	}
	sortSpecs(out.Specs)
	if t.Build != nil {
		out.Build = buildOf(t.Build, names[t.Build.Impl])
	}
	return writeJSON(w, 0, out)
}

func sortSpecs(ss []ModuleSpec) {
	sort.Slice(ss, func(i, j int) bool {
		if ss[i].Name != ss[j].Name {
			return ss[i].Name < ss[j].Name
		}
		return bytes.Compare(ss[i].ID[:], ss[j].ID[:]) < 0
	})
}

func buildOf(b *module.BuildRecord, name string) *ModuleBuild {
	res := b.Results
	if res == nil {
		res = []coda.ID{}
	}
	return &ModuleBuild{Interface: b.Interface, Impl: b.Impl, Name: name, Program: b.Program, Steps: b.Steps, Results: res,
		Reason: b.Reason, Time: b.Time}
}

// decodeOptional reads an optional JSON body into v: an empty body leaves v
// as it is.
func (s *server) decodeOptional(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := readBody(w, r, s.opts.MaxJSON)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	return unmarshal(b, v)
}

// modRequest reads what verify, evaluate and build share: the optional
// JSON body into req, the module's name and the world.
func (s *server) modRequest(w http.ResponseWriter, r *http.Request, req any) (string, *cdb.World, error) {
	if err := s.decodeOptional(w, r, req); err != nil {
		return "", nil, err
	}
	name, err := modName(r)
	if err != nil {
		return "", nil, err
	}
	wd, err := s.world(r)
	if err != nil {
		return "", nil, err
	}
	return name, wd, nil
}

// modVerify verifies a module's impls (POST .../modules/{name}/verify).
func (s *server) modVerify(w http.ResponseWriter, r *http.Request, c *call) error {
	var req VerifyRequest
	name, wd, err := s.modRequest(w, r, &req)
	if err != nil {
		return err
	}
	o := s.modOptions()
	o.MaxSteps = req.Steps
	rep, err := module.Verify(r.Context(), wd, c.who, name, module.VerifyOptions{Options: o, Impls: req.Impls, Cross: req.Cross, DryRun: req.DryRun})
	if err != nil {
		return err
	}
	return writeJSON(w, 0, reportOf(wd, rep))
}

// modEvaluate scores a module's verified impls (POST .../evaluate).
func (s *server) modEvaluate(w http.ResponseWriter, r *http.Request, c *call) error {
	var req EvaluateRequest
	name, wd, err := s.modRequest(w, r, &req)
	if err != nil {
		return err
	}
	o := s.modOptions()
	o.MaxSteps = req.Steps
	rep, err := module.Evaluate(r.Context(), wd, c.who, name, module.EvalOptions{Options: o, DryRun: req.DryRun})
	if err != nil {
		return err
	}
	return writeJSON(w, 0, reportOf(wd, rep))
}

// modBuild chooses a module's best verified impl and writes
// /mod/NAME/build and /mod/NAME/main (POST .../build).
func (s *server) modBuild(w http.ResponseWriter, r *http.Request, c *call) error {
	name, wd, err := s.modRequest(w, r, &struct{}{})
	if err != nil {
		return err
	}
	rec, err := module.BuildWith(r.Context(), wd, c.who, name, s.modOptions())
	if err != nil {
		return err
	}
	implName := ""
	if it, err := wd.As(c.who.Public).Get(coda.ID{}, module.EntryPath(name, module.KindImpl, rec.Impl)); err == nil {
		if x, err := module.DecodeImpl(it.Raw); err == nil {
			implName = x.Name
		}
	}
	return writeJSON(w, http.StatusCreated, buildOf(&rec, implName))
}

// reportOf is rep as the API answers it, failures' objects also as JSON.
func reportOf(wd *cdb.World, rep module.Report) ModuleReport {
	out := ModuleReport{Module: rep.Module, Kind: rep.Kind, Impls: []ModuleImplReport{}, NewSpecs: rep.NewSpecs}
	if !rep.Commit.ID.IsZero() {
		id := rep.Commit.ID
		out.Commit = &id
	}
	var reg *coda.Registry
	for _, x := range rep.Impls {
		ir := ModuleImplReport{Impl: x.Impl, Name: x.Name, Pass: x.Pass, Runs: x.Runs, Steps: x.Steps, Wall: x.Wall,
			Rank: x.Rank, Skipped: x.Skipped}
		if !x.Result.IsZero() {
			id := x.Result
			ir.Result = &id
		}
		if f := x.Failure; f != nil {
			if reg == nil {
				reg, _ = wd.Schemas(coda.ID{})
			}
			ir.Failure = &ModuleFailure{Spec: f.Spec, Function: f.Function, Input: f.Input, Expected: f.Expected, Got: f.Got,
				Reason: f.Reason, InputValue: objectJSON(reg, f.Input), ExpectedValue: objectJSON(reg, f.Expected),
				GotValue: objectJSON(reg, f.Got)}
		}
		out.Impls = append(out.Impls, ir)
	}
	return out
}

// objectJSON is a CODA object as JSON, nil if it is not one of reg's.
func objectJSON(reg *coda.Registry, obj []byte) json.RawMessage {
	if reg == nil || len(obj) == 0 {
		return nil
	}
	sc, v, err := coda.DecodeObject(obj, coda.DecodeOptions{Resolver: reg})
	if err != nil {
		return nil
	}
	j, err := coda.SchemaToJSON(sc, v, reg)
	if err != nil {
		return nil
	}
	return j
}
