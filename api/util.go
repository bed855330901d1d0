package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/hlc"
	"github.com/coalescent/coal/coda"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// stampTime is the Last-Modified time of an item: its stamp's wall time.
func stampTime(it cdb.Item) time.Time { return hlc.Time(it.Stamp.Time).Wall() }

func hlcTime(t uint64) hlc.Time { return hlc.Time(t) }

// viewAt returns the world of the request as c may read it, and the
// commit its ?at= names (the head without one): the start of every
// read of a tree.
func (s *server) viewAt(r *http.Request, c *call) (*cdb.View, coda.ID, error) {
	v, err := s.view(r, c)
	if err != nil {
		return nil, coda.ID{}, err
	}
	at, err := rev(v, "at", r.URL.Query().Get("at"))
	if err != nil {
		return nil, coda.ID{}, err
	}
	return v, at, nil
}
