package kdproto

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Header is the 16-byte KD_PACKET header.
//
//	PacketLeader (32), PacketType (16), ByteCount (16), PacketId (32), Checksum (32)
type Header struct {
	Leader    uint32
	Type      PacketType
	ByteCount uint16
	ID        uint32
	Checksum  uint32
}

// Packet is one KD packet: a header and, for data packets, its payload.
// Payload may alias the buffer it was parsed from.
type Packet struct {
	Header
	Payload []byte
}

// IsControl reports whether p is a control packet (leader "iiii").
func (h Header) IsControl() bool { return h.Leader == ControlPacketLeader }

func (h Header) String() string {
	if h.IsControl() {
		return fmt.Sprintf("%s id=%08x", h.Type, h.ID)
	}
	return fmt.Sprintf("%s id=%08x len=%d sum=%08x", h.Type, h.ID, h.ByteCount, h.Checksum)
}

// String summarises a packet on one line: type, id, API and length.
func (p Packet) String() string {
	if p.IsControl() {
		return p.Header.String()
	}
	s := fmt.Sprintf("%s id=%08x len=%d", p.Type, p.ID, len(p.Payload))
	if len(p.Payload) >= 4 {
		v := binary.LittleEndian.Uint32(p.Payload)
		switch p.Type {
		case PacketTypeStateChange64:
			s += " " + StateKind(v).String()
		case PacketTypeStateManipulate, PacketTypeDebugIO, PacketTypeFileIO, PacketTypeTraceIO, PacketTypeControlRequest:
			s += " " + API(v).String()
			if p.Type == PacketTypeStateManipulate && len(p.Payload) >= 12 {
				if st := Status(binary.LittleEndian.Uint32(p.Payload[8:])); st != 0 && st != StatusPending {
					s += " " + st.String()
				}
			}
		}
	}
	return s
}

// Codec errors. Errors from ParsePacket and the Reader wrap one of these, so
// callers branch with errors.Is.
var (
	// ErrShortPacket means the buffer ends before the packet does.
	ErrShortPacket = errors.New("kdproto: short packet")
	// ErrBadLeader means the buffer does not start with a packet leader.
	ErrBadLeader = errors.New("kdproto: bad packet leader")
	// ErrBadChecksum means the payload does not sum to the header's checksum.
	ErrBadChecksum = errors.New("kdproto: bad checksum")
	// ErrBadTrailer means a data packet did not end with 0xAA.
	ErrBadTrailer = errors.New("kdproto: bad trailing byte")
	// ErrPacketTooLarge means ByteCount exceeds the configured maximum.
	ErrPacketTooLarge = errors.New("kdproto: packet too large")
	// ErrBadPacketType means a packet type is not valid for its leader.
	ErrBadPacketType = errors.New("kdproto: bad packet type")
	// ErrShortPayload means a payload is smaller than the structure it must hold.
	ErrShortPayload = errors.New("kdproto: payload too short")
)

// PacketError reports a malformed packet together with its header. Such
// errors are recoverable: the receiver asks for a resend and reads on.
type PacketError struct {
	Header Header
	Err    error
}

func (e *PacketError) Error() string { return fmt.Sprintf("%v (%s)", e.Err, e.Header) }

// Unwrap returns the underlying sentinel.
func (e *PacketError) Unwrap() error { return e.Err }

// Checksum returns the KD checksum of data: the sum of its bytes as a 32-bit value.
//
// It adds eight bytes at a time: the even and odd bytes of each
// little-endian word go into four 16-bit lanes, which cannot overflow
// within a block of checksumBlock words (2*255 per word and lane), and
// each block's lanes are then added up.
func Checksum(data []byte) uint32 {
	const even = 0x00FF00FF00FF00FF
	var sum uint32
	for len(data) >= 8 {
		n := min(len(data)/8, checksumBlock) * 8
		block := data[:n]
		var a, b uint64
		for len(block) >= 16 {
			v := binary.LittleEndian.Uint64(block)
			w := binary.LittleEndian.Uint64(block[8:])
			a += v&even + (v>>8)&even
			b += w&even + (w>>8)&even
			block = block[16:]
		}
		if len(block) == 8 {
			v := binary.LittleEndian.Uint64(block)
			a += v&even + (v>>8)&even
		}
		for _, l := range [2]uint64{a, b} {
			sum += uint32(l&0xFFFF + (l>>16)&0xFFFF + (l>>32)&0xFFFF + l>>48)
		}
		data = data[n:]
	}
	for _, c := range data {
		sum += uint32(c)
	}
	return sum
}

