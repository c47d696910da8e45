package target_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/internal/target/targettest"
	"github.com/gokd/kd/kdproto"
)

// A CTRL+C during the version read at the first stop: a failure event
// with a hint, and a resync asks again.
func TestVersionFailureIsReportedAndRetried(t *testing.T) {
	r := targettest.New(t, targettest.Options{Sim: sim.Config{Stopped: true}})
	cancelled, cancel := context.WithCancel(r.Ctx)
	cancel()
	var f target.Failure
	r.PumpCtx(cancelled, "the version read to fail", func() bool {
		fs := targettest.Events[target.Failure](r)
		if len(fs) > 0 {
			f = fs[0]
		}
		return len(fs) > 0
	})
	if f.What != "GetVersion" || !errors.Is(f.Err, context.Canceled) || len(f.Hints) == 0 {
		t.Fatalf("failure %+v", f)
	}
	if r.Target.Ready() {
		t.Fatal("ready without the target's version")
	}
	if _, ok := r.Target.Info(); ok {
		t.Fatal("Info without a version")
	}
	if err := r.Target.Resync(); err != nil {
		t.Fatal(err)
	}
	targettest.Next[target.Connected](r, nil)
	r.Pump("ready after the resync", r.Target.Ready)
	info, ok := r.Target.Info()
	if !ok || info.Version.KernBase != r.Machine.KernBase() {
		t.Fatalf("Info = %+v, %v", info, ok)
	}
	// The failed first stop left no empty module list behind.
	if sym := r.Target.Symbolize(r.Ctx, r.Sym("nt!KiIdleLoop")); sym != "nt!KiIdleLoop" {
		t.Fatalf("symbol %q after the retry", sym)
	}
}

