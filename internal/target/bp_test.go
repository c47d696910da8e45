package target_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/internal/target/targettest"
)

// A deferred breakpoint is resolved again at a module load and planted:
// the machine's driver reports its load at the first tick after g, and
// the breakpoint in it is hit in the same run.
func TestDeferredBreakpointResolvedAtModuleLoad(t *testing.T) {
	o := targettest.Options{}
	o.Sim.ModuleLoads = true
	r, _ := targettest.Stopped(t, o)
	idle := r.Sym("hal!HalProcessorIdle")
	loaded := false
	calls := 0
	resolve := func(context.Context) (uint64, error) {
		calls++
		if !loaded {
			return 0, errors.New("couldn't resolve error at 'later!Idle'")
		}
		return idle, nil
	}
	id, _, err := r.Target.SetBreakpoint(r.Ctx, target.BreakSpec{Expr: "later!Idle", Resolve: resolve})
	if err != nil {
		t.Fatal(err)
	}
	if bl := r.Target.Breakpoints(); len(bl) != 1 || !bl[0].Deferred || r.Peek(idle, 1)[0] == 0xCC {
		t.Fatalf("bl %+v; want one deferred breakpoint, nothing planted", bl)
	}
	loaded = true // the module "loads" with the next module-load event
	st := goUntilStop(t, r)
	if st.Breakpoint != id || st.PC != idle {
		t.Fatalf("stop %+v; want breakpoint %d at %#x", st, id, idle)
	}
	if len(targettest.Events[target.ModuleLoad](r)) != 1 || calls != 2 {
		t.Fatalf("module loads %d, resolve calls %d; want 1 and 2", len(targettest.Events[target.ModuleLoad](r)), calls)
	}
	if bl := r.Target.Breakpoints(); bl[0].Deferred || bl[0].Addr != idle || bl[0].Hits != 1 {
		t.Fatalf("after the load: %+v", bl[0])
	}
}
