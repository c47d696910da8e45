package sim

import (
	"fmt"

	"github.com/gokd/kd/kdproto"
)

// This file is the target's half of KDCOM, modelled on the behaviour of
// the ReactOS kddll (spec §1.6–§4): the leader scan, KdReceivePacket's
// error and RESEND rules, KdSendPacket's retry and abandon rules, and the
// packet-id bookkeeping with the 0x800 sync bit.

type recvResult int

const (
	recvOK      recvResult = iota // a packet of the wanted type (or the awaited ACK) arrived
	recvTimeout                   // the line stayed quiet
	recvResend                    // the caller must re-send what it was sending (RESEND, RESET, break-in)
)

// scanLeader finds the next packet leader (spec §1.6): four identical
// 0x30 or 0x69 bytes. A 0x62 is remembered in the first-byte slot until
// another byte replaces it; if the line then goes quiet the scan reports
// recvResend and a pending break-in.
func (m *Machine) scanLeader(l *link) (byte, recvResult, error) {
	var first byte
	count := 0
	for {
		b, ok, err := l.getByte(m.cfg.ByteTimeout)
		if err != nil {
			return 0, recvTimeout, err
		}
		if !ok {
			if first == kdproto.BreakinPacketByte {
				m.trace(kdproto.TraceRecord{Dir: kdproto.DirOut, Breakin: true})
				if m.stop == nil {
					m.controlC = true
				}
				return 0, recvResend, nil
			}
			return 0, recvTimeout, nil
		}
		switch {
		case b == kdproto.PacketLeaderByte || b == kdproto.ControlLeaderByte:
			if b == first {
				count++
			} else {
				first, count = b, 1
			}
			if count == 4 {
				m.hostPresent = true
				return first, recvOK, nil
			}
		case b == kdproto.BreakinPacketByte:
			first, count = b, 0
		default:
			first, count = 0, 0
		}
	}
}

// minMessage is the smallest ByteCount accepted for a packet of type t:
// the size of the message header the caller expects.
func minMessage(t kdproto.PacketType) int {
	switch t {
	case kdproto.PacketTypeStateManipulate:
		return kdproto.ManipulateSize
	case kdproto.PacketTypeDebugIO:
		return kdproto.DebugIOSize
	}
	return 0
}

