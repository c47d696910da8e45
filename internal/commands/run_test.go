package commands_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/internal/target/targettest"
)

func hexAddr(v uint64) string { return fmt.Sprintf("%08x`%08x", v>>32, uint32(v)) }

// db, dd, dq and u over 2 KiB each send ONE read request on the wire (the
// console before the memory cache sent one per 16-byte line: 128).
func TestMemoryDisplaysSendOneRequest(t *testing.T) {
	s := newSession(t, targettest.Options{})
	// The bulk pool: memory nothing has read yet.
	const base = 0xffffd000_00000000
	for i, tc := range []struct {
		line             string
		form             string
		size, perLine, n int
	}{
		{"db ffffd000`00001000 L800", "db", 1, 16, 0x800},
		{"dd ffffd000`00002000 L200", "dd", 4, 4, 0x800},
		{"dq ffffd000`00003000 L100", "dq", 8, 2, 0x800},
		{"db ffffd000`00004000 ffffd000`000047ff", "db", 1, 16, 0x800},
	} {
		addr := uint64(base) + uint64(0x1000*(i+1))
		before := s.Reads()
		d := as[commands.MemoryDump](t, tc.line, s.run(tc.line))
		if got := s.Reads() - before; got != 1 {
			t.Errorf("%s sent %d read requests on the wire; want 1", tc.line, got)
		}
		if d.Form != tc.form || d.Size != tc.size || d.PerLine != tc.perLine || d.Addr != addr || len(d.Data) != tc.n {
			t.Errorf("%s = %s size %d per line %d at %#x, %d bytes", tc.line, d.Form, d.Size, d.PerLine, d.Addr, len(d.Data))
		}
		if !bytes.Equal(d.Data, s.Peek(addr, tc.n)) {
			t.Errorf("%s: bytes differ from the machine's", tc.line)
		}
	}
	// u over 2 KiB: once the modules its branches name are known, the
	// listing itself is one request.
	code := s.Sym("nt!KiSystemStartup")
	s.run("u nt!KiSystemStartup L80")
	s.run("eb simdrv!SimDrvState+0x80 0") // a write empties the memory cache
	before := s.Reads()
	u := as[commands.Disassembly](t, "u", s.run("u nt!KiSystemStartup L80"))
	if got := s.Reads() - before; got != 1 {
		t.Errorf("u over 2 KiB sent %d read requests; want 1", got)
	}
	if len(u.Lines) != 0x80 || u.Lines[0].Inst.Addr != code {
		t.Fatalf("u L80 gave %d lines from %#x", len(u.Lines), u.Lines[0].Inst.Addr)
	}
}

func TestDumpForms(t *testing.T) {
	s := newSession(t, targettest.Options{})
	tick := s.Sym("simdrv!SimDrvTickCount")
	s.run("ed simdrv!SimDrvTickCount 11223344 55667788")
	d := as[commands.MemoryDump](t, "dd", s.run("dd simdrv!SimDrvTickCount L2"))
	if binary.LittleEndian.Uint32(d.Data) != 0x11223344 || binary.LittleEndian.Uint32(d.Data[4:]) != 0x55667788 {
		t.Fatalf("dd after ed: % x", d.Data)
	}
	// d continues after the last display, in its form.
	d = as[commands.MemoryDump](t, "d", s.run("d"))
	if d.Form != "dd" || d.Addr != tick+8 || len(d.Data) != 32*4 {
		t.Fatalf("d after dd = %s at %#x, %d bytes; want dd at %#x, 128 bytes", d.Form, d.Addr, len(d.Data), tick+8)
	}
	if _, repeat, _ := s.env.Run(s.Ctx, "db"); !repeat {
		t.Error("db does not repeat on ENTER")
	}
	// db without an address, after a d*, continues; the default is 128 bytes.
	d = as[commands.MemoryDump](t, "db", s.run("db"))
	if d.Addr != tick+8+128+128 || len(d.Data) != 128 {
		t.Fatalf("db = %#x, %d bytes", d.Addr, len(d.Data))
	}
	// Over a hole: readable bytes and ?? flags.
	hole, _ := s.Gap(s.Sym("simdrv!__ImageBase"), 1<<16)
	d = as[commands.MemoryDump](t, "db hole", s.run(fmt.Sprintf("db %x L20", hole-0x10)))
	for i, ok := range d.OK {
		if ok != (i < 0x10) {
			t.Fatalf("db over the hole: ok[%d] = %v", i, ok)
		}
	}
	for _, line := range []string{"db nt L0", "db nt+10 nt", "db nosuch!x", "db L", "db nt L?1000001"} {
		err := s.fail(line)
		var se *commands.SyntaxError
		var ce *commands.Error
		if !errors.As(err, &se) && !errors.As(err, &ce) {
			t.Errorf("%s: %v is not a syntax or command error", line, err)
		}
	}
	err := s.fail("db nt L1000001")
	var ce *commands.Error
	if !errors.As(err, &ce) || len(ce.Hints) == 0 || !strings.Contains(ce.Hints[0], ".writemem") {
		t.Errorf("a display over 16 MiB = %v; want an error with a .writemem hint", err)
	}
}

