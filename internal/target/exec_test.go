package target_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/internal/target/targettest"
	"github.com/gokd/kd/kdproto"
)

// idleCall is the address of KiIdleLoop's call to the driver's timer
// routine (after xor ecx,ecx): every processor runs it every tick.
func idleCall(r *targettest.Rig) uint64 { return r.Sym("nt!KiIdleLoop_loop") + 2 }

// goUntilStop resumes the target and waits for its next stop.
func goUntilStop(t *testing.T, r *targettest.Rig) target.Stopped {
	t.Helper()
	if err := r.Target.Go(r.Ctx); err != nil {
		t.Fatalf("Go: %v", err)
	}
	return r.Stop()
}

// checkRegs fails unless regs are the machine's registers of cpu.
func checkRegs(t *testing.T, r *targettest.Rig, cpu int, regs target.Registers) {
	t.Helper()
	if m := r.Regs(cpu); !bytes.Equal(regs.Raw, m.Raw) {
		t.Fatalf("kd's registers of processor %d (rip %#x) differ from the machine's (rip %#x)", cpu, regs.PC(), m.MustGet("rip"))
	}
}

func TestBreakpointHitAndGoOverIt(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{})
	addr := idleCall(r)
	orig := r.Peek(addr, 1)[0]
	id, existed, err := r.Target.AddBreakpoint(r.Ctx, addr)
	if err != nil || existed || id != 0 {
		t.Fatalf("AddBreakpoint = %d, %v, %v; want 0, false, nil", id, existed, err)
	}
	if b := r.Peek(addr, 1)[0]; b != 0xCC {
		t.Fatalf("the machine holds %#x at the breakpoint, want 0xcc", b)
	}
	if id2, existed, err := r.Target.AddBreakpoint(r.Ctx, addr); err != nil || !existed || id2 != id {
		t.Fatalf("a second bp at the same address = %d, %v, %v; want %d, true, nil", id2, existed, err, id)
	}
	st := goUntilStop(t, r)
	if st.Breakpoint != 0 || st.PC != addr || st.Kind != target.StopException || st.Code != kdproto.StatusBreakpoint {
		t.Fatalf("stop = %+v; want breakpoint 0 at %#x", st, addr)
	}
	if want := "nt!KiIdleLoop_loop+0x2"; st.Location.Symbol != want {
		t.Errorf("location symbol %q, want %q", st.Location.Symbol, want)
	}
	// The stop report carries the original byte, not kd's int 3.
	if !st.Location.Inst.Valid || st.Location.Inst.Bytes[0] != orig || st.Location.Inst.Bytes[0] == 0xCC {
		t.Errorf("instruction at the breakpoint %+v; want the original byte %#x", st.Location.Inst, orig)
	}
	cpu, _, _ := r.Machine.Stop()
	regs, err := r.Target.Registers(r.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkRegs(t, r, cpu, regs)

	// g at the breakpoint's own address: kd lifts it, steps one
	// instruction, plants it again and goes on without a stop in between;
	// the next pass through the loop hits it again.
	steps := r.SimCount(sim.EventRun, "")
	st = goUntilStop(t, r)
	if st.Breakpoint != 0 || st.PC != addr {
		t.Fatalf("second stop = %+v; want breakpoint 0 again", st)
	}
	runs := r.SimEvents(sim.EventRun)[steps:]
	if len(runs) != 2 || runs[0].Detail != "step" || runs[1].Detail != "go" {
		t.Fatalf("the machine ran %+v; want one step off the breakpoint, then go", runs)
	}
	if bl := r.Target.Breakpoints(); len(bl) != 1 || bl[0].Hits != 2 || bl[0].Addr != addr || !bl[0].Enabled {
		t.Fatalf("Breakpoints() = %+v; want #0 at %#x with 2 hits", bl, addr)
	}
	if b := r.Peek(addr, 1)[0]; b != 0xCC {
		t.Fatalf("the breakpoint was not planted again: %#x", b)
	}
	if err := r.Target.ClearBreakpoints(r.Ctx, nil, true); err != nil {
		t.Fatal(err)
	}
	if b := r.Peek(addr, 1)[0]; b != orig {
		t.Fatalf("after bc * the machine holds %#x, want the original %#x", b, orig)
	}
	if n := len(r.Target.Breakpoints()); n != 0 {
		t.Fatalf("%d breakpoints after bc *", n)
	}
	if n := len(targettest.Events[target.Failure](r)); n != 0 {
		t.Fatalf("%d failures", n)
	}
}

func TestBreakpointTable(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{})
	base := r.Sym("nt!KiSystemCall64")
	orig := r.Peek(base, target.MaxBreakpoints)
	for i := range target.MaxBreakpoints {
		id, _, err := r.Target.AddBreakpoint(r.Ctx, base+uint64(i))
		if err != nil || id != i {
			t.Fatalf("breakpoint %d: id %d, %v", i, id, err)
		}
	}
	if _, _, err := r.Target.AddBreakpoint(r.Ctx, base+0x100); err == nil {
		t.Fatalf("a breakpoint past the kernel's limit of %d was accepted", target.MaxBreakpoints)
	}
	if !bytes.Equal(r.Peek(base, target.MaxBreakpoints), bytes.Repeat([]byte{0xCC}, target.MaxBreakpoints)) {
		t.Fatalf("the machine does not hold 32 int 3s")
	}
	// A missing id is an error and clears nothing, even next to good ones.
	var nb *target.NoBreakpointError
	if err := r.Target.ClearBreakpoints(r.Ctx, []int{3, 40}, false); !errors.As(err, &nb) || nb.ID != 40 {
		t.Fatalf("bc 3 40 = %v; want breakpoint 40 does not exist", err)
	}
	if n := len(r.Target.Breakpoints()); n != target.MaxBreakpoints {
		t.Fatalf("a failed bc cleared %d breakpoints", target.MaxBreakpoints-n)
	}
	if err := r.Target.ClearBreakpoints(r.Ctx, []int{10, 16}, false); err != nil {
		t.Fatal(err)
	}
	got := r.Peek(base, target.MaxBreakpoints)
	for i, b := range got {
		want := byte(0xCC)
		if i == 10 || i == 16 {
			want = orig[i]
		}
		if b != want {
			t.Errorf("byte %d: %#x, want %#x", i, b, want)
		}
	}
	// The lowest free id is reused.
	if id, _, err := r.Target.AddBreakpoint(r.Ctx, base+0x40); err != nil || id != 10 {
		t.Fatalf("the next breakpoint got id %d (%v); want 10", id, err)
	}
}
