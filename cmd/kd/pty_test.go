//go:build !windows

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// waitLimit is a safety net against a hung test; every wait returns as
// soon as what it waits for has happened.
const waitLimit = 30 * time.Second

// textLog collects text from a goroutine and wakes waiters.
type textLog struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	wake chan struct{}
}

func newTextLog() *textLog { return &textLog{wake: make(chan struct{})} }

func (l *textLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	close(l.wake)
	l.wake = make(chan struct{})
	return len(p), nil
}

func (l *textLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *textLog) waitFor(t *testing.T, what string, want string, n int) {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		got := strings.Count(l.buf.String(), want)
		wake := l.wake
		l.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-wake:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %d× %q in %s:\n%s", n, want, what, l)
		}
	}
}

// TestPTYSession drives the real kd binary through a pseudo-terminal
// against kdsim on a Unix socket: real CTRL+R then ENTER at the prompt,
// the up arrow and history, and a link whose packet ids fell out of step.
func TestPTYSession(t *testing.T) {
	dir, err := os.MkdirTemp("", "kdpty") // short: Unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "kd.sock")
	fifo := filepath.Join(dir, "events.jsonl")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}

	// kdsim's --events file is a FIFO: the test reads each event as it is
	// written.
	events := newTextLog()
	go func() {
		f, err := os.Open(fifo) // blocks until kdsim opens it
		if err != nil {
			return
		}
		defer f.Close()
		_, _ = io.Copy(events, f)
	}()

	sim := exec.Command(kdsimBin, "--listen", "unix:"+sock, "--events", fifo, "--desync-after", "30")
	simOut, err := sim.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	sim.Stderr = os.Stderr
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = sim.Process.Kill()
		_ = sim.Wait()
	}()
	listening := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(simOut)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "kdsim: listening on unix:") {
				listening <- true
			}
		}
		close(listening)
	}()
	select {
	case ok := <-listening:
		if !ok {
			t.Fatal("kdsim exited before listening")
		}
	case <-time.After(waitLimit):
		t.Fatal("kdsim did not start listening")
	}

	cmd := exec.Command(kdBin, "-b", "-k", "com:pipe,port="+sock, "--ack-timeout", "300ms", "--reply-timeout", "500ms")
	cmd.Env = append(os.Environ(), "HOME="+dir, "TERM=xterm")
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	screen := newTextLog()
	go func() { _, _ = io.Copy(screen, ptmx) }()
	exited := make(chan int, 1)
	go func() {
		err := cmd.Wait()
		st := 0
		if ee, ok := err.(*exec.ExitError); ok {
			st = ee.ExitCode()
		}
		exited <- st
	}()
	defer func() {
		if t.Failed() {
			_ = cmd.Process.Kill()
			t.Logf("kdsim events:\n%s", events)
		}
	}()
	typ := func(s string) {
		t.Helper()
		if _, err := ptmx.WriteString(s); err != nil {
			t.Fatalf("typing %q: %v", s, err)
		}
	}

	screen.waitFor(t, "the screen", "kd> ", 1)
	events.waitFor(t, "kdsim's events", `"kind":"reset"`, 1) // the connection's RESET

	// CTRL+R then ENTER, as typed on a keyboard.
	typ("\x12\r")
	screen.waitFor(t, "the screen", "Resync complete (", 1)
	events.waitFor(t, "kdsim's events", `"kind":"reset"`, 2)

	// A command, then the up arrow and ENTER recall it from the history.
	typ("r rip\r")
	screen.waitFor(t, "the screen", "rip=fffff8", 1)
	typ("\x1b[A\r")
	screen.waitFor(t, "the screen", "rip=fffff8", 2)

	// kdsim's ids fall out of step after 30 requests: the read that gets
	// no reply is repaired by the engine, which says so in one line...
	for i := 1; i <= 40 && !strings.Contains(screen.String(), "kd resynchronized with the target"); i++ {
		// A new address each time: memory read at a stop is cached.
		typ(fmt.Sprintf("dq @rsp+%x L1\r? 0n%d\r", 8*i, 1000+i))
		screen.waitFor(t, "the screen", fmt.Sprintf("Evaluate expression: %d = ", 1000+i), 1)
	}
	if !strings.Contains(screen.String(), "kd resynchronized with the target") {
		t.Fatalf("no repair; screen:\n%s", screen)
	}
	// ...and CTRL+R ENTER still works.
	typ("\x12\r")
	screen.waitFor(t, "the screen", "Resync complete (", 2)
	// kdsim logs the exchange through a FIFO the test reads on its own
	// goroutine: wait for it here rather than count after kd exits.
	events.waitFor(t, "kdsim's events", `"kind":"reset"`, 3) // connect and two CTRL+R
	before := strings.Count(screen.String(), "rsp=fffff8")
	typ("r rsp\r")
	screen.waitFor(t, "the screen", "rsp=fffff8", before+1)

	typ("q\r")
	select {
	case st := <-exited:
		// A command failed on the desynchronised link, but a person at a
		// terminal saw it: only scripts turn failures into status 1.
		if st != 0 {
			t.Errorf("kd exited with status %d, want 0", st)
		}
	case <-time.After(waitLimit):
		t.Fatalf("kd did not exit after q; screen:\n%s", screen)
	}
}
