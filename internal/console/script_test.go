package console

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gokd/kd/kdproto"
)

// TestScriptSmoke runs the session on the embedded simulator:
// connect, vertarget, r, CTRL+R, r, db, g, CTRL+C, r, q.
func TestScriptSmoke(t *testing.T) {
	ts := startScript(t)
	ts.send("vertarget\nr\n\x12\nr\ndb @rsp\ng\n\x03\nr\nq\n")
	if st := ts.wait(); st != ExitOK {
		t.Fatalf("exit status %d; stderr:\n%s", st, ts.errs)
	}
	out := ts.out.String()
	for _, want := range []string{
		"Opened sim (embedded simulator)\nWaiting to reconnect...\n",
		"Connected to Windows 10 19041 x64 target at (Fri Nov 27 03:32:18.123 2026 (UTC + 0:00)), ptr64 TRUE\n",
		"Kernel Debugger connection established.\n",
		"Windows 10 Kernel Version 19041 MP (2 procs) Free x64\n",
		"Resynchronizing with target...\n",
		"Resync complete (",
		" RESET packets).\n",
		"Break instruction exception - code 80000003 (first chance)\n*******",
		"THIS IS NOT A BUG OR A SYSTEM CRASH",
		"nt!DbgBreakPointWithStatus:\n",
		" cc              int     3\n",
		"0: kd> q\nquit:\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if n := strings.Count(out, "rax="); n != 3 {
		t.Errorf("register displays: %d, want 3", n)
	}
	if n := strings.Count(out, "0: kd> "); n != 7 {
		t.Errorf("prompts: %d, want 7", n)
	}
	if ts.events.count("reset") == 0 {
		t.Errorf("the simulator saw no RESET")
	}
	if t.Failed() {
		t.Logf("output:\n%s\nstderr:\n%s", out, ts.errs)
	}
}

func TestScriptEOFDetaches(t *testing.T) {
	ts := startScript(t)
	ts.send("r\n")
	ts.out.waitFor(t, "rax=", 1)
	_ = ts.in.Close()
	if st := ts.wait(); st != ExitOK {
		t.Fatalf("exit status %d, want 0", st)
	}
}

func TestScriptFailingCommand(t *testing.T) {
	ts := startScript(t)
	ts.send("nosuchcommand\nr rax\nq\n")
	if st := ts.wait(); st != ExitCommand {
		t.Fatalf("exit status %d, want %d", st, ExitCommand)
	}
	if out := ts.out.String(); !strings.Contains(out, "^ Syntax error in 'nosuchcommand'") || !strings.Contains(out, "rax=") {
		t.Errorf("output:\n%s", out)
	}
}

func TestScriptCtrlBQuits(t *testing.T) {
	ts := startScript(t)
	ts.send("r\n\x02\r\nr\n")
	if st := ts.wait(); st != ExitOK {
		t.Fatalf("exit status %d", st)
	}
	if n := strings.Count(ts.out.String(), "rax="); n != 1 {
		t.Errorf("%d register displays after CTRL+B, want 1", n)
	}
}

// TestScriptWaitTimeout: a command for a running target waits for it to
// stop, then gives up with exit status 3.
func TestScriptWaitTimeout(t *testing.T) {
	ts := startScript(t, func(c *testConfig) { c.WaitTimeout = 200 * time.Millisecond })
	ts.send("g\nr\n")
	if st := ts.wait(); st != ExitConnection {
		t.Fatalf("exit status %d, want %d", st, ExitConnection)
	}
	if e := ts.errs.String(); !strings.Contains(e, "kd: error: timed out after 200ms waiting for the target to stop before running 'r'") ||
		!strings.Contains(e, "kd: hint:") {
		t.Errorf("stderr:\n%s", e)
	}
}

