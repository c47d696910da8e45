package kdnet

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gokd/kd/kdproto"
)

// udpTarget is a Target on a loopback UDP socket, driven by the test.
type udpTarget struct {
	t    *Target
	conn *net.UDPConn
	host netip.AddrPort
}

func newUDPTarget(t *testing.T, k Key, host netip.AddrPort, seed byte) *udpTarget {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	self, _ := netip.ParseAddrPort(c.LocalAddr().String())
	tg, err := NewTarget(k, 2, self, host, seeded(seed))
	if err != nil {
		t.Fatal(err)
	}
	return &udpTarget{t: tg, conn: c, host: host}
}

func (u *udpTarget) write(t *testing.T, b []byte) {
	t.Helper()
	if _, err := u.conn.WriteToUDPAddrPort(b, u.host); err != nil {
		t.Fatal(err)
	}
}

// read waits (bounded) for the next datagram from the host and decodes it.
func (u *udpTarget) read(t *testing.T) Result {
	t.Helper()
	buf := make([]byte, MaxDatagramSize+1)
	_ = u.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := u.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("target read: %v", err)
	}
	return u.t.Receive(buf[:n], from)
}

func (u *udpTarget) send(t *testing.T, body []byte) {
	t.Helper()
	b, err := u.t.Send(nil, body)
	if err != nil {
		t.Fatal(err)
	}
	u.write(t, b)
}

// connect offers, takes the response and sends the hello.
func (u *udpTarget) connect(t *testing.T, uptime uint64) {
	t.Helper()
	o, err := u.t.Offer(nil, uptime)
	if err != nil {
		t.Fatal(err)
	}
	u.write(t, o)
	if r := u.read(t); r.Event != EventConnected {
		t.Fatalf("target got %v (%v), want the response", r.Event, r.Err)
	}
	h, _ := u.t.Hello(nil)
	u.write(t, h)
}

type recvd struct {
	p   kdproto.Packet
	err error
}

// linkHarness runs Recv in a goroutine and collects statuses and traces.
type linkHarness struct {
	l      *Link
	pkts   chan recvd
	status chan StatusEvent
	mu     sync.Mutex
	traces []string
}

