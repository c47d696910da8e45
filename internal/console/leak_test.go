package console

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// kdGoroutines returns the stacks of goroutines running kd's code, other
// than the caller's.
func kdGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 || !strings.Contains(g, "github.com/gokd/kd/") || strings.Contains(g, "testing.tRunner") && strings.Contains(g, "TestNoGoroutineLeaks") {
			continue
		}
		out = append(out, g)
	}
	return out
}

// TestNoGoroutineLeaks: sessions that end every way kd ends (q, CTRL+B,
// end of input, a reboot, --json) leave no goroutine of kd behind, so kd
// can be embedded in a long-lived program (a test runner, a tool server).
func TestNoGoroutineLeaks(t *testing.T) {
	for _, script := range []string{"q\n", "\x02\n", "r\n", ".reboot\nr rip\nq\n", "g\n\x03\n\x12\nq\n"} {
		for _, json := range []bool{false, true} {
			ts := startScript(t, func(c *testConfig) { c.JSON = json })
			ts.send(script)
			if !strings.HasSuffix(script, "q\n") && script != "\x02\n" {
				_ = ts.in.Close() // end of input
			}
			ts.wait()
		}
	}
	// Run waits for what it started; the engine's writer and the
	// simulator wind down right after. Wait for them, within a deadline.
	deadline := time.Now().Add(waitLimit)
	for {
		left := kdGoroutines()
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines of kd left after the sessions ended:\n%s", len(left), strings.Join(left, "\n\n"))
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}