// TestScriptResyncThenBreakIn: CTRL+R on a running target waits (its
// RESETs are eaten); CTRL+C breaks in and completes it.
func TestScriptResyncThenBreakIn(t *testing.T) {
	ts := startScript(t, func(c *testConfig) { c.Spec.Resets = 0 })
	ts.send("g\n\x12\n")
	ts.out.waitFor(t, "Resynchronizing with target...", 1)
	ts.send("\x03\nr\nq\n")
	if st := ts.wait(); st != ExitOK {
		t.Fatalf("exit status %d; stderr:\n%s", st, ts.errs)
	}
	out := ts.out.String()
	if !strings.Contains(out, "Resync complete (") || !strings.Contains(out, "You are seeing this message") || !strings.Contains(out, "rax=") {
		t.Errorf("output:\n%s", out)
	}
}

// TestScriptDesync: once the simulator's ids fall out of step, a read
// (which does nothing twice) gets no reply; the engine resynchronises by
// itself, says so in one line and sends it again: no command fails.
func TestScriptDesync(t *testing.T) {
	ts := startScript(t, func(c *testConfig) {
		c.Sim.DesyncAfter = 25                                                                                 // after the connection's own requests
		c.Engine = kdproto.Options{AckTimeout: time.Second, ReplyTimeout: 1500 * time.Millisecond, Retries: 2} // generous: a loaded CI machine must not time out a healthy request
	})
	repaired := false
	for i := 1; i <= 40 && !repaired; i++ {
		// A new address each time: memory read at this stop is cached.
		cmd := fmt.Sprintf("dq @rsp+%x L1", 8*i)
		ts.send(cmd + "\n")
		ts.out.waitFor(t, "kd> "+cmd+"\n", 1)
		ts.send(".echo mark\n")
		ts.out.waitFor(t, "mark\n", i)
		repaired = strings.Contains(ts.out.String(), "kd resynchronized with the target after a lost ReadVirtualMemory reply")
	}
	if !repaired {
		t.Fatalf("no repair; the simulator never desynchronised\n%s", ts.out)
	}
	ts.send("r rip\nq\n")
	if st := ts.wait(); st != ExitOK {
		t.Fatalf("exit status %d, want %d; stderr:\n%s", st, ExitOK, ts.errs)
	}
	if e := ts.errs.String(); strings.Contains(e, "out of step") {
		t.Errorf("stderr:\n%s", e)
	}
	if out := ts.out.String(); !strings.Contains(out, "kd> r rip\nrip=fffff8") {
		t.Errorf("r after the repair failed; output:\n%s", out)
	}
	// The fresh machine's stop carried the sync bit, so the connection
	// made no RESET exchange: the RESET is the repair's.
	if ts.events.count("reset") < 1 {
		t.Errorf("the simulator saw %d RESETs, want the repair's", ts.events.count("reset"))
	}
}

func TestScriptRegisterSet(t *testing.T) {
	ts := startScript(t)
	ts.send("r rax=0n17\nr @rax, rcx\nr rax=rax+1\nr rax\nq\n")
	if st := ts.wait(); st != ExitOK {
		t.Fatalf("exit status %d; stderr:\n%s", st, ts.errs)
	}
	out := ts.out.String()
	if !strings.Contains(out, "rax=0000000000000011 rcx=") || !strings.Contains(out, "0: kd> r rax\nrax=0000000000000012\n") {
		t.Errorf("output:\n%s", out)
	}
}

