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

// link is one host connection as the target sees it: the receive side
// of a UART (rxLine) from which the target takes bytes one at a time with
// a timeout, and on a paced line its transmit side (txLine); see uart.go.
type link struct {
	m    *Machine
	ctx  context.Context
	conn io.ReadWriteCloser
	rx   *rxLine
	tx   *txLine // nil on an unpaced line: writes collect in out
	// out collects an unpaced line's writes until the target next waits
	// for anything, so that an ACK and the reply after it leave in one
	// write (one system call instead of two per request).
	out   []byte
	timer *time.Timer
	// payload receives the message data of the packet being read; nothing
	// the host sends makes the target allocate more than this.
	payload [kdproto.MaxPacketSize]byte
	// in holds, on an unpaced line, the bytes taken from the receiver in
	// one go and not read yet (from inPos): a request costs one lock of
	// the receiver, not one per byte.
	in    []byte
	inPos int
}

func newLink(ctx context.Context, conn io.ReadWriteCloser, m *Machine) *link {
	l := &link{m: m, ctx: ctx, conn: conn, rx: newRxLine(m.cfg.Baud), timer: time.NewTimer(time.Hour)}
	if m.cfg.Baud <= 0 {
		l.in = make([]byte, 0, rxUnpacedBuf)
	}
	l.timer.Stop()
	go l.rx.run(ctx, conn)
	if m.cfg.Baud > 0 {
		l.tx = newTxLine(m.cfg.Baud)
		go l.tx.run(ctx, conn)
	}
	return l
}

// flush waits until every byte the target wrote has reached the host (or
// the link or ctx is gone): a reboot's ACK must leave before the line
// drops.
func (l *link) flush() {
	if l.tx == nil {
		l.flushOut()
		return
	}
	for l.tx.pending() {
		select {
		case <-l.tx.space:
		case <-l.tx.done:
			return
		case <-l.ctx.Done():
			return
		}
	}
}

// wait blocks until deadline or, if a byte is on its way (at is not zero)
// and arrives sooner, until at; or until a byte is added, the link goes
// down or ctx ends. It reports false when the deadline has passed.
func (l *link) wait(deadline, at time.Time) (bool, error) {
	if err := l.flushOut(); err != nil {
		return false, err
	}
	byteFirst := !at.IsZero() && at.Before(deadline)
	until := deadline
	if byteFirst {
		until = at
	}
	d := time.Until(until)
	if d <= 0 {
		return byteFirst, nil
	}
	l.timer.Reset(d)
	defer l.timer.Stop()
	var down <-chan struct{}
	if at.IsZero() {
		down = l.rx.done // no byte is on its way: the link going down ends the wait
	}
	select {
	case <-l.rx.data:
		return true, nil
	case <-l.timer.C:
		return byteFirst, nil
	case <-down:
		return false, errLinkDown
	case <-l.ctx.Done():
		return false, l.ctx.Err()
	}
}

// take returns the next byte that has arrived, or when the next one will
// (zero: none is on its way). An unpaced line's bytes come from in, which
// is refilled with everything the receiver holds at once.
func (l *link) take() (byte, bool, time.Time) {
	if l.in == nil {
		return l.rx.take()
	}
	if l.inPos == len(l.in) {
		l.in, l.inPos = l.rx.takeAll(l.in[:0]), 0
		if len(l.in) == 0 {
			return 0, false, time.Time{}
		}
	}
	b := l.in[l.inPos]
	l.inPos++
	return b, true, time.Time{}
}

// getByte returns the next byte, or ok == false if none arrives within d.
// While the target is muted every byte is read and thrown away.
func (l *link) getByte(d time.Duration) (b byte, ok bool, err error) {
	var deadline time.Time // set when the first wait begins: most bytes are already there
	for {
		b, ok, next := l.take()
		if !ok {
			if deadline.IsZero() {
				deadline = time.Now().Add(d)
			}
			if more, err := l.wait(deadline, next); !more || err != nil {
				return 0, false, err
			}
			continue
		}
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

// pollByte takes at most one byte that has already arrived, without
// waiting (KdPollBreakIn).
func (l *link) pollByte() (byte, bool) {
	for {
		b, ok, _ := l.take()
		if !ok {
			return 0, false
		}
		if !l.m.muted() {
			return b, true
		}
	}
}

// sleepUntil waits for t while the target runs and reads nothing.
func (l *link) sleepUntil(t time.Time) error {
	if err := l.flushOut(); err != nil {
		return err
	}
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	l.timer.Reset(d)
	defer l.timer.Stop()
	select {
	case <-l.timer.C:
		return nil
	case <-l.rx.done:
		return errLinkDown
	case <-l.ctx.Done():
		return l.ctx.Err()
	}
}

// flushOut writes what an unpaced line has collected.
func (l *link) flushOut() error {
	if len(l.out) == 0 {
		return nil
	}
	_, err := l.conn.Write(l.out)
	l.out = l.out[:0]
	if err != nil {
		return errLinkDown
	}
	return nil
}

// write sends b. On an unpaced line it is collected and written when the
// target next waits. On a paced line the bytes leave at the line rate and
// write returns when the last of them has entered the 16-byte transmit
// FIFO, as a UART driver's write loop does.
func (l *link) write(b []byte) error {
	if l.tx == nil {
		l.out = append(l.out, b...)
		return nil
	}
	for {
		ret, ok, err := l.tx.queue(b)
		if err != nil {
			return err
		}
		if ok {
			return l.sleepUntil(ret)
		}
		select { // the host is not reading: wait for the queue to drain
		case <-l.tx.space:
		case <-l.tx.done:
			return errLinkDown
		case <-l.rx.done:
			return errLinkDown
		case <-l.ctx.Done():
			return l.ctx.Err()
		}
	}
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
