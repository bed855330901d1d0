package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/store/memstore"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// A commit is one batch: its objects and the new branch head, written
// atomically and durably, on the condition that the head has not moved.
func ExampleBatch() {
	s := memstore.New()
	defer s.Close()

	commit := func(parent coda.ID, msg string) (coda.ID, error) {
		b := s.NewBatch()
		defer b.Discard()
		tree, err := b.Put([]byte("tree for " + msg))
		if err != nil {
			return coda.ID{}, err
		}
		c, err := b.Put(fmt.Appendf(nil, "commit %s tree %s parent %s", msg, tree, parent))
		if err != nil {
			return coda.ID{}, err
		}
		if err := b.SwapRef("heads/main", parent, c); err != nil {
			return coda.ID{}, err
		}
		return c, b.Commit(true)
	}

	first, _ := commit(coda.ID{}, "first")
	_, err := commit(coda.ID{}, "concurrent") // based on a stale head
	fmt.Println(errors.Is(err, errs.Conflict))
	second, _ := commit(first, "second")
	head, _ := s.GetRef("heads/main")
	fmt.Println(head == second)
	// Output:
	// true
	// true
}

// Large values are chunked transparently; Open reads them lazily.
func ExampleStore_Open() {
	s := memstore.New()
	defer s.Close()
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	id, _ := s.Put(big)

	var c store.Chunked = s // memstore exposes its chunks
	m, _ := c.Chunks(id)
	fmt.Println(m.Size, len(m.Chunks) > 1)

	b, _ := s.Open(id)
	defer b.Close()
	b.Seek(1<<19, io.SeekStart)
	buf := make([]byte, 4)
	io.ReadFull(b, buf)
	fmt.Printf("%s\n", buf)
	// Output:
	// 1048576 true
	// 0123
}