// checksumBlock is how many 8-byte words Checksum adds into its 16-bit
// lanes before it folds them: 128 words add at most 128*2*255 = 65280 to a
// lane (a and b each take half of them, so either bound holds).
const checksumBlock = 128

// AppendHeader appends the 16 bytes of h to dst.
func AppendHeader(dst []byte, h Header) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, h.Leader)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(h.Type))
	dst = binary.LittleEndian.AppendUint16(dst, h.ByteCount)
	dst = binary.LittleEndian.AppendUint32(dst, h.ID)
	return binary.LittleEndian.AppendUint32(dst, h.Checksum)
}

// ParseHeader decodes a header from the first 16 bytes of b.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, ErrShortPacket
	}
	return Header{
		Leader:    binary.LittleEndian.Uint32(b),
		Type:      PacketType(binary.LittleEndian.Uint16(b[4:])),
		ByteCount: binary.LittleEndian.Uint16(b[6:]),
		ID:        binary.LittleEndian.Uint32(b[8:]),
		Checksum:  binary.LittleEndian.Uint32(b[12:]),
	}, nil
}

// AppendControl appends a control packet (ACK, RESEND or RESET) carrying id.
func AppendControl(dst []byte, t PacketType, id uint32) []byte {
	return AppendHeader(dst, Header{Leader: ControlPacketLeader, Type: t, ID: id})
}

// AppendData appends a complete data packet: header, the concatenation of
// the payload parts, and the trailing byte. The checksum and ByteCount are
// computed here. It panics if the parts exceed 65535 bytes, which no caller
// in this module can produce (payloads are bounded by MaxPacketSize).
func AppendData(dst []byte, t PacketType, id uint32, parts ...[]byte) []byte {
	n := 0
	var sum uint32
	for _, p := range parts {
		n += len(p)
		sum += Checksum(p)
	}
	if n > 0xFFFF {
		panic("kdproto: payload larger than 65535 bytes")
	}
	dst = AppendHeader(dst, Header{Leader: PacketLeader, Type: t, ByteCount: uint16(n), ID: id, Checksum: sum})
	for _, p := range parts {
		dst = append(dst, p...)
	}
	return append(dst, PacketTrailingByte)
}

// AppendPacket appends p to dst: a control header, or a data packet whose
// ByteCount and Checksum are taken from the header as given (so tests can
// build malformed packets). Use AppendData to compute them.
func AppendPacket(dst []byte, p Packet) []byte {
	dst = AppendHeader(dst, p.Header)
	if p.IsControl() {
		return dst
	}
	dst = append(dst, p.Payload...)
	return append(dst, PacketTrailingByte)
}

// ParsePacket decodes one packet from the start of b, which must begin with
// a leader (no resynchronisation is done here; see Reader). It returns the
// packet, whose Payload aliases b, and the number of bytes consumed. The
// payload is limited to MaxPacketSize bytes.
func ParsePacket(b []byte) (Packet, int, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return Packet{}, 0, err
	}
	switch h.Leader {
	case ControlPacketLeader:
		return Packet{Header: h}, HeaderSize, nil
	case PacketLeader:
	default:
		return Packet{}, 0, ErrBadLeader
	}
	if int(h.ByteCount) > MaxPacketSize {
		return Packet{}, 0, &PacketError{h, ErrPacketTooLarge}
	}
	end := HeaderSize + int(h.ByteCount)
	if len(b) < end+1 {
		return Packet{}, 0, ErrShortPacket
	}
	p := Packet{Header: h, Payload: b[HeaderSize:end:end]}
	if b[end] != PacketTrailingByte {
		return Packet{}, 0, &PacketError{h, ErrBadTrailer}
	}
	if Checksum(p.Payload) != h.Checksum {
		return Packet{}, 0, &PacketError{h, ErrBadChecksum}
	}
	return p, end + 1, nil
}
