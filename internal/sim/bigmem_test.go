package sim

import (
	"bytes"
	"context"
	"errors"
	"net"
	"testing"
	"testing/synctest"

	"github.com/gokd/kd/kdproto"
)

// expectBulk returns what the bulk pool of a fresh machine with seed holds
// at va, n bytes, computed from the documented formula.
func expectBulk(seed int64, va uint64, n int) []byte {
	out := make([]byte, 0, n+16)
	for w := va &^ 7; len(out) < n+int(va&7); w += 8 {
		out = le.AppendUint64(out, BulkPoolWord(seed, w))
	}
	return out[va&7 : uint64(n)+va&7]
}

func TestBulkPoolContents(t *testing.T) {
	const end = BulkPoolBase + BulkPoolSize
	tests := []struct {
		name  string
		seed  int64
		va    uint64
		n     int
		wantN int // bytes readable before the end of the pool
	}{
		{"start", 1, BulkPoolBase, 64, 64},
		{"unaligned", 1, BulkPoolBase + 0x1235, 13, 13},
		{"across pages", 7, BulkPoolBase + 0x7FFD, 9000, 9000},
		{"aligned, odd tail", 1, BulkPoolBase + 0x18, 4003, 4003},
		{"last bytes", 1, end - 5, 5, 5},
		{"runs off the end", 1, end - 12, 100, 12},
		{"other seed", 2, BulkPoolBase + 0x10, 32, 32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(Config{Seed: tt.seed})
			got := make([]byte, tt.n)
			if n := m.im.vmem.read(tt.va, got); n != tt.wantN {
				t.Fatalf("read %d bytes; want %d", n, tt.wantN)
			}
			if want := expectBulk(tt.seed, tt.va, tt.wantN); !bytes.Equal(got[:tt.wantN], want) {
				t.Errorf("contents % x...; want % x...", got[:8], want[:min(8, len(want))])
			}
		})
	}
	// The test vector in docs/kdsim.md.
	if got := le.AppendUint64(nil, BulkPoolWord(1, BulkPoolBase)); !bytes.Equal(got, []byte{0x14, 0xa3, 0x46, 0x85, 0xfb, 0xa0, 0x85, 0x53}) {
		t.Errorf("seed 1's first word % x; docs/kdsim.md says 14 a3 46 85 fb a0 85 53", got)
	}
	a, b := make([]byte, 16), make([]byte, 16)
	New(Config{Seed: 1}).im.vmem.read(BulkPoolBase, a)
	New(Config{Seed: 2}).im.vmem.read(BulkPoolBase, b)
	if bytes.Equal(a, b) {
		t.Error("seeds 1 and 2 generate the same pool")
	}
}

// TestBulkPoolIsNotHeld reads one MiB in every eight across the pool, the
// last one included, and checks that the reads allocate nothing and store
// no page: the contents are generated.
func TestBulkPoolIsNotHeld(t *testing.T) {
	m := New(Config{Seed: 3})
	const step = 8 << 20
	buf := make([]byte, 1<<20)
	va := BulkPoolBase + step - uint64(len(buf)) // AllocsPerRun calls once more to warm up
	allocs := testing.AllocsPerRun(BulkPoolSize/step-1, func() {
		if n := m.im.vmem.read(va, buf); n != len(buf) {
			t.Fatalf("read at %#x: %d bytes", va, n)
		}
		va += step
	})
	if allocs != 0 {
		t.Errorf("%v allocations per 1 MiB read; want 0", allocs)
	}
	if va -= step - uint64(len(buf)); va != BulkPoolBase+BulkPoolSize {
		t.Errorf("read up to %#x; want the end of the pool", va)
	}
	if got := bytes.Equal(buf[len(buf)-8:], expectBulk(3, va-8, 8)); !got {
		t.Error("last word differs from the formula")
	}
	if n := len(m.im.vmem.window(BulkPoolBase).b.pages); n != 0 {
		t.Errorf("%d pages stored after reading; want 0", n)
	}
}

// translate walks the page tables from CR3 like the processor.
func translate(t *testing.T, m *Machine, va uint64) uint64 {
	t.Helper()
	tab := le.Uint64(m.im.cpus[0].special[srCr3:])
	for level := 3; level >= 0; level-- {
		e, ok := m.im.pmem.u64(tab + 8*((va>>(12+9*level))&0x1FF))
		if !ok || e&1 == 0 {
			t.Fatalf("va %#x: level %d entry %#x not present", va, level, e)
		}
		tab = e & 0x000FFFFFFFFFF000
	}
	return tab + va&(pageSize-1)
}

func TestBulkPoolPhysicalAndPageTables(t *testing.T) {
	m := New(Config{Seed: 1})
	for _, off := range []uint64{0, 0x1008, 0x200000, BulkPoolSize - pageSize + 0x10} {
		va := BulkPoolBase + off
		if pa := translate(t, m, va); pa != BulkPoolPhys+off {
			t.Errorf("va %#x translates to %#x; want %#x", va, pa, BulkPoolPhys+off)
		}
		v, p := make([]byte, 24), make([]byte, 24)
		m.im.vmem.read(va, v)
		m.im.pmem.read(BulkPoolPhys+off, p)
		if !bytes.Equal(v, p) {
			t.Errorf("offset %#x: virtual % x, physical % x", off, v, p)
		}
	}
}

