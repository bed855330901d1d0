package cdb

import (
	"flag"
	"strconv"
)

var update = flag.Bool("update", false, "rewrite golden files and seeds")

func quoteBytes(b []byte) string { return strconv.Quote(string(b)) }
