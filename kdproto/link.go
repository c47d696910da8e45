package kdproto

// Link carries whole KD packets between kd and one target. It is the layer
// under the Engine: the Engine numbers, acknowledges, retransmits and
// matches packets, a Link only moves them. There is one Link per medium:
//
//   - KDCOM (NewKDCOMLink): a byte stream (serial port, VM pipe, TCP), with
//     leader scan, trailing 0xAA and the lone break-in byte 0x62.
//   - 1394 (NewMailboxLink): the target's two mailboxes, one packet per
//     slot, no byte framing.
//   - KDNET: UDP datagrams carrying KD packets in its encrypted data channel.
//
// The Engine calls Recv from its reader goroutine only, and Send and BreakIn
// from its writer goroutine only, so an implementation needs no locking
// between calls of the same kind. Close may be called from any goroutine
// and must make a blocked Recv (and Send) return.
type Link interface {
	// Recv waits for the next packet from the target. The packet's Payload
	// is valid until the next call. A damaged packet (bad checksum,
	// trailer, length or leader) comes back as a *PacketError carrying its
	// header: the Engine answers it with RESEND, as KDCOM targets do, and
	// calls Recv again. Any other error ends the link.
	Recv() (Packet, error)
	// Send transmits pkts in order. A data packet's header must be complete
	// (ByteCount and Checksum included, see DataHeader); control packets
	// carry no payload. A link that can puts them all in one write (an ACK
	// and the next request travel together). Send keeps no reference to the
	// packets after it returns.
	Send(pkts []Packet) error
	// BreakIn asks a running target to stop: the byte 0x62 outside any
	// packet on KDCOM, a one-byte mailbox message on 1394, a datagram
	// holding 0x62 on KDNET.
	BreakIn() error
	// Caps says where the medium departs from KDCOM's rules.
	Caps() LinkCaps
	// Close ends the link.
	Close() error
}

// LinkCaps describes how a medium departs from KDCOM's rules. The zero
// value means KDCOM's rules throughout.
type LinkCaps struct {
	// NoAcks: the medium itself confirms delivery (1394 flips a mailbox's
	// TransferStatus), so no KD ACK packets are exchanged. The Engine sends
	// none and counts a Send that succeeded as acknowledged.
	NoAcks bool
	// ResetKeepsIDs: a RESET does not renumber packet ids. Over KDNET both
	// sides keep their id sequences across a RESET (spec kdnet-1394.md
	// §B.5), so the Engine neither restarts its own ids at InitialPacketID
	// nor forgets the id it last delivered.
	ResetKeepsIDs bool
	// Name is a short name of the medium for traces and errors ("kdcom",
	// "1394", "kdnet").
	Name string
}

// DataHeader returns the header of a data packet of type t with id id
// carrying payload: leader, ByteCount and checksum filled in. It panics if
// payload exceeds 65535 bytes, which no caller in this module can produce.
func DataHeader(t PacketType, id uint32, payload []byte) Header {
	if len(payload) > 0xFFFF {
		panic("kdproto: payload larger than 65535 bytes")
	}
	return Header{Leader: PacketLeader, Type: t, ByteCount: uint16(len(payload)), ID: id, Checksum: Checksum(payload)}
}

// ControlHeader returns the header of a control packet (ACK, RESEND or
// RESET) carrying id.
func ControlHeader(t PacketType, id uint32) Header {
	return Header{Leader: ControlPacketLeader, Type: t, ID: id}
}
