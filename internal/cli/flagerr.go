package cli

import (
	"strings"

	"github.com/coalescent/coal/errs"
)

// flagError renames the request parameter an API error starts with
// ("since: unknown commit …") to the flag the command took it from
// ("--since: unknown commit …"), so the error names what the user typed.
// Other errors are returned as they are.
func flagError(err error, param, flag string) error {
	if err == nil {
		return nil
	}
	rest, ok := strings.CutPrefix(err.Error(), param+": ")
	if !ok {
		return err
	}
	return errs.E(errs.KindOf(err), flag+": "+rest)
}

// argError drops the request parameter an API error starts with
// ("commit: unknown commit …"), for a command whose argument is the
// parameter: the error then reads as it names the argument itself.
func argError(err error, param string) error {
	if err == nil {
		return nil
	}
	rest, ok := strings.CutPrefix(err.Error(), param+": ")
	if !ok {
		return err
	}
	return errs.E(errs.KindOf(err), rest)
}
