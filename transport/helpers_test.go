package transport

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// watchdog bounds every wait in these tests; it only fires when a test is
// broken.
const watchdog = 10 * time.Second

// recorder collects events.
type recorder struct {
	ch  chan Event
	mu  sync.Mutex
	all []Event
}

func newRecorder() *recorder { return &recorder{ch: make(chan Event, 1024)} }

func (r *recorder) record(e Event) {
	r.mu.Lock()
	r.all = append(r.all, e)
	r.mu.Unlock()
	r.ch <- e
}

// wait returns the next event of kind k, skipping others.
func (r *recorder) wait(t *testing.T, k EventKind) Event {
	t.Helper()
	timer := time.NewTimer(watchdog)
	defer timer.Stop()
	for {
		select {
		case e := <-r.ch:
			if e.Kind == k {
				return e
			}
		case <-timer.C:
			t.Fatalf("no %v event; saw %v", k, r.events())
		}
	}
}

func (r *recorder) events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.all...)
}

// shortTempDir returns a short directory for Unix sockets (their paths are
// limited to about 100 bytes, and t.TempDir can be longer).
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "kdt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// result is what a Read in another goroutine returned.
type result struct {
	b   []byte
	err error
}

// readAsync starts a Read of up to n bytes.
func readAsync(r io.Reader, n int) <-chan result {
	ch := make(chan result, 1)
	go func() {
		buf := make([]byte, n)
		k, err := r.Read(buf)
		ch <- result{buf[:k], err}
	}()
	return ch
}

func waitResult(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(watchdog):
		t.Fatal("Read did not return")
		return result{}
	}
}

// readFull reads exactly len(want) bytes from r and compares them.
func readFull(t *testing.T, r io.Reader, want []byte) {
	t.Helper()
	got := make([]byte, len(want))
	done := make(chan error, 1)
	go func() {
		_, err := io.ReadFull(r, got)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ReadFull: %v", err)
		}
	case <-time.After(watchdog):
		t.Fatalf("ReadFull(%q) did not return", want)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %q; want %q", got, want)
	}
}

func mustWrite(t *testing.T, w io.Writer, b []byte) {
	t.Helper()
	if n, err := w.Write(b); err != nil || n != len(b) {
		t.Fatalf("Write(%q) = %d, %v", b, n, err)
	}
}

// timeouter is the part of net.Error that timeouts implement.
type timeouter interface {
	error
	Timeout() bool
}

// writeAsync writes b in another goroutine; the channel gets the error.
func writeAsync(w io.Writer, b []byte) <-chan error {
	ch := make(chan error, 1)
	go func() {
		n, err := w.Write(b)
		if err == nil && n != len(b) {
			err = io.ErrShortWrite
		}
		ch <- err
	}()
	return ch
}

// transfer writes want to w while reading it back from r (writes may
// block until read, as on net.Pipe).
func transfer(t *testing.T, w io.Writer, r io.Reader, want []byte) {
	t.Helper()
	werr := writeAsync(w, want)
	readFull(t, r, want)
	select {
	case err := <-werr:
		if err != nil {
			t.Fatalf("Write(%q): %v", want, err)
		}
	case <-time.After(watchdog):
		t.Fatalf("Write(%q) did not return", want)
	}
}

// exchange checks bytes flow both ways between c and its peer.
func exchange(t *testing.T, c Conn, peer io.ReadWriter, tag string) {
	t.Helper()
	transfer(t, c, peer, []byte("to target "+tag))
	transfer(t, peer, c, []byte("to host "+tag))
}

// testConnBasics checks the Conn contract every backend shares: bytes both
// ways, read deadlines (set before and during a Read), and Close unblocking
// a Read. When writeBlocks is set, peer does not drain writes, so a write
// deadline must also fire.
func testConnBasics(t *testing.T, c Conn, peer io.ReadWriter, writeBlocks bool) {
	t.Helper()
	exchange(t, c, peer, "1")

	// A deadline in the past fails at once.
	c.SetReadDeadline(time.Now().Add(-time.Second))
	if _, err := c.Read(make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past deadline: err = %v; want os.ErrDeadlineExceeded", err)
	}
	// A short deadline expires while waiting.
	c.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	if _, err := c.Read(make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read with short deadline: err = %v; want os.ErrDeadlineExceeded", err)
	} else if ne, ok := errors.AsType[timeouter](err); !ok || !ne.Timeout() {
		t.Errorf("timeout error %T has no Timeout() = true", err)
	}
	// A deadline set while Read waits wakes it.
	c.SetReadDeadline(time.Time{})
	pending := readAsync(c, 8)
	c.SetReadDeadline(time.Now())
	if r := waitResult(t, pending); !errors.Is(r.err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read woken by deadline: %q, %v; want os.ErrDeadlineExceeded", r.b, r.err)
	}
	// Clearing the deadline makes the Conn usable again.
	c.SetReadDeadline(time.Time{})
	exchange(t, c, peer, "2")

	if writeBlocks {
		c.SetWriteDeadline(time.Now().Add(30 * time.Millisecond))
		big := make([]byte, 64<<20)
		if n, err := c.Write(big); !errors.Is(err, os.ErrDeadlineExceeded) || n == len(big) {
			t.Fatalf("Write to a peer that does not read: %d, %v; want os.ErrDeadlineExceeded", n, err)
		}
	}
	c.SetWriteDeadline(time.Now().Add(-time.Second))
	if _, err := c.Write([]byte("x")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Write past deadline: err = %v; want os.ErrDeadlineExceeded", err)
	}

	// Close from another goroutine unblocks a pending Read.
	pending = readAsync(c, 8)
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if r := waitResult(t, pending); r.err == nil || !errors.Is(r.err, net.ErrClosed) {
		t.Fatalf("Read during Close = %q, %v; want net.ErrClosed", r.b, r.err)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read after Close: %v; want net.ErrClosed", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after Close: %v; want net.ErrClosed", err)
	}
	if err := c.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close: %v; want net.ErrClosed", err)
	}
}
