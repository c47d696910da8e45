package target_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/internal/target/targettest"
)

// loaderPool is the pool page holding the loader entries: the first one is
// what nt!PsLoadedModuleList points at. Unmapped pages follow it, then the
// processors' KPCR pages.
func loaderPool(r *targettest.Rig) uint64 {
	b := r.Peek(r.Sym("nt!PsLoadedModuleList"), 8)
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

func TestReadMemoryMatchesMachine(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{})
	for _, tc := range []struct {
		name string
		addr uint64
		n    int
	}{
		{"nt headers", r.Sym("nt!__ImageBase"), 0x400},
		{"code", r.Sym("nt!KiIdleLoop"), 16},
		{"one byte", r.Sym("nt!NtBuildNumber"), 1},
		{"across pages", r.Sym("nt!__ImageBase") + 0xF80, 0x100},
		{"one request's worth", r.Sym("nt!__ImageBase"), target.MemoryChunk},
		{"two requests' worth", r.Sym("nt!__ImageBase"), target.MemoryChunk + 1},
		{"bulk pool", 0xffffd000_00000000 + 0x1234, 0x2000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, ok, err := r.Target.ReadMemory(r.Ctx, tc.addr, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			want, wantOK := r.Machine.PeekVirtual(tc.addr, tc.n)
			if !bytes.Equal(data, want) {
				t.Fatalf("kd read differs from the machine's memory")
			}
			for i := range ok {
				if ok[i] != wantOK[i] || !ok[i] {
					t.Fatalf("ok[%d] = %v, machine mapped %v", i, ok[i], wantOK[i])
				}
			}
		})
	}
}

// A read over an unmapped hole: the bytes before and after it are read,
// the hole's are flagged, and the hole does not hide the page after it.
func TestReadMemoryOverUnreadablePages(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{})
	hole, end := r.Gap(loaderPool(r), 32)
	start := hole - 0x30
	n := int(end-start) + 0x30
	before := r.Reads()
	data, ok, err := r.Target.ReadMemory(r.Ctx, start, n)
	if err != nil {
		t.Fatal(err)
	}
	want, wantOK := r.Machine.PeekVirtual(start, n)
	if !bytes.Equal(data, want) {
		t.Fatalf("bytes differ from the machine's")
	}
	for i := range ok {
		if ok[i] != wantOK[i] {
			t.Fatalf("ok[%d] (%#x) = %v; the machine says mapped=%v", i, start+uint64(i), ok[i], wantOK[i])
		}
	}
	if !ok[0] || !ok[0x2F] || ok[0x30] || ok[n-0x31] || !ok[n-0x30] || !ok[n-1] {
		t.Fatalf("flags at the edges of the hole %#x..%#x are wrong", hole, end)
	}
	reads := r.Reads() - before
	// One request stops at the hole; one per unmapped page says it is
	// unreadable; one reads after it. Never one per line.
	if pages := int(end-hole) / 4096; reads > pages+2 {
		t.Errorf("%d read requests for a hole of %d pages", reads, pages)
	}
	// Cached now: the same read asks nothing of the target's readable part.
	before = r.Reads()
	if _, _, err := r.Target.ReadMemory(r.Ctx, start, 0x30); err != nil {
		t.Fatal(err)
	}
	if got := r.Reads() - before; got != 0 {
		t.Errorf("a cached read sent %d requests", got)
	}
}

func TestReadMemoryIsCachedUntilTheTargetRuns(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{})
	addr := r.Sym("nt!__ImageBase")
	before, cacheBefore := r.Reads(), r.Target.ReadRequests()
	if _, _, err := r.Target.ReadMemory(r.Ctx, addr, 2048); err != nil {
		t.Fatal(err)
	}
	// 2 KiB in one request, not one per 16-byte line.
	if got, cache := r.Reads()-before, r.Target.ReadRequests()-cacheBefore; got != 1 || cache != 1 {
		t.Fatalf("a 2 KiB read sent %d requests on the wire (cache counted %d); want 1", got, cache)
	}
	for _, sub := range [][2]int{{0, 16}, {100, 200}, {2047, 1}} {
		if _, _, err := r.Target.ReadMemory(r.Ctx, addr+uint64(sub[0]), sub[1]); err != nil {
			t.Fatal(err)
		}
	}
	if got := r.Reads() - before; got != 1 {
		t.Fatalf("reads inside a cached range sent %d more requests", got-1)
	}
	// Only the missing tail is fetched: a read is never widened.
	if _, _, err := r.Target.ReadMemory(r.Ctx, addr+2000, 100); err != nil {
		t.Fatal(err)
	}
	if got := r.Reads() - before; got != 2 {
		t.Fatalf("%d requests; want one more for the tail", got)
	}
	// A write empties the cache, and the new bytes are read back.
	target2 := addr + 0x3800 // nt's .data
	if err := r.Target.WriteMemory(r.Ctx, target2, []byte{0xAB}); err != nil {
		t.Fatal(err)
	}
	before = r.Reads()
	data, _, err := r.Target.ReadMemory(r.Ctx, addr, 16)
	if err != nil || r.Reads()-before != 1 {
		t.Fatalf("after a write the read sent %d requests (%v); want 1", r.Reads()-before, err)
	}
	if !bytes.Equal(data, r.Peek(addr, 16)) {
		t.Fatalf("bytes differ from the machine's")
	}
	if b, _, _ := r.Target.ReadMemory(r.Ctx, target2, 1); b[0] != 0xAB || r.Peek(target2, 1)[0] != 0xAB {
		t.Fatalf("the written byte reads back as %#x", b[0])
	}
	// Running empties it too.
	if err := r.Target.Trace(r.Ctx); err != nil {
		t.Fatal(err)
	}
	r.Stop()
	before = r.Reads()
	if _, _, err := r.Target.ReadMemory(r.Ctx, addr, 16); err != nil || r.Reads()-before != 1 {
		t.Fatalf("after t the read sent %d requests (%v); want 1", r.Reads()-before, err)
	}
	if _, _, err := r.Target.ReadMemory(r.Ctx, addr, target.MaxRead+1); err == nil {
		t.Fatalf("a read over MaxRead was accepted")
	}
	if _, _, err := r.Target.ReadMemory(r.Ctx, addr, -1); err == nil {
		t.Fatalf("a negative read was accepted")
	}
}

