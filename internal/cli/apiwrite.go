package cli

import (
	"errors"
	"strings"

	"github.com/coalescent/coal/api/client"
	"github.com/coalescent/coal/errs"
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

// paramError is err, an error the node reported about the query parameter
// param ("at: …"), as the CLI names it: after the flag --param. (CLI-A's
// flagError(err, param, flag) does the same for any flag name; the two
// can become one once both are merged.)
func paramError(err error, param string) error {
	var e *errs.Error
	if !errors.As(err, &e) || e.Path != "" {
		return err
	}
	msg := e.Err
	if msg == nil {
		return err
	}
	rest, ok := strings.CutPrefix(msg.Error(), param+": ")
	if !ok {
		return err
	}
	return &errs.Error{Kind: e.Kind, Op: e.Op, Err: errors.New("--" + param + ": " + rest)}
}

// canonPath is p with a leading slash, as errors name paths.
func canonPath(p string) string {
	if !strings.HasPrefix(p, "/") {
		return "/" + p
	}
	return p
}
