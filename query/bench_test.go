package query_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/cdb/store"
	"github.com/coalescent/coal/cdb/store/pebblestore"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/query"
)

// The 1,000,000-value benchmarks (docs/perf.md, "Query"): one directory
// /big of Row values, indexed on name and n, in a Pebble store behind a
// CountingStore; the same rows in an SQLite table (Debian's sqlite3, no
// index) for the scan. Built once per test binary run, removed by
// TestMain.

// bigN is the number of values (-query.n; 1,000,000 for docs/perf.md).
var bigN = 1_000_000

func init() {
	flag.IntVar(&bigN, "query.n", bigN, "values in the query benchmarks' world (a multiple of 100,000)")
}

const bigCoda = `schema Row { name: string  n: u32  age: u32  city: string  score: f64 }`

var big struct {
	once sync.Once
	dir  string
	h    *cdb.Home
	w    *cdb.World
	cs   *store.CountingStore
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if big.h != nil {
		big.h.Close()
	}
	if big.dir != "" {
		os.RemoveAll(big.dir)
	}
	os.Exit(code)
}

func rowOf(i int) (name string, n, age uint32, city string, score float64) {
	return fmt.Sprintf("p%07d", i), uint32(i), uint32(i % 100), fmt.Sprintf("c%d", i%7), float64(i%1000) / 10
}

func bigWorld(b *testing.B) (*cdb.World, *store.CountingStore) {
	big.once.Do(func() {
		t0 := time.Now()
		big.err = buildBig()
		if big.err == nil {
			fmt.Fprintf(os.Stderr, "query bench: built the %d-value world in %v\n", bigN, time.Since(t0).Round(time.Millisecond))
		}
	})
	if big.err != nil {
		b.Fatal(big.err)
	}
	return big.w, big.cs
}

func buildBig() error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "coal-query-bench-")
	if err != nil {
		return err
	}
	big.dir = dir
	ps, err := pebblestore.Open(filepath.Join(dir, "store"), pebblestore.Options{})
	if err != nil {
		return err
	}
	big.cs = store.Counting(ps)
	big.h, err = cdb.Init(filepath.Join(dir, "home"), query.With(cdb.Options{Store: big.cs, NoAudit: true}))
	if err != nil {
		ps.Close()
		return err
	}
	if big.w, err = big.h.World(""); err != nil {
		return err
	}
	key := big.h.NodeKey()
	if _, _, err := big.w.AddSchemas(ctx, key, "row.coda", []byte(bigCoda)); err != nil {
		return err
	}
	if _, err := big.w.Commit(ctx, key, []cdb.Op{{Kind: cdb.Mkdir, Path: "/big", Schema: "Row"}}, "mkdir"); err != nil {
		return err
	}
	batch := min(100_000, bigN)
	for lo := 0; lo < bigN; lo += batch {
		ops := make([]cdb.Op, 0, batch)
		for i := lo; i < lo+batch; i++ {
			name, n, age, city, score := rowOf(i)
			v := coda.Struct(coda.String(name), coda.U32(n), coda.U32(age), coda.String(city), coda.F64(score))
			ops = append(ops, cdb.Op{Kind: cdb.Put, Path: "/big/" + name, Value: v})
		}
		if _, err := big.w.Commit(ctx, key, ops, "fill"); err != nil {
			return err
		}
	}
	t0 := time.Now()
	if _, err := big.w.Commit(ctx, key, []cdb.Op{{Kind: cdb.Mkdir, Path: query.IndexPath("/big", "name")}, {Kind: cdb.Mkdir, Path: query.IndexPath("/big", "n")}}, "index"); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "query bench: declared 2 indexes on %d values (one commit, entries built and checked) in %v\n", bigN, time.Since(t0).Round(time.Millisecond))
	return nil
}

// scanMatches is how many rows the scan's filter matches.
func scanMatches() int {
	n := 0
	for i := range bigN {
		if _, _, age, city, _ := rowOf(i); age == 42 && city == "c3" {
			n++
		}
	}
	return n
}

// BenchmarkQuery1M runs, in the world of 1,000,000 values: an indexed
// equality (one value), a range over an index (1,000 values) and a full
// filtered scan (no index; 2,000 matches): latency and objects read.
func BenchmarkQuery1M(b *testing.B) {
	w, cs := bigWorld(b)
	v := w.As(big.h.NodeKey().Public)
	for _, c := range []struct {
		name string
		q    query.Query
		want int
	}{
		{"index-eq", query.Query{Prefix: "/big", Where: fmt.Sprintf(`name == "p%07d"`, bigN/8+1)}, 1},
		{"index-range", query.Query{Prefix: "/big", Where: fmt.Sprintf(`n >= %d && n < %d`, bigN/2, bigN/2+1000)}, 1000},
		{"scan", query.Query{Prefix: "/big", Where: `age == 42 && city == "c3"`, NoIndex: true}, scanMatches()},
	} {
		b.Run(c.name, func(b *testing.B) {
			cs.Reset()
			var res query.Result
			for b.Loop() {
				n := 0
				var err error
				res, err = query.Run(context.Background(), v, c.q, func(query.Row) error { n++; return nil })
				if err != nil {
					b.Fatal(err)
				}
				if n != c.want {
					b.Fatalf("%d rows, want %d (plan %s)", n, c.want, res.Stats.Plan)
				}
			}
			b.ReportMetric(float64(cs.Counts().ObjectsRead)/float64(b.N), "objects-read/op")
			b.ReportMetric(float64(res.Stats.Read), "values-read/op")
		})
	}
}

// BenchmarkSQLiteScan1M is the scan's peer: the same rows and filter in
// an SQLite table without an index, run by Debian's sqlite3. ns/op
// includes starting the process; sqlite-ns/op is the query's own time as
// sqlite3's .timer reports it. It fails (not skips) without sqlite3.
func BenchmarkSQLiteScan1M(b *testing.B) {
	bin, err := exec.LookPath("sqlite3")
	if err != nil {
		b.Fatal("sqlite3 is not installed: this benchmark compares the scan with Debian's sqlite3 (apt-get install -y sqlite3)")
	}
	db := filepath.Join(b.TempDir(), "rows.db")
	var sql bytes.Buffer
	sql.WriteString("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN;\nCREATE TABLE big (name TEXT, n INTEGER, age INTEGER, city TEXT, score REAL);\n")
	for i := range bigN {
		name, n, age, city, score := rowOf(i)
		fmt.Fprintf(&sql, "INSERT INTO big VALUES ('%s',%d,%d,'%s',%v);\n", name, n, age, city, score)
	}
	sql.WriteString("COMMIT;\n")
	load := exec.Command(bin, db)
	load.Stdin = &sql
	if out, err := load.CombinedOutput(); err != nil {
		b.Fatalf("sqlite3 load: %v: %s", err, out)
	}
	re := regexp.MustCompile(`Run Time: real ([0-9.]+)`)
	var total time.Duration
	for b.Loop() {
		cmd := exec.Command(bin, db)
		cmd.Stdin = strings.NewReader(".timer on\nSELECT count(*) FROM big WHERE age = 42 AND city = 'c3';\n")
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("sqlite3: %v: %s", err, out)
		}
		if !strings.HasPrefix(string(out), fmt.Sprintf("%d\n", scanMatches())) {
			b.Fatalf("sqlite3 counted %q, want %d", out, scanMatches())
		}
		m := re.FindSubmatch(out)
		if m == nil {
			b.Fatalf("no timer in %q", out)
		}
		s, _ := strconv.ParseFloat(string(m[1]), 64)
		total += time.Duration(s * float64(time.Second))
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "sqlite-ns/op")
}
