package sim

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gokd/kd/kdproto"
	"github.com/gokd/kd/kdproto/kdnet"
)

// The KDNET target against kd's KDNET link, packet by packet.

type kdnetHost struct {
	t      *testing.T
	l      *kdnet.Link
	pkts   chan kdproto.Packet
	errs   chan error
	status chan kdnet.StatusEvent
}

func chacha(n byte) *rand.ChaCha8 {
	var seed [32]byte
	seed[0] = n
	return rand.NewChaCha8(seed)
}

// startKDNET runs m as a KDNET target against a fresh host link on
// loopback and returns the host side.
func startKDNET(t *testing.T, m *Machine, c KDNETConfig) *kdnetHost {
	t.Helper()
	key, err := kdnet.ParseKey("sim.kd.net.1")
	if err != nil {
		t.Fatal(err)
	}
	h := &kdnetHost{t: t, pkts: make(chan kdproto.Packet, 64), errs: make(chan error, 64), status: make(chan kdnet.StatusEvent, 8)}
	l, err := kdnet.Listen(kdnet.LinkConfig{Bind: netip.MustParseAddr("127.0.0.1"), Key: key, Random: chacha(1), QuietHint: -1,
		Status: func(e kdnet.StatusEvent) { h.status <- e }})
	if err != nil {
		t.Fatal(err)
	}
	h.l = l
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c.Conn, c.Host, c.Key, c.Random = conn, l.LocalAddr(), key, chacha(2)
	if c.OfferEvery == 0 {
		c.OfferEvery = 50 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeKDNET(ctx, m, c) }()
	go func() {
		for {
			p, err := l.Recv()
			if err != nil {
				h.errs <- err
				if errors.Is(err, kdproto.ErrClosed) {
					return
				}
				continue
			}
			p.Payload = append([]byte(nil), p.Payload...)
			h.pkts <- p
		}
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("ServeKDNET: %v", err)
		}
		l.Close()
	})
	return h
}

func (h *kdnetHost) waitStatus(kind string) kdnet.StatusEvent {
	h.t.Helper()
	for {
		select {
		case e := <-h.status:
			if e.Kind == kind {
				return e
			}
		case <-time.After(10 * time.Second):
			h.t.Fatalf("no %s status", kind)
		}
	}
}

// next returns the next data packet, ACKing it; control packets other
// than the awaited ACK are returned too.
func (h *kdnetHost) next() kdproto.Packet {
	h.t.Helper()
	select {
	case p := <-h.pkts:
		if !p.IsControl() {
			h.send(kdproto.Packet{Header: kdproto.Header{Leader: kdproto.ControlPacketLeader, Type: kdproto.PacketTypeAcknowledge, ID: p.ID &^ kdproto.SyncPacketID}})
		}
		return p
	case err := <-h.errs:
		h.t.Fatalf("link: %v", err)
	case <-time.After(10 * time.Second):
		h.t.Fatal("no packet from the target")
	}
	return kdproto.Packet{}
}

func (h *kdnetHost) send(p kdproto.Packet) {
	h.t.Helper()
	if err := h.l.Send([]kdproto.Packet{p}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *kdnetHost) request(id uint32, m kdproto.Manipulate) {
	h.t.Helper()
	payload := m.Append(nil)
	h.send(kdproto.Packet{Header: kdproto.Header{Leader: kdproto.PacketLeader, Type: kdproto.PacketTypeStateManipulate,
		ByteCount: uint16(len(payload)), ID: id, Checksum: kdproto.Checksum(payload)}, Payload: payload})
}

// expect returns the next data packet of type typ, skipping ACKs.
func (h *kdnetHost) expect(typ kdproto.PacketType) kdproto.Packet {
	h.t.Helper()
	for {
		if p := h.next(); p.Type == typ {
			return p
		}
	}
}

func TestKDNETSession(t *testing.T) {
	m := New(Config{Stopped: true})
	h := startKDNET(t, m, KDNETConfig{})
	if e := h.waitStatus(kdnet.StatusConnected); e.Local != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("connected status %+v", e)
	}
	sc := h.expect(kdproto.PacketTypeStateChange64)
	if sc.ID&kdproto.SyncPacketID == 0 {
		t.Errorf("first state change id %08x lacks the sync bit", sc.ID)
	}
	h.request(kdproto.InitialPacketID, kdproto.NewManipulate(kdproto.APIGetVersion, 0, nil, nil))
	reply := h.expect(kdproto.PacketTypeStateManipulate)
	mp, err := kdproto.ParseManipulate(reply.Payload)
	if err != nil || mp.API != kdproto.APIGetVersion || mp.Version().KernBase != m.KernBase() {
		t.Fatalf("GetVersion reply %+v, %v", mp, err)
	}
	// Reboot: the target re-offers with a new nonce, the host re-keys and
	// the machine boots stopped again.
	h.request(kdproto.InitialPacketID^1, kdproto.NewManipulate(kdproto.APIReboot, 0, nil, nil))
	h.waitStatus(kdnet.StatusRekeyed)
	if sc := h.expect(kdproto.PacketTypeStateChange64); sc.ID&kdproto.SyncPacketID == 0 {
		t.Errorf("state change after reboot id %08x lacks the sync bit", sc.ID)
	}
	if s := h.l.Stats(); s.Rekeys != 2 || s.Rejected != 0 {
		t.Errorf("host stats %+v", s)
	}
}

// TestKDNETFaults: with every datagram from the target possibly dropped,
// duplicated or corrupted, the host rejects the corrupted ones and the
// KD layer's retransmissions still get a reply through.
func TestKDNETFaults(t *testing.T) {
	m := New(Config{Stopped: true, ByteTimeout: 20 * time.Millisecond})
	h := startKDNET(t, m, KDNETConfig{Noise: 0.3, Dup: 0.3, Drop: 0.2, Seed: 3})
	h.waitStatus(kdnet.StatusConnected)
	h.expect(kdproto.PacketTypeStateChange64)
	h.request(kdproto.InitialPacketID, kdproto.NewManipulate(kdproto.APIGetVersion, 0, nil, nil))
	deadline := time.After(20 * time.Second)
	for {
		select {
		case p := <-h.pkts:
			if p.Type == kdproto.PacketTypeStateManipulate {
				if s := h.l.Stats(); s.Rejected == 0 {
					t.Logf("no datagram was corrupted on this run: %+v", s)
				}
				return
			}
			if p.Type == kdproto.PacketTypeStateChange64 {
				h.send(kdproto.Packet{Header: kdproto.Header{Leader: kdproto.ControlPacketLeader, Type: kdproto.PacketTypeAcknowledge, ID: p.ID &^ kdproto.SyncPacketID}})
			}
		case <-h.errs:
			// damaged KD packets cannot happen: corruption fails authentication
			t.Fatal("a corrupted datagram reached the KD layer")
		case <-deadline:
			t.Fatal("no GetVersion reply through the faults")
		}
		h.request(kdproto.InitialPacketID, kdproto.NewManipulate(kdproto.APIGetVersion, 0, nil, nil))
	}
}
