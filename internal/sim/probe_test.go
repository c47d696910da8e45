package sim

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// The probe is a minimal KD host written from the protocol notes alone,
// with its own framing code (it does not use kdproto), so that the
// simulator is checked against an independent reading of the spec.

const (
	dataLeader    = 0x30303030
	controlLeader = 0x69696969
	tData         = 2 // STATE_MANIPULATE
	tDebugIO      = 3
	tAck          = 4
	tResend       = 5
	tReset        = 6
	tStateChange  = 7
	idInitial     = 0x80800000
	idSync        = 0x800
)

var le32 = binary.LittleEndian

type rawPkt struct {
	leader  uint32
	typ     uint16
	count   uint16
	id      uint32
	sum     uint32
	payload []byte
	bad     string // why the packet is malformed, if it is
}

func (p rawPkt) control() bool      { return p.leader == controlLeader }
func (p rawPkt) u16(off int) uint16 { return le32.Uint16(p.payload[off:]) }
func (p rawPkt) u32(off int) uint32 { return le32.Uint32(p.payload[off:]) }
func (p rawPkt) u64(off int) uint64 { return le32.Uint64(p.payload[off:]) }
func (p rawPkt) data() []byte       { return p.payload[0x38:] }
func (p rawPkt) status() uint32     { return p.u32(8) }
func (p rawPkt) String() string {
	if p.control() {
		return fmt.Sprintf("control type=%d id=%08x", p.typ, p.id)
	}
	return fmt.Sprintf("data type=%d id=%08x len=%d %s", p.typ, p.id, p.count, p.bad)
}

func frame(leader uint32, typ uint16, id uint32, payload []byte) []byte {
	b := make([]byte, 16, 17+len(payload))
	le32.PutUint32(b[0:], leader)
	le32.PutUint16(b[4:], typ)
	le32.PutUint16(b[6:], uint16(len(payload)))
	le32.PutUint32(b[8:], id)
	var sum uint32
	for _, c := range payload {
		sum += uint32(c)
	}
	if leader == controlLeader {
		sum = 0
	}
	le32.PutUint32(b[12:], sum)
	if leader == dataLeader {
		b = append(append(b, payload...), 0xAA)
	}
	return b
}

func controlPkt(typ uint16, id uint32) []byte { return frame(controlLeader, typ, id, nil) }

// manip builds a DBGKD_MANIPULATE_STATE64 payload: union u at 0x10.
func manip(api uint32, cpu uint16, u []byte, data []byte) []byte {
	b := make([]byte, 0x38, 0x38+len(data))
	le32.PutUint32(b[0:], api)
	le32.PutUint16(b[6:], cpu)
	le32.PutUint32(b[8:], 0x103) // STATUS_PENDING, as WinDbg sends
	copy(b[0x10:], u)
	return append(b, data...)
}

// union packs little-endian fields into a 0x28-byte union: each argument
// is a uint16, uint32 or uint64 placed after the previous one.
func union(fields ...any) []byte {
	var b []byte
	for _, f := range fields {
		switch v := f.(type) {
		case uint16:
			b = le32.AppendUint16(b, v)
		case uint32:
			b = le32.AppendUint32(b, v)
		case uint64:
			b = le32.AppendUint64(b, v)
		default:
			panic(fmt.Sprintf("union: %T", f))
		}
	}
	return b
}

type probe struct {
	t    testing.TB
	conn io.ReadWriteCloser
	pkts chan rawPkt
	junk atomic.Int64 // bytes skipped by the leader scan
	id   uint32       // id of the host's next data packet
	wait time.Duration
}

func newProbe(t testing.TB, conn io.ReadWriteCloser) *probe {
	p := &probe{t: t, conn: conn, pkts: make(chan rawPkt, 256), id: idInitial, wait: 10 * time.Second}
	go p.readLoop()
	return p
}

func (p *probe) readLoop() {
	defer close(p.pkts)
	r := bufio.NewReader(p.conn)
	for {
		var first byte
		count := 0
		for count < 4 {
			b, err := r.ReadByte()
			if err != nil {
				return
			}
			switch {
			case b == 0x30 || b == 0x69:
				if b == first {
					count++
				} else {
					p.junk.Add(int64(count))
					first, count = b, 1
				}
			default:
				p.junk.Add(int64(count) + 1)
				first, count = 0, 0
			}
		}
		var h [16]byte
		h[0], h[1], h[2], h[3] = first, first, first, first
		if _, err := io.ReadFull(r, h[4:]); err != nil {
			return
		}
		pk := rawPkt{leader: le32.Uint32(h[0:]), typ: le32.Uint16(h[4:]), count: le32.Uint16(h[6:]),
			id: le32.Uint32(h[8:]), sum: le32.Uint32(h[12:])}
		if !pk.control() {
			if pk.count > 4000 {
				pk.bad = "too long"
				p.pkts <- pk
				continue
			}
			pk.payload = make([]byte, pk.count)
			if _, err := io.ReadFull(r, pk.payload); err != nil {
				return
			}
			tr, err := r.ReadByte()
			if err != nil {
				return
			}
			var sum uint32
			for _, c := range pk.payload {
				sum += uint32(c)
			}
			switch {
			case tr != 0xAA:
				pk.bad = "bad trailer"
				_ = r.UnreadByte()
			case sum != pk.sum:
				pk.bad = "bad checksum"
			}
		}
		p.pkts <- pk
	}
}

