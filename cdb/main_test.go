package cdb

import (
	"context"
	"flag"
	"strconv"
)

var update = flag.Bool("update", false, "rewrite golden files and seeds")

func quoteBytes(b []byte) string { return strconv.Quote(string(b)) }

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}
