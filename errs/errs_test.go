package errs

import (
	"errors"
	"fmt"
	"testing"
)

func TestKindThroughWrapping(t *testing.T) {
	base := E(Op("tree.Get"), NotExist, Path("/a/b"))
	wrapped := fmt.Errorf("load commit: %w", base)
	if !errors.Is(wrapped, NotExist) {
		t.Fatalf("errors.Is(%v, NotExist) = false, want true", wrapped)
	}
	if errors.Is(wrapped, Invalid) {
		t.Fatalf("errors.Is(%v, Invalid) = true, want false", wrapped)
	}
	if got, want := KindOf(wrapped), NotExist; got != want {
		t.Fatalf("KindOf = %v, want %v", got, want)
	}
	if got, want := base.Error(), "tree.Get /a/b: not-exist"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

func TestInheritKind(t *testing.T) {
	inner := E(Corrupt, "bad hash")
	outer := E(Op("fsck"), inner)
	if got := KindOf(outer); got != Corrupt {
		t.Fatalf("KindOf = %v, want Corrupt", got)
	}
	if got, want := outer.Error(), "fsck: bad hash"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

// TestPathOnce: a path given by an error and the one it wraps is said once.
func TestPathOnce(t *testing.T) {
	inner := E(NotExist, Path("/a"), "tree: no such path")
	for _, c := range []struct {
		err  error
		want string
	}{
		{E(Op("cdb.Get"), Path("/a"), inner), "cdb.Get /a: tree: no such path"},
		{E(Op("cdb.Get"), Path("/b"), inner), "cdb.Get /b: /a: tree: no such path"},
		{E(Op("cdb.Commit"), E(Op("tree.Apply"), inner)), "cdb.Commit: tree.Apply: /a: tree: no such path"},
		{E(Path("/a"), E(Op("tree.Apply"), inner)), "/a: tree.Apply: tree: no such path"},
		{E(Path("/a"), fmt.Errorf("x: %w", inner)), "/a: x: /a: tree: no such path"},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
	}
}

func TestKindNamesStableAndUnique(t *testing.T) {
	// These names are part of the API (problem types): append only.
	want := []string{"other", "invalid", "not-exist", "exist", "permission", "conflict",
		"corrupt", "limit", "unauthenticated", "unavailable", "internal", "canceled"}
	seen := map[string]bool{}
	for i, name := range want {
		if got := Kind(i).String(); got != name {
			t.Errorf("Kind(%d) = %q, want %q", i, got, name)
		}
		if seen[name] {
			t.Errorf("duplicate name %q", name)
		}
		seen[name] = true
		if k, ok := KindByName(name); !ok || k != Kind(i) {
			t.Errorf("KindByName(%q) = %v, %v", name, k, ok)
		}
	}
}
