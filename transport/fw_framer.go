package transport

import (
	"encoding/binary"
	"fmt"
)

// framer cuts the host's KD byte stream (as written to a serial port) into
// the whole packets the 1394 host→target mailbox carries: data packets
// (16-byte header with leader 0x30303030, ByteCount payload bytes; the
// trailing 0xAA is dropped), control packets (16 bytes, leader 0x69696969)
// and the lone break-in byte 0x62. Bytes outside any packet, such as the
// trailing byte, are dropped.
type framer struct {
	buf  []byte // the packet being assembled; empty between packets
	need int    // its full length once the header is complete
}

func (f *framer) idle() bool { return len(f.buf) == 0 }

func (f *framer) reset() {
	f.buf = nil
	f.need = 0
}

// push consumes bytes of p up to the end of the first packet it completes
// and returns that packet (nil if p ran out first). It fails, consuming the
// header, when a data packet could not fit the mailbox.
func (f *framer) push(p []byte) (n int, pkt []byte, err error) {
	for n < len(p) {
		switch b := p[n]; {
		case len(f.buf) == 0:
			n++
			switch b {
			case kdBreakin:
				return n, []byte{kdBreakin}, nil
			case kdLeaderData, kdLeaderControl:
				f.buf = append(f.buf, b)
			}
		case len(f.buf) < 4:
			if b != f.buf[0] {
				f.buf = f.buf[:0] // not a leader after all: look at b afresh
				continue
			}
			n++
			f.buf = append(f.buf, b)
		case len(f.buf) < kdHeaderSize:
			k := min(kdHeaderSize-len(f.buf), len(p)-n)
			f.buf = append(f.buf, p[n:n+k]...)
			n += k
			if len(f.buf) < kdHeaderSize {
				break
			}
			f.need = kdHeaderSize
			if f.buf[0] == kdLeaderData {
				f.need += int(binary.LittleEndian.Uint16(f.buf[6:]))
			}
			if f.need > recvPacketMax {
				size := f.need
				f.reset()
				return n, nil, fmt.Errorf("data packet of %d bytes does not fit the %d-byte 1394 mailbox", size, recvPacketMax)
			}
		default:
			k := min(f.need-len(f.buf), len(p)-n)
			f.buf = append(f.buf, p[n:n+k]...)
			n += k
		}
		if f.need > 0 && len(f.buf) == f.need {
			pkt = f.buf
			f.reset()
			return n, pkt, nil
		}
	}
	return n, nil, nil
}
