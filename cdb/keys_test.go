package cdb

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coalescent/coal/errs"
)

func TestKeys(t *testing.T) {
	h := newHome(t)
	bob, err := h.NewKey("bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.NewKey("bob"); !errs.Is(err, errs.Exist) {
		t.Errorf("NewKey of a taken name: %v, want exist", err)
	}
	for _, bad := range []string{"", "Bob", "-x", "a/b", "..", strings.Repeat("x", 65)} {
		if _, err := h.NewKey(bad); !errs.Is(err, errs.Invalid) {
			t.Errorf("NewKey(%q): %v, want invalid", bad, err)
		}
	}
	fi, err := os.Stat(filepath.Join(h.Dir(), "keys", "bob.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, %v; want mode 0600", fi, err)
	}
	keys, err := h.Keys()
	if err != nil || len(keys) != 2 || keys[0].Name != "bob" || keys[1].Name != "node" || keys[0].Public != bob.Key() {
		t.Errorf("Keys = %+v, %v", keys, err)
	}
	got, err := h.Key("bob")
	if err != nil || !got.CanSign() || got.Key() != bob.Key() {
		t.Errorf("Key(bob) = %v, %v", got.Key(), err)
	}
	if _, err := h.Key("carol"); !errs.Is(err, errs.NotExist) {
		t.Errorf("Key(carol): %v, want not-exist", err)
	}
	if n, err := h.Key(NodeKeyName); err != nil || n.Key() != h.NodeKey().Key() {
		t.Errorf("Key(node) = %v, %v", n.Key(), err)
	}
	if k, err := h.KeyByPublic(bob.Public); err != nil || k.Name != "bob" {
		t.Errorf("KeyByPublic = %v, %v", k.Name, err)
	}

	exp, err := h.ExportKey("bob")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(exp), "\n")
	if len(lines) != 5 || lines[0] != KeyExportHeader || lines[1] != "name: bob" || lines[2] != "public: "+bob.Key() || !strings.HasPrefix(lines[3], "seed: ") {
		t.Errorf("export:\n%s", exp)
	}
	h2 := newHome(t)
	imp, err := h2.ImportKey("", exp)
	if err != nil || imp.Name != "bob" || imp.Key() != bob.Key() || !imp.CanSign() {
		t.Fatalf("ImportKey = %v %v, %v", imp.Name, imp.Key(), err)
	}
	if _, err := h2.ImportKey("", exp); !errs.Is(err, errs.Exist) {
		t.Errorf("second import: %v, want exist", err)
	}
	if _, err := h2.ImportKey("node", exp); !errs.Is(err, errs.Invalid) {
		t.Errorf("import as node: %v, want invalid", err)
	}
	if _, err := h2.ImportKey("bob2", []byte(strings.Replace(string(exp), lines[2], "public: "+h.NodeKey().Key(), 1))); !errs.Is(err, errs.Invalid) {
		t.Errorf("import with a public key that is not the seed's: %v, want invalid", err)
	}
	if _, err := h2.ImportKey("bob3", exp[:len(exp)-1]); !errs.Is(err, errs.Invalid) {
		t.Errorf("import of a cut export: %v, want invalid", err)
	}
}
