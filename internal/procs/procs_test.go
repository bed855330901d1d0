package procs

import (
	"os"
	"runtime"
	"testing"
)

func TestTune(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)
	if os.Getenv("GOMAXPROCS") != "" {
		if got := Tune(); got != prev {
			t.Fatalf("Tune with GOMAXPROCS set = %d, want it left at %d", got, prev)
		}
		return
	}
	runtime.SetDefaultGOMAXPROCS()
	def := runtime.GOMAXPROCS(0)
	n := Tune()
	if n != def+SyncProcs || runtime.GOMAXPROCS(0) != n {
		t.Fatalf("Tune = %d, GOMAXPROCS %d; want %d (default %d + %d)", n, runtime.GOMAXPROCS(0), def+SyncProcs, def, SyncProcs)
	}
	if again := Tune(); again != n {
		t.Fatalf("Tune again = %d, want %d", again, n)
	}
}

func TestTuneKeepsEnv(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)
	t.Setenv("GOMAXPROCS", "3")
	runtime.GOMAXPROCS(3)
	if got := Tune(); got != 3 || runtime.GOMAXPROCS(0) != 3 {
		t.Fatalf("Tune with GOMAXPROCS=3 = %d, GOMAXPROCS %d; want 3 unchanged", got, runtime.GOMAXPROCS(0))
	}
}
