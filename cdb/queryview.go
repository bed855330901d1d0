package cdb

import "github.com/coalescent/coal/coda"

// Record appends one event to the home's audit log as the view's reader:
// action on path at commit, with err's kind as the result (nil: ok). It
// returns err, or the audit log's error if it could not record. Packages
// that read through a view's Filter (query) record what they served with
// it.
func (v *View) Record(action, path string, commit coda.ID, err error) error {
	return v.record(action, path, commit, err)
}

// Root returns the tree root of commit rev (zero: the head), without
// loading the commit's ops as LoadCommit does.
func (w *World) Root(rev coda.ID) (coda.ID, error) { return w.root(rev) }
