package target_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/internal/target/targettest"
	"github.com/gokd/kd/kdproto"
)

// assertRequest makes simdrv fail an assertion (and ask the host what to
// do with a DbgPrompt) at the next clock tick.
func assertRequest(t *testing.T, r *targettest.Rig) {
	t.Helper()
	if err := r.Target.WriteMemory(r.Ctx, r.Sym("simdrv!SimDrvAssertRequest"), []byte{1, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if err := r.Target.Go(r.Ctx); err != nil {
		t.Fatal(err)
	}
}

func TestDbgPromptAnswers(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{})
	if r.Target.PendingPrompt() {
		t.Fatal("a prompt is pending before the target asked")
	}
	if err := r.Target.AnswerPrompt(r.Ctx, "x"); err != nil {
		t.Fatalf("an answer without a prompt = %v; want it ignored", err)
	}
	assertRequest(t, r)
	pr := targettest.Next[target.Print](r, func(p target.Print) bool { return bytes.Contains(p.Text, []byte("Assertion failed")) })
	if !bytes.Contains(pr.Text, []byte("simdrv.c, line 131")) {
		t.Errorf("assertion text %q", pr.Text)
	}
	p := targettest.Next[target.Prompt](r, nil)
	head, tail := target.SplitPrompt(p.Text)
	if len(head) != 0 || string(tail) != "Break repeatedly, break Once, Ignore, terminate Process, or terminate Thread (boipt)? " || p.MaxReply != 512 {
		t.Fatalf("prompt %q / %q, max %d", head, tail, p.MaxReply)
	}
	if !r.Target.PendingPrompt() || r.Target.Ready() {
		t.Fatal("kd does not wait for the prompt's answer")
	}
	// "i" ignores the assertion: the target runs on.
	if err := r.Target.AnswerPrompt(r.Ctx, "i"); err != nil {
		t.Fatal(err)
	}
	r.WaitSim(sim.EventPrompt, "", 1)
	if got := r.SimEvents(sim.EventPrompt)[0].Detail; got != "i" {
		t.Fatalf("the target got the answer %q, want i", got)
	}
	if r.Target.PendingPrompt() || r.Target.Stopped() {
		t.Fatal("after the answer kd still waits, or thinks the target stopped")
	}
	if !r.Target.Interrupt() {
		t.Fatal("Interrupt of a running target reported false")
	}
	if st := r.Stop(); !st.BreakIn {
		t.Fatalf("stop after CTRL+C = %+v", st)
	}

	// An answer longer than the target takes is cut to its length; "b"
	// breaks into the debugger from RtlAssert.
	r.Skip()
	assertRequest(t, r)
	targettest.Next[target.Prompt](r, nil)
	long := "b" + strings.Repeat("x", 700)
	if err := r.Target.AnswerPrompt(r.Ctx, long); err != nil {
		t.Fatal(err)
	}
	st := r.Stop()
	if got := r.SimEvents(sim.EventPrompt)[1].Detail; got != long[:512] {
		t.Fatalf("the target got a %d-byte answer, want the first 512 bytes", len(got))
	}
	if st.PC != r.Sym("nt!DbgBreakPoint") || st.Location.Symbol != "nt!DbgBreakPoint" || st.BreakIn {
		t.Fatalf("stop after b = %+v; want nt!DbgBreakPoint", st)
	}
}

func TestDbgPrintWhileRunning(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{Sim: sim.Config{PrintEvery: 20 * time.Millisecond}})
	if err := r.Target.Go(r.Ctx); err != nil {
		t.Fatal(err)
	}
	targettest.Next[target.Running](r, nil)
	p := targettest.Next[target.Print](r, nil)
	if string(p.Text) != "simdrv: timer tick 1\n" {
		t.Fatalf("print %q", p.Text)
	}
	targettest.Next[target.Print](r, func(p target.Print) bool { return string(p.Text) == "simdrv: timer tick 2\n" })
	if !r.Target.Interrupt() {
		t.Fatal("Interrupt reported false")
	}
	if st := r.Stop(); !st.BreakIn || st.PC != r.Sym("nt!DbgBreakPointWithStatus") {
		t.Fatalf("stop %+v", st)
	}
}

