package commands_test

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/internal/target/targettest"
	"github.com/gokd/kd/kdproto"
)

// goStop runs a command that resumes the target and returns its next stop.
func (s *session) goStop(line string) target.Stopped {
	s.T.Helper()
	s.run(line)
	return s.Stop()
}

// bl returns kd's breakpoint list through the bl command.
func (s *session) bl() []commands.BreakpointInfo {
	s.T.Helper()
	return as[commands.BreakpointList](s.T, "bl", s.run("bl")).Breakpoints
}

// special returns a Dr register (0-3, 7) of processor cpu as the machine holds it.
func (s *session) dr(cpu, n int) uint64 {
	off := 0x20 + 8*n
	if n == 7 {
		off = 0x48
	}
	return binary.LittleEndian.Uint64(s.Machine.Special(cpu)[off:])
}

func TestHardwareBreakpoints(t *testing.T) {
	tests := []struct {
		line    string
		wantPC  func(s *session) uint64
		wantDr7 uint64
	}{
		// A data breakpoint stops after the instruction that wrote the
		// variable: the inc in the timer routine, 6 bytes long.
		{"ba w4 simdrv!SimDrvTickCount", func(s *session) uint64 { return s.Sym("simdrv!SimDrvTimerRoutine_inc") + 6 }, 1 | 1<<16 | 3<<18},
		{"ba r8 simdrv!SimDrvTickCount", func(s *session) uint64 { return s.Sym("simdrv!SimDrvTimerRoutine_inc") + 6 }, 1 | 3<<16 | 2<<18},
		{"ba w2 simdrv!SimDrvTickCount+2", func(s *session) uint64 { return s.Sym("simdrv!SimDrvTimerRoutine_inc") + 6 }, 1 | 1<<16 | 1<<18},
		// An execution breakpoint stops before the instruction.
		{"ba e1 hal!HalProcessorIdle", func(s *session) uint64 { return s.Sym("hal!HalProcessorIdle") }, 1},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			s := newSession(t, targettest.Options{})
			set := as[commands.BreakpointSet](t, tc.line, s.run(tc.line))
			count := s.Sym("simdrv!SimDrvTickCount")
			before := binary.LittleEndian.Uint32(s.Peek(count, 4))
			st := s.goStop("g")
			if st.Breakpoint != set.ID || st.PC != tc.wantPC(s) || st.Code != kdproto.StatusSingleStep {
				t.Fatalf("stop %+v; want breakpoint %d at %#x with STATUS_SINGLE_STEP", st, set.ID, tc.wantPC(s))
			}
			for cpu := 0; cpu < 2; cpu++ {
				if got := s.dr(cpu, 0); got != set.Addr {
					t.Errorf("processor %d Dr0 = %#x, want %#x", cpu, got, set.Addr)
				}
				if got := s.dr(cpu, 7); got != tc.wantDr7 {
					t.Errorf("processor %d Dr7 = %#x, want %#x", cpu, got, tc.wantDr7)
				}
			}
			if tc.line[3] == 'w' || tc.line[3] == 'r' {
				if after := binary.LittleEndian.Uint32(s.Peek(count, 4)); after == before {
					t.Errorf("the tick count did not change (%d): the write was not executed before the stop", after)
				}
			}
			// It hits again after g (stepping off an execution breakpoint first).
			st = s.goStop("g")
			if st.Breakpoint != set.ID || st.PC != tc.wantPC(s) {
				t.Fatalf("second stop %+v", st)
			}
			if bl := s.bl(); len(bl) != 1 || bl[0].Hits != 2 || !bl[0].Hardware || bl[0].Size != int(tc.line[4]-'0') {
				t.Fatalf("bl %+v; want one hardware breakpoint hit twice", bl)
			}
			// Disabled, it frees Dr7 and is not hit: the target runs on
			// until CTRL+C.
			s.run("bd 0")
			s.run("g")
			s.WaitSim("api", "Continue2", 3)
			if !s.Target.Interrupt() {
				t.Fatal("CTRL+C was not taken")
			}
			if st := s.Stop(); st.Breakpoint >= 0 || !st.BreakIn {
				t.Fatalf("after bd: %+v; want a break-in", st)
			}
			if got := s.dr(0, 7); got != 0 {
				t.Errorf("Dr7 after bd = %#x, want 0", got)
			}
		})
	}
}

