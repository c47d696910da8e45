package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The KDNET end-to-end test: kd and kdsim over loopback UDP, through a
// relay in the test that records every datagram, then kd --decode on the
// capture written from that record.

const e2eKey = "kdnete2e.secretkey.zz9.q1"

// freeKDNETPort finds a UDP port kd may use (49152-65535) that is free on
// 127.0.0.1 now.
func freeKDNETPort(t *testing.T) int {
	t.Helper()
	start := 49152 + os.Getpid()%10000
	for i := 0; i < 16384; i++ {
		p := 49152 + (start-49152+i)%16384
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
		if err == nil {
			c.Close()
			return p
		}
	}
	t.Fatal("no free UDP port in 49152-65535")
	return 0
}

// relay forwards datagrams between kdsim (on toSim's peer) and kd (at
// kdAddr) and records them as kd would see them on the wire.
type relay struct {
	sim, kd *net.UDPConn // sim: kdsim sends here; kd: we talk to kd from here
	kdAddr  netip.AddrPort
	mu      sync.Mutex
	simAddr netip.AddrPort
	frames  []capFrame
	times   []time.Time
}

func newRelay(t *testing.T, kdPort int) *relay {
	t.Helper()
	lo := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}
	a, err := net.ListenUDP("udp", lo)
	if err != nil {
		t.Fatal(err)
	}
	b, err := net.ListenUDP("udp", lo)
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{sim: a, kd: b, kdAddr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(kdPort))}
	go r.pump(a, true)
	go r.pump(b, false)
	t.Cleanup(func() { a.Close(); b.Close() })
	return r
}

func (r *relay) pump(c *net.UDPConn, fromSim bool) {
	buf := make([]byte, 65536)
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		b := append([]byte(nil), buf[:n]...)
		r.mu.Lock()
		var f capFrame
		if fromSim {
			r.simAddr = from
			f = capFrame{from, r.kdAddr, b}
		} else {
			f = capFrame{r.kdAddr, r.simAddr, b}
		}
		to := r.simAddr
		r.frames = append(r.frames, f)
		r.times = append(r.times, time.Now())
		r.mu.Unlock()
		if fromSim {
			_, _ = r.kd.WriteToUDPAddrPort(b, r.kdAddr)
		} else if to.IsValid() {
			_, _ = r.sim.WriteToUDPAddrPort(b, to)
		}
	}
}

func TestKDNETSession(t *testing.T) {
	port := freeKDNETPort(t)
	rl := newRelay(t, port)
	simAt := rl.sim.LocalAddr().String()

	dir := t.TempDir()
	events, trace := filepath.Join(dir, "ev.jsonl"), filepath.Join(dir, "trace.txt")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	sim := exec.CommandContext(ctx, kdsimBin, "--kdnet", simAt, "--key", e2eKey, "--offer-every", "200ms", "--events", events)
	var simOut lockedBuffer
	sim.Stdout, sim.Stderr = &simOut, &simOut
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = sim.Process.Kill()
		_ = sim.Wait()
	}()

	// connect, registers, CTRL+R ENTER, memory, go, break-in, reboot
	// (which re-keys), registers after the reboot, quit.
	script := "r\n\x12\nr\ndb @rsp\ng\n\x03\nr\n.reboot\n\x03\nr\nq\n"
	kdc := exec.CommandContext(ctx, kdBin, "-b", "-k", "net:port="+strconv.Itoa(port)+",key="+e2eKey, "--trace="+trace)
	kdc.Stdin = strings.NewReader(script)
	var out bytes.Buffer
	kdc.Stdout, kdc.Stderr = &out, &out
	err := kdc.Run()
	transcript := out.String()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	if err != nil {
		t.Errorf("kd: %v", err)
	}
	connected := "Connected to target 127.0.0.1 on port " + strconv.Itoa(port) + " on local IP 127.0.0.1."
	for _, want := range []string{"Using NET for debugging\nOpened WinSock 2.0\nWaiting to reconnect...\n" + connected + "\n",
		"Kernel Debugger connection established.", "Resync complete (", "0: kd> db @rsp\n", "You are seeing this message because you pressed",
		"0: kd> .reboot\n", "quit:"} {
		if !strings.Contains(transcript, want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
	if n := strings.Count(transcript, connected); n != 2 {
		t.Errorf("%d Connected lines, want 2 (boot and reboot)", n)
	}
	if n := strings.Count(transcript, "\nrax="); n != 4 {
		t.Errorf("%d register displays, want 4", n)
	}
	tr, _ := os.ReadFile(trace)
	for _, b := range [][]byte{out.Bytes(), tr, simOut.Bytes()} {
		if bytes.Contains(b, []byte("secretkey")) {
			t.Errorf("the key appears in kd's or kdsim's output or trace")
		}
	}
	if !bytes.Contains(tr, []byte("kdnet: answered offer from a restarted target")) {
		t.Errorf("trace lacks the re-key:\n%s", tr)
	}
	if t.Failed() {
		t.Logf("kd transcript:\n%s\nkdsim:\n%s", transcript, simOut.String())
		return
	}

	// The recorded session decodes with kd --decode.
	rl.mu.Lock()
	frames := append([]capFrame(nil), rl.frames...)
	rl.mu.Unlock()
	capFile := filepath.Join(dir, "kdnet.pcapng")
	if err := os.WriteFile(capFile, writeCapture(t, frames, true), 0o644); err != nil {
		t.Fatal(err)
	}
	dec, _, st := kd(t, "", nil, "--decode", capFile, "-k", "net:key="+e2eKey)
	if st != 0 {
		t.Fatalf("kd --decode: status %d\n%s", st, dec)
	}
	for _, want := range []string{"<- KDNET offer v4", "-> KDNET response v4", ": data key #2", "<- KDNET hello host=127.0.0.1",
		"-> BREAKIN 62", "<- STATE_CHANGE64", "-> STATE_MANIPULATE", "GetContext", "ReadVirtualMemory", "-> RESET", " 2 handshakes,", " 0 not decoded"} {
		if !strings.Contains(dec, want) {
			t.Errorf("decoded capture lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("decoded:\n%s", dec)
	}
}

// TestKDNETOpenErrors: a port in use and a bad key are reported without
// the key.
func TestKDNETOpenErrors(t *testing.T) {
	port := freeKDNETPort(t)
	busy, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4zero, Port: port})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, errOut, st := kd(t, "q\n", nil, "-k", "net:port="+strconv.Itoa(port)+",key="+e2eKey)
	if st != 3 || !strings.Contains(errOut, "kd: error: cannot open net:port="+strconv.Itoa(port)+",key=(hidden): kdnet: cannot bind UDP port") ||
		!strings.Contains(errOut, "kd: hint: another program") || strings.Contains(errOut, "secretkey") {
		t.Errorf("port in use: status %d, stderr:\n%s", st, errOut)
	}
	_, errOut, st = kd(t, "q\n", nil, "-k", "net:port=50000,key=1.2.3.secretkey!")
	if st != 2 || !strings.Contains(errOut, "kd: error: key: key part 4 is not base-36") || strings.Contains(errOut, "secretkey") {
		t.Errorf("bad key: status %d, stderr:\n%s", st, errOut)
	}
}

// lockedBuffer is a bytes.Buffer that a child process's output goroutine
// and the test may use at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// Bytes returns a copy of the contents.
func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.b.Bytes()...)
}

func (l *lockedBuffer) String() string { return string(l.Bytes()) }
