package kdproto

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"testing/synctest"
	"time"
)

// wire is one unit the host wrote: a packet or the break-in byte.
type wire struct {
	breakin bool
	raw     []byte
	pkt     Packet
}

func (w wire) String() string {
	if w.breakin {
		return "BREAKIN"
	}
	return w.pkt.String()
}

// fakeTarget plays the target side of an engine test over net.Pipe. A
// goroutine parses everything the host writes, so the engine never blocks
// on a write.
type fakeTarget struct {
	t    *testing.T
	conn net.Conn
	in   chan wire
}

func newFakeTarget(t *testing.T, conn net.Conn) *fakeTarget {
	ft := &fakeTarget{t: t, conn: conn, in: make(chan wire, 256)}
	go ft.readHost()
	return ft
}

// readHost splits the host's byte stream into packets and break-in bytes.
// The host only writes well-formed packets, so no leader scan is needed.
func (ft *fakeTarget) readHost() {
	defer close(ft.in)
	br := bufio.NewReader(ft.conn)
	for {
		b, err := br.ReadByte()
		if err != nil {
			return
		}
		if b == BreakinPacketByte {
			ft.in <- wire{breakin: true, raw: []byte{b}}
			continue
		}
		hdr := make([]byte, HeaderSize)
		hdr[0] = b
		if _, err := io.ReadFull(br, hdr[1:]); err != nil {
			return
		}
		h, _ := ParseHeader(hdr)
		raw := hdr
		if !h.IsControl() {
			rest := make([]byte, int(h.ByteCount)+1)
			if _, err := io.ReadFull(br, rest); err != nil {
				return
			}
			raw = append(raw, rest...)
		}
		p, _, err := ParsePacket(raw)
		if err != nil {
			ft.t.Errorf("host wrote a malformed packet %x: %v", raw, err)
			return
		}
		ft.in <- wire{raw: raw, pkt: p}
	}
}

// next returns the next thing the host wrote, failing if the host is idle.
func (ft *fakeTarget) next() wire {
	ft.t.Helper()
	synctest.Wait()
	select {
	case w, ok := <-ft.in:
		if !ok {
			ft.t.Fatal("host connection closed")
		}
		return w
	default:
		ft.t.Fatal("host wrote nothing")
		return wire{}
	}
}

// wantIdle fails if the host wrote anything.
func (ft *fakeTarget) wantIdle() {
	ft.t.Helper()
	synctest.Wait()
	select {
	case w := <-ft.in:
		ft.t.Fatalf("host wrote %v; want nothing", w)
	default:
	}
}

// wantControl expects a control packet of type typ with id.
func (ft *fakeTarget) wantControl(typ PacketType, id uint32) {
	ft.t.Helper()
	w := ft.next()
	if w.breakin || !w.pkt.IsControl() || w.pkt.Type != typ || w.pkt.ID != id {
		ft.t.Fatalf("host wrote %v; want %s id=%08x", w, typ, id)
	}
}

// wantData expects a data packet of type typ with id and returns it.
func (ft *fakeTarget) wantData(typ PacketType, id uint32) wire {
	ft.t.Helper()
	w := ft.next()
	if w.breakin || w.pkt.IsControl() || w.pkt.Type != typ || w.pkt.ID != id {
		ft.t.Fatalf("host wrote %v; want %s id=%08x", w, typ, id)
	}
	return w
}

func (ft *fakeTarget) wantManipulate(id uint32, api API) (Manipulate, wire) {
	ft.t.Helper()
	w := ft.wantData(PacketTypeStateManipulate, id)
	m, err := ParseManipulate(w.pkt.Payload)
	if err != nil || m.API != api {
		ft.t.Fatalf("host sent %v (%v); want %s", m, err, api)
	}
	return m, w
}

func (ft *fakeTarget) send(b []byte) {
	ft.t.Helper()
	go func() { _, _ = ft.conn.Write(b) }()
	synctest.Wait()
}

func (ft *fakeTarget) sendControl(typ PacketType, id uint32) { ft.send(AppendControl(nil, typ, id)) }

func (ft *fakeTarget) sendData(typ PacketType, id uint32, payload []byte) {
	ft.send(AppendData(nil, typ, id, payload))
}

