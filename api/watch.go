package api

import (
	"net/http"

	"github.com/coalescent/coal/errs"
)

func (s *server) watch(w http.ResponseWriter, r *http.Request, c *call) error {
	return errs.E(errs.Unavailable, "watch: not yet served")
}
