package target_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/internal/target/targettest"
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