func newLink(t *testing.T, k Key, quiet time.Duration) *linkHarness {
	t.Helper()
	h := &linkHarness{pkts: make(chan recvd, 16), status: make(chan StatusEvent, 16)}
	l, err := Listen(LinkConfig{Bind: netip.MustParseAddr("127.0.0.1"), Key: k, Random: seeded(7), QuietHint: quiet,
		Status: func(e StatusEvent) { h.status <- e },
		Trace: func(s string) {
			h.mu.Lock()
			h.traces = append(h.traces, s)
			h.mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	h.l = l
	go func() {
		for {
			p, err := l.Recv()
			p.Payload = append([]byte(nil), p.Payload...)
			h.pkts <- recvd{p, err}
			if errors.Is(err, kdproto.ErrClosed) {
				return
			}
		}
	}()
	t.Cleanup(func() { l.Close() })
	return h
}

func (h *linkHarness) next(t *testing.T) recvd {
	t.Helper()
	select {
	case r := <-h.pkts:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no packet from the link")
	}
	return recvd{}
}

func (h *linkHarness) nextStatus(t *testing.T) StatusEvent {
	t.Helper()
	select {
	case e := <-h.status:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no status from the link")
	}
	return StatusEvent{}
}

func (h *linkHarness) traced(sub string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.traces {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func TestLinkLoopback(t *testing.T) {
	k := mustKey(t, "loop.back.kd.net")
	h := newLink(t, k, -1)
	tg := newUDPTarget(t, k, h.l.LocalAddr(), 3)
	tg.connect(t, 5)
	st := h.nextStatus(t)
	if st.Kind != StatusConnected || st.Local != netip.MustParseAddr("127.0.0.1") || st.Peer.Port() != tg.t.self.Port() {
		t.Fatalf("status %+v", st)
	}

	sc := bytes.Repeat([]byte{7}, 0xF0)
	data := kdproto.AppendData(nil, kdproto.PacketTypeStateChange64, 0, sc)
	tg.send(t, data[:len(data)-1]) // no trailer on KDNET
	r := h.next(t)
	if r.err != nil || r.p.Type != kdproto.PacketTypeStateChange64 || !bytes.Equal(r.p.Payload, sc) {
		t.Fatalf("Recv = %v, %v", r.p, r.err)
	}

	bad := append([]byte(nil), data[:len(data)-1]...)
	bad[20] ^= 1
	tg.send(t, bad)
	var pe *kdproto.PacketError
	if r := h.next(t); !errors.As(r.err, &pe) || !errors.Is(r.err, kdproto.ErrBadChecksum) {
		t.Fatalf("damaged packet: %v", r.err)
	}

	// Forged and replayed datagrams never reach the engine.
	tg.write(t, []byte("MDBG\x02\x00 not really a datagram at all, no"))
	old, _ := tg.t.Send(nil, []byte("iiii\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	tg.write(t, old)
	tg.write(t, old)
	if r := h.next(t); r.err != nil || r.p.Type != kdproto.PacketTypeAcknowledge {
		t.Fatalf("ACK after junk: %v %v", r.p, r.err)
	}

	ack := kdproto.Packet{Header: kdproto.Header{Leader: kdproto.ControlPacketLeader, Type: kdproto.PacketTypeAcknowledge, ID: 4}}
	if err := h.l.Send([]kdproto.Packet{ack}); err != nil {
		t.Fatal(err)
	}
	if r := tg.read(t); r.Event != EventData || len(r.Body) != 16 || r.Body[4] != 4 {
		t.Fatalf("target got %+v", r)
	}
	if err := h.l.BreakIn(); err != nil {
		t.Fatal(err)
	}
	if r := tg.read(t); r.Event != EventBreakIn {
		t.Fatalf("target got %v, want break-in", r.Event)
	}

	// Reboot: the host answers the new boot's offer and the target's
	// hello under the new key reports a re-key.
	if err := tg.t.Reboot(); err != nil {
		t.Fatal(err)
	}
	tg.connect(t, 1)
	if st := h.nextStatus(t); st.Kind != StatusRekeyed {
		t.Fatalf("status after reboot %+v", st)
	}
	tg.send(t, data[:len(data)-1])
	if r := h.next(t); r.err != nil || r.p.Type != kdproto.PacketTypeStateChange64 {
		t.Fatalf("after re-key: %v", r.err)
	}
	for _, want := range []string{"rejected 39-byte data datagram", "replayed datagram", "answered offer from a restarted target"} {
		if !h.traced(want) {
			t.Errorf("no trace line with %q in %q", want, h.traces)
		}
	}
	if s := h.l.Stats(); s.Rejected != 2 || s.Rekeys != 2 {
		t.Errorf("stats %+v", s)
	}
	h.l.Close()
	if r := h.next(t); !errors.Is(r.err, kdproto.ErrClosed) {
		t.Fatalf("Recv after Close: %v", r.err)
	}
}

func TestLinkQuietHintAndNoSession(t *testing.T) {
	k := mustKey(t, "q.u.i.et")
	h := newLink(t, k, 20*time.Millisecond)
	if st := h.nextStatus(t); st.Kind != StatusQuiet {
		t.Fatalf("status %+v, want quiet", st)
	}
	if err := h.l.BreakIn(); err != nil {
		t.Fatalf("BreakIn before a target: %v", err)
	}
	if !h.traced("no target yet, break-in not sent") {
		t.Errorf("traces %q", h.traces)
	}
}

func TestLinkTargetFilter(t *testing.T) {
	k := mustKey(t, "f.i.l.t")
	traces := make(chan string, 16)
	l, err := Listen(LinkConfig{Bind: netip.MustParseAddr("127.0.0.1"), Key: k, Target: netip.MustParseAddr("127.0.0.9"), QuietHint: -1,
		Trace: func(s string) { traces <- s }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tg := newUDPTarget(t, k, l.LocalAddr(), 4)
	o, _ := tg.t.Offer(nil, 1)
	tg.write(t, o)
	done := make(chan error, 1)
	go func() { _, err := l.Recv(); done <- err }()
	select {
	case s := <-traces:
		if !strings.Contains(s, "not target=127.0.0.9") {
			t.Fatalf("trace %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("offer from another address was not reported")
	}
	l.Close()
	if err := <-done; !errors.Is(err, kdproto.ErrClosed) {
		t.Fatal(err)
	}
	if s := l.Stats(); s.Received != 0 {
		t.Errorf("filtered offer reached the state machine: %+v", s)
	}
}