func (ft *fakeTarget) reply(id uint32, m Manipulate) {
	ft.sendData(PacketTypeStateManipulate, id, m.Append(nil))
}

// stateChange returns a breakpoint exception state change payload.
func stateChange(pc uint64) []byte {
	s := StateChange{NewState: StateException, Processor: 0, NumberProcessors: 1, PC: pc,
		Exception: Exception{Code: StatusBreakpoint, Address: pc, FirstChance: 1},
		Extra:     []byte{1, 0, 0, 0}}
	s.SetAMD64Report(AMD64Report{InstructionCount: 1, Instructions: [16]byte{0xCC}, SegCs: 0x10})
	return s.Append(nil)
}

// engineTest runs f in a synctest bubble with an engine wired to a fake target.
func engineTest(t *testing.T, opts Options, f func(t *testing.T, e *Engine, ft *fakeTarget)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		host, target := net.Pipe()
		ft := newFakeTarget(t, target)
		e := NewEngine(host, opts)
		defer target.Close()
		defer e.Close()
		f(t, e, ft)
	})
}

type result struct {
	m   Manipulate
	err error
}

func goRequest(e *Engine, m Manipulate) chan result {
	ch := make(chan result, 1)
	go func() {
		r, err := e.Request(context.Background(), m)
		ch <- result{r, err}
	}()
	return ch
}

func wantResult(t *testing.T, ch chan result) result {
	t.Helper()
	synctest.Wait()
	select {
	case r := <-ch:
		return r
	default:
		t.Fatal("request still pending")
		return result{}
	}
}

func nextEvent(t *testing.T, e *Engine) Event {
	t.Helper()
	synctest.Wait()
	select {
	case ev := <-e.Events():
		return ev
	default:
		t.Fatal("no event")
		return Event{}
	}
}

func TestEngineGetVersionMatchesSpecBytes(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		ch := goRequest(e, NewManipulate(APIGetVersion, 0, nil, nil))
		_, w := ft.wantManipulate(InitialPacketID, APIGetVersion)
		// Spec §9.4: 73 bytes, checksum 0x77.
		want := "303030300200380000008080770000004631"
		if got := fmt.Sprintf("%x", w.raw[:18]); got != want {
			t.Fatalf("GetVersion request = %s; want prefix %s", got, want)
		}
		if len(w.raw) != 73 || w.raw[72] != 0xAA {
			t.Fatalf("GetVersion request is %d bytes ending %x; want 73 ending aa", len(w.raw), w.raw[len(w.raw)-1])
		}
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
		rep := NewManipulate(APIGetVersion, 0, Version{MinorVersion: 19041, MachineType: MachineAMD64, KernBase: 0xfffff80012a00000}, nil)
		ft.reply(InitialPacketID, rep)
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		r := wantResult(t, ch)
		if r.err != nil || r.m.Version().MinorVersion != 19041 || r.m.Version().KernBase != 0xfffff80012a00000 {
			t.Fatalf("GetVersion = %v, %v", r.m.Version(), r.err)
		}
		// The next request toggles the id.
		ch = goRequest(e, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantManipulate(InitialPacketID|1, APIGetVersion)
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID|1)
		ft.reply(InitialPacketID|1, rep)
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID|1)
		if r := wantResult(t, ch); r.err != nil {
			t.Fatal(r.err)
		}
	})
}

func TestEngineAcksSyncBitClearedAndDropsDuplicates(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		sc := stateChange(0xfffff80378806e40)
		ft.sendData(PacketTypeStateChange64, InitialPacketID|SyncPacketID, sc)
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		ev := nextEvent(t, e)
		if ev.Kind != EventStateChange || ev.State.PC != 0xfffff80378806e40 || ev.Repeat {
			t.Fatalf("event = %v; want first state change", ev)
		}
		if e.State() != StateStopped {
			t.Fatalf("state = %v; want stopped", e.State())
		}
		// The ACK was "lost": the target sends the same packet again. It is
		// acknowledged again and dropped.
		ft.sendData(PacketTypeStateChange64, InitialPacketID|SyncPacketID, sc)
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		synctest.Wait()
		select {
		case ev := <-e.Events():
			t.Fatalf("duplicate delivered as %v", ev)
		default:
		}
		// Re-sent with a new id (after a RESEND): delivered, marked repeat.
		ft.sendData(PacketTypeStateChange64, InitialPacketID|1, sc)
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID|1)
		if ev := nextEvent(t, e); !ev.Repeat {
			t.Fatalf("re-sent state change not marked repeat: %v", ev)
		}
	})
}