func TestHardwareBreakpointRules(t *testing.T) {
	s := newSession(t, targettest.Options{})
	for _, line := range []string{"ba w4 simdrv!SimDrvTickCount+2", "ba e2 hal!HalProcessorIdle", "ba x4 nt", "ba w3 nt", "ba i4 10000", "ba w4", "ba"} {
		err := s.fail(line)
		var ce *commands.Error
		var se *commands.SyntaxError
		if !errors.As(err, &ce) && !errors.As(err, &se) {
			t.Errorf("%s: %v; want a clear error", line, err)
		}
	}
	base := s.Sym("simdrv!SimDrvTickCount")
	for i := 0; i < 4; i++ {
		s.run("ba w8 " + hex(base+uint64(8*i)))
	}
	err := s.fail("ba r1 " + hex(base+0x40))
	if !strings.Contains(err.Error(), "all 4 debug registers are in use") {
		t.Fatalf("fifth ba: %v", err)
	}
	s.run("bd 1")
	s.run("ba r1 " + hex(base+0x40))
	if err := s.fail("be 1"); !strings.Contains(err.Error(), "debug registers") {
		t.Fatalf("be of a fifth: %v", err)
	}
	if bl := s.bl(); len(bl) != 5 || bl[1].Enabled || bl[4].Access != 'r' {
		t.Fatalf("bl %+v", bl)
	}
}

func hex(v uint64) string { return strings.TrimPrefix(strings.ToLower(strconvHex(v)), "0x") }

func strconvHex(v uint64) string {
	const digits = "0123456789abcdef"
	var b [16]byte
	i := len(b)
	for {
		i--
		b[i] = digits[v&15]
		v >>= 4
		if v == 0 {
			break
		}
	}
	return string(b[i:])
}

func TestBreakpointPassesOneShotAndActions(t *testing.T) {
	s := newSession(t, targettest.Options{})
	idle := s.Sym("hal!HalProcessorIdle")
	orig := s.Peek(idle, 1)[0]
	s.run(`bp hal!HalProcessorIdle 3 "r rip; k"`)
	if bl := s.bl(); bl[0].Passes != 3 || bl[0].InitialPasses != 3 || bl[0].Action != "r rip; k" {
		t.Fatalf("bl %+v", bl)
	}
	st := s.goStop("g")
	if st.Breakpoint != 0 || st.PC != idle || st.Action != "r rip; k" {
		t.Fatalf("stop %+v", st)
	}
	bl := s.bl()
	if bl[0].Hits != 3 || bl[0].Passes != 1 || bl[0].InitialPasses != 3 {
		t.Fatalf("after the stop: hits %d, passes %d (%d); want 3, 1 (3)", bl[0].Hits, bl[0].Passes, bl[0].InitialPasses)
	}
	// Redefined with no passes: stops at the next hit, keeps its id.
	if re := as[commands.BreakpointRedefined](t, "bp", s.run("bp hal!HalProcessorIdle")); re.ID != 0 {
		t.Fatalf("redefined %d", re.ID)
	}
	s.run("bc 0")
	if b := s.Peek(idle, 1)[0]; b != orig {
		t.Fatalf("bc left %#x at the address", b)
	}
	// One-shot: gone after its hit, int 3 taken out.
	s.run("bp /1 hal!HalProcessorIdle")
	if st := s.goStop("g"); st.Breakpoint != 0 || st.PC != idle {
		t.Fatalf("one-shot stop %+v", st)
	}
	if bl := s.bl(); len(bl) != 0 || s.Peek(idle, 1)[0] != orig {
		t.Fatalf("after the one-shot hit: bl %+v, byte %#x", bl, s.Peek(idle, 1)[0])
	}
	// Disabled: the int 3 is out and the breakpoint is not hit; enabled, back in.
	s.run("bp hal!HalProcessorIdle")
	s.run("bp simdrv!SimDrvTimerRoutine")
	s.run("bd 0")
	if b := s.Peek(idle, 1)[0]; b != orig {
		t.Fatalf("bd left %#x", b)
	}
	if st := s.goStop("g"); st.Breakpoint != 1 {
		t.Fatalf("with 0 disabled: %+v", st)
	}
	s.run("be 0-1")
	if b := s.Peek(idle, 1)[0]; b != 0xCC {
		t.Fatalf("be: %#x", b)
	}
	if bl := s.bl(); len(bl) != 2 || !bl[0].Enabled || !bl[1].Enabled {
		t.Fatalf("bl %+v", bl)
	}
}

