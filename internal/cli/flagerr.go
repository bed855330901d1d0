package cli

import (
	"errors"
	"strings"

	"github.com/coalescent/coal/errs"
)

// paramError renames the request parameter an API error starts with
// ("since: unknown commit …") to what the command took its value from:
// the flag to ("--since: unknown commit …"), or, with to "", nothing, for
// a command whose argument is the parameter (the error then reads as if
// it names the argument itself). An error naming a path, or not starting
// with param, is returned as it is; the kind is kept.
func paramError(err error, param, to string) error {
	var e *errs.Error
	if !errors.As(err, &e) || e.Path != "" || e.Err == nil {
		return err
	}
	rest, ok := strings.CutPrefix(e.Err.Error(), param+": ")
	if !ok {
		return err
	}
	if to != "" {
		rest = to + ": " + rest
	}
	return &errs.Error{Kind: e.Kind, Op: e.Op, Err: errors.New(rest)}
}

// flagError is paramError for the flag --param.
func flagError(err error, param string) error { return paramError(err, param, "--"+param) }

// argError is paramError for an argument.
func argError(err error, param string) error { return paramError(err, param, "") }
