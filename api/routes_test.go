package api

import "testing"

// TestEveryRouteHandled: the route table and the handlers agree.
func TestEveryRouteHandled(t *testing.T) {
	hs := (&server{}).handlers()
	seen := map[string]bool{}
	for _, rt := range Routes {
		k := rt.Method + " " + rt.Pattern
		if seen[k] {
			t.Errorf("%s: twice in Routes", k)
		}
		seen[k] = true
		if hs[k] == nil {
			t.Errorf("%s: no handler", k)
		}
	}
	for k := range hs {
		if !seen[k] {
			t.Errorf("%s: a handler not in Routes", k)
		}
	}
}
