package api

import (
	"errors"
	"time"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/hlc"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// stampTime is the Last-Modified time of an item: its stamp's wall time.
func stampTime(it cdb.Item) time.Time { return hlc.Time(it.Stamp.Time).Wall() }

func hlcTime(t uint64) hlc.Time { return hlc.Time(t) }
