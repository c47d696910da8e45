package target_test

import (
	"context"
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

// The first stop at connection is shown after the fewest requests: the
// version, nt's PE header and its export directory, which name the stop
// (at 115200 baud every request costs at least 15 ms of line time). The
// loader list, section table and RSDS record wait until something needs
// them, and the walk that reads them later keeps what was read.
func TestFirstStopRequests(t *testing.T) {
	r, st := targettest.Stopped(t, targettest.Options{})
	if st.Location.Symbol != "nt!DbgBreakPointWithStatus" {
		t.Fatalf("first stop at %q", st.Location.Symbol)
	}
	kb := r.Machine.KernBase()
	var got []string
	for _, e := range r.SimEvents(sim.EventAPI) {
		got = append(got, fmt.Sprintf("%s %#x:%d", e.API, e.Addr-min(e.Addr, kb), e.Bytes))
	}
	want := []string{
		kdproto.APIGetVersion.String() + " 0x0:0",
		kdproto.APIReadVirtualMemory.String() + " 0x0:512", // DOS and PE headers
	}
	if len(got) != 3 || !slices.Equal(got[:2], want) || !strings.HasPrefix(got[2], kdproto.APIReadVirtualMemory.String()) {
		t.Fatalf("requests before the first prompt (address relative to nt):\n%s\nwant %s and the export directory",
			strings.Join(got, "\n"), strings.Join(want, ", "))
	}
	// lm then walks the list; nt keeps its export names (no new read of
	// its export directory) and gets the loader's file name.
	before := r.Reads()
	mods, err := r.Target.Modules(r.Ctx)
	if err != nil || len(mods) < 2 || mods[0].Name != "nt" || mods[0].File == "" || mods[0].Base != kb {
		t.Fatalf("modules %+v, %v", mods, err)
	}
	walked := r.Reads() - before
	if sym := r.Target.Symbolize(r.Ctx, r.Sym("nt!KiIdleLoop")); sym != "nt!KiIdleLoop" || r.Reads()-before != walked {
		t.Fatalf("symbol %q after the walk, %d reads more", sym, r.Reads()-before-walked)
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
		if err := r.Target.Go(r.Ctx); err != nil {
			t.Fatal(err)
		}
		r.WaitSim(sim.EventRun, "", 1)
		r.Target.Interrupt()
		if st := r.Stop(); !st.BreakIn {
			t.Fatalf("stop %+v; want the break-in", st)
		}
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
		if err := r.Target.Go(r.Ctx); err != nil {
			t.Fatal(err)
		}
		r.WaitSim(sim.EventRun, "", 1)
		r.Target.Interrupt()
		if st := r.Stop(); !st.BreakIn {
			t.Fatalf("stop %+v", st)
		}
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
