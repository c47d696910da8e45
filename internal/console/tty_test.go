package console

import (
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// startTerminal runs a console whose input is the real readline-based
// TerminalInput over a pipe, with readline's terminal hooks stubbed (no
// TTY needed). Bytes written to the pipe are what a raw terminal sends:
// "\r" for ENTER, "\x1b[A" for the up arrow, bare control bytes.
func startTerminal(t *testing.T, opts ...option) *testSession {
	t.Helper()
	pr, pw := io.Pipe()
	scr := newScreen()
	in := NewTerminalInput(TerminalConfig{
		Src:          pr,
		Stdout:       scr,
		Stderr:       scr,
		HistoryFile:  filepath.Join(t.TempDir(), "history"),
		Width:        func() int { return 200 },
		NoWidthWatch: true,
	})
	ts := start(t, in, pw, append(opts, func(c *testConfig) { c.Stdout, c.Stderr = scr, scr })...)
	ts.out, ts.errs = scr, scr
	return ts
}

func TestTerminalResyncAndHistory(t *testing.T) {
	ts := startTerminal(t)
	ts.out.waitFor(t, "0: kd> ", 1)
	ts.send("r rip\r")
	ts.out.waitFor(t, "rip=fffff8", 1)
	ts.out.waitFor(t, "0: kd> ", 2)

	// CTRL+R ENTER at the prompt.
	before := ts.events.count("reset")
	ts.send("\x12\r")
	ts.out.waitFor(t, "Resync complete (", 1)
	ts.out.waitFor(t, "0: kd> ", 3)
	if n := ts.events.count("reset"); n <= before {
		t.Errorf("simulator saw %d RESET exchanges before CTRL+R and %d after, want CTRL+R's", before, n)
	}

	// The up arrow recalls "r rip"; the left arrow still moves the
	// cursor although CTRL+B, which readline decodes it to, is kd's key.
	ts.send("\x1b[A\r")
	ts.out.waitFor(t, "rip=fffff8", 2)
	ts.send("r rp\x1b[Di\r")
	ts.out.waitFor(t, "rip=fffff8", 3)

	// CTRL+C at an idle prompt does nothing; CTRL+W ENTER prints the version.
	ts.send("\x03\x17\r")
	ts.out.waitFor(t, "kd version ", 1)

	// CTRL+B ENTER quits without touching the target.
	ts.send("\x02\r")
	if st := ts.wait(); st != ExitOK {
		t.Fatalf("exit status %d; screen:\n%s", st, ts.out)
	}
}

// TestTerminalKeysWhileRunning: with no prompt shown (the target runs),
// CTRL+R ENTER starts a resync and a bare CTRL+C breaks in and completes it.
func TestTerminalKeysWhileRunning(t *testing.T) {
	ts := startTerminal(t)
	ts.out.waitFor(t, "0: kd> ", 1)
	ts.send("g\r")
	ts.events.waitFor(t, "run", 1)
	ts.send("\x12\r")
	ts.out.waitFor(t, "Resynchronizing with target...", 1)
	ts.send("r rip\r") // typed ahead: runs at the next prompt
	ts.send("\x03")
	ts.out.waitFor(t, "You are seeing this message", 1)
	ts.out.waitFor(t, "Resync complete (", 1)
	ts.out.waitFor(t, "rip=fffff8", 1)
	ts.send("\x04\r") // CTRL+D ENTER: packet trace on
	ts.out.waitFor(t, "Packet trace ON", 1)
	ts.send("dd @rsp L1\r")
	ts.out.waitFor(t, "-> STATE_MANIPULATE id=", 1)
	ts.send("\x04\r\x16\r\x0b\r\x01\r\x10\r\x1c\r")
	for _, want := range []string{"Packet trace OFF.", "Verbose mode ON.", "Will request initial breakpoint at next boot.",
		"Baud rate cannot be changed: sim is a sim connection, not a serial port.", "CTRL+P is not supported", `CTRL+\ is not supported`} {
		ts.out.waitFor(t, want, 1)
	}
	ts.send("q\r")
	if st := ts.wait(); st != ExitOK {
		t.Fatalf("exit status %d; screen:\n%s", st, ts.out)
	}
	if out := ts.out.String(); strings.Contains(out, "kd: error") {
		t.Errorf("errors on screen:\n%s", out)
	}
}

// TestTerminalDbgPrompt: the target's DbgPrompt text becomes the prompt
// of the answer, read with the line editor.
func TestTerminalDbgPrompt(t *testing.T) {
	ts := startTerminal(t)
	ts.out.waitFor(t, "0: kd> ", 1)
	ts.send("ed simdrv!SimDrvAssertRequest 1\r")
	ts.out.waitFor(t, "0: kd> ", 3)
	ts.send("g\r")
	ts.out.waitFor(t, "*** Assertion failed", 1)
	ts.out.waitFor(t, "(boipt)? ", 1)
	ts.send("i\r")
	ts.events.waitFor(t, "prompt", 1)
	ts.send("\x03")
	ts.out.waitFor(t, "You are seeing this message", 1)
	ts.send("q\r")
	if st := ts.wait(); st != ExitOK {
		t.Fatalf("exit status %d; screen:\n%s", st, ts.out)
	}
}
