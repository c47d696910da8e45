package transport

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestPipeReconnect: the VM's socket goes away mid-session and a new one
// appears at the same path; the Conn carries on over it.
func TestPipeReconnect(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "win.sock")
	l1 := listenUnixT(t, path)
	accepted := acceptAsync(l1)
	rec := newRecorder()
	c, err := Open(context.Background(), mustParse(t, "com:pipe,port="+path+",resets=0,reconnect"),
		Options{Events: rec.record, PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p1 := waitConn(t, accepted)
	exchange(t, c, p1, "before")

	// The VM stops: its listener and socket file disappear.
	pending := readAsync(c, 64)
	l1.Close()
	p1.Close()
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("socket file still there: %v", err)
	}
	e := rec.wait(t, EventReconnecting)
	if e.Attempt != 1 || e.Name != path || e.Err == nil {
		t.Errorf("reconnecting event = %v; want attempt 1 on %s with a cause", e, path)
	}

	// The VM comes back at the same path.
	l2 := listenUnixT(t, path)
	p2 := waitConn(t, acceptAsync(l2))
	if e := rec.wait(t, EventReconnected); e.Attempt != 1 {
		t.Errorf("reconnected event = %v; want attempt 1", e)
	}
	mustWrite(t, p2, []byte("after"))
	r := waitResult(t, pending)
	if r.err != nil || string(r.b) != "after" {
		t.Fatalf("Read pending across the reconnect = %q, %v; want \"after\"", r.b, r.err)
	}
	exchange(t, c, p2, "after")

	// A second outage, noticed by Write this time (the write fails on the
	// dead socket and is carried out on the new one), numbers itself 2.
	l2.Close()
	p2.Close()
	accepted = acceptAsync(listenUnixT(t, path))
	mustWrite(t, c, []byte("third"))
	readFull(t, waitConn(t, accepted), []byte("third"))
	if e := rec.wait(t, EventReconnecting); e.Attempt != 2 {
		t.Errorf("second reconnecting event = %v; want attempt 2", e)
	}
	if e := rec.wait(t, EventReconnected); e.Attempt != 2 {
		t.Errorf("second reconnected event = %v; want attempt 2", e)
	}
}

// TestPipeWaitsForMissing: with reconnect, Open waits for a socket that
// does not exist yet.
func TestPipeWaitsForMissing(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "later.sock")
	rec := newRecorder()
	opened := openAsync(context.Background(), mustParse(t, "com:pipe,port="+path+",reconnect"),
		Options{Events: rec.record, PollInterval: time.Millisecond})
	if e := rec.wait(t, EventWaitingForPipe); e.Name != path {
		t.Errorf("waiting event = %v; want name %q", e, path)
	}
	l := listenUnixT(t, path)
	accepted := acceptAsync(l)
	c := waitOpen(t, opened)
	rec.wait(t, EventOpened)
	exchange(t, c, waitConn(t, accepted), "late")
}

// TestPipeWaitsForListener: a socket file nobody serves counts as missing.
func TestPipeWaitsForListener(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "stale.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	rec := newRecorder()
	opened := openAsync(context.Background(), mustParse(t, "com:pipe,port="+path+",reconnect"),
		Options{Events: rec.record, PollInterval: time.Millisecond})
	rec.wait(t, EventWaitingForPipe)
	os.Remove(path)
	accepted := acceptAsync(listenUnixT(t, path))
	exchange(t, waitOpen(t, opened), waitConn(t, accepted), "x")
}

func TestPipeWaitCancelled(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "never.sock")
	ctx, cancel := context.WithCancel(context.Background())
	rec := newRecorder()
	opened := openAsync(ctx, mustParse(t, "com:pipe,port="+path+",reconnect"), Options{Events: rec.record, PollInterval: time.Millisecond})
	rec.wait(t, EventWaitingForPipe)
	cancel()
	select {
	case r := <-opened:
		if !errors.Is(r.err, context.Canceled) {
			t.Fatalf("Open = %v, %v; want context.Canceled", r.c, r.err)
		}
	case <-time.After(watchdog):
		t.Fatal("Open did not return after cancel")
	}
}