// recv is KdReceivePacket: it reads until a packet of type want arrives
// (want == ACK: until the ACK of the outstanding packet), the line goes
// quiet, or something asks the caller to re-send. The returned payload
// aliases the link's buffer.
func (m *Machine) recv(l *link, want kdproto.PacketType) (recvResult, kdproto.Packet, error) {
	for {
		leader, res, err := m.scanLeader(l)
		if err != nil || res != recvOK {
			return res, kdproto.Packet{}, err
		}
		hdr := &m.hdrBuf // not re-entered: nothing below receives
		hdr[0], hdr[1], hdr[2], hdr[3] = leader, leader, leader, leader
		if ok, err := l.readFull(hdr[4:6]); !ok || err != nil {
			return recvTimeout, kdproto.Packet{}, err
		}
		typ := kdproto.PacketType(le.Uint16(hdr[4:]))
		if leader == kdproto.ControlLeaderByte && typ == kdproto.PacketTypeResend {
			// Checked before the rest of the header is read: the other
			// ten bytes are left to the next leader scan.
			m.trace(kdproto.TraceRecord{Dir: kdproto.DirOut, Packet: kdproto.Packet{Header: kdproto.Header{Leader: kdproto.ControlPacketLeader, Type: typ}}, Raw: hdr[:6], Note: "rest of the header skipped"})
			m.emit(Event{Kind: EventResend, Dir: "in"})
			return recvResend, kdproto.Packet{}, nil
		}
		if ok, err := l.readFull(hdr[6:]); !ok || err != nil {
			return recvTimeout, kdproto.Packet{}, err
		}
		h, _ := kdproto.ParseHeader(hdr[:])
		if h.IsControl() {
			m.trace(kdproto.TraceRecord{Dir: kdproto.DirOut, Packet: kdproto.Packet{Header: h}, Raw: hdr[:]})
			m.emit(Event{Kind: EventPacket, Dir: "in", Type: h.Type.String(), ID: h.ID})
			switch h.Type {
			case kdproto.PacketTypeAcknowledge:
				if want == kdproto.PacketTypeAcknowledge && h.ID == m.curID&^kdproto.SyncPacketID {
					m.nextOwnID()
					return recvOK, kdproto.Packet{Header: h}, nil
				}
			case kdproto.PacketTypeReset:
				if !m.kdnetIDs {
					m.curID, m.remoteID = kdproto.InitialPacketID, kdproto.InitialPacketID
				}
				m.outOfStep = false
				m.emit(Event{Kind: EventReset, Dir: "in"})
				if err := m.sendControl(l, kdproto.PacketTypeReset, 0); err != nil {
					return recvTimeout, kdproto.Packet{}, err
				}
				return recvResend, kdproto.Packet{}, nil
			}
			continue // a stray ACK or an unknown control type
		}
		if want == kdproto.PacketTypeAcknowledge {
			// A data packet while we wait for an ACK: the host evidently
			// has our packet. Ask for its packet again and move on; the
			// body is left to the next leader scan.
			m.trace(kdproto.TraceRecord{Dir: kdproto.DirOut, Packet: kdproto.Packet{Header: h}, Raw: hdr[:], Note: "while waiting for an ACK, body skipped"})
			if err := m.sendControl(l, kdproto.PacketTypeResend, 0); err != nil {
				return recvTimeout, kdproto.Packet{}, err
			}
			m.nextOwnID()
			return recvOK, kdproto.Packet{Header: h}, nil
		}
		if n := int(h.ByteCount); n > kdproto.MaxPacketSize || n < minMessage(want) {
			if err := m.nak(l, hdr[:], h, fmt.Sprintf("bad ByteCount %d", n)); err != nil {
				return recvTimeout, kdproto.Packet{}, err
			}
			continue
		}
		payload := l.payload[:h.ByteCount]
		ok, err := l.readFull(payload)
		if err != nil {
			return recvTimeout, kdproto.Packet{}, err
		}
		var why string
		if !ok {
			why = "payload timed out"
		} else if t, ok, err := l.getByte(m.cfg.ByteTimeout); err != nil {
			return recvTimeout, kdproto.Packet{}, err
		} else if !ok {
			why = "trailer timed out"
		} else if t != kdproto.PacketTrailingByte {
			why = fmt.Sprintf("bad trailer %#02x", t)
		} else if sum := kdproto.Checksum(payload); sum != h.Checksum {
			why = fmt.Sprintf("bad checksum %08x", sum)
		}
		if why != "" {
			if err := m.nak(l, hdr[:], h, why); err != nil {
				return recvTimeout, kdproto.Packet{}, err
			}
			continue
		}
		p := kdproto.Packet{Header: h, Payload: payload}
		var raw []byte
		if m.cfg.Trace != nil {
			raw = append(hdr[:], payload...)
		}
		if err := m.sendControl(l, kdproto.PacketTypeAcknowledge, h.ID); err != nil {
			return recvTimeout, kdproto.Packet{}, err
		}
		dup := h.ID != m.remoteID
		if m.kdnetIDs {
			// Over KDNET only a repeat of the last id is a duplicate.
			dup = m.haveHostID && h.ID == m.lastHostID
		}
		switch {
		case dup:
			if m.outOfStep {
				// Stay out of step: expect the id just seen, which the host,
				// having had its ACK, will not send next.
				m.remoteID = h.ID
			}
			m.trace(kdproto.TraceRecord{Dir: kdproto.DirOut, Packet: p, Raw: raw, Note: "duplicate, dropped"})
			m.emit(Event{Kind: EventPacket, Dir: "in", Type: h.Type.String(), ID: h.ID, API: apiOf(p), Detail: "duplicate"})
		case h.Type != want:
			m.trace(kdproto.TraceRecord{Dir: kdproto.DirOut, Packet: p, Raw: raw, Note: "unexpected type, dropped"})
			m.emit(Event{Kind: EventPacket, Dir: "in", Type: h.Type.String(), ID: h.ID, API: apiOf(p), Detail: "unexpected type"})
		default:
			m.trace(kdproto.TraceRecord{Dir: kdproto.DirOut, Packet: p, Raw: raw})
			m.emit(Event{Kind: EventPacket, Dir: "in", Type: h.Type.String(), ID: h.ID, API: apiOf(p)})
			m.remoteID ^= 1
			m.lastHostID, m.haveHostID = h.ID, true
			return recvOK, p, nil
		}
	}
}