func TestResync(t *testing.T) {
	r, first := targettest.Stopped(t, targettest.Options{})
	resets := r.SimCount(sim.EventReset, "")
	if err := r.Target.Resync(); err != nil {
		t.Fatal(err)
	}
	if err := r.Target.Resync(); !errors.Is(err, target.ErrResyncInProgress) {
		t.Fatalf("a second resync = %v; want ErrResyncInProgress", err)
	}
	if !r.Target.Resyncing() || r.Target.Ready() {
		t.Fatal("commands are taken during a resync")
	}
	targettest.Next[target.ResyncStarted](r, nil)
	done := targettest.Next[target.ResyncDone](r, nil)
	if done.Err != nil || !done.Stopped || done.Resets < 1 {
		t.Fatalf("resync %+v; want success on a stopped target", done)
	}
	w := targettest.Next[target.Where](r, nil)
	if w.Location.Inst.Addr != first.PC || w.Location.Symbol != "nt!DbgBreakPointWithStatus" || w.Location.Inst.Text != "int     3" {
		t.Fatalf("location after the resync %+v; want the stop's", w.Location)
	}
	r.Pump("ready after the resync", r.Target.Ready)
	if got := r.SimCount(sim.EventReset, ""); got <= resets {
		t.Fatal("the machine saw no RESET")
	}
	regs, err := r.Target.Registers(r.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkRegs(t, r, 0, regs)
}

func TestLinkLost(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{})
	if r.Target.LinkDead() || r.Target.LinkName() == "" {
		t.Fatal("no link")
	}
	_ = r.Machine.Close()
	lost := targettest.Next[target.LinkLost](r, nil)
	if lost.Err == nil {
		t.Error("link lost without a cause")
	}
	if !r.Target.LinkDead() || r.Target.Stopped() || r.Target.Ready() {
		t.Fatal("kd still believes in the link")
	}
	if _, err := r.Target.Registers(r.Ctx); !errors.Is(err, target.ErrNotStopped) {
		t.Errorf("Registers = %v; want ErrNotStopped", err)
	}
	if err := r.Target.Go(r.Ctx); !errors.Is(err, target.ErrNotStopped) {
		t.Errorf("Go = %v; want ErrNotStopped", err)
	}
	if err := r.Target.Resync(); err == nil {
		t.Error("Resync of a dead link succeeded")
	}
	if r.Target.Interrupt() {
		t.Error("Interrupt of a dead link reported true")
	}
}

func TestInterruptAndRunningState(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{})
	if r.Target.Interrupt() {
		t.Fatal("Interrupt of a stopped target reported true (it must cancel the command instead)")
	}
	if err := r.Target.Go(r.Ctx); err != nil {
		t.Fatal(err)
	}
	if run := targettest.Next[target.Running](r, nil); run.Step {
		t.Fatal("g reported a step")
	}
	if r.Target.Stopped() || r.Target.Ready() {
		t.Fatal("kd thinks a running target is stopped")
	}
	for _, op := range []func() error{
		func() error { return r.Target.Go(r.Ctx) },
		func() error { return r.Target.Trace(r.Ctx) },
		func() error { return r.Target.StepOver(r.Ctx) },
		func() error { return r.Target.SwitchProcessor(r.Ctx, 1) },
		func() error { return r.Target.Reboot(r.Ctx) },
		func() error { return r.Target.WriteMemory(r.Ctx, 0, []byte{0}) },
		func() error { return r.Target.SetRegister(r.Ctx, "rax", 0) },
		func() error { _, _, err := r.Target.AddBreakpoint(r.Ctx, 0); return err },
		func() error { return r.Target.ClearBreakpoints(r.Ctx, nil, true) },
		func() error { _, err := r.Target.Location(r.Ctx, 0); return err },
		func() error { _, err := r.Target.Modules(r.Ctx); return err },
		func() error { _, err := r.Target.Resolve(r.Ctx, "nt"); return err },
		func() error { _, err := r.Target.Disassemble(r.Ctx, 0, 1, 0); return err },
		func() error { _, _, err := r.Target.ReadMemory(r.Ctx, 0, 1); return err },
		r.Target.CheckStopped,
	} {
		if err := op(); !errors.Is(err, target.ErrNotStopped) {
			t.Errorf("an operation on a running target = %v; want ErrNotStopped", err)
		}
	}
	if r.Target.Symbolize(r.Ctx, r.Sym("nt!KiIdleLoop")) != "" {
		t.Error("Symbolize while running")
	}
	if !r.Target.Interrupt() {
		t.Fatal("Interrupt reported false")
	}
	st := r.Stop()
	if !st.BreakIn || st.CPU != 0 || st.PC != r.Sym("nt!DbgBreakPointWithStatus") {
		t.Fatalf("stop %+v", st)
	}
	if n := r.SimCount(sim.EventBreakIn, ""); n != 1 {
		t.Fatalf("the machine saw %d break-ins", n)
	}
}