// ntExports returns nt's export region (RVA and size) and the RVA of the
// string name, as the machine's image holds them.
func ntExports(r *targettest.Rig, name string) (dirRVA, dirSize, nameRVA uint32) {
	r.T.Helper()
	kb := r.Machine.KernBase()
	u32 := func(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
	pe := uint64(u32(r.Peek(kb+0x3C, 4)))
	dd := r.Peek(kb+pe+24+0x70, 8)
	dirRVA, dirSize = u32(dd), u32(dd[4:])
	i := bytes.Index(r.Peek(kb+uint64(dirRVA), int(dirSize)), []byte("\x00"+name+"\x00"))
	if i < 0 {
		r.T.Fatalf("nt's export region has no name %s", name)
	}
	return dirRVA, dirSize, dirRVA + uint32(i) + 1
}

// The first stop at connection is shown after the fewest requests, each
// of the fewest bytes (at 115200 baud a request costs 178 characters of
// line time, 15.5 ms, and every byte 87 us more): the version; nt's
// headers as far as the export directory entry (0x1B0 bytes: nt's base is
// KernBase and its size the header's SizeOfImage, so the loader list is
// not needed); the export directory with what its tables usually take of
// the region (10/27), read as one; and the one name the stop needs, of
// its exact length. The loader list, section table, RSDS record and the
// other names wait until something needs them, and the walk that reads
// the list later keeps what was read.
func TestFirstStopRequests(t *testing.T) {
	r, st := targettest.Stopped(t, targettest.Options{})
	if st.Location.Symbol != "nt!DbgBreakPointWithStatus" {
		t.Fatalf("first stop at %q", st.Location.Symbol)
	}
	kb := r.Machine.KernBase()
	dirRVA, dirSize, nameRVA := ntExports(r, "DbgBreakPointWithStatus")
	var got []string
	for _, e := range r.SimEvents(sim.EventAPI) {
		got = append(got, fmt.Sprintf("%s %#x:%d", e.API, e.Addr-min(e.Addr, kb), e.Bytes))
	}
	read := kdproto.APIReadVirtualMemory.String()
	want := []string{
		kdproto.APIGetVersion.String() + " 0x0:0",
		read + " 0x0:432", // DOS and PE headers up to the data directories
		fmt.Sprintf("%s %#x:%d", read, dirRVA, 40+dirSize*10/27),
		fmt.Sprintf("%s %#x:%d", read, nameRVA, len("DbgBreakPointWithStatus")+1),
	}
	if !slices.Equal(got, want) {
		t.Fatalf("requests before the first prompt (address relative to nt):\n%s\nwant\n%s",
			strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// lm then walks the list; nt keeps its export tables (no new read of
	// its export directory) and gets the loader's file name. Another
	// address in nt costs its one name.
	before := r.Reads()
	mods, err := r.Target.Modules(r.Ctx)
	if err != nil || len(mods) < 2 || mods[0].Name != "nt" || mods[0].File == "" || mods[0].Base != kb {
		t.Fatalf("modules %+v, %v", mods, err)
	}
	walked := len(r.SimEvents(sim.EventAPI))
	_, _, idleRVA := ntExports(r, "KiIdleLoop")
	if sym := r.Target.Symbolize(r.Ctx, r.Sym("nt!KiIdleLoop")); sym != "nt!KiIdleLoop" {
		t.Fatalf("symbol %q after the walk", sym)
	}
	after := r.SimEvents(sim.EventAPI)[walked:]
	if len(after) != 1 || after[0].Addr != kb+uint64(idleRVA) || int(after[0].Bytes) != len("KiIdleLoop")+1 {
		t.Fatalf("naming KiIdleLoop after the walk (%d reads before it): %+v; want its name only", r.Reads()-before, after)
	}
}

// The whole export list (x, ln, module!name), asked for after the first
// stop named an address, reads none of the bytes read before (the
// directory, the tables, the stop's name): only the rest of the strings,
// in as few requests as the memory cache makes of them. Its names are
// those the machine exports.
func TestExportListAfterPartialLookup(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{})
	kb := r.Machine.KernBase()
	dirRVA, dirSize, _ := ntExports(r, "DbgBreakPointWithStatus")
	if _, err := r.Target.Modules(r.Ctx); err != nil { // nt!* finds nt by name
		t.Fatal(err)
	}
	type span struct{ lo, hi uint64 }
	var first []span
	for _, e := range r.SimEvents(sim.EventAPI) {
		first = append(first, span{e.Addr, e.Addr + uint64(e.Bytes)})
	}
	n := len(first)
	syms, err := r.Target.FindSymbols(r.Ctx, "nt", "*")
	if err != nil {
		t.Fatal(err)
	}
	var bytesRead int
	later := r.SimEvents(sim.EventAPI)[n:]
	for _, e := range later {
		lo, hi := e.Addr, e.Addr+uint64(e.Bytes)
		if lo < kb+uint64(dirRVA) || hi > kb+uint64(dirRVA)+uint64(dirSize) {
			t.Errorf("read %#x:%d outside nt's export region", lo-kb, e.Bytes)
		}
		for _, f := range first {
			if lo < f.hi && f.lo < hi {
				t.Errorf("read %#x:%d again (read before the first prompt: %#x-%#x)", lo-kb, e.Bytes, f.lo-kb, f.hi-kb)
			}
		}
		bytesRead += int(e.Bytes)
	}
	t.Logf("the export list took %d reads of %d bytes (region %d bytes)", len(later), bytesRead, dirSize)
	// The strings follow the tables, which the first stop read whole.
	if len(later) == 0 || len(later) > 2 || bytesRead > int(dirSize)-int(first[2].hi-first[2].lo)-int(first[3].hi-first[3].lo) {
		t.Fatalf("the export list took %d reads of %d bytes in all (region %d bytes)", len(later), bytesRead, dirSize)
	}
	exported := map[string]bool{}
	for _, y := range syms {
		exported[y.Name] = true
		if r.Sym("nt!"+y.Name) != y.Addr {
			t.Errorf("%s at %#x, the machine has it at %#x", y.Name, y.Addr, r.Sym("nt!"+y.Name))
		}
	}
	for _, name := range []string{"DbgBreakPointWithStatus", "KiIdleLoop", "PsLoadedModuleList"} {
		if !exported[name] {
			t.Errorf("nt!%s missing from the list", name)
		}
	}
	// The list, once read, answers everything without a read.
	reads := r.Reads()
	if _, err := r.Target.Resolve(r.Ctx, "nt!KiIdleLoop"); err != nil || r.Reads() != reads {
		t.Fatalf("resolve after the list: %v, %d reads", err, r.Reads()-reads)
	}
}

// resetsOut counts the RESET packets kd wrote, from a trace hook (a
// running target eats them unread, so the machine cannot count them), and
// notes the (bubble) time of the first.
type resetsOut struct {
	mu    sync.Mutex
	n     int
	first time.Time
}

func (c *resetsOut) hook(tr kdproto.TraceRecord) {
	if tr.Dir != kdproto.DirOut || tr.Breakin || tr.Packet.Type != kdproto.PacketTypeReset || !tr.Packet.IsControl() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 {
		c.first = time.Now()
	}
	c.n++
}

func (c *resetsOut) get() (int, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n, c.first
}

// tracedRig opens a rig with c's hook installed before the connection.
func tracedRig(t *testing.T, o targettest.Options, c *resetsOut) *targettest.Rig {
	o.NoOpen = true
	r := targettest.New(t, o)
	r.Target.SetTrace(c.hook)
	if err := r.Target.Open(r.Ctx); err != nil {
		t.Fatal(err)
	}
	return r
}

// A freshly booted stopped target sends its stop with the sync bit: its
// numbering started over, so kd connects without a RESET exchange, asks
// at once, and stays in step through a go and a break-in.
func TestConnectFreshStopWithoutReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c resetsOut
		start := time.Now()
		r := tracedRig(t, targettest.Options{Sim: sim.Config{Stopped: true}}, &c)
		targettest.Next[target.Connected](r, nil)
		st := r.Stop()
		if took := time.Since(start); took >= 100*time.Millisecond {
			t.Errorf("first stop shown after %v: kd waited out the listen window", took)
		}
		if st.Location.Symbol != "nt!DbgBreakPointWithStatus" {
			t.Fatalf("first stop %+v", st)
		}
		if _, err := r.Target.Registers(r.Ctx); err != nil {
			t.Fatal(err)
		}
		goAndBreakIn(t, r)
		if _, _, err := r.Target.ReadMemory(r.Ctx, r.Sym("nt!KiIdleLoop"), 16); err != nil {
			t.Fatal(err)
		}
		n, _ := c.get()
		if n != 0 || r.SimCount(sim.EventReset, "") != 0 || len(targettest.Events[target.ResetAnswered](r)) != 0 {
			t.Fatalf("%d RESET packets sent, %d taken by the machine; want none", n, r.SimCount(sim.EventReset, ""))
		}
	})
}