func TestUnassemble(t *testing.T) {
	s := newSession(t, targettest.Options{})
	loop := s.Sym("nt!KiIdleLoop")
	u := as[commands.Disassembly](t, "u", s.run("u nt!KiIdleLoop L3"))
	if len(u.Lines) != 3 || u.Lines[0].Symbol != "nt!KiIdleLoop" || u.Lines[0].Inst.Text != "push    rbp" ||
		u.Lines[2].Inst.Text != "sub     rsp,20h" {
		t.Fatalf("u L3: %+v", u.Lines)
	}
	// u without an address continues after the last instruction shown.
	u = as[commands.Disassembly](t, "u", s.run("u"))
	if len(u.Lines) != 8 || u.Lines[0].Inst.Addr != loop+8 || u.Lines[0].Symbol != "nt!KiIdleLoop_loop" ||
		u.Lines[0].Inst.Text != "xor     ecx,ecx" {
		t.Fatalf("u continued at %#x (%q %q); want nt!KiIdleLoop_loop %#x", u.Lines[0].Inst.Addr, u.Lines[0].Symbol, u.Lines[0].Inst.Text, loop+8)
	}
	want := "call    simdrv!SimDrvTimerRoutine (" + hexAddr(s.Sym("simdrv!SimDrvTimerRoutine")) + ")"
	if u.Lines[1].Inst.Text != want {
		t.Errorf("line 2: %q, want %q", u.Lines[1].Inst.Text, want)
	}
	// A range, ending at its last instruction.
	u = as[commands.Disassembly](t, "u range", s.run("u nt!KiIdleLoop_loop nt!KiIdleLoop_loop+7"))
	if len(u.Lines) != 3 || u.Lines[2].Inst.Addr != loop+8+7 {
		t.Fatalf("u range: %d lines", len(u.Lines))
	}
	// Without an address and no earlier u: the current instruction.
	s2 := newSession(t, targettest.Options{})
	u = as[commands.Disassembly](t, "u", s2.run("u"))
	if u.Lines[0].Inst.Addr != s2.Sym("nt!DbgBreakPointWithStatus") || u.Lines[0].Inst.Text != "int     3" {
		t.Fatalf("u at the stop: %+v", u.Lines[0])
	}
	for _, line := range []string{"u nt L1001", "u nt+10 nt", "u nt nt+0x100000"} {
		var se *commands.SyntaxError
		if err := s.fail(line); !errors.As(err, &se) {
			t.Errorf("%s: %v; want a syntax error", line, err)
		}
	}
}

