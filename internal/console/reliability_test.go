package console

import (
	"strings"
	"testing"
	"time"

	"github.com/gokd/kd/kdproto"
)

// Issue 13's script cases: control-key lines act when they arrive, not
// after the command in progress, and a cancelled read leaves the link in
// step.

// countAPI counts the read requests the simulator served.
func (l *eventLog) countAPI(api string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.events {
		if e.Kind == "api" && e.API == api {
			n++
		}
	}
	return n
}

// TestScriptCtrlCCancelsLongRead: a CTRL+C line sent while a 1 MiB db
// runs (over a 115200-baud line: 90 s of data) cancels it at once, and
// the next commands work on the same link: the read in flight was
// finished, not abandoned, so no packet id was lost.
func TestScriptCtrlCCancelsLongRead(t *testing.T) {
	ts := startScript(t, func(c *testConfig) {
		c.Sim.Baud = 115200
		c.Engine = kdproto.Options{ReplyTimeout: 5 * time.Second}
	})
	ts.send(".echo ready\n")
	ts.out.waitFor(t, "ready\n", 1)
	before := ts.events.countAPI("ReadVirtualMemory")
	ts.send("db ffffd000`00000000 L100000\n")
	ts.events.waitFor(t, "api", ts.events.count("api")+2)
	ts.send("\x03\n")
	ts.errs.waitFor(t, "cancelled", 1)
	ts.send("dd ffffd000`00100000 L4\nr rip\nq\n")
	if st := ts.wait(); st != ExitCommand {
		t.Fatalf("exit status %d, want %d (the cancelled db); stderr:\n%s", st, ExitCommand, ts.errs)
	}
	if e := ts.errs.String(); strings.Contains(e, "out of step") || strings.Count(e, "kd: error:") != 1 {
		t.Errorf("stderr:\n%s", e)
	}
	out := ts.out.String()
	if !strings.Contains(out, "kd> dd ffffd000`00100000 L4\nffffd000`00100000 ") || !strings.Contains(out, "rip=fffff8") {
		t.Errorf("output:\n%s", out)
	}
	if n := ts.events.countAPI("ReadVirtualMemory"); n > before+40 {
		t.Errorf("%d reads served: the cancelled db went on", n-before)
	}
}

// TestScriptCtrlRDuringStalledRead: a CTRL+R line sent while a read
// stalls (the target went mute) acts at once: the RESETs go out while the
// read waits, the target answers them when it talks again and the read,
// sent again after the RESET, completes. Were the key held until the read
// failed, the read would fail after ReplyTimeout (a minute) first.
func TestScriptCtrlRDuringStalledRead(t *testing.T) {
	ts := startScript(t, func(c *testConfig) {
		c.Sim.MuteAfter = 30
		c.Sim.MuteFor = time.Second
		c.Engine = kdproto.Options{AckTimeout: time.Minute, ReplyTimeout: time.Minute}
	})
	ts.send(".echo ready\n")
	ts.out.waitFor(t, "ready\n", 1)
	muted := func() bool { return ts.events.count("fault") > 0 }
	for i := 1; !muted(); i++ {
		if i > 60 {
			t.Fatal("the simulator never went mute")
		}
		ts.send("dq @rsp+" + itoa(8*i) + " L1\n.echo m" + itoa(i) + "\n")
		// Either the read completes (and the mark shows) or it is the
		// one that stalls (the simulator went mute).
		ts.waitUntil(func() bool { return muted() || strings.Contains(ts.out.String(), "m"+itoa(i)+"\n") })
	}
	ts.send("\x12\n")
	ts.out.waitFor(t, "Resync complete (", 1)
	ts.send("q\n")
	if st := ts.wait(); st != ExitOK {
		t.Fatalf("exit status %d; stderr:\n%s", st, ts.errs)
	}
	if e := ts.errs.String(); strings.Contains(e, "error") {
		t.Errorf("stderr:\n%s", e)
	}
}

// waitUntil waits until cond holds, waking on every screen write and
// every simulator event.
func (ts *testSession) waitUntil(cond func() bool) {
	ts.t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for !cond() {
		ts.out.mu.Lock()
		screen := ts.out.wake
		ts.out.mu.Unlock()
		ts.events.mu.Lock()
		if ts.events.wake == nil {
			ts.events.wake = make(chan struct{})
		}
		ev := ts.events.wake
		ts.events.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-screen:
		case <-ev:
		case <-deadline.C:
			ts.t.Fatalf("timed out; screen:\n%s", ts.out)
		}
	}
}

func itoa(n int) string {
	const digits = "0123456789abcdef"
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 16 {
		b = append([]byte{digits[n%16]}, b...)
	}
	return string(b)
}

// TestScriptImpossibleProcessorCount: a stop that claims 0xFFFFFFFF
// processors is said to be wrong, without -v.
func TestScriptImpossibleProcessorCount(t *testing.T) {
	ts := startScript(t, func(c *testConfig) { c.Sim.Evil = true })
	ts.send("r rip\nq\n")
	if st := ts.wait(); st != ExitOK {
		t.Fatalf("exit status %d; stderr:\n%s", st, ts.errs)
	}
	all := ts.out.String() + ts.errs.String()
	if !strings.Contains(all, "the target's stop claims 4294967295 processors, which cannot be; kd keeps 1") {
		t.Errorf("output:\n%s", all)
	}
}

// TestScriptBinaryLineSanitised: a script line of control bytes is echoed
// and quoted in its error as visible escapes, never as raw bytes.
func TestScriptBinaryLineSanitised(t *testing.T) {
	ts := startScript(t)
	ts.send("\x01\x02garbage\x1b[2J\x07\nq\n")
	if st := ts.wait(); st != ExitCommand {
		t.Fatalf("exit status %d, want %d", st, ExitCommand)
	}
	all := ts.out.String() + ts.errs.String()
	if strings.ContainsAny(all, "\x01\x02\x1b\x07") {
		t.Errorf("raw control bytes reached the screen:\n%q", all)
	}
	if !strings.Contains(all, `Syntax error in '\x01\x02garbage\x1b[2J\x07'`) {
		t.Errorf("output:\n%s", all)
	}
}
