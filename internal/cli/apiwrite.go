package cli

import (
	"strings"

	"github.com/coalescent/coal/api/client"
)

// apply makes ops one commit through the API (POST .../transactions) and
// prints its id: the one path of coal cp, mv and mkdir.
func (e *env) apply(ops []client.Op, msg string) error {
	c, err := e.api()
	if err != nil {
		return err
	}
	id, err := c.Apply(e.ctx, e.remoteWorld(), ops, msg)
	if err != nil {
		return err
	}
	return e.printCommit(id)
}

// canonPath is p with a leading slash, as errors name paths.
func canonPath(p string) string {
	if !strings.HasPrefix(p, "/") {
		return "/" + p
	}
	return p
}