// bp/bl/bc with 16 breakpoints: ids are decimal, bc 10 clears #10, and a
// missing id is an error that clears nothing.
func TestBreakpointCommands(t *testing.T) {
	s := newSession(t, targettest.Options{})
	base := s.Sym("nt!KiSystemCall64")
	orig := s.Peek(base, 16)
	for i := range 16 {
		line := fmt.Sprintf("bp nt!KiSystemCall64+0n%d", i)
		set := as[commands.BreakpointSet](t, line, s.run(line))
		if set.ID != i || set.Addr != base+uint64(i) {
			t.Fatalf("%s = %+v", line, set)
		}
	}
	if re := as[commands.BreakpointRedefined](t, "bp again", s.run("bp nt!KiSystemCall64+a")); re.ID != 10 {
		t.Fatalf("bp at #10's address = %+v", re)
	}
	bl := as[commands.BreakpointList](t, "bl", s.run("bl"))
	if len(bl.Breakpoints) != 16 || bl.Breakpoints[10].Symbol != "nt!KiSystemCall64+0xa" || bl.Breakpoints[0].Symbol != "nt!KiSystemCall64" {
		t.Fatalf("bl = %+v", bl.Breakpoints)
	}
	if res := s.run("bc 10"); res != nil {
		t.Fatalf("bc returned %#v", res)
	}
	bl = as[commands.BreakpointList](t, "bl", s.run("bl"))
	if len(bl.Breakpoints) != 15 {
		t.Fatalf("bc 10 left %d breakpoints", len(bl.Breakpoints))
	}
	for _, b := range bl.Breakpoints {
		if b.ID == 10 || b.ID == 16 {
			t.Fatalf("bc 10 left #%d", b.ID)
		}
	}
	got := s.Peek(base, 16)
	for i := range 16 {
		want := byte(0xCC)
		if i == 10 {
			want = orig[10]
		}
		if got[i] != want {
			t.Fatalf("byte %d is %#x after bc 10, want %#x", i, got[i], want)
		}
	}
	var nb *target.NoBreakpointError
	for _, line := range []string{"bc 10", "bc 3 99", "bc 3,10"} {
		if err := s.fail(line); !errors.As(err, &nb) {
			t.Errorf("%s = %v; want breakpoint ... does not exist", line, err)
		}
	}
	var se *commands.SyntaxError
	for _, line := range []string{"bc a", "bc", "bc 1x", "bp", "bl x", "bp (", "bc 3-1", "bp /p 1 nt"} {
		if err := s.fail(line); !errors.As(err, &se) {
			t.Errorf("%s = %v; want a syntax error", line, err)
		}
	}
	if n := len(s.Target.Breakpoints()); n != 15 {
		t.Fatalf("failed bc commands cleared breakpoints: %d left", n)
	}
	s.run("bc *")
	if n := len(s.Target.Breakpoints()); n != 0 || !bytes.Equal(s.Peek(base, 16), orig) {
		t.Fatalf("bc * left %d breakpoints or int 3s in memory", n)
	}
}

func TestRegisterCommands(t *testing.T) {
	s := newSession(t, targettest.Options{})
	rd := as[commands.RegisterDisplay](t, "r", s.run("r"))
	if !bytes.Equal(rd.Regs.Raw, s.Regs(0).Raw) || rd.Location.Symbol != "nt!DbgBreakPointWithStatus" || rd.Location.Inst.Text != "int     3" {
		t.Fatalf("r: location %+v, registers equal to the machine's: %v", rd.Location, bytes.Equal(rd.Regs.Raw, s.Regs(0).Raw))
	}
	s.run("r rax=0n1234")
	s.run("r @rbx = rax+1")
	if a, b := s.Regs(0).MustGet("rax"), s.Regs(0).MustGet("rbx"); a != 1234 || b != 1235 {
		t.Fatalf("the machine has rax %d rbx %d; want 1234 1235", a, b)
	}
	rv := as[commands.RegisterValues](t, "r rax, @rbx", s.run("r rax, @rbx"))
	if len(rv.Values) != 2 || rv.Values[0] != (commands.RegValue{Name: "rax", Value: 1234, Bits: 64}) || rv.Values[1].Value != 1235 {
		t.Fatalf("r rax, rbx = %+v", rv.Values)
	}
	ev := as[commands.Evaluation](t, "?", s.run("? rip"))
	if ev.Value != s.Regs(0).MustGet("rip") {
		t.Fatalf("? rip = %#x", ev.Value)
	}
	var se *commands.SyntaxError
	for _, line := range []string{"r nosuch", "r nosuch=1", "r rax=nosuch!x", "r rax=(1"} {
		if err := s.fail(line); !errors.As(err, &se) {
			t.Errorf("%s = %v; want a syntax error", line, err)
		}
	}
}

