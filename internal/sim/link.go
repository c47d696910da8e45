package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gokd/kd/kdproto"
)

// errLinkDown means the host connection ended.
var errLinkDown = errors.New("sim: link down")

// link is one host connection as the target sees it: a reader goroutine
// pulls bytes from the connection into a channel, and the target consumes
// them one at a time with a timeout, like a UART receive register.
type link struct {
	m      *Machine
	ctx    context.Context
	conn   io.ReadWriteCloser
	in     chan []byte   // chunks read from conn (unbuffered: the reader holds one)
	rxDone chan struct{} // closed when the reader goroutine has returned
	buf    []byte        // the rest of the current chunk
	timer  *time.Timer
	baud   int
	// payload receives the message data of the packet being read; nothing
	// the host sends makes the target allocate more than this.
	payload [kdproto.MaxPacketSize]byte
}

func newLink(ctx context.Context, conn io.ReadWriteCloser, m *Machine) *link {
	l := &link{m: m, ctx: ctx, conn: conn, in: make(chan []byte), rxDone: make(chan struct{}),
		timer: time.NewTimer(time.Hour), baud: m.cfg.Baud}
	l.timer.Stop()
	go l.reader()
	return l
}

func (l *link) reader() {
	defer close(l.rxDone)
	var pace *time.Timer
	for {
		b := make([]byte, 512)
		n, err := l.conn.Read(b)
		if n > 0 {
			if l.baud > 0 {
				// The bytes arrive no faster than the UART clocks them in.
				d := time.Duration(n) * 10 * time.Second / time.Duration(l.baud)
				if pace == nil {
					pace = time.NewTimer(d)
				} else {
					pace.Reset(d)
				}
				select {
				case <-pace.C:
				case <-l.ctx.Done():
					return
				}
			}
			select {
			case l.in <- b[:n]:
			case <-l.ctx.Done():
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// wait fills buf with the next chunk, waiting until deadline. It reports
// false on timeout.
func (l *link) wait(deadline time.Time) (bool, error) {
	d := time.Until(deadline)
	if d <= 0 {
		select {
		case b := <-l.in:
			l.buf = b
			return true, nil
		default:
			return false, nil
		}
	}
	l.timer.Reset(d)
	defer l.timer.Stop()
	select {
	case b := <-l.in:
		l.buf = b
		return true, nil
	case <-l.timer.C:
		return false, nil
	case <-l.rxDone:
		return false, errLinkDown
	case <-l.ctx.Done():
		return false, l.ctx.Err()
	}
}

// getByte returns the next byte, or ok == false if none arrives within d.
// While the target is muted every byte is read and thrown away.
func (l *link) getByte(d time.Duration) (b byte, ok bool, err error) {
	deadline := time.Now().Add(d)
	for {
		if len(l.buf) == 0 {
			if ok, err := l.wait(deadline); !ok || err != nil {
				return 0, false, err
			}
		}
		b, l.buf = l.buf[0], l.buf[1:]
		if l.m.muted() {
			continue
		}
		return b, true, nil
	}
}

// readFull fills dst byte by byte, each byte with the per-byte timeout.
func (l *link) readFull(dst []byte) (bool, error) {
	for i := range dst {
		b, ok, err := l.getByte(l.m.cfg.ByteTimeout)
		if !ok || err != nil {
			return false, err
		}
		dst[i] = b
	}
	return true, nil
}

// pollByte takes at most one byte without waiting (KdPollBreakIn).
func (l *link) pollByte() (byte, bool) {
	for {
		if len(l.buf) == 0 {
			select {
			case b := <-l.in:
				l.buf = b
			default:
				return 0, false
			}
		}
		var b byte
		b, l.buf = l.buf[0], l.buf[1:]
		if !l.m.muted() {
			return b, true
		}
	}
}

// sleepUntil waits for t while the target runs and reads nothing.
func (l *link) sleepUntil(t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	l.timer.Reset(d)
	defer l.timer.Stop()
	select {
	case <-l.timer.C:
		return nil
	case <-l.rxDone:
		return errLinkDown
	case <-l.ctx.Done():
		return l.ctx.Err()
	}
}

// write sends b; on a paced line the bytes take 10 bit times each to
// clock out, and the packet is complete only after that.
func (l *link) write(b []byte) error {
	if l.baud > 0 {
		if err := l.sleepUntil(time.Now().Add(time.Duration(len(b)) * 10 * time.Second / time.Duration(l.baud))); err != nil {
			return err
		}
	}
	if _, err := l.conn.Write(b); err != nil {
		return errLinkDown
	}
	return nil
}

// transmit sends one packet through the fault injector.
func (m *Machine) transmit(l *link, raw []byte, p kdproto.Packet) error {
	ev := Event{Kind: EventPacket, Dir: "out", Type: p.Type.String(), ID: p.ID, API: apiOf(p)}
	if m.muted() {
		m.trace(kdproto.TraceRecord{Dir: kdproto.DirIn, Packet: p, Raw: raw, Note: "muted, not sent"})
		ev.Detail = "muted"
		m.emit(ev)
		return nil
	}
	m.trace(kdproto.TraceRecord{Dir: kdproto.DirIn, Packet: p, Raw: raw})
	m.emit(ev)
	c := &m.cfg
	if c.Garbage > 0 && m.frng.Float64() < c.Garbage {
		junk := make([]byte, 1+m.frng.IntN(16))
		for i := range junk {
			junk[i] = byte(m.frng.UintN(256))
		}
		m.fault("garbage", fmt.Sprintf("%d bytes", len(junk)))
		if err := l.write(junk); err != nil {
			return err
		}
	}
	if c.Drop > 0 && m.frng.Float64() < c.Drop {
		m.fault("drop", p.String())
		return nil
	}
	out := raw
	if c.Noise > 0 && m.frng.Float64() < c.Noise {
		out = append([]byte(nil), raw...)
		i := m.frng.IntN(len(out))
		out[i] ^= byte(1 + m.frng.UintN(255))
		m.fault("noise", fmt.Sprintf("byte %d of %s", i, p.String()))
	}
	if err := l.write(out); err != nil {
		return err
	}
	if c.Dup > 0 && m.frng.Float64() < c.Dup {
		m.fault("dup", p.String())
		return l.write(out)
	}
	return nil
}

func apiOf(p kdproto.Packet) string {
	if p.IsControl() || len(p.Payload) < 4 || p.Type == kdproto.PacketTypeStateChange64 {
		return ""
	}
	return kdproto.API(le.Uint32(p.Payload)).String()
}

func (m *Machine) fault(kind, detail string) {
	m.emit(Event{Kind: EventFault, Detail: kind + ": " + detail})
}

func (m *Machine) muted() bool {
	if m.muteUntil.IsZero() {
		return false
	}
	if time.Now().Before(m.muteUntil) {
		return true
	}
	m.muteUntil = time.Time{}
	m.fault("unmute", "the target answers again")
	return false
}

// trace writes one wire-trace line in the format of kd's own trace
// (kdproto.TraceRecord): "->" host to target, "<-" target to host, the
// decoded packet, a note, and the first bytes in hex.
func (m *Machine) trace(r kdproto.TraceRecord) {
	if m.cfg.Trace == nil {
		return
	}
	fmt.Fprintln(m.cfg.Trace, r.String())
}

func (m *Machine) emit(e Event) {
	if m.cfg.Events == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	m.cfg.Events(e)
}
