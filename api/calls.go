package api

import (
	"fmt"
	"net/http"
	"reflect"

	"github.com/coalescent/coal/api/message"
	coalcall "github.com/coalescent/coal/call"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// The call routes' messages (docs/calls.md).
type (
	CallRequest    = message.CallRequest
	CallResult     = message.CallResult
	CallRecord     = message.CallRecord
	TriggerRequest = message.TriggerRequest
)

func init() {
	jsonTypes["CallRequest"] = reflect.TypeFor[CallRequest]()
	jsonTypes["CallResult"] = reflect.TypeFor[CallResult]()
	jsonTypes["TriggerRequest"] = reflect.TypeFor[TriggerRequest]()
}

// callRecord is k as CommitDetail shows it (nil: no call).
func callRecord(k *cdb.Call) *CallRecord {
	if k == nil {
		return nil
	}
	return &CallRecord{Program: k.Program, Entry: k.Entry, Input: k.Input, Output: k.Output, Steps: k.Steps}
}

// callProgram runs the program at the request's path as the caller
// (POST .../call/PATH).
func (s *server) callProgram(w http.ResponseWriter, r *http.Request, c *call) error {
	var req CallRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	wd, err := s.world(r)
	if err != nil {
		return err
	}
	reg, err := wd.Schemas(coda.ID{})
	if err != nil {
		return err
	}
	var input []byte
	if len(req.Input) > 0 {
		if req.Schema == "" {
			return errs.E(errs.Invalid, "input: name its schema (schema)")
		}
		sc, ok := reg.Lookup(req.Schema)
		if !ok {
			return errs.E(errs.Invalid, fmt.Sprintf("schema: unknown schema %q (add it with coal schema add)", req.Schema))
		}
		v, err := coda.SchemaFromJSON(sc, req.Input, reg)
		if err != nil {
			return errs.E(errs.Invalid, fmt.Errorf("input: %w", err))
		}
		if input, err = coda.EncodeObject(sc, v); err != nil {
			return errs.E(errs.Invalid, fmt.Errorf("input: %w", err))
		}
	} else if req.Schema != "" {
		return errs.E(errs.Invalid, "schema given without an input")
	}
	res, err := coalcall.Run(r.Context(), wd, c.who, coalcall.Request{Path: treePath(r), Entry: req.Entry,
		Input: input, MaxSteps: req.Steps, Message: req.Message})
	if err != nil {
		return err
	}
	out := CallResult{Program: res.Program, Entry: res.Entry, Input: res.Input, Output: res.OutID, Steps: res.Steps, Writes: res.Writes}
	if !res.Commit.ID.IsZero() {
		id := res.Commit.ID
		out.Commit = &id
	}
	if len(res.Output) >= coda.IDSize {
		sid := coda.ID(res.Output[:coda.IDSize])
		out.OutputSchema = &sid
		if reg, err := wd.Schemas(coda.ID{}); err == nil {
			if sc, v, err := coda.DecodeObject(res.Output, coda.DecodeOptions{Resolver: reg}); err == nil {
				if j, err := coda.SchemaToJSON(sc, v, reg); err == nil {
					out.OutputValue = j
				}
			}
		}
	}
	return writeJSON(w, 0, out)
}

// setTrigger makes a directory run a program after each commit that
// changes it (POST .../triggers).
func (s *server) setTrigger(w http.ResponseWriter, r *http.Request, c *call) error {
	var req TriggerRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Path == "" || req.Program == "" {
		return errs.E(errs.Invalid, "want path and program")
	}
	wd, err := s.world(r)
	if err != nil {
		return err
	}
	ci, err := coalcall.SetTrigger(r.Context(), wd, c.who, req.Path, req.Program, req.Entry)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, CommitResult{Commit: ci.ID})
}
