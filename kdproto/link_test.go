package kdproto

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gokd/kd/transport"
)

// recConn records every Write and SetWriteDeadline on a net.Conn.
type recConn struct {
	net.Conn
	mu        sync.Mutex
	writes    [][]byte
	deadlines int
}

func (c *recConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	c.writes = append(c.writes, bytes.Clone(b))
	c.mu.Unlock()
	return c.Conn.Write(b)
}

func (c *recConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadlines++
	c.mu.Unlock()
	return c.Conn.SetWriteDeadline(t)
}

func (c *recConn) record() (writes [][]byte, deadlines int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.writes...), c.deadlines
}

func TestKDCOMLinkFraming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		host, target := net.Pipe()
		defer target.Close()
		rc := &recConn{Conn: host}
		l := NewKDCOMLink(rc, 0, 4*time.Second)
		defer l.Close()
		go func() { _, _ = target.Write(AppendData(nil, PacketTypeDebugIO, 7, []byte("hi"))) }()
		p, err := l.Recv()
		if err != nil || p.Type != PacketTypeDebugIO || p.ID != 7 || string(p.Payload) != "hi" {
			t.Fatalf("Recv = %v, %v", p, err)
		}
		got := make(chan []byte, 1)
		go func() {
			b := make([]byte, 256)
			n, _ := target.Read(b)
			got <- b[:n]
		}()
		payload := []byte("request")
		pkts := []Packet{
			{Header: ControlHeader(PacketTypeAcknowledge, InitialPacketID)},
			{Header: DataHeader(PacketTypeStateManipulate, InitialPacketID+1, payload), Payload: payload},
		}
		if err := l.Send(pkts); err != nil {
			t.Fatal(err)
		}
		want := AppendData(AppendControl(nil, PacketTypeAcknowledge, InitialPacketID), PacketTypeStateManipulate, InitialPacketID+1, payload)
		if b := <-got; !bytes.Equal(b, want) {
			t.Fatalf("Send wrote %x; want %x in one write", b, want)
		}
		go func() { _, _ = target.Read(make([]byte, 1)) }()
		if err := l.BreakIn(); err != nil {
			t.Fatal(err)
		}
		// The write deadline moves only once half of it is used up.
		go func() { _, _ = target.Read(make([]byte, 64)) }()
		time.Sleep(2*time.Second + time.Millisecond)
		_ = l.BreakIn()
		writes, deadlines := rc.record()
		if len(writes) != 3 || !bytes.Equal(writes[1], []byte{BreakinPacketByte}) {
			t.Errorf("writes %x; want the two packets, then two break-in bytes, one write each", writes)
		}
		if deadlines != 2 {
			t.Errorf("%d write deadlines set; want 2 (first write, then after half the timeout)", deadlines)
		}
		if c := l.Caps(); c != (LinkCaps{Name: "kdcom"}) {
			t.Errorf("Caps = %+v; want KDCOM's rules", c)
		}
	})
}

// readReply answers a ReadVirtualMemory request m with n bytes of fill.
func readReply(m Manipulate, n int, fill byte) Manipulate {
	mm := m.Memory()
	mm.ActualBytes = uint32(n)
	r := NewManipulate(APIReadVirtualMemory, 0, mm, bytes.Repeat([]byte{fill}, n))
	return r
}

func TestEngineAckTravelsWithNextRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		host, target := net.Pipe()
		rc := &recConn{Conn: host}
		ft := newFakeTarget(t, target)
		e := NewEngine(rc, Options{})
		defer target.Close()
		defer e.Close()
		type readResult struct {
			b   []byte
			err error
		}
		done := make(chan readResult, 1)
		go func() {
			b, err := e.ReadVirtual(context.Background(), 0, 0x1000, MaxTransfer+16)
			done <- readResult{b, err}
		}()
		m, _ := ft.wantManipulate(InitialPacketID, APIReadVirtualMemory)
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
		ft.reply(InitialPacketID, readReply(m, MaxTransfer, 0x11))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		m, w := ft.wantManipulate(InitialPacketID+1, APIReadVirtualMemory)
		if got := m.Memory(); got.Address != 0x1000+MaxTransfer || got.TransferCount != 16 {
			t.Fatalf("second read %+v; want 16 bytes at %#x", got, 0x1000+MaxTransfer)
		}
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID+1)
		ft.reply(InitialPacketID+1, readReply(m, 16, 0x22))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID+1)
		ft.wantIdle()
		r := <-done
		want := append(bytes.Repeat([]byte{0x11}, MaxTransfer), bytes.Repeat([]byte{0x22}, 16)...)
		if r.err != nil || !bytes.Equal(r.b, want) {
			t.Fatalf("ReadVirtual = %d bytes, %v; want %d bytes of the two replies", len(r.b), r.err, len(want))
		}
		writes, _ := rc.record()
		ackThenRequest := append(AppendControl(nil, PacketTypeAcknowledge, InitialPacketID), w.raw...)
		if len(writes) != 3 || !bytes.Equal(writes[1], ackThenRequest) {
			t.Fatalf("the host wrote %d times; want 3, the second holding the first reply's ACK and the next request", len(writes))
		}
	})
}

// capsLink gives a link other capabilities.
type capsLink struct {
	Link
	caps LinkCaps
}

func (c capsLink) Caps() LinkCaps { return c.caps }