func TestDeferredAndPatternBreakpoints(t *testing.T) {
	s := newSession(t, targettest.Options{})
	set := as[commands.BreakpointSet](t, "bu", s.run("bu nosuch!Foo"))
	if !set.Deferred || set.Expr != "nosuch!Foo" {
		t.Fatalf("bu %+v", set)
	}
	if set := as[commands.BreakpointSet](t, "bp", s.run("bp nosuch!Bar")); !set.Deferred {
		t.Fatalf("bp of an unknown symbol: %+v; want deferred", set)
	}
	set = as[commands.BreakpointSet](t, "bu", s.run("bu hal!HalProcessorIdle"))
	if set.Deferred || set.Addr != s.Sym("hal!HalProcessorIdle") || s.Peek(set.Addr, 1)[0] != 0xCC {
		t.Fatalf("bu of a loaded symbol %+v", set)
	}
	bl := s.bl()
	if len(bl) != 3 || !bl[0].Deferred || bl[0].Addr != 0 || bl[2].Deferred {
		t.Fatalf("bl %+v", bl)
	}
	s.run("bc *")
	m := as[commands.BreakpointMatches](t, "bm", s.run("bm hal!Hal*"))
	want := map[string]uint64{} // every function of hal whose name starts with Hal
	for n, a := range s.Syms {
		if name, ok := strings.CutPrefix(n, "hal!Hal"); ok && !strings.Contains(name, "_") {
			want[n] = a
		}
	}
	if len(want) < 3 {
		t.Fatalf("the machine has only %v in hal", want)
	}
	if len(m.Set) != len(want) {
		t.Fatalf("bm set %+v; want %v", m.Set, want)
	}
	for _, b := range m.Set {
		if want[b.Name] != b.Addr || s.Peek(b.Addr, 1)[0] != 0xCC {
			t.Errorf("bm: %+v; want %#x with an int 3", b, want[b.Name])
		}
	}
	if err := s.fail("bm hal!NoSuch*"); !strings.Contains(err.Error(), "no symbol matches") {
		t.Fatalf("bm with no match: %v", err)
	}
}

func TestStepCommands(t *testing.T) {
	s := newSession(t, targettest.Options{})
	idle := s.Sym("hal!HalProcessorIdle")
	s.run("bp hal!HalProcessorIdle")
	s.goStop("g")
	s.run("bc *")
	// p 3: push rbp (1 byte), mov rbp,rsp (3), sub rsp,20h (4).
	s.run("p 3")
	var stops []target.Stopped
	for range 3 {
		stops = append(stops, s.Stop())
	}
	for i, want := range []uint64{idle + 1, idle + 4, idle + 8} {
		if !stops[i].Step || stops[i].PC != want || stops[i].Regs == nil || stops[i].Regs.PC() != want {
			t.Fatalf("step %d: %+v; want a step to %#x with registers", i+1, stops[i], want)
		}
	}
	if got := s.Regs(0).MustGet("rip"); got != idle+8 {
		t.Fatalf("machine rip %#x after p 3, want %#x", got, idle+8)
	}
	// gu: back in KiIdleLoop after the call to HalProcessorIdle, the
	// frame popped (rsp one above the return address slot).
	frame := as[commands.StackTrace](t, "k", s.run("k"))
	ret, sp := frame.Stack.Frames[0].RetAddr, frame.Stack.Frames[1].ChildSP
	st := s.goStop("gu")
	if !st.Reached || st.PC != ret || st.CPU != 0 || s.Regs(0).MustGet("rsp") != sp {
		t.Fatalf("gu: %+v, rsp %#x; want %#x on processor 0 with rsp %#x", st, s.Regs(0).MustGet("rsp"), ret, sp)
	}
	if ret != s.Sym("nt!KiIdleLoop_loop")+0xc {
		t.Fatalf("return address %#x", ret)
	}
	// tc: traces through pause and the jump back to the next call.
	st = s.goStop("tc")
	if !st.Step || st.PC != s.Sym("nt!KiIdleLoop_loop")+2 {
		t.Fatalf("tc: %+v", st)
	}
	// pa: steps over that call (into nothing) to the next one's address.
	s.run("pa nt!KiIdleLoop_loop+7")
	st = s.Stop()
	if st.PC != s.Sym("nt!KiIdleLoop_loop")+7 {
		t.Fatalf("pa: first step %+v", st)
	}
	if b := s.Peek(s.Sym("nt!KiIdleLoop_loop")+7, 1)[0]; b == 0xCC {
		t.Fatal("p's temporary breakpoint stayed in")
	}
	// g with a break address: stops there, temporary breakpoint gone.
	st = s.goStop("g simdrv!SimDrvTimerRoutine")
	if !st.Reached || st.PC != s.Sym("simdrv!SimDrvTimerRoutine") || st.Breakpoint >= 0 {
		t.Fatalf("g ADDR: %+v", st)
	}
	if b := s.Peek(st.PC, 1)[0]; b == 0xCC || len(s.bl()) != 0 {
		t.Fatal("g's temporary breakpoint stayed in")
	}
	// = StartAddress: t from another address.
	st = s.goStop("t = hal!HalProcessorIdle")
	if st.PC != idle+1 {
		t.Fatalf("t = : %+v", st)
	}
	if err := s.fail("wt"); !strings.Contains(err.Error(), "not supported") {
		t.Fatalf("wt: %v", err)
	}
}