func TestEnterCommands(t *testing.T) {
	s := newSession(t, targettest.Options{})
	at := s.Sym("simdrv!SimDrvState") + 0x100
	s.run(fmt.Sprintf("eb %x 1 2 ff -1", at))
	s.run(fmt.Sprintf("ed %x 11223344 -2", at+4))
	s.run(fmt.Sprintf("eq %x 1122334455667788", at+12))
	want := []byte{1, 2, 0xff, 0xff, 0x44, 0x33, 0x22, 0x11, 0xfe, 0xff, 0xff, 0xff, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11}
	if got := s.Peek(at, len(want)); !bytes.Equal(got, want) {
		t.Fatalf("the machine holds % x\nwant % x", got, want)
	}
	var se *commands.SyntaxError
	for _, line := range []string{"eb nt 100", "ed nt 100000000", "eb nt", "eb", "eb nosuch!x 1", "eb nt nosuch!x"} {
		if err := s.fail(line); !errors.As(err, &se) {
			t.Errorf("%s = %v; want a syntax error", line, err)
		}
	}
	// Across the end of a mapping: the mapped part is written and the
	// error names the first address that failed.
	hole, _ := s.Gap(s.Sym("simdrv!__ImageBase"), 1<<16)
	for _, tc := range []struct {
		line string
		n    int
	}{
		{fmt.Sprintf("eb %x aa bb cc", hole-1), 1},
		{fmt.Sprintf("ed %x aabbccdd", hole-2), 2},
		{fmt.Sprintf("eq %x 1122334455667788", hole-5), 5},
	} {
		err := s.fail(tc.line)
		var ae *target.AccessError
		if !errors.As(err, &ae) || ae.Addr != hole {
			t.Errorf("%s = %v; want a memory access error at %#x", tc.line, err, hole)
		}
		if got := s.Peek(hole-uint64(tc.n), tc.n); tc.n == 1 && got[0] != 0xaa || tc.n == 2 && !bytes.Equal(got, []byte{0xdd, 0xcc}) ||
			tc.n == 5 && !bytes.Equal(got, []byte{0x88, 0x77, 0x66, 0x55, 0x44}) {
			t.Errorf("%s: the mapped part holds % x", tc.line, got)
		}
	}
}

func TestExecutionCommands(t *testing.T) {
	s := newSession(t, targettest.Options{Sim: sim.Config{Procs: 2}})
	call := s.Sym("nt!KiIdleLoop_loop") + 2
	s.run("bp nt!KiIdleLoop_loop+2")
	if _, repeat, err := s.env.Run(s.Ctx, "g"); err != nil || repeat {
		t.Fatalf("g = %v, repeat %v", err, repeat)
	}
	if st := s.Stop(); st.Breakpoint != 0 || st.PC != call {
		t.Fatalf("g: %+v", st)
	}
	if _, repeat, err := s.env.Run(s.Ctx, "p"); err != nil || !repeat {
		t.Fatalf("p = %v, repeat %v", err, repeat)
	}
	if st := s.Stop(); !st.Step || st.PC != call+5 {
		t.Fatalf("p: %+v", st)
	}
	if _, repeat, err := s.env.Run(s.Ctx, "t"); err != nil || !repeat {
		t.Fatalf("t = %v, repeat %v", err, repeat)
	}
	if st := s.Stop(); !st.Step || st.PC != s.Sym("hal!HalProcessorIdle") {
		t.Fatalf("t into the call: %+v", st)
	}
	s.run("~1s")
	if st := s.Stop(); st.CPU != 1 || st.Kind != target.StopSwitch {
		t.Fatalf("~1s: %+v", st)
	}
	rd := as[commands.RegisterDisplay](t, "r", s.run("r"))
	if !bytes.Equal(rd.Regs.Raw, s.Regs(1).Raw) {
		t.Fatal("r on processor 1 differs from the machine's processor 1")
	}
	for _, line := range []string{"~2s", "~s", "~xs"} {
		if err := s.fail(line); err == nil {
			t.Errorf("%s succeeded", line)
		}
	}
	var se *commands.SyntaxError
	for _, line := range []string{"g (", "t 1 2", "p =", "pa", "tc 3", "gu x", ".reboot now", ".restart x", "q x", "vertarget x", "version x", ".logclose x"} {
		if err := s.fail(line); !errors.As(err, &se) {
			t.Errorf("%s = %v; want a syntax error", line, err)
		}
	}
	s.run(".restart")
	targettest.Next[target.Restarting](s.Rig, nil)
	s.Stop()
	s.run(".reboot")
	targettest.Next[target.Rebooting](s.Rig, nil)
	if st := s.Stop(); st.PC != s.Sym("nt!DbgBreakPointWithStatus") {
		t.Fatalf("stop after .reboot: %+v", st)
	}
	if n := s.SimCount(sim.EventReboot, ""); n != 1 {
		t.Fatalf("the machine rebooted %d times", n)
	}
	// Commands on a running target say so.
	s.run("g")
	for _, line := range []string{"db nt", "r", "u", "bp nt", "bl", "eb nt 1", ".writemem x nt L1"} {
		if err := s.fail(line); !errors.Is(err, target.ErrNotStopped) {
			t.Errorf("%s on a running target = %v; want ErrNotStopped", line, err)
		}
	}
}