func TestProcessorSwitch(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{Sim: sim.Config{Procs: 3}})
	r0, err := r.Target.Registers(r.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Target.SwitchProcessor(r.Ctx, 0); err != nil {
		t.Fatalf("~0s on processor 0 = %v", err)
	}
	for _, n := range []uint64{3, 0x10000, 1 << 40} {
		if err := r.Target.SwitchProcessor(r.Ctx, n); err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Errorf("~%xs = %v; want an error", n, err)
		}
	}
	if err := r.Target.SwitchProcessor(r.Ctx, 2); err != nil {
		t.Fatal(err)
	}
	st := r.Stop()
	if st.Kind != target.StopSwitch || st.CPU != 2 || st.Step || st.BreakIn {
		t.Fatalf("switch stop %+v", st)
	}
	if cpu, n := r.Target.Processor(); cpu != 2 || n != 3 {
		t.Fatalf("Processor() = %d of %d; want 2 of 3", cpu, n)
	}
	r2, err := r.Target.Registers(r.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkRegs(t, r, 2, r2)
	if r2.MustGet("rsp") == r0.MustGet("rsp") {
		t.Fatal("processors 0 and 2 have the same stack")
	}
	// A register set on processor 2 changes processor 2 only.
	before0 := r.Regs(0).MustGet("rbx")
	if err := r.Target.SetRegister(r.Ctx, "rbx", 0x1234); err != nil {
		t.Fatal(err)
	}
	if r.Regs(2).MustGet("rbx") != 0x1234 || r.Regs(0).MustGet("rbx") != before0 {
		t.Fatal("r rbx= on processor 2 did not land on processor 2 only")
	}
	if err := r.Target.SwitchProcessor(r.Ctx, 0); err != nil {
		t.Fatal(err)
	}
	if st := r.Stop(); st.CPU != 0 || st.Kind != target.StopSwitch {
		t.Fatalf("switch back %+v", st)
	}
	back, err := r.Target.Registers(r.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkRegs(t, r, 0, back)
}

func TestSetRegister(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{})
	for _, tc := range []struct {
		name string
		v    uint64
	}{{"rax", 0x1122334455667788}, {"R15", 42}, {"efl", 0x202}} {
		if err := r.Target.SetRegister(r.Ctx, tc.name, tc.v); err != nil {
			t.Fatalf("r %s=%x: %v", tc.name, tc.v, err)
		}
		lower := strings.ToLower(tc.name)
		if got := r.Regs(0).MustGet(lower); got != tc.v {
			t.Errorf("the machine's %s is %#x after r %s=%#x", lower, got, tc.name, tc.v)
		}
		regs, err := r.Target.Registers(r.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := regs.Get(lower); got != tc.v {
			t.Errorf("kd's %s is %#x", lower, got)
		}
	}
	if err := r.Target.SetRegister(r.Ctx, "nosuch", 1); err == nil {
		t.Error("a bad register name was accepted")
	}
	if !target.IsRegister("RIP") || target.IsRegister("nosuch") {
		t.Error("IsRegister")
	}
}

func TestCycleBaudNeedsASerialPort(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{})
	_, err := r.Target.CycleBaud()
	var ns *target.NotSerialError
	if !errors.As(err, &ns) || !strings.Contains(err.Error(), "not a serial port") {
		t.Fatalf("CycleBaud on the simulator = %v", err)
	}
}

// A hostile target: a stop claiming 0xFFFFFFFF processors, a module path
// with escape sequences. kd warns, keeps what it knew and sanitises.
func TestHostileTarget(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{Sim: sim.Config{Evil: true}})
	w := targettest.Events[target.Warning](r)
	if len(w) == 0 || !strings.Contains(w[0].Text, "4294967295 processors") {
		t.Fatalf("warnings %+v; want one about the processor count", w)
	}
	if _, n := r.Target.Processor(); n != 0 {
		t.Logf("processors %d", n)
	}
	if err := r.Target.Go(r.Ctx); err != nil {
		t.Fatal(err)
	}
	ml := targettest.Next[target.ModuleLoad](r, nil)
	if strings.ContainsAny(ml.Path, "\x1b\x07") || ml.Base != r.Sym("simdrv!__ImageBase")+0x100000 {
		t.Fatalf("module load %+v", ml)
	}
	if !r.Target.Interrupt() {
		t.Fatal("Interrupt reported false")
	}
	r.Stop()
}

func TestTraceHookSeesPackets(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{})
	var n int
	recs := make(chan kdproto.TraceRecord, 64)
	r.Target.SetTrace(func(tr kdproto.TraceRecord) {
		select {
		case recs <- tr:
		default:
		}
	})
	if err := r.Target.WriteMemory(r.Ctx, r.Sym("simdrv!SimDrvState")+0x40, []byte{7}); err != nil {
		t.Fatal(err)
	}
	r.Target.SetTrace(nil)
	for len(recs) > 0 {
		<-recs
		n++
	}
	if n == 0 {
		t.Fatal("the trace hook saw no packet of a write")
	}
}
