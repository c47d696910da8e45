package sim

import (
	"github.com/creack/pty"

	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Real sockets and terminals (real time, loopback only), traces and events.

func TestUnixSocketHostsOneAfterAnother(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "kd.sock")
	ln, err := Listen("unix:" + sock)
	if err != nil {
		t.Fatal(err)
	}
	m := New(Config{Seed: 7})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeListener(ctx, m, ln) }()

	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	p := newProbe(t, conn)
	p.breakIn()
	v := p.request(apiGetVersion, 0, nil, nil)
	if v.u64(0x20) != m.KernBase() {
		t.Errorf("KernBase %#x", v.u64(0x20))
	}
	if mz := readVirtual(p, m.KernBase(), 2); string(mz.data()) != "MZ" {
		t.Errorf("read % x", mz.data())
	}
	conn.Close()

	// The next host finds the target still stopped and resynchronises.
	conn, err = net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	p = newProbe(t, conn)
	p.reset()
	p.stateChange(idInitial)
	p.request(apiGetVersion, 0, nil, nil)
	conn.Close()

	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("ServeListener = %v", err)
	}
}

func TestPTY(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("pseudo-terminal test runs on Linux")
	}
	// A long byte timeout: on a loaded machine the probe can be slower than
	// the 50 ms default, and the target would re-send its stop meanwhile.
	m := New(Config{ByteTimeout: 2 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	paths := make(chan string, 1)
	done := make(chan error, 1)
	master, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("no pseudo-terminal here: %v", err)
	}
	go func() { done <- ServePTY(ctx, m, master, tty, func(p string) { paths <- p }) }()
	var path string
	select {
	case path = <-paths:
	case err := <-done:
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	p := newProbe(t, f)
	p.breakIn()
	p.request(apiGetVersion, 0, nil, nil)
	p.send(apiContinue, 0, union(uint32(0x10001)), nil)
	f.Close()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("ServePTY = %v", err)
	}
}

func TestAddresses(t *testing.T) {
	for s, want := range map[string]bool{
		"unix:/tmp/x.sock": true, "tcp:127.0.0.1:9000": true, "tcp:[::1]:9": true, "tcp:localhost:1": true,
		"tcp:0.0.0.0:9000": false, "tcp:10.1.2.3:9": false, "pipe:x": false, "unix:": false,
	} {
		if got := IsLoopback(s); got != want {
			t.Errorf("IsLoopback(%q) = %v; want %v", s, got, want)
		}
	}
}

func TestTraceAndEvents(t *testing.T) {
	var trace, events bytes.Buffer
	cfg := Config{Stopped: true, Trace: &trace, Events: EventWriter(&events)}
	simTest(t, cfg, func(t *testing.T, r *rig) {
		r.p.stateChange(idInitial | idSync)
		r.p.request(apiGetVersion, 0, nil, nil)
	})
	for _, want := range []string{
		"<- STATE_CHANGE64 id=80800800 len=244 Exception  303030300700f40000088080",
		"-> ACK id=80800000  69696969040000000000808000000000\n",
		"-> STATE_MANIPULATE id=80800000 len=56 GetVersion  3030303002003800",
		"<- ACK id=80800000",
		"<- STATE_MANIPULATE id=80800001 len=56 GetVersion",
	} {
		if !strings.Contains(trace.String(), want) {
			t.Errorf("trace lacks %q:\n%s", want, trace.String())
		}
	}
	kinds := map[string]int{}
	sc := bufio.NewScanner(&events)
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("event line %q: %v", sc.Text(), err)
		}
		if e.Time.IsZero() {
			t.Errorf("event without time: %q", sc.Text())
		}
		kinds[e.Kind]++
	}
	for _, k := range []string{EventConnect, EventState, EventPacket, EventAPI, EventDisconnect} {
		if kinds[k] == 0 {
			t.Errorf("no %q event; got %v", k, kinds)
		}
	}
}

func TestSecondServeRefusedAndClose(t *testing.T) {
	m := New(Config{})
	a, b := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- m.Serve(context.Background(), a) }()
	p := newProbe(t, b)
	p.breakIn() // Serve is running now
	c, d := net.Pipe()
	defer d.Close()
	if err := m.Serve(context.Background(), c); err == nil {
		t.Errorf("second Serve succeeded")
	}
	m.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Serve after Close = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not stop on Close")
	}
	if err := m.Serve(context.Background(), c); !errors.Is(err, ErrClosed) {
		t.Errorf("Serve on a closed machine = %v", err)
	}
}

func TestConnectToListeningDebugger(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "kd.sock")
	m := New(Config{Stopped: true})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Connect(ctx, m, "unix:"+sock) }() // nobody listens yet: it keeps dialling
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for i := 0; i < 2; i++ { // the target dials again after the debugger hangs up
		conn, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		p := newProbe(t, conn)
		if i == 0 {
			p.stateChange(idInitial | idSync)
		} else {
			p.reset()
			p.stateChange(idInitial)
		}
		p.request(apiGetVersion, 0, nil, nil)
		conn.Close()
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Connect = %v", err)
	}
}