func TestSessionCommands(t *testing.T) {
	s := newSession(t, targettest.Options{})
	vt := as[commands.TargetInfo](t, "vertarget", s.run("vertarget"))
	if vt.Version.KernBase != s.Machine.KernBase() || vt.NProcs != 2 || vt.Version.MinorVersion != sim.DefaultBuild {
		t.Fatalf("vertarget %+v", vt)
	}
	// The uptime is KUSER_SHARED_DATA's interrupt time, in 100 ns units.
	kusd := s.Peek(0xfffff78000000008, 8)
	if want := time.Duration(binary.LittleEndian.Uint64(kusd) * 100); !vt.HaveUptime || vt.Uptime != want || want == 0 {
		t.Fatalf("vertarget uptime %v (%v); KUSER_SHARED_DATA says %v", vt.Uptime, vt.HaveUptime, want)
	}
	v := as[commands.VersionInfo](t, "version", s.run("version"))
	if v.Kd != "kd test version" || v.Target == nil || v.Target.Version.KernBase != s.Machine.KernBase() {
		t.Fatalf("version %+v", v)
	}
	ev := as[commands.Evaluation](t, "?", s.run("? nt!KiIdleLoop+0n16"))
	if ev.Value != s.Sym("nt!KiIdleLoop")+16 {
		t.Fatalf("? nt!KiIdleLoop+0n16 = %#x", ev.Value)
	}
	if h := as[commands.Help](t, "help", s.run("help")); !strings.Contains(h.Text, "Breakpoints:") || !strings.Contains(h.Text, "CTRL+R ENTER") {
		t.Fatalf("help: %q", h.Text)
	}
	if h := as[commands.Help](t, "?", s.run("?")); !strings.Contains(h.Text, "Execution:") {
		t.Fatalf("?: %q", h.Text)
	}
	if h := as[commands.Help](t, "help bc", s.run("help bc")); !strings.HasPrefix(h.Text, "bc - Clear breakpoints.") || !strings.Contains(h.Text, "IDs are decimal") {
		t.Fatalf("help bc: %q", h.Text)
	}
	if h := as[commands.Help](t, "help ~1s", s.run(".help ~1s")); !strings.HasPrefix(h.Text, "~s - ") {
		t.Fatalf("help ~1s: %q", h.Text)
	}
	if err := s.fail("help nosuch"); err == nil {
		t.Fatal("help nosuch succeeded")
	}
	if e := as[commands.Echo](t, ".echo", s.run(`.echo "marker 1"`)); e.Text != "marker 1" {
		t.Fatalf(".echo: %q", e.Text)
	}
	if lo := as[commands.LogOpened](t, ".logopen", s.run(".logopen a.log")); lo.Path != "a.log" || lo.Closed != "" || s.host.appended {
		t.Fatalf(".logopen %+v", lo)
	}
	if lo := as[commands.LogOpened](t, ".logappend", s.run(`.logappend "b c.log"`)); lo.Path != "b c.log" || lo.Closed != "a.log" || !s.host.appended {
		t.Fatalf(".logappend %+v", lo)
	}
	if lc := as[commands.LogClosed](t, ".logclose", s.run(".logclose")); lc.Path != "b c.log" {
		t.Fatalf(".logclose %+v", lc)
	}
	if lo := as[commands.LogOpened](t, ".logopen", s.run(".logopen")); lo.Path != "Dbgeng.log" {
		t.Fatalf(".logopen without a name: %+v", lo)
	}
	if err := s.fail("nosuch 1 2"); !errors.Is(err, commands.ErrUnknownCommand) {
		t.Fatalf("an unknown command = %v", err)
	}
	as[commands.Quit](t, "q", s.run("q"))
	if !s.host.quit {
		t.Fatal("q did not ask the host to quit")
	}
	var names []string
	for _, k := range commands.Keys {
		names = append(names, k.Syntax)
	}
	if len(names) == 0 {
		t.Fatal("no control keys")
	}
	// Eval is the console's entry to the evaluator.
	if v, err := s.env.Eval(s.Ctx, "hal!HalProcessorIdle"); err != nil || v != s.Sym("hal!HalProcessorIdle") {
		t.Fatalf("Eval = %#x, %v", v, err)
	}
}