func TestWriteMemory(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{})
	data := r.Sym("simdrv!SimDrvState") + 0x100
	if err := r.Target.WriteMemory(r.Ctx, data, []byte{1, 2, 3, 4, 5}); err != nil {
		t.Fatal(err)
	}
	if got := r.Peek(data, 5); !bytes.Equal(got, []byte{1, 2, 3, 4, 5}) {
		t.Fatalf("the machine holds % x", got)
	}
	// A write that runs off the end of the mapping writes what it can and
	// names the first address that failed.
	hole, _ := r.Gap(r.Sym("simdrv!__ImageBase"), 1<<16)
	err := r.Target.WriteMemory(r.Ctx, hole-3, []byte{0x11, 0x22, 0x33, 0x44, 0x55})
	var ae *target.AccessError
	if !errors.As(err, &ae) || ae.Addr != hole {
		t.Fatalf("partial write error = %v; want an access error at %#x", err, hole)
	}
	if want := fmt.Sprintf("memory access error at '%08x`%08x'", hole>>32, uint32(hole)); err.Error() != want {
		t.Errorf("error text %q, want %q", err, want)
	}
	if got := r.Peek(hole-3, 3); !bytes.Equal(got, []byte{0x11, 0x22, 0x33}) {
		t.Fatalf("the mapped part holds % x; want 11 22 33", got)
	}
	// Nothing mapped at all.
	if err := r.Target.WriteMemory(r.Ctx, hole, []byte{1}); !errors.As(err, &ae) || ae.Addr != hole {
		t.Fatalf("a write into a hole = %v; want an access error at %#x", err, hole)
	}
}

func TestStreams(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{})
	bulk := uint64(0xffffd000_00000000) + 0x10000
	const n = target.StreamChunk + 5000
	payload := make([]byte, n)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	sent := 0
	wrote, err := r.Target.WriteStream(r.Ctx, bulk, func() ([]byte, error) {
		k := min(len(payload)-sent, 100000)
		b := payload[sent : sent+k]
		sent += k
		return b, nil
	})
	if err != nil || wrote != n {
		t.Fatalf("WriteStream = %d, %v; want %d", wrote, err, n)
	}
	if !bytes.Equal(r.Peek(bulk, n), payload) {
		t.Fatalf("the machine does not hold what WriteStream wrote")
	}
	var got []byte
	calls := 0
	if err := r.Target.ReadStream(r.Ctx, bulk, n, func(b []byte) error {
		calls++
		got = append(got, b...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, payload) || calls != 2 {
		t.Fatalf("ReadStream gave %d bytes in %d calls; want the payload in 2", len(got), calls)
	}
	// Up to an unreadable page: the readable prefix, then the error.
	hole, _ := r.Gap(r.Sym("simdrv!__ImageBase"), 1<<16)
	got = got[:0]
	err = r.Target.ReadStream(r.Ctx, hole-10, 20, func(b []byte) error { got = append(got, b...); return nil })
	var ue *target.UnreadableError
	if !errors.As(err, &ue) || ue.Addr != hole || !bytes.Equal(got, r.Peek(hole-10, 10)) {
		t.Fatalf("ReadStream over a hole = %v with % x; want the 10 bytes before %#x and an error there", err, got, hole)
	}
	stop := errors.New("enough")
	if err := r.Target.ReadStream(r.Ctx, bulk, n, func([]byte) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("ReadStream did not return its callback's error: %v", err)
	}
	wrote, err = r.Target.WriteStream(r.Ctx, hole-2, func() ([]byte, error) { return []byte{9, 9, 9, 9}, nil })
	var ae *target.AccessError
	if !errors.As(err, &ae) || ae.Addr != hole || wrote != 2 {
		t.Fatalf("WriteStream over a hole = %d, %v; want 2 bytes and an access error at %#x", wrote, err, hole)
	}
}