// nextOwnID moves CurrentPacketId on once a packet was delivered: bit 0
// toggles and the sync bit clears (spec §3.2). With StickySyncBit it
// clears bit 3 instead, as VirtualKD's host-side emulation does, so the
// sync bit stays until a RESET.
func (m *Machine) nextOwnID() {
	drop := uint32(kdproto.SyncPacketID)
	if m.cfg.StickySyncBit {
		drop = 0x8
	}
	m.curID = (m.curID ^ 1) &^ drop
}

// nak answers a malformed data packet with RESEND (id 0).
func (m *Machine) nak(l *link, hdr []byte, h kdproto.Header, why string) error {
	m.trace(kdproto.TraceRecord{Dir: kdproto.DirOut, Packet: kdproto.Packet{Header: h}, Raw: hdr, Note: why})
	m.emit(Event{Kind: EventPacket, Dir: "in", Type: h.Type.String(), ID: h.ID, Detail: why})
	return m.sendControl(l, kdproto.PacketTypeResend, 0)
}

func (m *Machine) sendControl(l *link, t kdproto.PacketType, id uint32) error {
	raw := kdproto.AppendControl(m.ctlBuf[:0], t, id) // the line copies what it keeps
	h, _ := kdproto.ParseHeader(raw)
	if t == kdproto.PacketTypeResend {
		m.emit(Event{Kind: EventResend, Dir: "out"})
	}
	return m.transmit(l, raw, kdproto.Packet{Header: h})
}

// abandonable reports whether the newest ReactOS gives up on a packet
// after its retries: PrintString, LoadSymbols and CreateFile.
func abandonable(t kdproto.PacketType, payload []byte) bool {
	if len(payload) < 4 {
		return false
	}
	v := le.Uint32(payload)
	switch t {
	case kdproto.PacketTypeDebugIO:
		return kdproto.API(v) == kdproto.APIPrintString
	case kdproto.PacketTypeStateChange64:
		return kdproto.StateKind(v) == kdproto.StateLoadSymbols
	case kdproto.PacketTypeFileIO:
		return kdproto.API(v) == kdproto.APICreateFile
	}
	return false
}

// send is KdSendPacket: it sends a data packet with the current id until
// the host ACKs it. RESEND, RESET and a quiet break-in byte re-send it at
// once; each receive timeout costs one retry. Abandonable packets are
// dropped when the retries run out (the target then considers the host
// gone and resets its ids); all others are sent until acknowledged.
func (m *Machine) send(l *link, t kdproto.PacketType, payload []byte) (delivered bool, err error) {
	retries := m.cfg.Retries
	for {
		raw := kdproto.AppendData(m.rawBuf[:0], t, m.curID, payload)
		m.rawBuf = raw[:0]
		h, _ := kdproto.ParseHeader(raw)
		if err := m.transmit(l, raw, kdproto.Packet{Header: h, Payload: payload}); err != nil {
			return false, err
		}
		res, _, err := m.recv(l, kdproto.PacketTypeAcknowledge)
		if err != nil {
			return false, err
		}
		switch res {
		case recvOK:
			return true, nil
		case recvTimeout:
			retries--
			if retries <= 0 && abandonable(t, payload) {
				m.curID = kdproto.InitialPacketID | kdproto.SyncPacketID
				m.remoteID = kdproto.InitialPacketID
				m.hostPresent = false
				return false, nil
			}
		}
	}
}
