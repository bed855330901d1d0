package tree

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/coalescent/coal/errs"
)

// Path limits. A path is "/"-separated UTF-8 segments; a leading "/" is
// optional and "" or "/" names the root directory.
const (
	MaxSegment = 255  // bytes in one segment
	MaxDepth   = 64   // segments in one path
	MaxPath    = 4096 // bytes in a whole path
)

// SplitPath validates p and returns its segments (none for the root).
// Every problem is an errs.Invalid error naming the path.
func SplitPath(p string) ([]string, error) {
	if len(p) > MaxPath {
		return nil, pathErr(p, fmt.Sprintf("path is %d bytes, longer than %d", len(p), MaxPath))
	}
	s := strings.TrimPrefix(p, "/")
	if s == "" {
		return nil, nil
	}
	segs := strings.Split(s, "/")
	if len(segs) > MaxDepth {
		return nil, pathErr(p, fmt.Sprintf("path has %d segments, more than %d", len(segs), MaxDepth))
	}
	for i, seg := range segs {
		if err := checkSegment(seg); err != nil {
			return nil, pathErr(p, fmt.Sprintf("segment %d: %s", i+1, err))
		}
	}
	return segs, nil
}

// splitInto is SplitPath appending the segments to dst, whose array a
// caller splitting many paths reuses (a batch, one path per op).
func splitInto(dst []string, p string) ([]string, error) {
	if len(p) > MaxPath {
		return SplitPath(p)
	}
	s := strings.TrimPrefix(p, "/")
	if s == "" {
		return dst, nil
	}
	for n := 0; ; n++ {
		i := strings.IndexByte(s, '/')
		seg := s
		if i >= 0 {
			seg = s[:i]
		}
		if n == MaxDepth || !validSegment(seg) {
			return SplitPath(p) // its error
		}
		dst = append(dst, seg)
		if i < 0 {
			return dst, nil
		}
		s = s[i+1:]
	}
}

// JoinPath is the inverse of SplitPath: "/" followed by the segments.
func JoinPath(segs []string) string { return joinName(segs, "", false) }

// joinName returns JoinPath(segs), or with name, JoinPath of segs and
// name, in one allocation (diffs and walks make a path per leaf).
func joinName(segs []string, name string, withName bool) string {
	n := 1
	for _, s := range segs {
		n += len(s) + 1
	}
	if withName {
		n += len(name) + 1
	}
	var b strings.Builder
	b.Grow(n)
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(s)
	}
	if withName {
		b.WriteByte('/')
		b.WriteString(name)
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// CanonicalPath reports whether p is a valid path in canonical form — p
// == JoinPath(SplitPath(p)) with no error — without allocating: decoders
// check every path they read this way, and split only to name a problem.
func CanonicalPath(p string) bool {
	if len(p) == 0 || len(p) > MaxPath || p[0] != '/' {
		return false
	}
	if p == "/" {
		return true
	}
	depth := 0
	for s := p[1:]; ; {
		i := strings.IndexByte(s, '/')
		seg := s
		if i >= 0 {
			seg = s[:i]
		}
		if depth++; depth > MaxDepth || !validSegment(seg) {
			return false
		}
		if i < 0 {
			return true
		}
		s = s[i+1:]
	}
}

// validSegment is checkSegment(seg) == nil, without making the error.
func validSegment(seg string) bool {
	return seg != "" && seg != "." && seg != ".." && len(seg) <= MaxSegment &&
		utf8.ValidString(seg) && strings.IndexByte(seg, 0) < 0 && strings.IndexByte(seg, '/') < 0
}

// ValidName reports whether name is a valid path segment.
func ValidName(name string) bool { return checkSegment(name) == nil }

func checkSegment(seg string) error {
	switch {
	case seg == "":
		return fmt.Errorf("empty segment")
	case seg == "." || seg == "..":
		return fmt.Errorf("segment %q is not allowed", seg)
	case len(seg) > MaxSegment:
		return fmt.Errorf("segment is %d bytes, longer than %d", len(seg), MaxSegment)
	case !utf8.ValidString(seg):
		return fmt.Errorf("segment is not valid UTF-8")
	case strings.IndexByte(seg, 0) >= 0:
		return fmt.Errorf("segment contains a NUL byte")
	case strings.IndexByte(seg, '/') >= 0:
		return fmt.Errorf("segment contains '/'")
	}
	return nil
}

func pathErr(p, msg string) error {
	return errs.E(errs.Invalid, errs.Path(fmt.Sprintf("%q", p)), "tree: bad path: "+msg)
}
