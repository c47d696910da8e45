package kdproto

import (
	"io"
	"time"
)

// This file and reader.go are the KDCOM link: KD packets framed on a byte
// stream, as over a serial port, a VM's named pipe or TCP.

// writeDeadliner is implemented by streams that support write deadlines.
type writeDeadliner interface{ SetWriteDeadline(time.Time) error }

// kdcomLink frames packets on a byte stream: Reader's leader scan on the
// way in; header, payload and trailing 0xAA on the way out, every packet of
// a Send in one Write.
type kdcomLink struct {
	conn    io.ReadWriteCloser
	r       *Reader
	wbuf    []byte // encoded packets of the Send in progress, reused
	timeout time.Duration
	wd      writeDeadliner // nil when conn has no write deadlines
	until   time.Time      // the write deadline last set
	brk     [1]byte
}

// NewKDCOMLink returns the KDCOM link over conn: packets of at most max
// payload bytes (MaxPacketSize when max <= 0), each write bounded by
// writeTimeout when conn has a SetWriteDeadline method (no bound when
// writeTimeout <= 0). The deadline is moved only when less than half of
// writeTimeout is left, so a write fails after between half and all of
// writeTimeout, and a steady stream of writes does not re-arm a timer
// each time.
func NewKDCOMLink(conn io.ReadWriteCloser, max int, writeTimeout time.Duration) Link {
	l := &kdcomLink{conn: conn, r: NewReader(conn, max), timeout: writeTimeout, brk: [1]byte{BreakinPacketByte}}
	if wd, ok := conn.(writeDeadliner); ok && writeTimeout > 0 {
		l.wd = wd
	}
	return l
}

// Recv implements Link with Reader.ReadPacket.
func (l *kdcomLink) Recv() (Packet, error) { return l.r.ReadPacket() }

// Send implements Link: all packets in one Write.
func (l *kdcomLink) Send(pkts []Packet) error {
	b := l.wbuf[:0]
	for _, p := range pkts {
		b = AppendPacket(b, p)
	}
	l.wbuf = b
	return l.write(b)
}

// BreakIn implements Link: the single byte 0x62.
func (l *kdcomLink) BreakIn() error { return l.write(l.brk[:]) }

func (l *kdcomLink) write(b []byte) error {
	if l.wd != nil {
		if now := time.Now(); l.until.Sub(now) < l.timeout/2 {
			l.until = now.Add(l.timeout)
			_ = l.wd.SetWriteDeadline(l.until)
		}
	}
	_, err := l.conn.Write(b)
	return err
}

// Caps implements Link: KDCOM's rules are the reference.
func (l *kdcomLink) Caps() LinkCaps { return LinkCaps{Name: "kdcom"} }

// Close implements Link.
func (l *kdcomLink) Close() error { return l.conn.Close() }
