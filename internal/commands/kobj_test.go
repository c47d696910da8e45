package commands_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/internal/target/targettest"
)

// kobjSession is a session on kdsim, with kdsim's PDBs on the symbol
// path when withPDB (kernel objects read by type) and without them
// otherwise (kdsim's fallback offsets).
func kobjSession(t *testing.T, withPDB bool) *session {
	t.Helper()
	s := newSession(t, targettest.Options{Sim: sim.Config{Procs: 2, Seed: 7}})
	if withPDB {
		dir, err := sim.WriteSymbolStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		s.Target.SetSymbolSearch(dirStore{dir})
		if _, err := s.Target.Reload(s.Ctx, true, nil); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// funcOf strips the displacement from a call site.
func funcOf(site string) string {
	f, _, _ := strings.Cut(site, "+")
	return f
}

// checkStack checks that a thread's walked stack is the machine's planted
// wait path, innermost first, and ends cleanly.
func checkStack(t *testing.T, what string, st *target.Stack, want []string) {
	t.Helper()
	if st == nil {
		t.Fatalf("%s: no stack", what)
	}
	var got []string
	for _, f := range st.Frames {
		got = append(got, funcOf(f.CallSite))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") || st.Stopped != "" {
		t.Errorf("%s: stack %v (stopped %q), want %v", what, got, st.Stopped, want)
	}
	if n := len(st.Frames); n > 0 && st.Frames[n-1].RetAddr != 0 {
		t.Errorf("%s: the last frame returns to %#x", what, st.Frames[n-1].RetAddr)
	}
}

func TestProcessCommands(t *testing.T) {
	for _, withPDB := range []bool{true, false} {
		t.Run(fmt.Sprintf("pdb=%v", withPDB), func(t *testing.T) {
			s := kobjSession(t, withPDB)
			procs := s.Machine.Processes()
			all := as[commands.ProcessDump](t, "!process 0 0", s.run("!process 0 0"))
			if (all.Note == "") != withPDB || !all.All || all.Stopped != "" {
				t.Errorf("note %q (pdb %v), all %v, stopped %q", all.Note, withPDB, all.All, all.Stopped)
			}
			if len(all.Processes) != len(procs) {
				t.Fatalf("!process 0 0 lists %d processes, kdsim made %d", len(all.Processes), len(procs))
			}
			for i, want := range procs {
				got := all.Processes[i]
				if got.Addr != want.Addr || got.PID != want.PID || got.ParentPID != want.ParentPID || got.Image != want.Name ||
					got.Session != int64(want.Session) || got.Handles != want.Handles || got.DirBase != want.DirBase || got.Threads != nil ||
					got.NThreads != uint32(len(want.Threads)) || withPDB && got.CreateTime == 0 {
					t.Errorf("process %d: %+v, kdsim made %+v", i, got, want)
				}
			}
			var lsass sim.SimProcess
			for _, p := range procs {
				if p.Name == "lsass.exe" {
					lsass = p
				}
			}
			for _, line := range []string{"!process 0 0 lsass.exe", "!process 0 0 LSASS.EXE", "!process 0 1 lsass.exe"} {
				one := as[commands.ProcessDump](t, line, s.run(line))
				if len(one.Processes) != 1 || one.Processes[0].Addr != lsass.Addr {
					t.Errorf("%s found %+v", line, one.Processes)
				}
			}
			for _, line := range []string{fmt.Sprintf("!process %x 7", lsass.Addr), fmt.Sprintf("!process %x 7", lsass.PID)} {
				d := as[commands.ProcessDump](t, line, s.run(line))
				if len(d.Processes) != 1 || d.All {
					t.Fatalf("%s: %+v", line, d)
				}
				p := d.Processes[0]
				if len(p.Threads) != len(lsass.Threads) || p.ThreadsStopped != "" {
					t.Fatalf("%s: %d threads (%s), kdsim made %d", line, len(p.Threads), p.ThreadsStopped, len(lsass.Threads))
				}
				for i, th := range p.Threads {
					want := lsass.Threads[i]
					if th.Addr != want.Addr || th.TID != want.TID || th.PID != lsass.PID || th.Process != lsass.Addr ||
						th.State != target.ThreadWaiting || th.KernelStack != want.KernelStack || th.StartAddress != want.Win32Start {
						t.Errorf("%s thread %d: %+v, kdsim made %+v", line, i, th, want)
					}
					checkStack(t, fmt.Sprintf("%s thread %x", line, th.TID), th.Stack, want.Frames)
				}
			}
			// No stacks below flags 4; threads from flags 2.
			d := as[commands.ProcessDump](t, "!process 4 2", s.run("!process 4 2"))
			if len(d.Processes[0].Threads) != 4 || d.Processes[0].Threads[0].Stack != nil {
				t.Errorf("!process 4 2: %+v", d.Processes[0].Threads)
			}
			// The current process is the idle process of processor 0.
			cur := as[commands.ProcessDump](t, "!process", s.run("!process"))
			if len(cur.Processes) != 1 || cur.Processes[0].Addr != s.Sym("nt!KiInitialProcess") || cur.Processes[0].Image != "Idle" {
				t.Errorf("!process: %+v", cur.Processes)
			}
			var se *commands.SyntaxError
			for _, line := range []string{"!process zz", "!process 0 0 a b", "!process /s 1", "!process 0 (1"} {
				if err := s.fail(line); !errors.As(err, &se) {
					t.Errorf("%s = %v; want a syntax error", line, err)
				}
			}
			var ce *commands.Error
			if err := s.fail("!process 1f0f 0"); !errors.As(err, &ce) || ce.Msg != "no process has id 0x1f0f (Cid 1f0f)" || len(ce.Hints) != 1 {
				t.Errorf("!process 1f0f = %v", err)
			}
			if err := s.fail("!process ffffffff`ffe00000 0"); !errors.As(err, &ce) || !strings.Contains(ce.Msg, "is not readable") {
				t.Errorf("!process on unmapped memory = %v", err)
			}
			if err := s.fail("!thread ffffffff`ffe00000"); !errors.As(err, &ce) || !strings.Contains(ce.Msg, "is not readable") {
				t.Errorf("!thread on unmapped memory = %v", err)
			}
		})
	}
}

func TestThreadCommands(t *testing.T) {
	s := kobjSession(t, true)
	for _, p := range s.Machine.Processes() {
		for _, want := range p.Threads {
			if p.PID == 4 && want.Win32Start != s.Sym("nt!ExpWorkerThread") {
				t.Errorf("System thread %x starts at %#x", want.TID, want.Win32Start)
			}
			line := fmt.Sprintf("!thread %x", want.Addr)
			d := as[commands.ThreadDump](t, line, s.run(line))
			th := d.Thread
			if th.TID != want.TID || th.PID != p.PID || th.Process != p.Addr || th.ProcessImage != p.Name || th.Current ||
				th.StartAddress != want.Win32Start || (th.WaitMode == 0) != (th.StartSymbol == "nt!ExpWorkerThread") {
				t.Errorf("%s: %+v", line, th)
			}
			checkStack(t, line, th.Stack, want.Frames)
		}
	}
	cur := as[commands.ThreadDump](t, "!thread", s.run("!thread"))
	if !cur.Thread.Current || cur.Thread.State != target.ThreadRunning || cur.Thread.ProcessImage != "Idle" ||
		cur.Thread.Stack == nil || funcOf(cur.Thread.Stack.Frames[0].CallSite) != "nt!DbgBreakPointWithStatus" {
		t.Errorf("!thread: %+v", cur.Thread)
	}
	nostack := as[commands.ThreadDump](t, "!thread -1 2", s.run("!thread -1 2"))
	if nostack.Thread.Stack != nil || !nostack.Thread.Current {
		t.Errorf("!thread -1 2: %+v", nostack.Thread)
	}
	lsass := s.Machine.Processes()[7]
	th := lsass.Threads[0]
	tc := as[commands.ThreadContext](t, ".thread", s.run(fmt.Sprintf(".thread %x", th.Addr)))
	if tc.RSP != th.KernelStack+0x40 || funcOf(s.Target.Symbolize(s.Ctx, tc.RIP)) != "nt!KiSwapContext" {
		t.Errorf(".thread: rsp %#x rip %#x", tc.RSP, tc.RIP)
	}
	k := as[commands.StackTrace](t, "k", s.run("k"))
	if !k.Context {
		t.Error("k after .thread does not say it walks the set context")
	}
	checkStack(t, "k after .thread", &k.Stack, th.Frames)
	if kk := as[commands.StackTrace](t, "k = ", s.run(fmt.Sprintf("k = %x %x 10", tc.RSP, tc.RIP))); kk.Context {
		t.Error("k = rsp rip walked the implicit thread")
	}
	s.run(".thread")
	if k := as[commands.StackTrace](t, "k", s.run("k")); k.Context || funcOf(k.Frames[0].CallSite) != "nt!DbgBreakPointWithStatus" {
		t.Errorf("k after .thread alone: %+v", k)
	}
	// The implicit thread ends when the target runs.
	s.run(fmt.Sprintf(".thread %x", th.Addr))
	s.run("g")
	if err := s.Target.Interrupt(); !err {
		t.Fatal("break-in not sent")
	}
	s.Stop()
	if k := as[commands.StackTrace](t, "k", s.run("k")); k.Context {
		t.Error("k after g and a new stop still walks the implicit thread")
	}
	var se *commands.SyntaxError
	for _, line := range []string{"!thread -p", "!thread 1 2 3", ".thread zz"} {
		if err := s.fail(line); !errors.As(err, &se) {
			t.Errorf("%s = %v; want a syntax error", line, err)
		}
	}
	// A pointer that is no ETHREAD: its KernelStack lies outside its stack.
	d := as[commands.ThreadDump](t, "!thread", s.run(fmt.Sprintf("!thread %x", lsass.Addr)))
	if d.Thread.Stack != nil || d.Thread.StackErr == "" {
		t.Errorf("!thread on a process: %+v", d.Thread)
	}
}

// TestBugCheckCommands makes simdrv fault and checks .bugcheck, !irql and
// !analyze against the machine's KiBugCheckData.
func TestBugCheckCommands(t *testing.T) {
	s := kobjSession(t, true)
	if bc := as[commands.BugCheckInfo](t, ".bugcheck", s.run(".bugcheck")); bc.Code != 0 {
		t.Errorf(".bugcheck before a bug check: %+v", bc)
	}
	as[commands.NoBugCheck](t, "!analyze -v", s.run("!analyze -v"))
	if irql := as[commands.IrqlInfo](t, "!irql", s.run("!irql")); irql.Irql != 0 {
		t.Errorf("!irql: %+v", irql)
	}
	s.run("ed simdrv!SimDrvCrashRequest 1")
	s.run("g")
	if st := s.Stop(); st.PC != s.Sym("nt!DbgBreakPointWithStatus") {
		t.Fatalf("stop after the crash request: %+v", st)
	}
	want := s.Machine.LastBugCheck()
	bc := as[commands.BugCheckInfo](t, ".bugcheck", s.run(".bugcheck"))
	if uint64(bc.Code) != want.Code || bc.Params != want.Params || bc.Code != 0xD1 || bc.Addr != s.Sym("nt!KiBugCheckData") {
		t.Errorf(".bugcheck: %+v, the machine has %+v", bc, want)
	}
	if irql := as[commands.IrqlInfo](t, "!irql", s.run("!irql")); irql.Irql != 2 {
		t.Errorf("!irql at the bug check: %+v", irql)
	}
	a := as[commands.Analysis](t, "!analyze -v", s.run("!analyze -v"))
	fault := s.Sym("simdrv!SimDrvFaultRoutine") + 8
	if a.Name != "DRIVER_IRQL_NOT_LESS_OR_EQUAL" || !a.Verbose || a.FaultAddr != fault || a.FaultSymbol != "simdrv!SimDrvFaultRoutine+0x8" ||
		a.Module != "simdrv" || a.Image != "simdrv.sys" || a.FaultInst.Inst.Text != "mov     eax,dword ptr [rax]" {
		t.Errorf("!analyze -v: %+v", a)
	}
	var frames []string
	for _, f := range a.Stack.Frames {
		frames = append(frames, funcOf(f.CallSite))
	}
	if strings.Join(frames[:3], " ") != "nt!DbgBreakPointWithStatus nt!KeBugCheckEx simdrv!SimDrvFaultRoutine" {
		t.Errorf("!analyze stack: %v", frames)
	}
	if err := s.fail("!analyze -x"); err == nil {
		t.Error("!analyze -x succeeded")
	}
}

func TestErrorCommand(t *testing.T) {
	s := kobjSession(t, false)
	for _, tc := range []struct{ line, want string }{
		{"!error c0000005", "Error code: (NTSTATUS) 0xc0000005 (3221225477) - The instruction at 0x%p referenced memory at 0x%p. The memory could not be %s."},
		{"!error 5", "Error code: (Win32) 0x5 (5) - Access is denied."},
		{"!error 0n2", "Error code: (Win32) 0x2 (2) - The system cannot find the file specified."},
		{"!error 5 1", "Error code: (NTSTATUS) 0x5 (5) - <Unable to get error code text>"},
		{"!error 80000003", "Error code: (NTSTATUS) 0x80000003 (2147483651) - {EXCEPTION} Breakpoint - A breakpoint has been reached."},
		{"!error c0001234", "Error code: (NTSTATUS) 0xc0001234 (3221230132) - <Unable to get error code text>"},
		{"!error 123456789", "Error code: 0x123456789 is neither an NTSTATUS nor a Win32 error (both are 32 bits)"},
	} {
		got := as[commands.ErrorCode](t, tc.line, s.run(tc.line)).Line()
		if got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.line, got, tc.want)
		}
	}
	var se *commands.SyntaxError
	for _, line := range []string{"!error", "!error x y z", "!error 1 2 3"} {
		if err := s.fail(line); !errors.As(err, &se) {
			t.Errorf("%s = %v; want a syntax error", line, err)
		}
	}
}