func (p *probe) write(b []byte) {
	p.t.Helper()
	if _, err := p.conn.Write(b); err != nil {
		p.t.Fatalf("probe write: %v", err)
	}
}

// next returns the next packet, failing the test if none comes in time.
func (p *probe) next() rawPkt {
	p.t.Helper()
	select {
	case pk, ok := <-p.pkts:
		if !ok {
			p.t.Fatalf("probe: connection closed")
		}
		return pk
	case <-time.After(p.wait):
		p.t.Fatalf("probe: no packet within %v", p.wait)
	}
	panic("unreachable")
}

// expect returns the next packet and checks its type (and id unless any).
func (p *probe) expect(typ uint16, id uint32) rawPkt {
	p.t.Helper()
	pk := p.next()
	if pk.typ != typ || pk.bad != "" || (id != anyID && pk.id != id) {
		p.t.Fatalf("got %v; want type %d id %08x", pk, typ, id)
	}
	return pk
}

const anyID = 0xFFFFFFFF

// quiet checks that nothing arrives for d.
func (p *probe) quiet(d time.Duration) {
	p.t.Helper()
	select {
	case pk, ok := <-p.pkts:
		if ok {
			p.t.Fatalf("got %v; want silence", pk)
		}
	case <-time.After(d):
	}
}

// closed waits for the target to drop the connection.
func (p *probe) closed() {
	p.t.Helper()
	for {
		select {
		case _, ok := <-p.pkts:
			if !ok {
				return
			}
		case <-time.After(p.wait):
			p.t.Fatalf("connection still open after %v", p.wait)
		}
	}
}

func (p *probe) ack(id uint32) { p.t.Helper(); p.write(controlPkt(tAck, id&^idSync)) }

// reset performs the RESET handshake and resets the host's id.
func (p *probe) reset() {
	p.t.Helper()
	p.write(controlPkt(tReset, 0))
	p.expect(tReset, 0)
	p.id = idInitial
}

// stateChange waits for a state change and acknowledges it.
func (p *probe) stateChange(id uint32) rawPkt {
	p.t.Helper()
	sc := p.expect(tStateChange, id)
	p.ack(sc.id)
	return sc
}

func (p *probe) breakIn() rawPkt {
	p.t.Helper()
	p.write([]byte{0x62})
	return p.stateChange(anyID)
}

// send writes a manipulate request with the host's id and waits for its ACK.
func (p *probe) send(api uint32, cpu uint16, u, data []byte) {
	p.t.Helper()
	p.write(frame(dataLeader, tData, p.id, manip(api, cpu, u, data)))
	p.expect(tAck, p.id)
	p.id ^= 1
}

// request sends a manipulate request and returns the acknowledged reply.
func (p *probe) request(api uint32, cpu uint16, u, data []byte) rawPkt {
	p.t.Helper()
	p.send(api, cpu, u, data)
	rep := p.expect(tData, anyID)
	p.ack(rep.id)
	if got := rep.u32(0); got != api {
		p.t.Fatalf("reply api %#x; want %#x", got, api)
	}
	return rep
}

// rig runs a machine on one end of a net.Pipe inside a synctest bubble.
type rig struct {
	m    *Machine
	p    *probe
	done chan error
}

func (r *rig) connect(t testing.TB) {
	a, b := net.Pipe()
	r.done = make(chan error, 1)
	go func() { r.done <- r.m.Serve(context.Background(), a) }()
	r.p = newProbe(t, b)
}

func (r *rig) hangUp(t testing.TB) error {
	r.p.conn.Close()
	select {
	case err := <-r.done:
		return err
	case <-time.After(time.Minute):
		t.Fatalf("Serve did not return")
	}
	return nil
}

func simTest(t *testing.T, cfg Config, f func(t *testing.T, r *rig)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		r := &rig{m: New(cfg)}
		r.connect(t)
		f(t, r)
		r.hangUp(t)
	})
}