// .restart reconnects to the same stopped machine: its stop comes again
// without the sync bit (kd's ACKs cleared it), so the RESET exchange puts
// the ids in step before kd asks anything.
func TestReconnectStopWithoutSyncBitResets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, first := targettest.Stopped(t, targettest.Options{})
		if n := r.SimCount(sim.EventReset, ""); n != 0 {
			t.Fatalf("%d RESETs at the fresh connection", n)
		}
		if err := r.Target.Restart(); err != nil {
			t.Fatal(err)
		}
		targettest.Next[target.Restarting](r, nil)
		targettest.Next[target.ResetAnswered](r, nil)
		targettest.Next[target.Connected](r, nil)
		if st := r.Stop(); st.PC != first.PC {
			t.Fatalf("stop after .restart %+v", st)
		}
		if n := r.SimCount(sim.EventReset, ""); n != 1 {
			t.Fatalf("the machine took %d RESETs at the reconnection; want 1", n)
		}
	})
}

// A running target that says nothing gets its first RESET once the
// listen window is over, not at once, and not later.
func TestConnectSilentTargetResetAfterWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c resetsOut
		start := time.Now()
		r := tracedRig(t, targettest.Options{}, &c)
		targettest.Next[target.Waiting](r, nil)
		r.Pump("the first RESET", func() bool { n, _ := c.get(); return n > 0 })
		_, at := c.get()
		if d := at.Sub(start); d != 100*time.Millisecond {
			t.Fatalf("first RESET %v after the connection; want after the 100 ms listen window", d)
		}
		// The target answers when it stops.
		r.Target.Interrupt()
		targettest.Next[target.ResetAnswered](r, nil)
		targettest.Next[target.Connected](r, nil)
		if st := r.Stop(); !st.BreakIn {
			t.Fatalf("stop %+v", st)
		}
	})
}

