package transport

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// acceptAsync accepts one connection on l.
func acceptAsync(l net.Listener) <-chan net.Conn {
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			close(ch)
			return
		}
		ch <- c
	}()
	return ch
}

func waitConn(t *testing.T, ch <-chan net.Conn) net.Conn {
	t.Helper()
	select {
	case c, ok := <-ch:
		if !ok {
			t.Fatal("Accept failed")
		}
		t.Cleanup(func() { c.Close() })
		return c
	case <-time.After(watchdog):
		t.Fatal("no connection")
		return nil
	}
}

func listenUnixT(t *testing.T, path string) net.Listener {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// openAsync runs Open in a goroutine, for specs that block until a peer shows up.
func openAsync(ctx context.Context, s Spec, o Options) <-chan openResult {
	ch := make(chan openResult, 1)
	go func() {
		c, err := Open(ctx, s, o)
		ch <- openResult{c, err}
	}()
	return ch
}

type openResult struct {
	c   Conn
	err error
}

func waitOpen(t *testing.T, ch <-chan openResult) Conn {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("Open: %v", r.err)
		}
		t.Cleanup(func() { r.c.Close() })
		return r.c
	case <-time.After(watchdog):
		t.Fatal("Open did not return")
		return nil
	}
}

func mustParse(t *testing.T, s string) Spec {
	t.Helper()
	spec, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func TestUnixClient(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "kd.sock")
	accepted := acceptAsync(listenUnixT(t, path))
	rec := newRecorder()
	c, err := Open(context.Background(), mustParse(t, "com:pipe,port="+path+",resets=0"), Options{Events: rec.record})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name() != path {
		t.Errorf("Name() = %q; want %q", c.Name(), path)
	}
	if e := rec.wait(t, EventOpened); e.Name != path {
		t.Errorf("opened event %v; want name %q", e, path)
	}
	if _, ok := c.(BaudSetter); ok {
		t.Error("a pipe claims to be a BaudSetter")
	}
	testConnBasics(t, c, waitConn(t, accepted), true)
}

func TestUnixServer(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "kd.sock")
	rec := newRecorder()
	opened := openAsync(context.Background(), mustParse(t, "com:pipe,port="+path+",server"), Options{Events: rec.record})
	if e := rec.wait(t, EventListening); e.Name != path {
		t.Fatalf("listening on %q; want %q", e.Name, path)
	}
	peer, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	c := waitOpen(t, opened)
	rec.wait(t, EventAccepted)
	rec.wait(t, EventOpened)
	exchange(t, c, peer, "a")
	// Without reconnect the listener is gone after the first peer…
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket still exists after accepting: %v", err)
	}
	// …and the peer leaving is the end of the stream.
	peer.Close()
	if r := waitResult(t, readAsync(c, 8)); r.err != io.EOF {
		t.Fatalf("Read after the peer left = %q, %v; want io.EOF", r.b, r.err)
	}
}

func TestUnixServerBasics(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "kd.sock")
	rec := newRecorder()
	opened := openAsync(context.Background(), mustParse(t, "com:pipe,port="+path+",server"), Options{Events: rec.record})
	rec.wait(t, EventListening)
	peer, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	testConnBasics(t, waitOpen(t, opened), peer, true)
}

func TestUnixServerRemovesStaleSocket(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "kd.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close() // leaves a socket file nobody serves
	rec := newRecorder()
	opened := openAsync(context.Background(), mustParse(t, "com:pipe,port="+path+",server"), Options{Events: rec.record})
	rec.wait(t, EventListening)
	peer, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	exchange(t, waitOpen(t, opened), peer, "stale")
}

func TestUnixServerCancelled(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "kd.sock")
	ctx, cancel := context.WithCancel(context.Background())
	rec := newRecorder()
	opened := openAsync(ctx, mustParse(t, "com:pipe,port="+path+",server"), Options{Events: rec.record})
	rec.wait(t, EventListening)
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

// TestUnixServerReconnect: in server mode with reconnect, a second peer is
// accepted when the first goes away.
func TestUnixServerReconnect(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "kd.sock")
	rec := newRecorder()
	opened := openAsync(context.Background(), mustParse(t, "com:pipe,port="+path+",server,reconnect"),
		Options{Events: rec.record, PollInterval: time.Millisecond})
	rec.wait(t, EventListening)
	peer1, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	c := waitOpen(t, opened)
	exchange(t, c, peer1, "first")
	pending := readAsync(c, 64)
	peer1.Close()
	rec.wait(t, EventReconnecting)
	peer2, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer peer2.Close()
	rec.wait(t, EventReconnected)
	mustWrite(t, peer2, []byte("second"))
	if r := waitResult(t, pending); r.err != nil || string(r.b) != "second" {
		t.Fatalf("pending Read = %q, %v; want \"second\"", r.b, r.err)
	}
	exchange(t, c, peer2, "second")
}

func TestTCPClient(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	accepted := acceptAsync(l)
	c, err := Open(context.Background(), mustParse(t, "com:ipport="+strconv.Itoa(port)+",port=127.0.0.1"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := l.Addr().String(); c.Name() != want {
		t.Errorf("Name() = %q; want %q", c.Name(), want)
	}
	testConnBasics(t, c, waitConn(t, accepted), true)
}

func TestTCPServer(t *testing.T) {
	rec := newRecorder()
	// Port 0 is not valid KD syntax but lets the test pick a free port.
	s := Spec{Kind: KindTCP, Port: "127.0.0.1", TCPPort: 0, Server: true, Resets: -1}
	opened := openAsync(context.Background(), s, Options{Events: rec.record})
	e := rec.wait(t, EventListening)
	peer, err := net.Dial("tcp", e.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	c := waitOpen(t, opened)
	if c.Name() != e.Name {
		t.Errorf("Name() = %q; want %q", c.Name(), e.Name)
	}
	testConnBasics(t, c, peer, true)
}

func TestTCPRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().(*net.TCPAddr)
	l.Close()
	_, err = Open(context.Background(), Spec{Kind: KindTCP, Port: "127.0.0.1", TCPPort: addr.Port, Resets: -1}, Options{})
	var oe *OpError
	if !errors.As(err, &oe) || oe.Op != "open" {
		t.Fatalf("Open to a closed port = %v; want an open *OpError", err)
	}
}

func TestWrapNetConn(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	c := WrapNetConn(a, "sim")
	if c.Name() != "sim" {
		t.Errorf("Name() = %q; want sim", c.Name())
	}
	testConnBasics(t, c, b, true)
}

func TestWrapNetConnPeerCloses(t *testing.T) {
	a, b := net.Pipe()
	c := WrapNetConn(a, "sim")
	defer c.Close()
	b.Close()
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("Read after peer Close: %v; want io.EOF", err)
	}
	if _, err := c.Write([]byte("x")); err == nil {
		t.Fatal("Write after peer Close succeeded")
	}
}

func TestOpenRefusesSimAndNet(t *testing.T) {
	if _, err := Open(context.Background(), mustParse(t, "sim"), Options{}); err == nil {
		t.Error("Open(sim) succeeded")
	}
	_, err := Open(context.Background(), mustParse(t, "net:port=50000,key=abc.2.3.4"), Options{})
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Open(net) = %v; want errors.ErrUnsupported", err)
	}
	if want := "transport: net: KDNET carries packets, not a byte stream: open it with kdproto/kdnet: unsupported operation"; err == nil || err.Error() != want {
		t.Errorf("Open(net) = %v; want %q (and never the key)", err, want)
	}
	if _, err := Open(context.Background(), Spec{}, Options{}); err == nil {
		t.Error("Open(Spec{}) succeeded")
	}
}
