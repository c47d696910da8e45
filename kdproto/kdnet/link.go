package kdnet

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/gokd/kd/kdproto"
)

// This file is the host's KDNET link: a UDP socket around Host. It carries
// whole KD packets, one per datagram, without KDCOM's framing.

// DefaultQuietHint is how long Listen waits for the first datagram before
// reporting StatusQuiet (the firewall hint).
const DefaultQuietHint = 10 * time.Second

// LinkConfig configures Listen.
type LinkConfig struct {
	Port   int        // local UDP port (the port of bcdedit /dbgsettings net)
	Bind   netip.Addr // local address to bind; the zero Addr means every IPv4 address
	Key    Key        // control key from ParseKey
	Target netip.Addr // accept only this target; the zero Addr accepts any

	Random    io.Reader         // host random bytes; nil means crypto/rand
	Now       func() time.Time  // clock; nil means time.Now
	QuietHint time.Duration     // 0 means DefaultQuietHint, < 0 never
	Status    func(StatusEvent) // progress for the console; may be nil
	Trace     func(line string) // one line per KDNET event for --trace; may be nil
	MaxPacket int               // largest KD payload accepted; 0 means kdproto.MaxPacketSize
	listen    func() (udpConn, error)
}

// Status kinds.
const (
	StatusConnected = "connected" // a target completed the handshake (Peer, Local)
	StatusRekeyed   = "rekeyed"   // a target (the same or another) started a new session
	StatusQuiet     = "quiet"     // nothing arrived for QuietHint
)

// StatusEvent reports link progress. It never holds key material.
type StatusEvent struct {
	Kind  string
	Peer  netip.AddrPort // the target
	Local netip.Addr     // this host's address as the target knows it (its hostip)
	Port  int            // the local UDP port
	Wait  time.Duration  // StatusQuiet: how long nothing arrived
}

type udpConn interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
	SetReadDeadline(t time.Time) error
	Close() error
	LocalAddr() net.Addr
}

// Link is the KDNET link: KD packets in the data channel of a UDP socket.
// Recv is called from one goroutine, Send and BreakIn from another, Close
// from any.
type Link struct {
	cfg  LinkConfig
	conn udpConn

	mu        sync.Mutex // guards h, local, connected
	h         *Host
	local     netip.Addr // the host address named in the last answered offer
	connected bool       // a hello was seen

	reply   []byte // the response being sent (reader goroutine only)
	sendBuf []byte // the datagram being sent (writer goroutine only)
	quiet   bool   // StatusQuiet was reported (reader goroutine only)
	heard   bool   // some datagram arrived (reader goroutine only)
	opened  time.Time

	rbuf    []byte
	payload []byte
}

// Listen binds the UDP port and returns the link; the target connects when
// it next sends an offer (every three seconds on Windows).
func Listen(cfg LinkConfig) (*Link, error) {
	if cfg.Random == nil {
		cfg.Random = rand.Reader
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.QuietHint == 0 {
		cfg.QuietHint = DefaultQuietHint
	}
	if cfg.MaxPacket <= 0 {
		cfg.MaxPacket = kdproto.MaxPacketSize
	}
	var c udpConn
	var err error
	if cfg.listen != nil {
		c, err = cfg.listen()
	} else {
		bind := cfg.Bind
		if !bind.IsValid() {
			bind = netip.IPv4Unspecified()
		}
		c, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(bind, uint16(cfg.Port))))
	}
	if err != nil {
		return nil, fmt.Errorf("kdnet: cannot bind UDP port %d: %w", cfg.Port, err)
	}
	return &Link{cfg: cfg, conn: c, h: NewHost(cfg.Key, cfg.Random), opened: cfg.Now(),
		rbuf: make([]byte, MaxDatagramSize+1), sendBuf: make([]byte, 0, 2*MaxDatagramSize), payload: make([]byte, 0, cfg.MaxPacket)}, nil
}

