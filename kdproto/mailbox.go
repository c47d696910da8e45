package kdproto

import (
	"errors"
	"time"

	"github.com/gokd/kd/transport"
)

// ErrBadLength means a packet's ByteCount disagrees with the payload its
// medium delivered (1394 and KDNET carry the length outside the KD header).
var ErrBadLength = errors.New("kdproto: packet length does not match its header")

// mailboxLink is the 1394 link: one KD packet per mailbox message, the
// header and the payload without KDCOM's leader scan or trailing byte
// (spec kdnet-1394.md §A.3). Delivery is confirmed by the target emptying
// its mailbox, so no KD ACK packets are exchanged.
type mailboxLink struct {
	pc      transport.PacketConn
	max     int
	in      []byte // the message being decoded; Recv's payloads alias it
	out     []byte // the message being sent, reused
	timeout time.Duration
}

// NewMailboxLink returns the 1394 link over pc: packets of at most max
// payload bytes (MaxPacketSize when max <= 0), each write bounded by
// writeTimeout (no bound when writeTimeout <= 0).
func NewMailboxLink(pc transport.PacketConn, max int, writeTimeout time.Duration) Link {
	if max <= 0 || max > 0xFFFF {
		max = MaxPacketSize
	}
	return &mailboxLink{pc: pc, max: max, in: make([]byte, transport.FWMessageMax), timeout: writeTimeout}
}

// Recv implements Link: one message, checked like a KDCOM packet except
// for the framing the medium does not have.
func (l *mailboxLink) Recv() (Packet, error) {
	n, err := l.pc.ReadPacket(l.in)
	if err != nil {
		return Packet{}, err
	}
	return ParseMessage(l.in[:n], l.max)
}

// ParseMessage decodes one packet that its medium delivered whole, without
// KDCOM framing (a 1394 mailbox message, the body of a KDNET data
// datagram): the 16-byte header, then exactly ByteCount payload bytes and
// no trailing byte. Bytes after a control packet's header are ignored. The
// payload aliases msg and is at most max bytes (MaxPacketSize when max <=
// 0). A damaged packet is reported as a *PacketError carrying its header,
// wrapping ErrShortPacket (fewer than 16 bytes, no header), ErrBadLeader,
// ErrPacketTooLarge, ErrBadLength or ErrBadChecksum.
func ParseMessage(msg []byte, max int) (Packet, error) {
	if max <= 0 {
		max = MaxPacketSize
	}
	h, err := ParseHeader(msg)
	if err != nil {
		return Packet{}, &PacketError{Err: ErrShortPacket}
	}
	switch h.Leader {
	case ControlPacketLeader:
		return Packet{Header: h}, nil
	case PacketLeader:
	default:
		return Packet{}, &PacketError{h, ErrBadLeader}
	}
	payload := msg[HeaderSize:]
	switch {
	case int(h.ByteCount) > max:
		return Packet{}, &PacketError{h, ErrPacketTooLarge}
	case int(h.ByteCount) != len(payload):
		return Packet{}, &PacketError{h, ErrBadLength}
	case Checksum(payload) != h.Checksum:
		return Packet{}, &PacketError{h, ErrBadChecksum}
	}
	return Packet{Header: h, Payload: payload[:len(payload):len(payload)]}, nil
}

// Send implements Link: one mailbox message per packet, each delivered
// before the next.
func (l *mailboxLink) Send(pkts []Packet) error {
	for _, p := range pkts {
		l.out = AppendHeader(l.out[:0], p.Header)
		if !p.IsControl() {
			l.out = append(l.out, p.Payload...)
		}
		l.deadline()
		if err := l.pc.WritePacket(l.out); err != nil {
			return err
		}
	}
	return nil
}

// BreakIn implements Link: the one-byte message 0x62.
func (l *mailboxLink) BreakIn() error {
	l.deadline()
	return l.pc.BreakIn()
}

func (l *mailboxLink) deadline() {
	if l.timeout > 0 {
		_ = l.pc.SetWriteDeadline(time.Now().Add(l.timeout))
	}
}

// Caps implements Link: the mailbox's TransferStatus flip is the
// acknowledgement. Whether a RESET renumbers ids over 1394 is not public;
// kd keeps KDCOM's rule.
func (l *mailboxLink) Caps() LinkCaps { return LinkCaps{NoAcks: true, Name: "1394"} }

// Close implements Link.
func (l *mailboxLink) Close() error { return l.pc.Close() }