func TestScriptMemory(t *testing.T) {
	ts := startScript(t)
	ts.send("dd rsp L4\ndq @rsp L3\ndb 0 L4\nd\nq\n")
	if st := ts.wait(); st != ExitOK {
		t.Fatalf("exit status %d; stderr:\n%s", st, ts.errs)
	}
	out := ts.out.String()
	for _, want := range []string{
		"00000000`00000000  ?? ?? ?? ??                                      ????\n",
		"00000000`00000004  ?? ?? ?? ?? ?? ?? ?? ??-?? ?? ?? ?? ?? ?? ?? ??  ????????????????\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.HasSuffix(l, "kd> dd rsp L4") && !strings.HasPrefix(lines[i+1], "fffff8") {
			t.Errorf("dd line %q", lines[i+1])
		}
		if strings.HasSuffix(l, "kd> dq @rsp L3") && (len(strings.Fields(lines[i+1])) != 3 || len(strings.Fields(lines[i+2])) != 2) {
			t.Errorf("dq lines %q %q", lines[i+1], lines[i+2])
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

func TestScriptBreakpoint(t *testing.T) {
	ts := startScript(t)
	ts.send("bp simdrv!SimDrvTimerRoutine\nbl\ng\n")
	ts.out.waitFor(t, "Breakpoint 0 hit\nsimdrv!SimDrvTimerRoutine:\n", 1)
	ts.send("g\n")
	ts.out.waitFor(t, "Breakpoint 0 hit", 2)
	ts.send("bc *\nbl\ng\n\x03\nq\n")
	if st := ts.wait(); st != ExitOK {
		t.Fatalf("exit status %d; stderr:\n%s", st, ts.errs)
	}
	out := ts.out.String()
	if !strings.Contains(out, " 0 e fffff8") || strings.Count(out, "Breakpoint 0 hit") != 2 {
		t.Errorf("output:\n%s", out)
	}
}

func TestScriptStep(t *testing.T) {
	ts := startScript(t)
	ts.send("t\nt\nq\n")
	if st := ts.wait(); st != ExitOK {
		t.Fatalf("exit status %d; stderr:\n%s", st, ts.errs)
	}
	if n := strings.Count(ts.out.String(), "rax="); n != 2 {
		t.Errorf("%d register displays, want 2:\n%s", n, ts.out)
	}
}

func TestScriptReboot(t *testing.T) {
	ts := startScript(t, func(c *testConfig) { c.BreakIn = true })
	ts.send(".reboot\nr rip\nq\n")
	if st := ts.wait(); st != ExitOK {
		t.Fatalf("exit status %d; stderr:\n%s", st, ts.errs)
	}
	out := ts.out.String()
	i := strings.Index(out, "Shutdown occurred at (Fri Nov 27 03:32:18.123 2026 (UTC + 0:00))...unloading all symbol tables.\nWaiting to reconnect...\n")
	if i < 0 {
		t.Fatalf("no shutdown lines; output:\n%s", out)
	}
	rest := out[i:]
	for _, want := range []string{"Connected to Windows 10 19041", "Kernel Debugger connection established.  (Initial Breakpoint requested)", "rip="} {
		if !strings.Contains(rest, want) {
			t.Errorf("after the reboot, output lacks %q:\n%s", want, rest)
		}
	}
}

func TestScriptRestart(t *testing.T) {
	ts := startScript(t)
	ts.send(".restart\nr rip\nq\n")
	if st := ts.wait(); st != ExitOK {
		t.Fatalf("exit status %d; stderr:\n%s", st, ts.errs)
	}
	if out := ts.out.String(); strings.Count(out, "Opened sim") != 2 || !strings.Contains(out, "rip=") {
		t.Errorf("output:\n%s", out)
	}
}

func TestScriptLog(t *testing.T) {
	dir := t.TempDir()
	first, second := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	ts := startScript(t, func(c *testConfig) { c.LogOpen = first })
	ts.send("r rip\n.logappend " + second + "\nvertarget\n.logclose\nr rax\nq\n")
	if st := ts.wait(); st != ExitOK {
		t.Fatalf("exit status %d; stderr:\n%s", st, ts.errs)
	}
	a, _ := os.ReadFile(first)
	b, _ := os.ReadFile(second)
	if !strings.Contains(string(a), "Opened log file '"+first+"'") || !strings.Contains(string(a), "kd> r rip\nrip=") {
		t.Errorf("first log:\n%s", a)
	}
	if !strings.Contains(string(b), "kd> vertarget\nWindows 10 Kernel Version") || !strings.Contains(string(b), "Closing open log file") ||
		strings.Contains(string(b), "rax=") {
		t.Errorf("second log:\n%s", b)
	}
}

func TestInitialCommands(t *testing.T) {
	ts := startScript(t, func(c *testConfig) { c.Commands = []string{"r rip; r rsp", "q"} })
	if st := ts.wait(); st != ExitOK {
		t.Fatalf("exit status %d", st)
	}
	if out := ts.out.String(); !strings.Contains(out, "kd> r rip\nrip=") || !strings.Contains(out, "kd> r rsp\nrsp=") {
		t.Errorf("output:\n%s", out)
	}
}

// TestScriptRunningTarget: without -b a running target stays running; kd
// says the connection is up when the target first talks (DbgPrint), shows
// its text sanitised, and CTRL+C breaks in.
func TestScriptRunningTarget(t *testing.T) {
	ts := startScript(t, func(c *testConfig) {
		c.Sim.Stopped = false
		c.Sim.PrintEvery = 20 * time.Millisecond
		c.Sim.Evil = true
	})
	ts.out.waitFor(t, "Kernel Debugger connection established.\n", 1)
	ts.out.waitFor(t, "simdrv: ", 2)
	ts.send("\x03\nvertarget\nq\n")
	if st := ts.wait(); st != ExitOK {
		t.Fatalf("exit status %d; stderr:\n%s", st, ts.errs)
	}
	out := ts.out.String()
	if strings.ContainsAny(out, "\x1b\x07") || strings.Contains(out, "\xff") {
		t.Errorf("raw control or invalid bytes reached the screen:\n%q", out)
	}
	i := strings.Index(out, "Kernel Debugger connection established.")
	j := strings.Index(out, "Connected to Windows 10 19041")
	k := strings.Index(out, "You are seeing this message")
	if i < 0 || j < i || k < j || !strings.Contains(out, `\x1b[2J`) {
		t.Errorf("output:\n%s", out)
	}
}

// TestScriptDbgPrompt: the simulated driver fails an assertion and asks
// (DbgPrompt) what to do; the next input line is the answer.
func TestScriptDbgPrompt(t *testing.T) {
	ts := startScript(t)
	ts.send("ed simdrv!SimDrvAssertRequest 1\neb simdrv!SimDrvAssertRequest+4 ff\ng\n")
	ts.out.waitFor(t, "(boipt)? ", 1)
	ts.send("i\n")
	ts.events.waitFor(t, "prompt", 1)
	ts.send("\x03\ndd simdrv!SimDrvAssertRequest L2\neb 0 1\nq\n")
	if st := ts.wait(); st != ExitCommand {
		t.Fatalf("exit status %d, want 1 (eb 0 fails); stderr:\n%s", st, ts.errs)
	}
	out := ts.out.String()
	for _, want := range []string{"*** Assertion failed: SimDrvState == SIMDRV_READY", "(boipt)? i\n", " 00000000 000000ff\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if !strings.Contains(ts.errs.String(), "kd: error: eb 0 1: memory access error at '00000000`00000000'") {
		t.Errorf("stderr:\n%s", ts.errs)
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

// TestScriptProcessorSwitchBounds: ~Ns only takes processors the target
// has, and numbers that would be cut to 16 bits are refused, not wrapped.
func TestScriptProcessorSwitchBounds(t *testing.T) {
	// The hostile simulator claims 0xFFFFFFFF processors: 0x10001 passes
	// the count check and, cut to 16 bits, would switch to processor 1.
	ts := startScript(t, func(c *testConfig) { c.Sim.Evil = true })
	ts.send("~10001s\nq\n")
	if st := ts.wait(); st != ExitCommand {
		t.Fatalf("exit status %d, want %d", st, ExitCommand)
	}
	errs := ts.errs.String()
	for _, want := range []string{"processor 65537 does not exist"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if strings.Contains(ts.out.String(), "1: kd>") {
		t.Errorf("kd switched processor:\n%s", ts.out)
	}
}

func TestHelpOutput(t *testing.T) {
	ts := startScript(t)
	ts.send("help\nhelp db\n.help r\n? 0n15\nq\n")
	if st := ts.wait(); st != ExitOK {
		t.Fatalf("exit status %d; stderr:\n%s", st, ts.errs)
	}
	out := ts.out.String()
	for _, want := range []string{
		"Execution:\n", "  g ", "Control keys", "CTRL+R ENTER", "db - Display memory as bytes",
		"    db [Address [L Count]]", "r - Show or change registers", "Evaluate expression: 15 = 00000000`0000000f",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("help output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

// TestScriptCtrlBFirstLine: CTRL+B ENTER as the very first line quits at
// once with status 0, as docs/usage.md says.
func TestScriptCtrlBFirstLine(t *testing.T) {
	ts := startScript(t)
	ts.send("\x02\n")
	if st := ts.wait(); st != ExitOK {
		t.Fatalf("exit status %d, want 0; stderr:\n%s", st, ts.errs)
	}
}

// TestScriptWriteMemReadMem: .writemem copies target memory to a file
// byte for byte, .readmem puts a file into target memory, an unreadable
// page ends .writemem with KD's message and the file keeps what was read
// before it, and a CTRL+C line that arrives during a long .writemem
// interrupts it cleanly.
func TestScriptWriteMemReadMem(t *testing.T) {
	dir := t.TempDir()
	out, in, part, big := filepath.Join(dir, "out.bin"), filepath.Join(dir, "in.bin"), filepath.Join(dir, "part.bin"), filepath.Join(dir, "big.bin")
	if err := os.WriteFile(in, []byte("kd readmem test!"), 0o644); err != nil {
		t.Fatal(err)
	}
	ts := startScript(t)
	ts.send(".writemem " + out + " @rsp L40\ndb @rsp L40\n.readmem " + in + " @rsp+8 L100\ndb @rsp+8 L10\n" +
		".writemem " + part + " nt L10000\n")
	ts.out.waitFor(t, "kd> .writemem "+part, 1)
	ts.errs.waitFor(t, "Unable to read memory at", 1)
	ts.send(".writemem " + big + " ffffd000`00000000 L?10000000\n")
	ts.events.waitFor(t, "api", 200) // well into the 256 MiB
	ts.send("\x03\n")
	ts.errs.waitFor(t, "interrupted after", 1)
	ts.send("q\n")
	if st := ts.wait(); st != ExitCommand {
		t.Fatalf("exit status %d, want 1 (two transfers ended early)", st)
	}
	text := ts.out.String()
	if !strings.Contains(text, "Writing 40 bytes.\n") || !strings.Contains(text, "Reading 10 bytes.\n") {
		t.Errorf("output:\n%s", text)
	}
	// The file holds what db showed.
	b, err := os.ReadFile(out)
	if err != nil || len(b) != 0x40 {
		t.Fatalf("%s: %d bytes, %v", out, len(b), err)
	}
	first := fmt.Sprintf("%02x %02x %02x %02x", b[0], b[1], b[2], b[3])
	if i := strings.Index(text, "kd> db @rsp L40\n"); i < 0 || !strings.Contains(text[i:], "  "+first+" ") {
		t.Errorf("db does not show the file's first bytes %s:\n%s", first, text)
	}
	if !strings.Contains(text, "6b 64 20 72 65 61 64 6d-65 6d 20 74 65 73 74 21  kd readmem test!") {
		t.Errorf(".readmem did not write the file:\n%s", text)
	}
	// The partial file ends where the target refused to read.
	errs := ts.errs.String()
	p, _ := os.ReadFile(part)
	if len(p) == 0 || len(p)%0x1000 != 0 || !strings.Contains(errs, fmt.Sprintf("keeps the 0x%x bytes read before", len(p))) {
		t.Errorf("partial file: %d bytes; stderr:\n%s", len(p), errs)
	}
	// The interrupted file holds what the error says.
	st, err := os.Stat(big)
	if err != nil || st.Size() == 0 || st.Size() >= 1<<28 || !strings.Contains(errs, fmt.Sprintf("interrupted after 0x%x of 0x10000000 bytes", st.Size())) {
		t.Errorf("interrupted file: %v, %v; stderr:\n%s", st, err, errs)
	}
}