// LocalAddr returns the bound address (useful with port 0 in tests).
func (l *Link) LocalAddr() netip.AddrPort {
	a, _ := netip.ParseAddrPort(l.conn.LocalAddr().String())
	return a
}

// Stats returns the host state machine's counters.
func (l *Link) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.h.Stats()
}

func (l *Link) trace(format string, args ...any) {
	if l.cfg.Trace != nil {
		l.cfg.Trace(fmt.Sprintf(format, args...))
	}
}

func (l *Link) status(e StatusEvent) {
	e.Port = l.cfg.Port
	if l.cfg.Status != nil {
		l.cfg.Status(e)
	}
}

// Recv returns the next KD packet from the target. It answers offers,
// drops what does not authenticate (a --trace line says why) and returns a
// damaged KD packet as a *kdproto.PacketError so that the engine asks for
// it again.
func (l *Link) Recv() (kdproto.Packet, error) {
	for {
		if !l.heard && !l.quiet && l.cfg.QuietHint > 0 {
			_ = l.conn.SetReadDeadline(l.opened.Add(l.cfg.QuietHint))
		}
		n, from, err := l.conn.ReadFromUDPAddrPort(l.rbuf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !l.heard && !l.quiet {
				l.quiet = true
				_ = l.conn.SetReadDeadline(time.Time{})
				l.status(StatusEvent{Kind: StatusQuiet, Wait: l.cfg.QuietHint})
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return kdproto.Packet{}, kdproto.ErrClosed
			}
			return kdproto.Packet{}, fmt.Errorf("kdnet: %w", err)
		}
		if !l.heard {
			l.heard = true
			_ = l.conn.SetReadDeadline(time.Time{})
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		if l.cfg.Target.IsValid() && from.Addr() != l.cfg.Target.Unmap() {
			l.trace("kdnet: ignored %d bytes from %v (not target=%v)", n, from, l.cfg.Target)
			continue
		}
		if p, ok, err := l.handle(l.rbuf[:n], from); ok || err != nil {
			return p, err
		}
	}
}

// handle processes one datagram; ok reports a KD packet (or a damaged one,
// as err) for the engine.
func (l *Link) handle(b []byte, from netip.AddrPort) (kdproto.Packet, bool, error) {
	l.mu.Lock()
	r := l.h.Receive(b, from, l.cfg.Now())
	if r.Event == EventAnswer {
		l.reply = append(l.reply[:0], r.Reply...)
	}
	version := l.h.Version()
	body := r.Body
	if body != nil {
		l.payload = append(l.payload[:0], body...)
		body = l.payload
	}
	l.mu.Unlock()
	switch r.Event {
	case EventRejected:
		l.trace("kdnet: rejected %d-byte %s datagram from %v: %v", len(b), r.Channel, from, r.Err)
	case EventIgnored:
		l.trace("kdnet: idle offer from %v (counter %d) ignored: the session is alive", from, r.Counter)
	case EventAnswer:
		why := "offer"
		if r.Reboot {
			why = "offer from a restarted target"
		}
		l.trace("kdnet: answered %s from %v (counter %d, version %d)", why, from, r.Counter, version)
		if _, err := l.conn.WriteToUDPAddrPort(l.reply, r.To); err != nil {
			l.trace("kdnet: sending the response to %v: %v", r.To, err)
		}
		if r.Offer != nil {
			l.mu.Lock()
			l.local = hostAddr(r.Offer.HostIP)
			l.mu.Unlock()
		}
	case EventHello:
		kind := StatusConnected
		l.mu.Lock()
		if l.connected {
			kind = StatusRekeyed
		}
		l.connected = true
		local := l.local
		l.mu.Unlock()
		if !local.IsValid() {
			local = r.HelloIP
		}
		l.trace("kdnet: hello from %v: new data key in use", from)
		l.status(StatusEvent{Kind: kind, Peer: from, Local: local})
	case EventData:
		p, err := parseKD(body, l.cfg.MaxPacket)
		if err != nil {
			var pe *kdproto.PacketError
			if !errors.As(err, &pe) {
				l.trace("kdnet: data datagram from %v is not a KD packet: %v", from, err)
				return kdproto.Packet{}, false, nil
			}
			return kdproto.Packet{}, true, err
		}
		return p, true, nil
	}
	return kdproto.Packet{}, false, nil
}

func hostAddr(ip net.IP) netip.Addr {
	a, ok := netip.AddrFromSlice(ip)
	if !ok || a.IsUnspecified() {
		return netip.Addr{}
	}
	return a.Unmap()
}

// parseKD decodes a KD packet carried without framing: a 16-byte header
// and, for data packets, exactly ByteCount payload bytes.
func parseKD(b []byte, max int) (kdproto.Packet, error) {
	h, err := kdproto.ParseHeader(b)
	if err != nil {
		return kdproto.Packet{}, err
	}
	switch h.Leader {
	case kdproto.ControlPacketLeader:
		return kdproto.Packet{Header: h}, nil
	case kdproto.PacketLeader:
	default:
		return kdproto.Packet{}, kdproto.ErrBadLeader
	}
	payload := b[kdproto.HeaderSize:]
	switch {
	case int(h.ByteCount) > max:
		return kdproto.Packet{}, &kdproto.PacketError{Header: h, Err: kdproto.ErrPacketTooLarge}
	case int(h.ByteCount) != len(payload):
		return kdproto.Packet{}, &kdproto.PacketError{Header: h, Err: fmt.Errorf("%w: ByteCount %d, %d bytes in the datagram", kdproto.ErrShortPacket, h.ByteCount, len(payload))}
	case kdproto.Checksum(payload) != h.Checksum:
		return kdproto.Packet{}, &kdproto.PacketError{Header: h, Err: kdproto.ErrBadChecksum}
	}
	return kdproto.Packet{Header: h, Payload: payload}, nil
}

// Send transmits each packet in its own datagram. Before a target has
// connected there is nowhere to send: the packets are dropped (a --trace
// line says so) and the engine's retransmission tries again later.
func (l *Link) Send(pkts []kdproto.Packet) error {
	for _, p := range pkts {
		var body [kdproto.HeaderSize]byte
		if err := l.send(kdproto.AppendHeader(body[:0], p.Header), p.Payload, p.String()); err != nil {
			return err
		}
	}
	return nil
}

// BreakIn sends the break-in datagram (body 'b').
func (l *Link) BreakIn() error {
	return l.send([]byte{kdproto.BreakinPacketByte}, nil, "break-in")
}

func (l *Link) send(head, payload []byte, what string) error {
	body := append(append(l.sendBuf[:0], head...), payload...)
	l.mu.Lock()
	d, to, err := l.h.Send(body[len(body):], body, l.cfg.Now())
	l.mu.Unlock()
	l.sendBuf = body
	if errors.Is(err, ErrNoSession) {
		l.trace("kdnet: no target yet, %s not sent", what)
		return nil
	}
	if err != nil {
		return fmt.Errorf("kdnet: %w", err)
	}
	if _, err := l.conn.WriteToUDPAddrPort(d, to); err != nil {
		if errors.Is(err, net.ErrClosed) {
			return kdproto.ErrClosed
		}
		return fmt.Errorf("kdnet: sending to %v: %w", to, err)
	}
	return nil
}

// Close closes the socket; a blocked Recv returns kdproto.ErrClosed.
func (l *Link) Close() error { return l.conn.Close() }

// Caps implements kdproto.Link: KDNET carries KD ACKs like KDCOM, but a
// RESET renumbers nothing (spec kdnet-1394.md §B.5).
func (l *Link) Caps() kdproto.LinkCaps {
	return kdproto.LinkCaps{Name: "kdnet", ResetKeepsIDs: true}
}

var _ kdproto.Link = (*Link)(nil)