func TestEngineRetransmitsOnAckTimeoutAndResend(t *testing.T) {
	engineTest(t, Options{AckTimeout: time.Second, Retries: 3}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		ch := goRequest(e, NewManipulate(APIGetVersion, 0, nil, nil))
		_, first := ft.wantManipulate(InitialPacketID, APIGetVersion)
		ft.wantIdle()
		time.Sleep(time.Second) // fake clock: the ACK timeout passes
		_, again := ft.wantManipulate(InitialPacketID, APIGetVersion)
		if !bytes.Equal(first.raw, again.raw) {
			t.Fatalf("retransmission differs: %x vs %x", first.raw, again.raw)
		}
		ft.sendControl(PacketTypeResend, 0)
		_, third := ft.wantManipulate(InitialPacketID, APIGetVersion)
		if !bytes.Equal(first.raw, third.raw) {
			t.Fatalf("resend differs: %x vs %x", first.raw, third.raw)
		}
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
		ft.reply(InitialPacketID, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		if r := wantResult(t, ch); r.err != nil {
			t.Fatal(r.err)
		}
	})
}

func TestEngineNoAckAfterRetries(t *testing.T) {
	engineTest(t, Options{AckTimeout: time.Second, Retries: 2}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		ch := goRequest(e, NewManipulate(APIGetVersion, 0, nil, nil))
		for i := 0; i < 3; i++ {
			ft.wantManipulate(InitialPacketID, APIGetVersion)
			time.Sleep(time.Second)
		}
		r := wantResult(t, ch)
		var re *RequestError
		if !errors.Is(r.err, ErrNoAck) || !errors.As(r.err, &re) || re.API != APIGetVersion {
			t.Fatalf("err = %v; want ErrNoAck in a RequestError", r.err)
		}
		ft.wantIdle()
	})
}

func TestEngineAckedButNoReplyIsDesync(t *testing.T) {
	engineTest(t, Options{ReplyTimeout: 3 * time.Second}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		// Not idempotent: the engine does not send it again by itself.
		ch := goRequest(e, NewManipulate(APIWriteBreakPoint, 0, BreakPoint{Address: 0x1000}, nil))
		ft.wantManipulate(InitialPacketID, APIWriteBreakPoint)
		// A target whose expected id is out of step ACKs and drops the packet.
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
		time.Sleep(3 * time.Second)
		if r := wantResult(t, ch); !errors.Is(r.err, ErrNoReply) {
			t.Fatalf("err = %v; want ErrNoReply", r.err)
		}
	})
}

func TestEngineImplicitAckByReply(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		ch := goRequest(e, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantManipulate(InitialPacketID, APIGetVersion)
		ft.reply(InitialPacketID, NewManipulate(APIGetVersion, 0, Version{MinorVersion: 7}, nil))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		if r := wantResult(t, ch); r.err != nil || r.m.Version().MinorVersion != 7 {
			t.Fatalf("reply = %v, %v", r.m, r.err)
		}
	})
}

func TestEngineStaleReplyIgnored(t *testing.T) {
	engineTest(t, Options{}, func(t *testing.T, e *Engine, ft *fakeTarget) {
		ch := goRequest(e, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantManipulate(InitialPacketID, APIGetVersion)
		ft.sendControl(PacketTypeAcknowledge, InitialPacketID)
		ft.reply(InitialPacketID, NewManipulate(APIReadVirtualMemory, 0, nil, nil))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID)
		ft.reply(InitialPacketID|1, NewManipulate(APIGetVersion, 0, nil, nil))
		ft.wantControl(PacketTypeAcknowledge, InitialPacketID|1)
		if r := wantResult(t, ch); r.err != nil || r.m.API != APIGetVersion {
			t.Fatalf("reply = %v, %v", r.m, r.err)
		}
	})
}