func TestPipeMissingNoReconnect(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "none.sock")
	_, err := Open(context.Background(), mustParse(t, "com:pipe,port="+path), Options{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open(missing) = %v; want fs.ErrNotExist", err)
	}
	want := "transport: open " + path + ": nothing is listening there (is the VM running? add reconnect to wait for it)"
	if err.Error() != want {
		t.Errorf("error = %q; want %q", err, want)
	}
}

// A port= that names a regular file is not "nothing listening": the user
// gave the wrong path.
func TestPipeRegularFile(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "disk.img")
	if err := os.WriteFile(path, []byte("not a socket"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), mustParse(t, "com:pipe,port="+path), Options{})
	if err == nil || !strings.Contains(err.Error(), "it is a regular file, not a socket or a pipe") {
		t.Fatalf("Open(regular file) = %v", err)
	}
}

func TestPipeBrokenNoReconnect(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "kd.sock")
	accepted := acceptAsync(listenUnixT(t, path))
	c, err := Open(context.Background(), mustParse(t, "com:pipe,port="+path), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitConn(t, accepted).Close()
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("Read from a broken pipe: %v; want io.EOF", err)
	}
	var werr error
	for range 100 { // the first writes may still be buffered by the kernel
		if _, werr = c.Write([]byte("x")); werr != nil {
			break
		}
	}
	var oe *OpError
	if !errors.As(werr, &oe) || oe.Op != "write" {
		t.Fatalf("Write to a broken pipe: %v; want a write *OpError", werr)
	}
}

// TestCloseWhileReconnecting: Close stops the reconnect loop and unblocks
// a Read waiting for it.
func TestCloseWhileReconnecting(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "kd.sock")
	l := listenUnixT(t, path)
	accepted := acceptAsync(l)
	rec := newRecorder()
	c, err := Open(context.Background(), mustParse(t, "com:pipe,port="+path+",reconnect"),
		Options{Events: rec.record, PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p := waitConn(t, accepted)
	l.Close()
	p.Close()
	pending := readAsync(c, 1)
	rec.wait(t, EventReconnecting)

	// While the socket is missing, write deadlines still work (and read
	// deadlines, but the pending Read must wait for Close).
	c.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := c.Write([]byte("x")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Write while reconnecting: %v; want os.ErrDeadlineExceeded", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if r := waitResult(t, pending); !errors.Is(r.err, net.ErrClosed) {
		t.Fatalf("Read = %q, %v; want net.ErrClosed", r.b, r.err)
	}
}

func TestNamedPipePathOutsideWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("named pipes exist on Windows")
	}
	_, err := Open(context.Background(), mustParse(t, `com:pipe,port=\\.\pipe\com_1`), Options{})
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Part != `port=\\.\pipe\com_1` {
		t.Fatalf("Open(named pipe) = %v; want a ParseError on the port", err)
	}
	for p, want := range map[string]bool{`\\.\pipe\x`: true, `\\host\PIPE\x`: true, `\\.\pipe\`: false, `\\.\com1`: false, `/tmp/x`: false} {
		if got := isNamedPipePath(p); got != want {
			t.Errorf("isNamedPipePath(%q) = %v; want %v", p, got, want)
		}
	}
}

// TestReadDeadlineWhileReconnecting: a Read waiting for the pipe to come
// back honours its deadline, and a later deadline change re-arms it.
func TestReadDeadlineWhileReconnecting(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "kd.sock")
	l := listenUnixT(t, path)
	accepted := acceptAsync(l)
	rec := newRecorder()
	c, err := Open(context.Background(), mustParse(t, "com:pipe,port="+path+",reconnect"),
		Options{Events: rec.record, PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p := waitConn(t, accepted)
	l.Close()
	p.Close()
	c.SetReadDeadline(time.Now().Add(time.Hour))
	pending := readAsync(c, 1)
	rec.wait(t, EventReconnecting)
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if r := waitResult(t, pending); !errors.Is(r.err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read while reconnecting = %q, %v; want os.ErrDeadlineExceeded", r.b, r.err)
	}
}
