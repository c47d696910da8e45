package target_test

import (
	"testing"

	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/internal/target/targettest"
)

// -b against a target whose first word is a module load: kd stops there.
func TestBreakInOwedAtModuleLoad(t *testing.T) {
	r := targettest.New(t, targettest.Options{Sim: sim.Config{ModuleLoads: true}, Target: target.Config{BreakIn: true}})
	st := r.Stop()
	if !st.BreakIn || st.Kind != target.StopModuleLoad || st.Load.Base != r.Sym("simdrv!__ImageBase") {
		t.Fatalf("first stop %+v; want the module load", st)
	}
	if n := len(targettest.Events[target.ModuleLoad](r)); n != 0 {
		t.Fatalf("kd noted %d loads it went past", n)
	}
}
