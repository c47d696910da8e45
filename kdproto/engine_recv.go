package kdproto

import (
	"bytes"
	"errors"
)

// readLoop reads the link until it fails or the engine is closed.
func (e *Engine) readLoop() {
	var err error
	for {
		p, rerr := e.link.Recv()
		if rerr != nil {
			var pe *PacketError
			if errors.As(rerr, &pe) {
				// A malformed packet: ask for it again and read on.
				e.traceBad(rerr)
				e.queueControl(PacketTypeResend, 0)
				continue
			}
			err = rerr
			break
		}
		e.handle(p)
	}
	e.shutdown(err)
}

func (e *Engine) shutdown(err error) {
	if e.isClosed() {
		e.err = ErrClosed
	} else {
		e.err = &LinkError{Err: err}
		e.queue.push(Event{Kind: EventLinkError, Err: e.err})
	}
	e.queue.close()
	close(e.done)
}

// emit queues an event for the consumer; it never blocks.
func (e *Engine) emit(ev Event) { e.queue.push(ev) }

// signalPending passes s to the request in flight, if any.
func (e *Engine) signalPending(s signal) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.signalLocked(s)
}

// signalLocked is signalPending with e.mu held. The signal channel has room
// for more signals than a request waits for; one that does not fit is
// dropped, and the request's timeouts cover it.
func (e *Engine) signalLocked(s signal) {
	if !e.pend.active {
		return
	}
	s.seq = e.pend.seq
	select {
	case e.sig <- s:
	default:
	}
}

// deliverReply passes a manipulate reply to the request in flight: the
// first reply with the request's API has its data copied into the
// request's buffer (the only copy: p's payload is the link's buffer) and,
// on a link with KD ACKs, its ACK held for the requester to send along
// with its next request. It reports whether the ACK was held.
func (e *Engine) deliverReply(m Manipulate, ackID uint32) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := &e.pend
	if !p.active {
		return false
	}
	s := signal{kind: sigReply, reply: m}
	held := false
	if answers(m, p.api, p.addr) && !p.filled {
		p.filled = true
		if p.dst != nil {
			s.reply.Data = p.dst[:copy(p.dst[:cap(p.dst)], m.Data)]
		} else {
			s.reply.Data = bytes.Clone(m.Data)
		}
		if !e.caps.NoAcks && !p.held {
			p.held, p.heldAck, held = true, ackID, true
		}
	} else {
		s.stale = true
		s.reply.Data = nil
	}
	e.signalLocked(s)
	return held
}

