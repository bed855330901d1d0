package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/errs"
)

func init() { register(newApplyCmd) }

// maxOpsFile bounds the size of an OPS.json file.
const maxOpsFile = 1 << 30

// applyOp is one element of OPS.json (docs/cli.md, "coal apply").
type applyOp struct {
	Op        string          `json:"op"`
	Path      string          `json:"path"`
	Value     json.RawMessage `json:"value"`
	Schema    string          `json:"schema"`
	From      string          `json:"from"`
	Recursive bool            `json:"recursive"`
}

var applyKinds = map[string]cdb.OpKind{
	"put":    cdb.Put,
	"delete": cdb.Delete,
	"move":   cdb.Move,
	"copy":   cdb.Copy,
	"mkdir":  cdb.Mkdir,
}

func newApplyCmd(e *env) *cobra.Command {
	var msg string
	cmd := &cobra.Command{
		Use:   "apply OPS.json",
		Short: "Apply a list of changes in one atomic commit",
		Long: `Apply the changes listed in OPS.json (- for standard input) in one atomic
commit, and print its id. Either every change applies or none does.

OPS.json is a JSON list of objects (docs/cli.md, "coal apply"):

	{"op": "put",    "path": P, "value": V, "schema": S}   schema optional: P's directory's
	{"op": "delete", "path": P, "recursive": true}         recursive optional
	{"op": "move",   "path": P, "from": F}
	{"op": "copy",   "path": P, "from": F}
	{"op": "mkdir",  "path": P, "schema": S}

Unknown ops and fields are errors; errors name the op as ops[I].`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			ops, err := readOps(name, e.stdin)
			if err != nil {
				return err
			}
			if msg == "" {
				msg = fmt.Sprintf("apply %s (%d ops)", name, len(ops))
			}
			err = e.withWorld(func(s *session) error {
				return e.commit(s, ops, msg)
			})
			if err != nil && name != "-" {
				return fmt.Errorf("%s: %w", name, err)
			}
			return err
		},
	}
	cmd.Flags().StringVarP(&msg, "message", "m", "", "the commit message")
	return cmd
}

// readOps reads and checks an OPS.json file (- for stdin).
func readOps(name string, stdin io.Reader) ([]cdb.Op, error) {
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxOpsFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > maxOpsFile {
		return nil, errs.E(errs.Limit, errs.Path(name), fmt.Sprintf("more than %d bytes", maxOpsFile))
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, errs.E(errs.Invalid, errs.Path(name), jsonError(data, err)+" (want a JSON list of ops)")
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
		var a applyOp
		if err := dec.Decode(&a); err != nil {
			return nil, bad("%v", err)
		}
		kind, ok := applyKinds[a.Op]
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

// jsonError describes a JSON decoding error with its line and column.
func jsonError(data []byte, err error) string {
	var off int64 = -1
	switch e := err.(type) {
	case *json.SyntaxError:
		off = e.Offset
	case *json.UnmarshalTypeError:
		off = e.Offset
	}
	if off < 0 {
		return err.Error()
	}
	line, col := 1, 1
	for _, c := range data[:min(int(off), len(data))] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("%d:%d: %v", line, col, err)
}
