package coda

import (
	"strings"
	"testing"

	"github.com/coalescent/coal/errs"
)

func TestBind(t *testing.T) {
	src := []byte("schema A { n: u8 }\nschema B { a: A }\n")
	var a, b *Schema
	reg, err := Bind("m.coda", src, map[string]**Schema{"A": &a, "B": &b})
	if err != nil {
		t.Fatal(err)
	}
	if a == nil || b == nil || a.Name != "A" || b.Name != "B" {
		t.Fatalf("bound %v, %v", a, b)
	}
	if s, ok := reg.Lookup("B"); !ok || s != b {
		t.Errorf("the registry lacks the bound B")
	}
	var c *Schema
	if _, err := Bind("m.coda", src, map[string]**Schema{"C": &c}); !errs.Is(err, errs.Internal) || !strings.Contains(err.Error(), "m.coda lacks schema C") {
		t.Errorf("a missing name: %v", err)
	}
	if _, err := Bind("bad.coda", []byte("schema {"), nil); !errs.Is(err, errs.Internal) || !strings.Contains(err.Error(), "bad.coda") {
		t.Errorf("a bad file: %v", err)
	}
}