func TestFileCommands(t *testing.T) {
	s := newSession(t, targettest.Options{})
	dir := t.TempDir()
	out := filepath.Join(dir, "nt.bin")
	res := as[commands.FileTransfer](t, ".writemem", s.run(fmt.Sprintf(".writemem %s nt L0x3000", out)))
	file, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Bytes != 0x3000 || res.Total != 0x3000 || !bytes.Equal(file, s.Peek(s.Sym("nt!__ImageBase"), 0x3000)) {
		t.Fatalf(".writemem wrote %d bytes (%+v); want nt's first 0x3000 bytes", len(file), res)
	}
	if s.host.progress != 0x3000 || s.host.done != 1 {
		t.Errorf("progress %d bytes, %d done", s.host.progress, s.host.done)
	}
	// .readmem puts them into the bulk pool; the machine holds them.
	bulk := uint64(0xffffd000_00020000)
	res = as[commands.FileTransfer](t, ".readmem", s.run(fmt.Sprintf(`.readmem "%s" %x L0x10000`, out, bulk)))
	if res.Bytes != 0x3000 || !bytes.Equal(s.Peek(bulk, 0x3000), file) {
		t.Fatalf(".readmem %+v; the machine does not hold the file", res)
	}
	// An unreadable page ends .writemem; the file keeps what was read.
	hole, _ := s.Gap(s.Sym("simdrv!__ImageBase"), 1<<16)
	part := filepath.Join(dir, "part.bin")
	err = s.fail(fmt.Sprintf(".writemem %s %x L20", part, hole-0x10))
	var ce *commands.Error
	if !errors.As(err, &ce) || !strings.Contains(ce.Msg, "Unable to read memory at "+hexAddr(hole)) || len(ce.Hints) == 0 {
		t.Fatalf(".writemem over a hole = %v", err)
	}
	if b, _ := os.ReadFile(part); !bytes.Equal(b, s.Peek(hole-0x10, 0x10)) {
		t.Fatalf("the file keeps % x", b)
	}
	err = s.fail(fmt.Sprintf(".readmem %s %x L20", out, hole-4))
	if !errors.As(err, &ce) || !strings.Contains(ce.Msg, "memory access error") {
		t.Fatalf(".readmem over a hole = %v", err)
	}
	for _, line := range []string{".writemem", ".writemem x", ".writemem x nt", ".readmem " + filepath.Join(dir, "none") + " nt L1",
		".writemem " + filepath.Join(dir, "no", "dir") + " nt L1"} {
		if err := s.fail(line); err == nil {
			t.Errorf("%s succeeded", line)
		}
	}
}