// -b: the break-in byte at once and the RESET half a second later (or as
// soon as the stop comes), sync bit or not: unchanged.
func TestConnectBreakInStillResets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c resetsOut
		r := tracedRig(t, targettest.Options{Sim: sim.Config{Stopped: true}, Target: target.Config{BreakIn: true}}, &c)
		targettest.Next[target.ResetAnswered](r, nil)
		targettest.Next[target.Connected](r, nil)
		r.Stop()
		if n, _ := c.get(); n != 1 || r.SimCount(sim.EventReset, "") != 1 {
			t.Fatalf("%d RESETs sent, %d taken; want 1", n, r.SimCount(sim.EventReset, ""))
		}
	})
}

// A target whose sync bit sticks until a RESET (VirtualKD): the first
// stop has it and kd connects without RESET; every later packet has it
// too, which must not renumber kd's requests (they would be dropped as
// duplicates and time out).
func TestConnectStickySyncBitTarget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		r, _ := targettest.Stopped(t, targettest.Options{Sim: sim.Config{StickySyncBit: true}})
		for i := range 3 {
			if _, _, err := r.Target.ReadMemory(r.Ctx, r.Sym("nt!KiIdleLoop")+uint64(i)*0x1000, 16); err != nil {
				t.Fatal(err)
			}
		}
		goAndBreakIn(t, r)
		if _, err := r.Target.Registers(r.Ctx); err != nil {
			t.Fatal(err)
		}
		if n := r.SimCount(sim.EventReset, ""); n != 0 {
			t.Fatalf("%d RESETs; want none", n)
		}
		if n := len(targettest.Events[target.Repaired](r)); n != 0 {
			t.Fatalf("%d repairs: kd fell out of step", n)
		}
		// In fake time: no request waited for a timeout.
		if took := time.Since(start); took >= 500*time.Millisecond {
			t.Fatalf("took %v: a request timed out", took)
		}
		// .restart: the stopped target is silent, so the listen window
		// ends in a RESET exchange, which also clears its sticky bit.
		if err := r.Target.Restart(); err != nil {
			t.Fatal(err)
		}
		targettest.Next[target.ResetAnswered](r, nil)
		r.Stop()
		if _, err := r.Target.Registers(r.Ctx); err != nil {
			t.Fatal(err)
		}
		if n := r.SimCount(sim.EventReset, ""); n != 1 {
			t.Fatalf("%d RESETs at the reconnection; want 1", n)
		}
	})
}

// goAndBreakIn resumes the stopped target and breaks in again: the ids
// must stay in step through a Continue and a new stop.
func goAndBreakIn(t *testing.T, r *targettest.Rig) {
	t.Helper()
	if err := r.Target.Go(r.Ctx); err != nil {
		t.Fatal(err)
	}
	r.WaitSim(sim.EventRun, "", 1)
	r.Target.Interrupt()
	if st := r.Stop(); !st.BreakIn {
		t.Fatalf("stop %+v; want the break-in", st)
	}
}
