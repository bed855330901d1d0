package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

func init() { register(newCodaCmd) }

func newCodaCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "coda",
		Short: "Check schemas and convert CODA objects to and from JSON",
		Long: `The coda commands work on .coda schema files and CODA objects
(schema id ‖ canonical body), offline. JSON follows docs/coda.md §6.`,
	}
	cmd.AddCommand(newCodaCheckCmd(e), newCodaEncodeCmd(e), newCodaDecodeCmd(e), newCodaIDCmd(e))
	return cmd
}

// minArgs is cobra.MinimumNArgs reported as a usage error.
func minArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.MinimumNArgs(n)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// compileSchemas compiles the .coda files together into a fresh registry
// (which also holds the built-ins). Schema errors end the command with
// status 1 and every FILE:LINE:COL error on stderr.
func compileSchemas(files []string) (*coda.Registry, []*coda.Schema, error) {
	srcs := make(map[string][]byte, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("read schema: %w", err)
		}
		srcs[f] = b
	}
	reg := coda.NewRegistry()
	schemas, err := reg.CompileFiles(srcs)
	if err != nil {
		var el coda.ErrorList
		if errors.As(err, &el) {
			return nil, nil, &exitError{code: 1, msg: err.Error()}
		}
		return nil, nil, err
	}
	return reg, schemas, nil
}

func newCodaCheckCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "check FILE.coda...",
		Short: "Compile schema files and print each schema's name and id",
		Long: `check compiles the .coda files together and prints one line per schema,
NAME ID, in declaration order (several files: in file name order). On errors it prints every error as
FILE:LINE:COL: message on stderr and exits with status 1.`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, schemas, err := compileSchemas(args)
			if err != nil {
				return err
			}
			if e.json {
				type schemaJSON struct {
					Name string  `json:"name"`
					ID   coda.ID `json:"id"`
				}
				out := make([]schemaJSON, len(schemas))
				for i, s := range schemas {
					out[i] = schemaJSON{s.Name, s.ID}
				}
				return e.printJSON(out)
			}
			var b strings.Builder
			for _, s := range schemas {
				fmt.Fprintf(&b, "%s %s\n", s.Name, s.ID)
			}
			_, err = io.WriteString(e.stdout, b.String())
			return err
		},
	}
}

// codaIO holds the flags shared by encode, decode and id.
type codaIO struct {
	schemas []string
	typ     string
	in, out string
}

func (c *codaIO) flags(cmd *cobra.Command, withType, withOut bool) {
	f := cmd.Flags()
	f.StringArrayVar(&c.schemas, "schema", nil, "schema file (.coda), required; repeat to compile several together")
	if withType {
		f.StringVar(&c.typ, "type", "", "name of the schema of the value, required")
	}
	f.StringVar(&c.in, "in", "", "read input from this file (default stdin)")
	if withOut {
		f.StringVar(&c.out, "out", "", "write output to this file (default stdout)")
	}
}

// require reports missing required flags as a usage error.
func (c *codaIO) require(withType bool) error {
	if len(c.schemas) == 0 {
		return usageError{errors.New("--schema FILE.coda is required")}
	}
	if withType && c.typ == "" {
		return usageError{errors.New("--type NAME is required")}
	}
	return nil
}

func (c *codaIO) read(e *env) ([]byte, error) {
	if c.in == "" || c.in == "-" {
		b, err := io.ReadAll(io.LimitReader(e.stdin, coda.DefaultMaxSize+1))
		if err != nil {
			return nil, fmt.Errorf("read stdin: %w", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(c.in)
	if err != nil {
		return nil, fmt.Errorf("read input: %w", err)
	}
	return b, nil
}

func (c *codaIO) write(e *env, b []byte) error {
	if c.out == "" || c.out == "-" {
		_, err := e.stdout.Write(b)
		return err
	}
	if err := os.WriteFile(c.out, b, 0o644); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// lookupType finds the --type schema among the compiled ones (or the
// built-ins).
func (c *codaIO) lookupType(reg *coda.Registry, compiled []*coda.Schema) (*coda.Schema, error) {
	if s, ok := reg.Lookup(c.typ); ok {
		return s, nil
	}
	names := make([]string, len(compiled))
	for i, s := range compiled {
		names[i] = s.Name
	}
	return nil, errs.E(errs.NotExist, fmt.Sprintf("unknown type %q (the schema files declare: %s)", c.typ, strings.Join(names, ", ")))
}

// valueFromJSON compiles the schemas, finds the type and parses the input.
func (c *codaIO) valueFromJSON(e *env) (*coda.Schema, coda.Value, error) {
	if err := c.require(true); err != nil {
		return nil, coda.Value{}, err
	}
	reg, compiled, err := compileSchemas(c.schemas)
	if err != nil {
		return nil, coda.Value{}, err
	}
	s, err := c.lookupType(reg, compiled)
	if err != nil {
		return nil, coda.Value{}, err
	}
	in, err := c.read(e)
	if err != nil {
		return nil, coda.Value{}, err
	}
	v, err := coda.SchemaFromJSON(s, in, reg)
	if err != nil {
		return nil, coda.Value{}, fmt.Errorf("%s value: %w", s.Name, err)
	}
	return s, v, nil
}

func newCodaEncodeCmd(e *env) *cobra.Command {
	var c codaIO
	cmd := &cobra.Command{
		Use:   "encode --schema FILE.coda --type NAME [--in FILE] [--out FILE]",
		Short: "Convert a JSON value to CODA object bytes",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, v, err := c.valueFromJSON(e)
			if err != nil {
				return err
			}
			obj, err := coda.EncodeObject(s, v)
			if err != nil {
				return fmt.Errorf("encode %s: %w", s.Name, err)
			}
			return c.write(e, obj)
		},
	}
	c.flags(cmd, true, true)
	return cmd
}

func newCodaDecodeCmd(e *env) *cobra.Command {
	var c codaIO
	cmd := &cobra.Command{
		Use:   "decode --schema FILE.coda [--in FILE] [--out FILE]",
		Short: "Convert CODA object bytes to JSON",
		Long: `decode reads one object (schema id ‖ body), finds its schema by id among
the compiled schema files and the built-ins, checks the body is canonical,
and prints the value as JSON on one line.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.require(false); err != nil {
				return err
			}
			reg, _, err := compileSchemas(c.schemas)
			if err != nil {
				return err
			}
			in, err := c.read(e)
			if err != nil {
				return err
			}
			s, v, err := coda.DecodeObject(in, coda.DecodeOptions{Resolver: reg})
			if err != nil {
				return fmt.Errorf("decode object: %w", err)
			}
			text, err := coda.SchemaToJSON(s, v, reg)
			if err != nil {
				return fmt.Errorf("%s value to JSON: %w", s.Name, err)
			}
			return c.write(e, append(text, '\n'))
		},
	}
	c.flags(cmd, false, true)
	return cmd
}

func newCodaIDCmd(e *env) *cobra.Command {
	var c codaIO
	cmd := &cobra.Command{
		Use:   "id --schema FILE.coda --type NAME [--in FILE]",
		Short: "Print the object id of a JSON value",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, v, err := c.valueFromJSON(e)
			if err != nil {
				return err
			}
			id, err := coda.ObjectID(s, v)
			if err != nil {
				return fmt.Errorf("encode %s: %w", s.Name, err)
			}
			var b bytes.Buffer
			fmt.Fprintln(&b, id)
			return c.write(e, b.Bytes())
		},
	}
	c.flags(cmd, true, false)
	return cmd
}
