package bench

import "testing"

// dynamicContenders is filled in once the generic codec is merged.
func dynamicContenders(tb testing.TB) []contender { return nil }
