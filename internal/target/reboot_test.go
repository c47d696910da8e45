package target_test

import (
	"testing"

	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/internal/target/targettest"
)

const simdrvPath = `\SystemRoot\System32\drivers\simdrv.sys`

// -d: kd stops at the first module load, with the module named.
func TestBreakOnModuleLoadAtConnect(t *testing.T) {
	r := targettest.New(t, targettest.Options{Sim: sim.Config{ModuleLoads: true}, Target: target.Config{BreakOnModuleLoad: true}})
	targettest.Next[target.Connected](r, nil)
	st := r.Stop()
	base := r.Sym("simdrv!__ImageBase")
	if st.Kind != target.StopModuleLoad || st.Load == nil || st.Load.Path != simdrvPath || st.Load.Base != base || st.Load.Unload {
		t.Fatalf("stop %+v (load %+v); want the load of simdrv.sys at %#x", st, st.Load, base)
	}
	cpu, pc, _ := r.Machine.Stop()
	if st.CPU != uint16(cpu) || st.PC != pc {
		t.Fatalf("stop at %d:%#x; the machine is at %d:%#x", st.CPU, st.PC, cpu, pc)
	}
	if n := len(targettest.Events[target.ModuleLoad](r)); n != 0 {
		t.Fatalf("%d module-load notes for a load kd stopped at", n)
	}
	// The module list, read from the loader list, names every module.
	mods, err := r.Target.Modules(r.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ name, file string }{{"nt", "ntoskrnl.exe"}, {"hal", "hal.dll"}, {"kdcom", "kdcom.dll"}, {"simdrv", "simdrv.sys"}}
	if len(mods) != len(want) {
		t.Fatalf("modules %+v", mods)
	}
	for i, w := range want {
		m := mods[i]
		if m.Name != w.name || m.File != w.file || m.Base != r.Sym(w.name+"!__ImageBase") || m.Size == 0 {
			t.Errorf("module %d = %+v; want %s (%s) at %#x", i, m, w.name, w.file, r.Sym(w.name+"!__ImageBase"))
		}
	}
}

// Without -d a module load is noted and the target runs on.
func TestModuleLoadWithoutBreakContinues(t *testing.T) {
	r := targettest.New(t, targettest.Options{Sim: sim.Config{ModuleLoads: true}})
	ml := targettest.Next[target.ModuleLoad](r, nil)
	if ml.Path != simdrvPath || ml.Base != r.Sym("simdrv!__ImageBase") {
		t.Fatalf("module load %+v", ml)
	}
	targettest.Next[target.Running](r, nil)
	r.WaitSim(sim.EventRun, "", 1)
	if r.Target.Stopped() {
		t.Fatal("kd stopped at a module load nobody asked to break at")
	}
	if n := len(targettest.Events[target.Stopped](r)); n != 0 {
		t.Fatalf("%d stops", n)
	}
	if !r.Target.Interrupt() {
		t.Fatal("Interrupt reported false")
	}
	if st := r.Stop(); !st.BreakIn || st.Kind != target.StopException {
		t.Fatalf("stop %+v", st)
	}
}

