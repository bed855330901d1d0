package errs

import (
	"errors"
	"testing"
)

func TestErrorListSortedAndDeduplicated(t *testing.T) {
	var l ErrorList
	l.Addf(Pos{"b.co", 1, 1}, "second file")
	l.Addf(Pos{"a.co", 3, 2}, "late")
	l.Addf(Pos{"a.co", 1, 5}, "early %d", 1)
	l.Addf(Pos{"a.co", 1, 5}, "early %d", 2)
	l.Addf(Pos{"a.co", 1, 5}, "early %d", 1)
	l.RemoveMultiples()
	want := "a.co:1:5: early 1\na.co:1:5: early 2\na.co:3:2: late\nb.co:1:1: second file"
	if got := l.Error(); got != want {
		t.Fatalf("Error() =\n%s\nwant\n%s", got, want)
	}
	err := l.Err()
	if !errors.Is(err, Invalid) || KindOf(err) != Invalid {
		t.Fatalf("errors.Is(list, Invalid) = false or KindOf = %v", KindOf(err))
	}
	var empty ErrorList
	if empty.Err() != nil {
		t.Fatal("empty list Err() != nil")
	}
}

func TestPosString(t *testing.T) {
	for _, c := range []struct {
		p    Pos
		want string
	}{
		{Pos{"f.coda", 2, 7}, "f.coda:2:7"},
		{Pos{"", 2, 7}, "2:7"},
		{Pos{"f.coda", 0, 0}, "f.coda"},
		{Pos{}, "-"},
	} {
		if got := c.p.String(); got != c.want {
			t.Errorf("%#v.String() = %q, want %q", c.p, got, c.want)
		}
	}
}
