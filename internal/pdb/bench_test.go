package pdb

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// The benchmarks open a kernel-sized PDB: a synthetic one of about 35 MB
// (230,000 publics and functions, 57,500 structures), or the file named
// by KD_BENCH_PDB (a real ntkrnlmp.pdb, or one testdata/symbols/large.sh
// builds with clang and lld-link), with KD_BENCH_SYMBOL and KD_BENCH_TYPE
// naming a symbol and a structure in it. Each prints its time, the heap
// it allocates per operation and the heap the open File keeps next to
// the goals; keeping more than the limit fails the benchmark, time is
// only reported.

const benchSymbols = 230000

var (
	bigOnce sync.Once
	bigPDB  []byte
)

// benchFile returns a path to the large PDB and a symbol and a type name
// it holds.
func benchFile(b *testing.B) (path, sym, typ string) {
	b.Helper()
	if p := os.Getenv("KD_BENCH_PDB"); p != "" {
		sym, typ := os.Getenv("KD_BENCH_SYMBOL"), os.Getenv("KD_BENCH_TYPE")
		if sym == "" {
			sym = "KeBugCheckEx"
		}
		if typ == "" {
			typ = "_KPRCB"
		}
		return p, sym, typ
	}
	bigOnce.Do(func() { bigPDB = bigSynth(benchSymbols, 4096).build() })
	path = filepath.Join(b.TempDir(), "big.pdb")
	if err := os.WriteFile(path, bigPDB, 0o644); err != nil {
		b.Fatal(err)
	}
	return path, "KiSyntheticRoutine123456", "_KSYNTHETIC_012345"
}

// measure runs op b.N times and reports time and bytes allocated per
// operation. It then runs op once more and reports the heap op's File
// keeps while open against retainGoal: an index must not cost a second
// copy of the file.
func measure(b *testing.B, what string, path string, timeGoal time.Duration, retainGoal uint64, op func() *File) {
	b.Helper()
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if f := op(); f != nil {
			f.Close()
		}
	}
	elapsed := time.Since(start) / time.Duration(b.N)
	b.StopTimer()
	runtime.ReadMemStats(&m1)
	alloc := (m1.TotalAlloc - m0.TotalAlloc) / uint64(b.N)

	runtime.GC()
	runtime.ReadMemStats(&m0)
	f := op()
	runtime.GC()
	runtime.ReadMemStats(&m1)
	retained := int64(m1.HeapAlloc) - int64(m0.HeapAlloc)
	runtime.KeepAlive(f)
	if f != nil {
		f.Close()
	}
	mb := func(n float64) float64 { return n / (1 << 20) }
	b.ReportMetric(mb(float64(st.Size())), "file-MB")
	b.ReportMetric(mb(float64(retained)), "retained-MB")
	b.Logf("%s of a %.1f MB PDB: %v per op (goal %v); %.2f MB allocated per op, %.2f MB retained (limit %.2f MB)",
		what, mb(float64(st.Size())), elapsed, timeGoal, mb(float64(alloc)), mb(float64(retained)), mb(float64(retainGoal)))
	if retained > int64(retainGoal) {
		b.Errorf("%s retains %d bytes, over the %d-byte limit", what, retained, retainGoal)
	}
}

func BenchmarkOpen(b *testing.B) {
	path, _, _ := benchFile(b)
	measure(b, "Open", path, 10*time.Millisecond, 1<<20, func() *File {
		f, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		return f
	})
}

func BenchmarkOpenLookup(b *testing.B) {
	path, sym, _ := benchFile(b)
	st, _ := os.Stat(path)
	// The symbol index keeps names and addresses: well under the file.
	measure(b, "Open+Lookup (builds the symbol index)", path, 500*time.Millisecond, uint64(st.Size())/2, func() *File {
		f, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if s, err := f.Lookup(sym); err != nil || len(s) == 0 {
			b.Fatalf("Lookup(%s) = %v, %v", sym, s, err)
		}
		return f
	})
}

func BenchmarkOpenType(b *testing.B) {
	path, _, typ := benchFile(b)
	st, _ := os.Stat(path)
	measure(b, "Open+TypeByName+Layout (builds the type index)", path, 500*time.Millisecond, uint64(st.Size())/4, func() *File {
		f, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		t, err := f.TypeByName(typ)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Layout(t.Index, 1); err != nil {
			b.Fatal(err)
		}
		return f
	})
}

func BenchmarkNearest(b *testing.B) {
	path, _, _ := benchFile(b)
	f, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	f.Nearest(0) // build the index outside the loop
	measure(b, "Nearest", path, time.Microsecond, 1<<10, func() *File {
		if _, _, _, _, err := f.Nearest(0x123456); err != nil {
			b.Fatal(err)
		}
		return nil
	})
}

// TestBenchFileShape keeps the benchmark's PDB honest at a small scale:
// the generator's output opens and holds what it claims.
func TestBenchFileShape(t *testing.T) {
	f, err := openBytes(bigSynth(1000, 4096).build())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fns, err := f.Functions()
	if err != nil || len(fns) != 1000 {
		t.Fatalf("Functions = %d, %v", len(fns), err)
	}
	if _, err := f.TypeByName(fmt.Sprintf("_KSYNTHETIC_%06d", 249)); err != nil {
		t.Error(err)
	}
}
