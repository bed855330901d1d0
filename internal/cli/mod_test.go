package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	scriptCmds["exampledir"] = cmdExampleDir
	scriptCmds["jsonis"] = cmdJSONIs
}

// cmdExampleDir copies the directory examples/NAME, recursively, to DEST
// in the script's work directory, so scripts run the examples as shipped:
//
//	exampledir NAME DEST
func cmdExampleDir(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: exampledir NAME DEST")
	}
	src := filepath.Join("..", "..", "examples", filepath.FromSlash(args[0]))
	dest := ts.MkAbs(args[1])
	ts.Check(filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dest, rel), 0o777)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dest, rel), b, 0o666)
	}))
}

// cmdJSONIs checks that the last stdout is one JSON value and that the
// value at PATH (dot-separated object keys and list indexes; "LEN" the
// length of a list or object) prints as WANT (strings unquoted, other
// values as JSON):
//
//	jsonis PATH WANT
func cmdJSONIs(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: jsonis PATH WANT")
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(ts.ReadFile("stdout")))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		ts.Fatalf("jsonis: stdout is not JSON: %v", err)
	}
	if dec.More() {
		ts.Fatalf("jsonis: stdout has more than one JSON value")
	}
	got := ""
	for _, k := range strings.Split(args[0], ".") {
		if k == "LEN" {
			switch x := v.(type) {
			case []any:
				v = json.Number(strconv.Itoa(len(x)))
			case map[string]any:
				v = json.Number(strconv.Itoa(len(x)))
			default:
				ts.Fatalf("jsonis %s: LEN of a %T", args[0], v)
			}
			continue
		}
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				ts.Fatalf("jsonis %s: no index %s in a list of %d", args[0], k, len(x))
			}
			v = x[i]
		default:
			ts.Fatalf("jsonis %s: %q of a %T", args[0], k, v)
		}
	}
	if s, ok := v.(string); ok {
		got = s
	} else {
		b, _ := json.Marshal(v)
		got = string(b)
	}
	if (got == args[1]) == neg {
		ts.Fatalf("jsonis %s: got %s, want %s%s", args[0], got, map[bool]string{true: "not "}[neg], args[1])
	}
	ts.Logf("jsonis %s = %s", args[0], got)
}
