package target_test

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/internal/target/targettest"
	"github.com/gokd/kd/kdproto"
)

func TestStepOverCall(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{})
	call := idleCall(r)
	if _, _, err := r.Target.AddBreakpoint(r.Ctx, call); err != nil {
		t.Fatal(err)
	}
	if st := goUntilStop(t, r); st.PC != call || st.CPU != 0 {
		t.Fatalf("stop = %+v; want processor 0 at the call %#x", st, call)
	}
	ticks := binary.LittleEndian.Uint32(r.Peek(r.Sym("simdrv!SimDrvTickCount"), 4))

	// p over call simdrv!SimDrvTimerRoutine (5 bytes), with kd's own
	// breakpoint on the call itself.
	if err := r.Target.StepOver(r.Ctx); err != nil {
		t.Fatal(err)
	}
	st := r.Stop()
	next := call + 5
	if !st.Step || st.PC != next || st.CPU != 0 || st.Breakpoint != -1 {
		t.Fatalf("p ended with %+v; want a step stop at %#x on processor 0", st, next)
	}
	if st.Regs == nil || st.Regs.PC() != next {
		t.Fatalf("the step stop carries registers %v; want rip %#x", st.Regs, next)
	}
	checkRegs(t, r, 0, *st.Regs)
	if got := binary.LittleEndian.Uint32(r.Peek(r.Sym("simdrv!SimDrvTickCount"), 4)); got != ticks+1 {
		t.Errorf("the timer routine ran %d times during p, want once", got-ticks)
	}
	if want := "nt!KiIdleLoop_loop+0x7"; st.Location.Symbol != want {
		t.Errorf("symbol %q, want %q", st.Location.Symbol, want)
	}
	if want := "call    hal!HalProcessorIdle ("; !strings.HasPrefix(st.Location.Inst.Text, want) {
		t.Errorf("instruction %q, want %q...", st.Location.Inst.Text, want)
	}
	// The temporary breakpoint is gone; the user's is still planted.
	if b := r.Peek(next, 1)[0]; b != 0xE8 {
		t.Errorf("the machine holds %#x after the call, want the call opcode 0xe8", b)
	}
	if b := r.Peek(call, 1)[0]; b != 0xCC {
		t.Errorf("the user breakpoint is %#x, want 0xcc", b)
	}
	if bl := r.Target.Breakpoints(); len(bl) != 1 {
		t.Errorf("p left breakpoints %+v", bl)
	}

	// p on an instruction that is not a call is a single step: pause.
	if err := r.Target.ClearBreakpoints(r.Ctx, []int{0}, false); err != nil {
		t.Fatal(err)
	}
	pause := r.Sym("nt!KiIdleLoop_loop") + 12
	if err := r.Target.SetRegister(r.Ctx, "rip", pause); err != nil {
		t.Fatal(err)
	}
	steps := r.SimCount(sim.EventRun, "")
	if err := r.Target.StepOver(r.Ctx); err != nil {
		t.Fatal(err)
	}
	st = r.Stop()
	if !st.Step || st.PC != pause+2 || st.Code != kdproto.StatusSingleStep {
		t.Fatalf("p over pause = %+v; want a single step to %#x", st, pause+2)
	}
	if runs := r.SimEvents(sim.EventRun)[steps:]; len(runs) != 1 || runs[0].Detail != "step" {
		t.Fatalf("the machine ran %+v; want one step", runs)
	}
	checkRegs(t, r, 0, *st.Regs)
}

func TestTraceIntoCall(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{})
	call := idleCall(r)
	if _, _, err := r.Target.AddBreakpoint(r.Ctx, call); err != nil {
		t.Fatal(err)
	}
	goUntilStop(t, r)
	if err := r.Target.Trace(r.Ctx); err != nil {
		t.Fatal(err)
	}
	st := r.Stop()
	want := r.Sym("simdrv!SimDrvTimerRoutine")
	if !st.Step || st.PC != want || st.Location.Symbol != "simdrv!SimDrvTimerRoutine" {
		t.Fatalf("t at the call = %+v; want a step into simdrv!SimDrvTimerRoutine %#x", st, want)
	}
	checkRegs(t, r, 0, *st.Regs)
	// The breakpoint kd lifted to step off it is back.
	if b := r.Peek(call, 1)[0]; b != 0xCC {
		t.Errorf("breakpoint not planted again after t: %#x", b)
	}
}

// p where kd's breakpoint sits on a call that is not the stop address
// (rip was moved there): kd lifts its int 3 to see the call, steps over
// it and plants the breakpoint again.
func TestStepOverCallUnderBreakpointAfterMovingRip(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{})
	call := idleCall(r)
	if _, _, err := r.Target.AddBreakpoint(r.Ctx, call); err != nil {
		t.Fatal(err)
	}
	if err := r.Target.SetRegister(r.Ctx, "rip", call); err != nil {
		t.Fatal(err)
	}
	if got := r.Regs(0).MustGet("rip"); got != call {
		t.Fatalf("the machine's rip is %#x after r rip=%#x", got, call)
	}
	if err := r.Target.StepOver(r.Ctx); err != nil {
		t.Fatal(err)
	}
	st := r.Stop()
	if !st.Step || st.PC != call+5 || st.CPU != 0 {
		t.Fatalf("p = %+v; want a step stop after the call at %#x", st, call+5)
	}
	checkRegs(t, r, 0, *st.Regs)
	if b := r.Peek(call, 1)[0]; b != 0xCC {
		t.Errorf("the breakpoint on the call was not planted again: %#x", b)
	}
	if b := r.Peek(call+5, 1)[0]; b != 0xE8 {
		t.Errorf("p's temporary breakpoint is still there: %#x", b)
	}
}
