package store

import (
	"math/rand/v2"
	"testing"

	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

// assembledValue returns size bytes of pseudo-random data with runs of a
// repeated byte, so that some chunks are cut at MaxChunk.
func assembledValue(seed uint64, size int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	data := make([]byte, size)
	for i := 0; i < size; {
		n := min(size-i, 1+r.IntN(3*MaxChunk))
		if r.IntN(3) == 0 {
			b := byte(r.IntN(256))
			for j := range n {
				data[i+j] = b
			}
		} else {
			for j := range n {
				data[i+j] = byte(r.Uint32())
			}
		}
		i += n
	}
	return data
}

// manifestAt builds the manifest of data cut at the given chunk lengths,
// storing the chunks in chunks.
func manifestAt(data []byte, lens []int, chunks map[coda.ID][]byte) Manifest {
	m := Manifest{ID: coda.Sum(data), Size: int64(len(data))}
	off := 0
	for _, n := range lens {
		c := data[off : off+n]
		id := coda.Sum(c)
		chunks[id] = c
		m.Chunks = append(m.Chunks, ChunkRef{ID: id, Len: uint32(n)})
		off += n
	}
	return m
}

// TestCheckAssembledAgrees checks that CheckAssembled, which classifies
// each chunk on its own, accepts exactly the manifests CheckChunks (which
// re-chunks the whole value) accepts: the canonical one, and none of
// thousands with boundaries moved, merged or split.
func TestCheckAssembledAgrees(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	tried, accepted := 0, 0
	for seed := range uint64(6) {
		data := assembledValue(seed, ChunkThreshold+1+r.IntN(2<<20))
		chunks := map[coda.ID][]byte{}
		v, err := SplitBytes(data, func(id coda.ID, c []byte) error { chunks[id] = c; return nil })
		if err != nil {
			t.Fatal(err)
		}
		var canon []int
		for i, c := range v.Manifest.Chunks {
			canon = append(canon, int(c.Len))
			want := CutAny
			if k := ClassifyChunk(chunks[c.ID]); k != want && !(i == len(v.Manifest.Chunks)-1 && k == CutLast) {
				t.Fatalf("seed %d: chunk %d of %d (%d bytes) classified %d", seed, i, len(v.Manifest.Chunks), c.Len, k)
			}
		}
		get := func(id coda.ID) ([]byte, error) { return chunks[id], nil }
		read := func(id coda.ID, f func([]byte) error) error { return f(chunks[id]) }
		for trial := range 300 {
			lens := append([]int(nil), canon...)
			if trial > 0 {
				k := r.IntN(len(lens))
				switch r.IntN(3) {
				case 0: // move the boundary after chunk k
					if k == len(lens)-1 {
						k--
					}
					d := r.IntN(2001) - 1000
					if r.IntN(4) == 0 {
						d = r.IntN(2*MaxChunk) - MaxChunk
					}
					if lens[k]+d < 1 || lens[k+1]-d < 1 {
						continue
					}
					lens[k] += d
					lens[k+1] -= d
				case 1: // merge chunk k with the next
					if k == len(lens)-1 {
						continue
					}
					lens[k] += lens[k+1]
					lens = append(lens[:k+1], lens[k+2:]...)
				case 2: // split chunk k
					if lens[k] < 2 {
						continue
					}
					at := 1 + r.IntN(lens[k]-1)
					lens = append(lens[:k+1], lens[k:]...)
					lens[k], lens[k+1] = at, lens[k+1]-at
				}
			}
			m := manifestAt(data, lens, chunks)
			if m.Check() != nil {
				continue
			}
			tried++
			full := CheckChunks(&m, get)
			inc := CheckAssembled(&m, read, nil)
			if (full == nil) != (inc == nil) {
				t.Fatalf("seed %d trial %d: CheckChunks says %v, CheckAssembled says %v", seed, trial, full, inc)
			}
			if inc != nil && !errs.Is(inc, errs.Corrupt) {
				t.Fatalf("CheckAssembled: %v, want errs.Corrupt", inc)
			}
			if inc == nil {
				accepted++
			}
		}
		// A wrong value id fails.
		m := manifestAt(data, canon, chunks)
		m.ID[0] ^= 1
		if err := CheckAssembled(&m, read, nil); !errs.Is(err, errs.Corrupt) {
			t.Fatalf("wrong id: %v", err)
		}
	}
	if accepted != 6 || tried < 800 {
		t.Fatalf("%d manifests tried, %d accepted; want >= 800 and exactly the 6 canonical ones", tried, accepted)
	}
}
