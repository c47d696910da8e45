package kdproto

import (
	"bufio"
	"io"
)

// Reader reads KD packets from a byte stream. It finds packet leaders the way
// the ReactOS target's leader scan does: four identical leader bytes ("0000"
// or "iiii") start a packet, a different leader byte restarts the count with
// itself, and any other byte (junk, a stray break-in byte, the tail of a
// truncated packet) resets the count. Unlike that scan, extra copies of the
// leader byte right after a complete leader are skipped, since no packet
// type starts with one. Nothing in the stream can make it allocate: payloads
// go into one buffer of the configured maximum size.
type Reader struct {
	br      *bufio.Reader
	max     int
	buf     []byte
	hdr     [HeaderSize]byte
	skipped int
}

// NewReader returns a Reader over r that accepts payloads of at most max
// bytes (MaxPacketSize when max <= 0; at most 65535).
func NewReader(r io.Reader, max int) *Reader {
	if max <= 0 {
		max = MaxPacketSize
	}
	if max > 0xFFFF {
		max = 0xFFFF
	}
	return &Reader{br: bufio.NewReaderSize(r, 4096), max: max, buf: make([]byte, max)}
}

// Skipped returns the number of bytes discarded by the leader scan so far.
func (r *Reader) Skipped() int { return r.skipped }

// ReadPacket returns the next packet. The payload is valid until the next
// call. Malformed packets come back as a *PacketError wrapping
// ErrPacketTooLarge, ErrBadTrailer or ErrBadChecksum: these are recoverable,
// and the next call goes on scanning after the bad packet. Any other error
// comes from the underlying reader.
func (r *Reader) ReadPacket() (Packet, error) {
	leader, err := r.scanLeader()
	if err != nil {
		return Packet{}, err
	}
	r.hdr[0], r.hdr[1], r.hdr[2], r.hdr[3] = leader, leader, leader, leader
	if _, err := io.ReadFull(r.br, r.hdr[4:]); err != nil {
		return Packet{}, unexpected(err)
	}
	h, _ := ParseHeader(r.hdr[:])
	if h.IsControl() {
		return Packet{Header: h}, nil
	}
	n := int(h.ByteCount)
	if n > r.max {
		return Packet{}, &PacketError{h, ErrPacketTooLarge}
	}
	p := Packet{Header: h, Payload: r.buf[:n:n]}
	if _, err := io.ReadFull(r.br, p.Payload); err != nil {
		return Packet{}, unexpected(err)
	}
	t, err := r.br.ReadByte()
	if err != nil {
		return Packet{}, unexpected(err)
	}
	if t != PacketTrailingByte {
		// The byte may begin the next leader: let the scan see it again.
		_ = r.br.UnreadByte()
		return Packet{}, &PacketError{h, ErrBadTrailer}
	}
	if Checksum(p.Payload) != h.Checksum {
		return Packet{}, &PacketError{h, ErrBadChecksum}
	}
	return p, nil
}

func (r *Reader) scanLeader() (byte, error) {
	var first byte
	count := 0
	for {
		b, err := r.br.ReadByte()
		if err != nil {
			if count > 0 && err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		switch {
		case b == PacketLeaderByte || b == ControlLeaderByte:
			if count > 0 && b == first {
				count++
			} else {
				r.skipped += count
				first, count = b, 1
			}
			if count == 4 {
				return first, r.skipLeaderRun(first)
			}
		default:
			r.skipped += count + 1
			count = 0
		}
	}
}

// skipLeaderRun discards further copies of the leader byte after a complete
// leader. No packet type has 0x30 or 0x69 as its low byte, so a fifth "0" or
// "i" cannot start the header: it is a stray byte glued to the real leader
// (for example line noise just before a packet), and reading it as the type
// would lose the packet. The ReactOS leader scan has no such step; the
// difference only shows on streams that it would misparse.
func (r *Reader) skipLeaderRun(leader byte) error {
	for {
		next, err := r.br.Peek(1)
		if err != nil {
			return unexpected(err)
		}
		if next[0] != leader {
			return nil
		}
		_, _ = r.br.ReadByte()
		r.skipped++
	}
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