func (e *Engine) handle(p Packet) {
	if p.IsControl() {
		e.traceIn(p, "")
		switch p.Type {
		case PacketTypeAcknowledge:
			e.signalPending(signal{kind: sigAck, id: p.ID})
		case PacketTypeResend:
			e.signalPending(signal{kind: sigResend})
		case PacketTypeReset:
			e.onReset()
		}
		return
	}
	if e.caps.checksHeaders() {
		if why := headerDamaged(p); why != "" {
			// Noise in the header, which the checksum does not cover:
			// acknowledging it would lose the packet (the target would
			// take the ACK for its real packet); ask for it again.
			e.traceIn(p, why+": damaged, RESEND")
			e.queueControl(PacketTypeResend, 0)
			return
		}
	}
	e.mu.Lock()
	dup := e.haveLast && p.ID == e.lastRecv
	fresh := !dup && e.syncRestart(p)
	if fresh {
		// Only a target that started over sets the sync bit: it expects
		// the host's next packet to carry InitialPacketID again.
		e.nextID = InitialPacketID
	}
	if !dup {
		e.lastRecv, e.haveLast = p.ID, true
	}
	e.mu.Unlock()
	e.traceIn(p, e.dataNote(p, dup))
	// Every well-formed data packet is acknowledged, duplicates included,
	// with the sync bit cleared (the target compares against its id &^ 0x800),
	// unless the medium acknowledges delivery itself. The ACK of the reply
	// a request waits for is held for the requester (deliverReply).
	ack := func() {
		if !e.caps.NoAcks {
			e.queueControl(PacketTypeAcknowledge, p.ID&^SyncPacketID)
		}
	}
	if dup {
		ack()
		return
	}
	if p.Type != PacketTypeStateManipulate {
		ack()
	}
	switch p.Type {
	case PacketTypeStateManipulate:
		m, err := ParseManipulate(p.Payload)
		if err == nil && e.deliverReply(m, p.ID&^SyncPacketID) {
			return
		}
		ack()
		if err != nil {
			e.emit(Event{Kind: EventWarning, Text: []byte(err.Error())})
		}
	case PacketTypeStateChange64:
		sc, err := ParseStateChange(p.Payload)
		if err != nil {
			e.emit(Event{Kind: EventWarning, Text: []byte(err.Error())})
			return
		}
		sc.Extra = bytes.Clone(sc.Extra)
		e.mu.Lock()
		repeat := bytes.Equal(e.lastStop, p.Payload)
		if repeat && e.pend.active && e.pend.resumes && !e.pend.acked {
			// The stop the target re-sent before it took the request
			// that resumes it: the target's stream is in order, so a
			// copy of the last stop that comes before the ACK is the
			// old stop, not a new one. It was ACKed; drop it.
			e.mu.Unlock()
			return
		}
		// With no resume sent since the stop it copies, a repeat is
		// certainly a re-send, however late its reader takes it.
		stale := repeat && e.State() == StateStopped
		e.lastStop = append(e.lastStop[:0], p.Payload...)
		e.stops++
		e.state.Store(int32(StateStopped))
		if !repeat {
			e.signalLocked(signal{kind: sigTalk})
		}
		e.signalLocked(signal{kind: sigStateChange})
		e.mu.Unlock()
		e.emit(Event{Kind: EventStateChange, State: sc, Repeat: repeat, Stale: stale, Fresh: fresh})
	case PacketTypeDebugIO:
		d, err := ParseDebugIO(p.Payload)
		if err != nil {
			e.emit(Event{Kind: EventWarning, Text: []byte(err.Error())})
			return
		}
		switch d.API {
		case APIPrintString:
			// Only a running target prints: this is the ACK of a
			// resume that was lost on the line.
			e.signalPending(signal{kind: sigTalk})
			e.emit(Event{Kind: EventPrint, Text: bytes.Clone(d.Text())})
		case APIGetString:
			e.emit(Event{Kind: EventPrompt, Text: bytes.Clone(d.Text()), MaxReply: d.LengthRead})
		default:
			e.emit(Event{Kind: EventWarning, Text: []byte("unknown debug I/O request " + d.API.String())})
		}
	case PacketTypeFileIO:
		f, err := ParseFileIO(p.Payload)
		if err != nil {
			e.emit(Event{Kind: EventWarning, Text: []byte(err.Error())})
			return
		}
		// kd serves no files: every request fails as "no such file", which
		// lets the target go on at once instead of retrying.
		e.refuseFileIO(f.API)
	case PacketTypeStateChange32:
		e.emit(Event{Kind: EventWarning, Text: []byte("legacy 32-bit state change ignored")})
	default:
		// TRACE_IO, CONTROL_REQUEST and unknown types: acknowledged, ignored.
	}
}

// syncRestart reports whether data packet p says the target started its
// numbering over: it carries the sync bit, on a link whose RESET renumbers,
// from a target whose bit is not known to stick. A manipulate packet with
// the bit is a reply, and only a target that has been asked something
// replies, so it cannot have started over: that target keeps the bit set
// after an ACK (VirtualKD clears the wrong bit, spec §3.2), and its sync
// bit means nothing until the next RESET clears it. Called with e.mu held.
func (e *Engine) syncRestart(p Packet) bool {
	if p.ID&SyncPacketID == 0 || e.caps.ResetKeepsIDs {
		return false
	}
	if p.Type == PacketTypeStateManipulate {
		e.sticky = true
	}
	return !e.sticky
}

// dataNote says, for the trace, what becomes of a data packet.
func (e *Engine) dataNote(p Packet, dup bool) string {
	if e.trace.Load() == nil {
		return ""
	}
	switch {
	case dup:
		return "duplicate dropped"
	case p.Type == PacketTypeStateManipulate:
		e.mu.Lock()
		waiting := e.pend.active
		e.mu.Unlock()
		if !waiting {
			return "no request waiting, dropped"
		}
	case p.Type == PacketTypeTraceIO, p.Type == PacketTypeControlRequest, p.Type >= PacketTypeMax, p.Type == PacketTypeUnused:
		return "ignored"
	}
	return ""
}

// onReset handles a RESET from the target: both sides go back to
// InitialPacketID, and the duplicate filter is cleared rather than seeded,
// since the target's next packet carries InitialPacketID. On a link whose
// RESET keeps the ids (KDNET) both stay as they are.
func (e *Engine) onReset() {
	e.mu.Lock()
	if !e.caps.ResetKeepsIDs {
		e.nextID = InitialPacketID
		e.haveLast = false
		e.sticky = false // the RESET cleared the target's sync bit
	}
	e.resetGen++
	rs := e.resyncers
	e.resyncers = nil
	// The request in flight hears of the RESET before a resyncer wakes:
	// a resyncer that is a request repairing itself (repairReset) starts
	// its next attempt as soon as it wakes, and a signal sent after that
	// would restart the new attempt, which then sent its request twice.
	e.signalLocked(signal{kind: sigReset})
	e.mu.Unlock()
	for _, c := range rs {
		close(c)
	}
	if len(rs) == 0 {
		e.emit(Event{Kind: EventTargetReset})
	}
}
