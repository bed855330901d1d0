package ctp

import (
	"io"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/relay"
)

func newTestConn(s io.ReadWriteCloser) *relay.Conn {
	return relay.NewConn(s, []coda.ID{wantSchema.ID}, nil, relay.Options{})
}
