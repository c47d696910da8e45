package target_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

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
