// Package errs defines the kinds of error coal reports, after Upspin's
// errors.E(op, kind, path, err), but built on the standard errors package:
// errors.Is(err, errs.NotExist) finds a kind anywhere in a chain.
//
// Kinds cross the wire (HTTP problem types, CLI exit codes, protocol
// messages), so the list is append-only: never renumber or remove a kind.
package errs

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies an error. The zero Kind is Other. A Kind is itself an error,
// so errors.Is(err, errs.Invalid) reports whether err or anything it wraps has
// that kind.
type Kind uint8

// The kinds. Append only: the numbers are part of the wire formats.
const (
	Other           Kind = iota // unclassified
	Invalid                     // the input is malformed or does not fit its schema
	NotExist                    // no such object, path, commit, key or world (also: not readable)
	Exist                       // it already exists
	Permission                  // the actor lacks the right (writes only; denied reads are NotExist)
	Conflict                    // a concurrent change got there first
	Corrupt                     // stored or received data fails its hash or decoding
	Limit                       // a size, depth, step or memory limit was exceeded
	Unauthenticated             // no or bad credentials
	Unavailable                 // a resource is busy or unreachable (e.g. the home is locked)
	Internal                    // a bug in coal
	Canceled                    // the operation was canceled or timed out
)

var kindInfo = [...]struct {
	name   string
	status int // HTTP status
}{
	Other:           {"other", 500},
	Invalid:         {"invalid", 400},
	NotExist:        {"not-exist", 404},
	Exist:           {"exist", 409},
	Permission:      {"permission", 403},
	Conflict:        {"conflict", 409},
	Corrupt:         {"corrupt", 500},
	Limit:           {"limit", 413},
	Unauthenticated: {"unauthenticated", 401},
	Unavailable:     {"unavailable", 503},
	Internal:        {"internal", 500},
	Canceled:        {"canceled", 499},
}

// String returns the kind's stable name, used in problem types and JSON.
func (k Kind) String() string {
	if int(k) < len(kindInfo) {
		return kindInfo[k].name
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Error makes a Kind usable as a sentinel: errors.Is(err, errs.NotExist).
func (k Kind) Error() string { return k.String() }

// HTTPStatus is the status code the API answers with for this kind.
func (k Kind) HTTPStatus() int {
	if int(k) < len(kindInfo) {
		return kindInfo[k].status
	}
	return 500
}

// ProblemType is the RFC 9457 "type" URI of this kind.
func (k Kind) ProblemType() string { return "https://coal.dev/problems/" + k.String() }

// ExitCode is the CLI exit status for an error of this kind. Every error
// exits 1 (usage errors exit 2, decided by the CLI); scripts that need the
// kind read it from --json error output.
func (k Kind) ExitCode() int { return 1 }

// KindByName returns the Kind with the given stable name.
func KindByName(name string) (Kind, bool) {
	for i, ki := range kindInfo {
		if ki.name == name {
			return Kind(i), true
		}
	}
	return Other, false
}

// Error is coal's structured error. Every field is optional.
type Error struct {
	Op   string // the operation, e.g. "tree.Put" or "coda decode"
	Kind Kind   // the class of error
	Path string // the tree path, file or field path concerned
	Err  error  // the underlying error
}

// E builds an *Error from its arguments, in any order: a Kind, an error,
// an Op (as errs.Op), a Path (as errs.Path), or a string, which becomes the
// message (errors.New). Later values of the same type replace earlier ones.
// If the wrapped error has a kind and none is given, the kind is inherited.
func E(args ...any) error {
	e := &Error{}
	for _, a := range args {
		switch a := a.(type) {
		case Kind:
			e.Kind = a
		case Op:
			e.Op = string(a)
		case Path:
			e.Path = string(a)
		case string:
			e.Err = errors.New(a)
		case *Error:
			cp := *a
			e.Err = &cp
		case error:
			e.Err = a
		case nil:
		default:
			e.Err = fmt.Errorf("errs.E: bad argument %T %v", a, a)
		}
	}
	if e.Kind == Other && e.Err != nil {
		e.Kind = KindOf(e.Err)
	}
	return e
}

// Op names the operation in E's arguments.
type Op string

// Path names the path, file or field in E's arguments.
type Path string

func (e *Error) Error() string { return e.text("") }

// text is Error's text, without the path if it is outer, the path of the
// *Error wrapping e: each path is said once ("cdb.Get /a: tree: no such
// path", not "cdb.Get /a: /a: tree: no such path").
func (e *Error) text(outer string) string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
	}
	if e.Path != "" && e.Path != outer {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		b.WriteString(e.Path)
	}
	inner := ""
	if ie, ok := e.Err.(*Error); ok {
		if e.Path != "" {
			outer = e.Path
		}
		inner = ie.text(outer)
	} else if e.Err != nil {
		inner = e.Err.Error()
	} else if e.Kind != Other {
		inner = e.Kind.String()
	}
	if inner != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(inner)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is this error's Kind.
func (e *Error) Is(target error) bool {
	k, ok := target.(Kind)
	return ok && k == e.Kind && k != Other
}

// KindOf returns the first Kind found in err's chain, or Other.
func KindOf(err error) Kind {
	for err != nil {
		switch e := err.(type) {
		case *Error:
			if e.Kind != Other {
				return e.Kind
			}
		case Kind:
			return e
		}
		err = errors.Unwrap(err)
	}
	return Other
}

// Is reports whether err has kind k.
func Is(err error, k Kind) bool { return k != Other && KindOf(err) == k }