// TestHostileProcessList corrupts the machine's process list: a loop, a
// pointer out of kernel space and an unreadable entry each end the walk
// with a note, never a hang.
func TestHostileProcessList(t *testing.T) {
	for _, tc := range []struct {
		name string
		link func(s *session, procs []sim.SimProcess) uint64 // the new Flink of process 2
		want string
	}{
		{"loop", func(s *session, p []sim.SimProcess) uint64 { return p[1].Addr + 0x448 }, "loops"},
		{"user pointer", func(s *session, p []sim.SimProcess) uint64 { return 0x7ff0_0000_1000 }, "not a kernel address"},
		{"unmapped", func(s *session, p []sim.SimProcess) uint64 { return 0xffff_ffff_ffe0_0000 }, "not readable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := kobjSession(t, true)
			procs := s.Machine.Processes()
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], tc.link(s, procs))
			if err := s.Target.WriteMemory(s.Ctx, procs[2].Addr+0x448, b[:]); err != nil {
				t.Fatal(err)
			}
			d := as[commands.ProcessDump](t, "!process 0 0", s.run("!process 0 0"))
			if len(d.Processes) != 3 || !strings.Contains(d.Stopped, tc.want) {
				t.Errorf("%d processes, stopped %q; want 3 and %q", len(d.Processes), d.Stopped, tc.want)
			}
		})
	}
}

// dirStore is a symbol path over a directory in symbol-store layout.
type dirStore struct{ dir string }

func (s dirStore) Find(_ context.Context, name, key, _ string) (string, error) {
	p := filepath.Join(s.dir, name, key, name)
	if _, err := os.Stat(p); err != nil {
		return "", errors.New(name + " not found")
	}
	return p, nil
}

func (s dirStore) String() string { return s.dir }