func TestRestartKeepsBreakpoints(t *testing.T) {
	s := newSession(t, targettest.Options{})
	idle := s.Sym("hal!HalProcessorIdle")
	orig := s.Peek(idle, 1)[0]
	s.run("bp hal!HalProcessorIdle")
	s.run(".restart")
	targettest.Next[target.Restarting](s.Rig, nil)
	s.Stop()
	if bl := s.bl(); len(bl) != 1 || bl[0].Addr != idle || s.Peek(idle, 1)[0] != 0xCC {
		t.Fatalf("after .restart: bl %+v, byte %#x", bl, s.Peek(idle, 1)[0])
	}
	if st := s.goStop("g"); st.Breakpoint != 0 || st.PC != idle {
		t.Fatalf("after .restart: %+v", st)
	}
	s.run("bc 0")
	if b := s.Peek(idle, 1)[0]; b != orig {
		t.Fatalf("bc after .restart left %#x", b)
	}
}

// CTRL+C ends a long step count: the target stops within a few steps
// and takes commands.
func TestInterruptSteps(t *testing.T) {
	s := newSession(t, targettest.Options{})
	s.run("t 0n100000")
	first := targettest.Next[target.Stopped](s.Rig, nil) // the first step is shown while the others run
	if !first.Step {
		t.Fatalf("first stop %+v", first)
	}
	s.Target.Interrupt()
	s.Pump("the target to be ready after CTRL+C", s.Target.Ready)
	steps := targettest.Events[target.Stopped](s.Rig)
	if n := len(steps); n >= 100000 {
		t.Fatalf("%d stops: CTRL+C did not end the count", n)
	}
	// The target is stopped and steps again on request.
	st := s.goStop("t")
	if !st.Step {
		t.Fatalf("t after the interrupted count: %+v", st)
	}
}

// .restart while the target runs: its int 3s stay planted, kd keeps its
// list and takes them over at the next stop (the kernel hands back the
// same handle for an address it has a breakpoint at), so that bc takes
// them out for good.
func TestRestartWhileRunningKeepsListAndTarget(t *testing.T) {
	s := newSession(t, targettest.Options{})
	idle := s.Sym("hal!HalProcessorIdle")
	orig := s.Peek(idle, 1)[0]
	s.run("bp hal!HalProcessorIdle")
	s.run("bd 0")
	s.run("bp simdrv!SimDrvTimerRoutine")
	s.run("g")
	s.WaitSim("api", "Continue2", 1)
	if b := s.Peek(s.Sym("simdrv!SimDrvTimerRoutine"), 1)[0]; b != 0xCC {
		t.Fatalf("breakpoint 1 not planted while running: %#x", b)
	}
	s.run(".restart")
	targettest.Next[target.Restarting](s.Rig, nil)
	st := s.Stop() // the running target hits breakpoint 1
	if st.Breakpoint != 1 {
		t.Fatalf("after .restart: %+v; want breakpoint 1 hit", st)
	}
	bl := s.bl()
	if len(bl) != 2 || bl[0].Enabled || !bl[1].Enabled {
		t.Fatalf("bl after .restart: %+v", bl)
	}
	if b := s.Peek(idle, 1)[0]; b != orig {
		t.Fatalf("the disabled breakpoint is planted after .restart: %#x", b)
	}
	s.run("bc *")
	if b := s.Peek(st.PC, 1)[0]; b == 0xCC {
		t.Fatal("bc after .restart left the int 3 of the running target in")
	}
}

func TestBreakArgsAddressExpressions(t *testing.T) {
	s := newSession(t, targettest.Options{})
	loop := s.Sym("nt!KiIdleLoop_loop")
	tests := []struct {
		line   string
		addr   uint64
		passes int
	}{
		{"bp nt!KiIdleLoop_loop+2", loop + 2, 1},
		{"bp nt!KiIdleLoop_loop + 7 3", loop + 7, 3},
		{"bp (nt!KiIdleLoop_loop + 0n12) 0n10", loop + 12, 10},
	}
	for _, tc := range tests {
		s.run(tc.line)
	}
	bl := s.bl()
	for i, tc := range tests {
		if bl[i].Addr != tc.addr || bl[i].InitialPasses != tc.passes {
			t.Errorf("%s: %#x passes %d; want %#x passes %d", tc.line, bl[i].Addr, bl[i].InitialPasses, tc.addr, tc.passes)
		}
	}
	for _, line := range []string{"bp nt 1 2", "bp nt 0", "ba w4 nt 1 2"} {
		var se *commands.SyntaxError
		if err := s.fail(line); !errors.As(err, &se) {
			t.Errorf("%s: %v; want a syntax error", line, err)
		}
	}
}