// .reboot with each break state (CTRL+K cycles them): -d's first module
// load, none (the target boots and runs), -b's break-in.
func TestRebootBreakStates(t *testing.T) {
	r := targettest.New(t, targettest.Options{Sim: sim.Config{ModuleLoads: true}, Target: target.Config{BreakOnModuleLoad: true}})
	st := r.Stop()
	if st.Kind != target.StopModuleLoad {
		t.Fatalf("first stop %+v", st)
	}
	bpAddr := r.Sym("nt!KiSystemCall64")
	orig := r.Peek(bpAddr, 1)[0]
	if _, _, err := r.Target.AddBreakpoint(r.Ctx, bpAddr); err != nil {
		t.Fatal(err)
	}

	// 1. Break at the first module load after the reboot.
	if err := r.Target.Reboot(r.Ctx); err != nil {
		t.Fatal(err)
	}
	targettest.Next[target.Rebooting](r, nil)
	st = r.Stop()
	if st.Kind != target.StopModuleLoad || st.Load == nil || st.Load.Path != simdrvPath {
		t.Fatalf("stop after the reboot %+v; want the module load", st)
	}
	if n := r.SimCount(sim.EventReboot, ""); n != 1 {
		t.Fatalf("the machine rebooted %d times", n)
	}
	if bl := r.Target.Breakpoints(); len(bl) != 0 {
		t.Fatalf("breakpoints survived the reboot: %+v", bl)
	}
	if b := r.Peek(bpAddr, 1)[0]; b != orig {
		t.Fatalf("the rebooted machine holds %#x at the old breakpoint", b)
	}
	regs, err := r.Target.Registers(r.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkRegs(t, r, int(st.CPU), regs)

	// 2. No break: the load is noted and the target runs.
	if s := r.Target.CycleBreakState(); s != target.BreakNone {
		t.Fatalf("CTRL+K after -d gave %v; want none", s)
	}
	if err := r.Target.Reboot(r.Ctx); err != nil {
		t.Fatal(err)
	}
	targettest.Next[target.Rebooting](r, nil)
	targettest.Next[target.ModuleLoad](r, nil)
	targettest.Next[target.Running](r, nil)
	if r.Target.Stopped() {
		t.Fatal("stopped after a reboot without a break state")
	}
	if !r.Target.Interrupt() {
		t.Fatal("Interrupt reported false")
	}
	if st := r.Stop(); !st.BreakIn {
		t.Fatalf("stop %+v", st)
	}

	// 3. Break in as the target comes back (-b). The module load comes
	// before the machine looks at the break-in byte: kd stays at that stop
	// (it is the stop the user asked for) instead of continuing past it
	// with its break-in loop over.
	if s := r.Target.CycleBreakState(); s != target.BreakOnReboot {
		t.Fatalf("CTRL+K gave %v; want the initial breakpoint", s)
	}
	if err := r.Target.Reboot(r.Ctx); err != nil {
		t.Fatal(err)
	}
	st = r.Stop()
	if !st.BreakIn || st.Kind != target.StopModuleLoad || st.Load == nil || st.Load.Path != simdrvPath {
		t.Fatalf("stop after a reboot with -b %+v; want the module load, as the break-in", st)
	}
	if n := r.SimCount(sim.EventReboot, ""); n != 3 {
		t.Fatalf("the machine rebooted %d times", n)
	}
}

func TestRebootBreakIn(t *testing.T) {
	r := targettest.New(t, targettest.Options{Target: target.Config{BreakIn: true}})
	c := targettest.Next[target.Connected](r, nil)
	if !c.InitialBreak || !c.Announce {
		t.Fatalf("connected %+v; want the initial break announced", c)
	}
	st := r.Stop()
	if !st.BreakIn || st.PC != r.Sym("nt!DbgBreakPointWithStatus") {
		t.Fatalf("first stop %+v", st)
	}
	if err := r.Target.Reboot(r.Ctx); err != nil {
		t.Fatal(err)
	}
	rb := targettest.Next[target.Rebooting](r, nil)
	if rb.Time.IsZero() {
		t.Error("reboot without a time")
	}
	targettest.Next[target.Connected](r, nil)
	st = r.Stop()
	if !st.BreakIn || st.PC != r.Sym("nt!DbgBreakPointWithStatus") {
		t.Fatalf("stop after the reboot %+v", st)
	}
	if n := r.SimCount(sim.EventReboot, ""); n != 1 {
		t.Fatalf("the machine rebooted %d times", n)
	}
	regs, err := r.Target.Registers(r.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkRegs(t, r, 0, regs)
}

// .restart drops the link and connects again to the same machine.
func TestRestart(t *testing.T) {
	r, first := targettest.Stopped(t, targettest.Options{})
	if err := r.Target.Restart(); err != nil {
		t.Fatal(err)
	}
	targettest.Next[target.Restarting](r, nil)
	targettest.Next[target.Connected](r, nil)
	st := r.Stop()
	if st.PC != first.PC || st.CPU != first.CPU {
		t.Fatalf("stop after .restart %+v; want the same stop %#x", st, first.PC)
	}
	if n := r.SimCount(sim.EventConnect, ""); n != 2 {
		t.Fatalf("the machine saw %d connections", n)
	}
	regs, err := r.Target.Registers(r.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkRegs(t, r, 0, regs)
}
