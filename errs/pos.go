package errs

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is a position in source text (a .coda schema, a Co program, a query).
// Line and Col count from 1; Col counts bytes, as go/token does. The zero
// Pos is "no position".
type Pos struct {
	File string
	Line int
	Col  int
}

// IsValid reports whether the position is known.
func (p Pos) IsValid() bool { return p.Line > 0 }

// String formats the position as FILE:LINE:COL, LINE:COL without a file,
// FILE alone without a line, or "-" when nothing is known.
func (p Pos) String() string {
	s := p.File
	if p.IsValid() {
		if s != "" {
			s += ":"
		}
		s += fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	if s == "" {
		s = "-"
	}
	return s
}

// Before orders positions by file, line and column.
func (p Pos) Before(q Pos) bool {
	if p.File != q.File {
		return p.File < q.File
	}
	if p.Line != q.Line {
		return p.Line < q.Line
	}
	return p.Col < q.Col
}

// PosError is one error about source text. errors.Is(err, Invalid) is true.
type PosError struct {
	Pos Pos
	Msg string
}

// Error formats the error as FILE:LINE:COL: message.
func (e *PosError) Error() string {
	if e.Pos.IsValid() || e.Pos.File != "" {
		return e.Pos.String() + ": " + e.Msg
	}
	return e.Msg
}

// Is makes errors.Is(err, Invalid) true.
func (e *PosError) Is(target error) bool { return target == Invalid }

// ErrorList collects every error found in a source text, like go/scanner's
// ErrorList, so a user sees all of them at once. The zero value is an empty
// list ready to use.
type ErrorList []*PosError

// Add appends an error at pos.
func (l *ErrorList) Add(pos Pos, msg string) { *l = append(*l, &PosError{pos, msg}) }

// Addf appends a formatted error at pos.
func (l *ErrorList) Addf(pos Pos, format string, args ...any) {
	l.Add(pos, fmt.Sprintf(format, args...))
}

// Sort sorts the list by position; errors at one position keep their order.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool { return l[i].Pos.Before(l[j].Pos) })
}

// RemoveMultiples sorts the list and removes exact duplicates.
func (l *ErrorList) RemoveMultiples() {
	l.Sort()
	out := (*l)[:0]
	for i, e := range *l {
		dup := false
		for j := i - 1; j >= 0 && (*l)[j].Pos == e.Pos; j-- {
			if (*l)[j].Msg == e.Msg {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, e)
		}
	}
	*l = out
}

// Error returns all errors, one per line.
func (l ErrorList) Error() string {
	if len(l) == 0 {
		return "no errors"
	}
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Is makes errors.Is(list, Invalid) true.
func (l ErrorList) Is(target error) bool { return target == Invalid }

// Unwrap returns Invalid, so that KindOf(list) is Invalid too.
func (l ErrorList) Unwrap() error { return Invalid }

// Err returns the list sorted by position, or nil if it is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	l.Sort()
	return l
}