func TestBulkPoolWrites(t *testing.T) {
	m := New(Config{Seed: 1})
	va := BulkPoolBase + 0x3FFE
	if n := m.im.vmem.write(va, []byte("hello")); n != 5 {
		t.Fatalf("wrote %d bytes", n)
	}
	got := make([]byte, 9)
	m.im.pmem.read(BulkPoolPhys+0x3FFC, got)
	want := append(append(expectBulk(1, va-2, 2), "hello"...), expectBulk(1, va+5, 2)...)
	if !bytes.Equal(got, want) {
		t.Errorf("after the write, physical % x; want % x", got, want)
	}
	if n := len(m.im.vmem.window(va).b.pages); n != 2 {
		t.Errorf("%d pages stored; want 2 (the write crosses a page)", n)
	}
	m.im.pmem.write(BulkPoolPhys+0x3FFE, []byte{'j'})
	m.im.vmem.read(va, got[:5])
	if string(got[:5]) != "jello" {
		t.Errorf("a physical write is not seen through virtual memory: %q", got[:5])
	}
}

// TestBulkPoolWriteBudget fills the whole pool: the fill stops at the
// write budget instead of storing 256 MiB.
func TestBulkPoolWriteBudget(t *testing.T) {
	m := New(Config{Seed: 1})
	done := m.im.vmem.fill(BulkPoolBase+0x800, 0xFFFFFFFF, []byte{0xAB, 0xCD})
	// The first page is written from 0x800, so the budget ends 0x800 early.
	if want := uint32(MaxWrittenPages*pageSize - 0x800); done != want {
		t.Fatalf("fill wrote %#x bytes; want %#x", done, want)
	}
	if n := len(m.im.vmem.window(BulkPoolBase).b.pages); n != MaxWrittenPages {
		t.Errorf("%d pages stored; want %d", n, MaxWrittenPages)
	}
	if n := m.im.vmem.write(BulkPoolBase+MaxWrittenPages*pageSize, []byte{1}); n != 0 {
		t.Error("a write past the budget succeeded")
	}
	// Written pages stay writable; reading past them still works.
	if n := m.im.vmem.write(BulkPoolBase, []byte{1}); n != 1 {
		t.Error("a stored page is no longer writable")
	}
	b := make([]byte, 4)
	if m.im.vmem.read(BulkPoolBase+MaxWrittenPages*pageSize-2, b); !bytes.Equal(b[:2], []byte{0xAB, 0xCD}) ||
		!bytes.Equal(b[2:], expectBulk(1, BulkPoolBase+MaxWrittenPages*pageSize, 2)) {
		t.Errorf("around the budget's end: % x", b)
	}
	m.boot()
	if n := len(m.im.vmem.window(BulkPoolBase).b.pages); n != 0 {
		t.Errorf("a reboot keeps %d written pages", n)
	}
}

func TestBulkPoolSearch(t *testing.T) {
	m := New(Config{Seed: 5})
	tests := []struct {
		name string
		at   uint64 // where the pattern is taken from
		from uint64
		n    int
	}{
		{"first chunk", BulkPoolBase + 0x100, BulkPoolBase, 8},
		{"straddles a chunk", BulkPoolBase + searchChunk - 3, BulkPoolBase, 8},
		{"far in", BulkPoolBase + 40<<20 + 1, BulkPoolBase + 39<<20, 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pat := expectBulk(5, tt.at, tt.n)
			got, ok := m.im.vmem.search(tt.from, BulkPoolSize, pat)
			if !ok || got != tt.at {
				t.Errorf("search found %#x, %v; want %#x", got, ok, tt.at)
			}
		})
	}
	// A match must lie inside the range.
	pat := expectBulk(5, BulkPoolBase+0x100, 8)
	if _, ok := m.im.vmem.search(BulkPoolBase, 0x104, pat); ok {
		t.Error("found a match that runs past the end of the range")
	}
}

// TestBulkPoolOverTheWire reads the pool with kd's engine through
// DbgKdReadVirtualMemory, including a read that runs off its end.
func TestBulkPoolOverTheWire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := New(Config{Seed: 9, Stopped: true})
		a, b := net.Pipe()
		go m.Serve(context.Background(), a)
		e := kdproto.NewEngine(b, kdproto.Options{})
		defer e.Close()
		waitEvent(t, e, kdproto.EventStateChange)
		ctx := context.Background()
		va := BulkPoolBase + 0x123457
		got, err := e.ReadVirtual(ctx, 0, va, 100000)
		if err != nil || !bytes.Equal(got, expectBulk(9, va, 100000)) {
			t.Fatalf("ReadVirtual: %d bytes, %v", len(got), err)
		}
		end := BulkPoolBase + BulkPoolSize
		got, err = e.ReadVirtual(ctx, 0, end-5000, 8000)
		var me *kdproto.MemoryError
		if !errors.As(err, &me) || me.Done != 5000 || !bytes.Equal(got, expectBulk(9, end-5000, 5000)) {
			t.Errorf("read past the end: %d bytes, %v; want 5000 and a memory error", len(got), err)
		}
		phys, err := e.ReadPhysical(ctx, BulkPoolPhys+0x123457, 64, 0)
		if err != nil || !bytes.Equal(phys, expectBulk(9, va, 64)) {
			t.Errorf("ReadPhysical: % x, %v", phys, err)
		}
	})
}