func TestEngineResetKeepsIDsOnSuchLinks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		host, target := net.Pipe()
		ft := newFakeTarget(t, target)
		e := NewEngineLink(capsLink{NewKDCOMLink(host, 0, 0), LinkCaps{ResetKeepsIDs: true, Name: "test"}}, Options{})
		defer target.Close()
		defer e.Close()
		ft.sendData(PacketTypeStateChange64, 2, stateChange(0x1000))
		ft.wantControl(PacketTypeAcknowledge, 2)
		ch := goRequest(e, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantManipulate(InitialPacketID, APIGetVersion)
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
		ft.reply(4, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantControl(PacketTypeAcknowledge, 4)
		if r := wantResult(t, ch); r.err != nil {
			t.Fatal(r.err)
		}
		ft.sendControl(PacketTypeReset, 0)
		// The id of the last packet still marks a duplicate after the RESET.
		ft.reply(4, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantControl(PacketTypeAcknowledge, 4)
		ch = goRequest(e, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantManipulate(InitialPacketID+1, APIGetVersion) // not renumbered
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID+1)
		ft.reply(6, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantControl(PacketTypeAcknowledge, 6)
		if r := wantResult(t, ch); r.err != nil {
			t.Fatal(r.err)
		}
	})
}

// fakePacketConn is a transport.PacketConn whose target side is two
// channels of messages.
type fakePacketConn struct {
	toHost   chan []byte
	toTarget chan []byte
	closed   chan struct{}
	once     sync.Once
}

func newFakePacketConn() *fakePacketConn {
	return &fakePacketConn{toHost: make(chan []byte, 16), toTarget: make(chan []byte, 64), closed: make(chan struct{})}
}

func (c *fakePacketConn) ReadPacket(buf []byte) (int, error) {
	select {
	case m := <-c.toHost:
		return copy(buf, m), nil
	case <-c.closed:
		return 0, net.ErrClosed
	}
}

func (c *fakePacketConn) WritePacket(p []byte) error {
	select {
	case c.toTarget <- bytes.Clone(p):
		return nil
	case <-c.closed:
		return net.ErrClosed
	}
}

func (c *fakePacketConn) BreakIn() error                   { return c.WritePacket([]byte{BreakinPacketByte}) }
func (c *fakePacketConn) Read([]byte) (int, error)         { return 0, transport.ErrPacketConn }
func (c *fakePacketConn) Write([]byte) (int, error)        { return 0, transport.ErrPacketConn }
func (c *fakePacketConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fakePacketConn) SetWriteDeadline(time.Time) error { return nil }
func (c *fakePacketConn) Name() string                     { return "fake 1394" }
func (c *fakePacketConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

// next returns the next message the host delivered, parsed.
func (c *fakePacketConn) next(t *testing.T) Packet {
	t.Helper()
	synctest.Wait()
	select {
	case m := <-c.toTarget:
		p, err := ParseMessage(m, 0)
		if err != nil {
			t.Fatalf("host delivered %x: %v", m, err)
		}
		return p
	default:
		t.Fatal("host delivered nothing")
		return Packet{}
	}
}

func (c *fakePacketConn) wantIdle(t *testing.T) {
	t.Helper()
	synctest.Wait()
	select {
	case m := <-c.toTarget:
		t.Fatalf("host delivered %x; want nothing", m)
	default:
	}
}

// message is a data packet as a mailbox carries it: no trailing byte.
func message(typ PacketType, id uint32, payload []byte) []byte {
	b := AppendData(nil, typ, id, payload)
	return b[:len(b)-1]
}

func TestEngineOverMailboxLink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pc := newFakePacketConn()
		e := NewEngine(pc, Options{ReplyTimeout: 5 * time.Second})
		defer e.Close()
		if c := e.link.Caps(); !c.NoAcks || c.Name != "1394" {
			t.Fatalf("NewEngine on a PacketConn chose a link with %+v; want the 1394 mailbox link", c)
		}
		// No KD ACK goes back for a state change: the mailbox flip was it.
		pc.toHost <- message(PacketTypeStateChange64, 1, stateChange(0x1000))
		if ev := <-e.Events(); ev.Kind != EventStateChange {
			t.Fatalf("event %v; want a state change", ev)
		}
		pc.wantIdle(t)
		// A request counts as acknowledged once delivered; only the reply
		// is awaited.
		ch := goRequest(e, NewManipulate(APIGetVersion, 0, nil, nil))
		p := pc.next(t)
		if p.Type != PacketTypeStateManipulate || p.ID != InitialPacketID {
			t.Fatalf("host delivered %v; want GetVersion id %08x", p, InitialPacketID)
		}
		// A RESEND from the target gets the request again, same id.
		pc.toHost <- AppendControl(nil, PacketTypeResend, 0)
		if again := pc.next(t); again.ID != p.ID || !bytes.Equal(again.Payload, p.Payload) {
			t.Fatalf("after RESEND the host delivered %v; want the request again", again)
		}
		v := NewManipulate(APIGetVersion, 0, Version{MajorVersion: 0xF}, nil)
		pc.toHost <- message(PacketTypeStateManipulate, 2, v.Append(nil))
		if r := wantResult(t, ch); r.err != nil || r.m.Version().MajorVersion != 0xF {
			t.Fatalf("GetVersion = %+v, %v", r.m, r.err)
		}
		pc.wantIdle(t)
		// The next request carries the next id.
		ch = goRequest(e, NewManipulate(APIGetVersion, 0, nil, nil))
		if p := pc.next(t); p.ID != InitialPacketID+1 {
			t.Fatalf("second request id %08x; want %08x", p.ID, InitialPacketID+1)
		}
		// A damaged message is answered with RESEND, as on KDCOM.
		bad := message(PacketTypeStateManipulate, 3, v.Append(nil))
		bad[6]--
		pc.toHost <- bad
		if p := pc.next(t); p.Type != PacketTypeResend {
			t.Fatalf("host answered a damaged message with %v; want RESEND", p)
		}
		synctest.Wait()
		time.Sleep(5 * time.Second)
		if r := wantResult(t, ch); !errors.Is(r.err, ErrNoReply) {
			t.Fatalf("request without reply = %v; want ErrNoReply", r.err)
		}
		if err := e.BreakIn(); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if m := <-pc.toTarget; !bytes.Equal(m, []byte{BreakinPacketByte}) {
			t.Fatalf("break-in delivered %x; want 62", m)
		}
	})
}

func TestEngineHeldAckSentWhenTheRequestGivesUp(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		if err := e.acquire(context.Background()); err != nil {
			t.Fatal(err)
		}
		// A GetVersion in flight whose reply arrives...
		e.seq++
		e.mu.Lock()
		e.pend = pending{active: true, seq: e.seq, id: InitialPacketID, api: APIGetVersion}
		e.mu.Unlock()
		ft.reply(InitialPacketID, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantIdle() // its ACK is held for the requester
		// ...just as the requester gives up (its context ended).
		e.endAttempt()
		ft.wantIdle()
		e.release()
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		ft.wantIdle()
	})
}
