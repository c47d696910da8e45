package target_test

import (
	"bytes"
	"testing"

	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/internal/target/targettest"
	"github.com/gokd/kd/kdproto"
)

func TestFirstStopMatchesMachine(t *testing.T) {
	r, st := targettest.Stopped(t, targettest.Options{})
	cpu, pc, ok := r.Machine.Stop()
	if !ok || st.CPU != uint16(cpu) || st.PC != pc {
		t.Fatalf("stop = cpu %d pc %#x; the machine is stopped (%v) on cpu %d at %#x", st.CPU, st.PC, ok, cpu, pc)
	}
	if want := r.Sym("nt!DbgBreakPointWithStatus"); pc != want {
		t.Fatalf("the initial breakpoint is at %#x, want nt!DbgBreakPointWithStatus %#x", pc, want)
	}
	if st.Kind != target.StopException || st.Code != kdproto.StatusBreakpoint || st.Breakpoint != -1 {
		t.Errorf("stop = %+v; want a breakpoint exception, no kd breakpoint", st)
	}
	if st.Location.Symbol != "nt!DbgBreakPointWithStatus" || st.Location.Inst.Text != "int     3" {
		t.Errorf("location = %q %q; want nt!DbgBreakPointWithStatus, int 3", st.Location.Symbol, st.Location.Inst.Text)
	}
	cur, n := r.Target.Processor()
	if cur != 0 || n != uint32(r.Machine.Processors()) {
		t.Errorf("Processor() = %d of %d; want 0 of %d", cur, n, r.Machine.Processors())
	}
	regs, err := r.Target.Registers(r.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(regs.Raw, r.Regs(0).Raw) {
		t.Fatalf("the registers kd read differ from the machine's processor 0")
	}
}
