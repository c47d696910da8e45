package kdproto

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// errEngineDone tells a request waiting for a signal that the reader
// stopped: the caller looks at what was read before and at e.err.
var errEngineDone = errors.New("kdproto: engine stopped")

// errRestart tells transact that a RESET (or a re-sent state change) threw
// the request away and it must be sent again with the new id.
var errRestart = errors.New("kdproto: restart request")

// Request sends a manipulate request and returns the target's reply. For
// APIs without a reply (Continue, Continue2, Reboot, CauseBugCheck,
// SwitchProcessor, ClearAllInternalBreakpoints) it returns once the target
// has acknowledged the request, with a zero Manipulate.
//
// A failing ReturnStatus is not an error here: callers check
// reply.ReturnStatus (a Status is an error value).
func (e *Engine) Request(ctx context.Context, m Manipulate) (Manipulate, error) {
	if err := e.check(m); err != nil {
		return Manipulate{}, err
	}
	if err := e.acquire(ctx); err != nil {
		return Manipulate{}, &RequestError{API: m.API, Err: err}
	}
	defer e.release()
	return e.request(ctx, m, nil)
}

// check refuses a request that cannot be sent.
func (e *Engine) check(m Manipulate) error {
	if e.State() == StateRunning {
		return &RequestError{API: m.API, Err: ErrTargetRunning}
	}
	if ManipulateSize+len(m.Data) > e.opts.MaxPacket {
		return &RequestError{API: m.API, Err: fmt.Errorf("%w: %d data bytes", ErrPacketTooLarge, len(m.Data))}
	}
	return nil
}

// request is Request for a caller holding the request slot. The reply's
// data goes into dst (up to its capacity) when dst is not nil, else into a
// fresh slice.
func (e *Engine) request(ctx context.Context, m Manipulate, dst []byte) (Manipulate, error) {
	if err := e.check(m); err != nil {
		return Manipulate{}, err
	}
	e.payload = m.Append(e.payload[:0])
	// Note a resumed target before sending: the next state change can
	// overtake the ACK.
	resumes := m.API.Resumes()
	e.mu.Lock()
	before, stops := e.State(), e.stops
	if resumes {
		e.state.Store(int32(StateRunning))
	}
	e.mu.Unlock()
	var addr uint64
	if echoesAddress(m.API) {
		addr = binary.LittleEndian.Uint64(m.U[:8])
	}
	reply, err := e.transactAt(ctx, PacketTypeStateManipulate, e.payload, m.API, addr, m.API.HasReply(), dst)
	e.mu.Lock()
	defer e.mu.Unlock()
	if resumes {
		switch {
		case err != nil && e.stops == stops && (errors.Is(err, ErrNoAck) || errors.Is(err, ErrTooManyResends) || ctx.Err() != nil):
			// No ACK and no word from the target (or the caller gave
			// up while its exchange is finished in the background): it
			// may have taken the request (its ACK lost) and run, or not. kd does not
			// know, and says so: a break-in settles it (a stopped
			// target re-sends its stop, a running one stops).
			e.state.Store(int32(StateUnknown))
		case err != nil && e.stops == stops:
			// Not resumed after all.
			e.state.Store(int32(before))
		case err == nil && e.stops == stops:
			// A new stop that looks like the last one (the same breakpoint
			// hit again) is not a repeat.
			e.lastStop = e.lastStop[:0]
		}
	}
	if err != nil {
		return Manipulate{}, err
	}
	return reply, nil
}

// AnswerPrompt sends the answer to a DbgPrompt (EventPrompt).
func (e *Engine) AnswerPrompt(ctx context.Context, text []byte) error {
	d := DebugIO{API: APIGetString, Length: uint32(len(text)), LengthRead: uint32(len(text)), Data: text}
	if DebugIOSize+len(text) > e.opts.MaxPacket {
		return fmt.Errorf("kdproto: answer of %d bytes is too long", len(text))
	}
	if err := e.acquire(ctx); err != nil {
		return err
	}
	defer e.release()
	e.payload = d.Append(e.payload[:0])
	_, err := e.transact(ctx, PacketTypeDebugIO, e.payload, APIGetString, false, nil)
	return err
}

// acquire takes the request slot, giving up when ctx ends or the engine stops.
func (e *Engine) acquire(ctx context.Context) error {
	// A select with a free slot and a done context picks either: a
	// cancelled request must never start.
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case e.reqSem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-e.done:
		return e.err
	}
}

// release gives the request slot back, first sending the ACK of the last
// reply if no request of this holder took it along.
func (e *Engine) release() {
	if h := e.handoff; h != nil {
		// A cancelled exchange is being finished: it releases the slot.
		e.handoff = nil
		close(h)
		return
	}
	if e.carry {
		e.carry = false
		e.queueControl(PacketTypeAcknowledge, e.carryID)
	}
	<-e.reqSem
}

// refuseFileIO answers a target's file request with STATUS_NO_SUCH_FILE.
// One refusal runs at a time: requests that come meanwhile are dropped
// (the target sends them again), so a flood of them costs nothing.
func (e *Engine) refuseFileIO(api API) {
	if !e.refusing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer e.refusing.Store(false)
		f := FileIO{API: api, Status: StatusNoSuchFile}
		ctx, cancel := context.WithTimeout(context.Background(), e.opts.AckTimeout*time.Duration(e.opts.Retries+1))
		defer cancel()
		if e.acquire(ctx) != nil {
			return
		}
		defer e.release()
		e.payload = f.Append(e.payload[:0])
		_, _ = e.transact(ctx, PacketTypeFileIO, e.payload, api, false, nil)
	}()
}

// transact sends one data packet, waits for its ACK (retransmitting on
// RESEND and on ACK timeouts) and, if wantReply, for the manipulate reply
// that answers it, whose data goes to dst as for request. A RESET from
// the target, or a state change re-sent while the reply is awaited, means
// the target dropped the request: it is sent once more with the new id,
// then the request fails. The caller holds the request slot (acquire).
//
// A request whose context ends after its packet went out is not
// abandoned: the target may have taken it, and the packet ids are only in
// step once its ACK (and reply) came. The exchange is finished in the
// background, bounded by the engine's timeouts, and the slot is handed
// over to it (release then waits for nothing); the caller returns at once.
func (e *Engine) transact(ctx context.Context, t PacketType, payload []byte, api API, wantReply bool, dst []byte) (Manipulate, error) {
	return e.transactAt(ctx, t, payload, api, 0, wantReply, dst)
}

func (e *Engine) transactAt(ctx context.Context, t PacketType, payload []byte, api API, addr uint64, wantReply bool, dst []byte) (Manipulate, error) {
	select {
	case <-e.done:
		return Manipulate{}, &RequestError{API: api, Err: e.err}
	default:
	}
	restarts := 1
	repaired := false
	// One request number for every attempt: when a RESET crosses a request
	// that the target had in fact received after its reset, the reply to
	// that first copy still answers the request sent again.
	e.seq++
	for {
		e.mu.Lock()
		id, gen := e.nextID, e.resetGen
		e.pend = pending{active: true, seq: e.seq, id: id, api: api, addr: addr, resumes: api.Resumes() && t == PacketTypeStateManipulate, dst: dst}
		e.mu.Unlock()
		// On the stack: only an exchange handed to finishInBackground
		// moves to the heap (a copy), so a request allocates nothing.
		x := xchg{pkt: Packet{Header: DataHeader(t, id, payload), Payload: payload}, gen: gen, wantReply: wantReply}
		reply, err := e.exchange(ctx, &x)
		if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) && x.sent {
			bg := x
			e.finishInBackground(&bg)
			return Manipulate{}, &RequestError{API: api, ID: id, Err: err}
		}
		e.endAttempt()
		if errors.Is(err, ErrNoReply) && api.Idempotent() && !repaired && e.caps.checksHeaders() {
			// Acknowledged, never answered: the target dropped the
			// request (its ids fell out of step) or lost its reply.
			// Both sides renumber with a RESET and the request, which
			// does nothing twice, goes again.
			repaired = true
			if rerr := e.repairReset(ctx); rerr == nil {
				e.emit(Event{Kind: EventRepaired, Text: []byte(fmt.Sprintf("kd resynchronized with the target after a lost %s reply and sent the request again", api))})
				restarts++
				continue
			}
		}
		if errors.Is(err, errRestart) {
			if restarts > 0 {
				restarts--
				continue
			}
			err = ErrResyncInterrupted
		}
		if err != nil {
			return Manipulate{}, &RequestError{API: api, ID: id, Err: err}
		}
		return reply, nil
	}
}

// endAttempt stops the reader from signalling the request and takes over
// the ACK it held, which then goes with the holder's next request or at
// release, whether the request succeeded or gave up.
func (e *Engine) endAttempt() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.pend.held {
		e.carry, e.carryID = true, e.pend.heldAck
	}
	e.pend = pending{}
}

// finishInBackground finishes the exchange x, whose caller gave up, and
// then releases the request slot (once the caller released it too).
func (e *Engine) finishInBackground(x *xchg) {
	e.mu.Lock()
	e.pend.dst = nil // the caller's buffer is the caller's again
	e.mu.Unlock()
	handed := make(chan struct{})
	e.handoff = handed
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), e.opts.AckTimeout*time.Duration(e.opts.Retries+1)+e.opts.ReplyTimeout)
		_, _ = e.exchange(ctx, x)
		cancel()
		e.endAttempt()
		<-handed
		e.release()
	}()
}

// repairReset sends RESET packets until the target answers (a stopped
// target does at once), within the engine's reply timeout.
func (e *Engine) repairReset(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, e.opts.ReplyTimeout)
	defer cancel()
	_, err := e.Resync(rctx, ResyncOptions{Interval: e.opts.AckTimeout, Max: 2})
	return err
}

// xchg is one exchange of a request packet, resumable after its caller
// gave up (finishInBackground).
type xchg struct {
	pkt       Packet
	gen       int
	wantReply bool
	sent      bool // the packet went out
	acked     bool // its ACK came (or the medium confirmed it)
	got       bool // the reply came
}

// sendPacket sends pkt, preceded in the same write by the ACK of the last
// reply when one is waiting, and waits for the write.
func (e *Engine) sendPacket(pkt Packet) error {
	it := outItem{pkt: pkt, done: e.reqDone}
	if e.carry {
		e.carry = false
		return e.send(e.reqDone, outItem{pkt: Packet{Header: ControlHeader(PacketTypeAcknowledge, e.carryID)}}, it)
	}
	return e.send(e.reqDone, it)
}

// wait returns the next signal for the request in flight, or ok=false when
// the timer fires. Signals for earlier requests are skipped.
func (e *Engine) wait(ctx context.Context) (signal, bool, error) {
	for {
		select {
		case s := <-e.sig:
			if s.seq != e.seq {
				continue
			}
			return s, true, nil
		case <-e.timer.C:
			return signal{}, false, nil
		case <-ctx.Done():
			return signal{}, false, ctx.Err()
		case <-e.done:
			return signal{}, false, errEngineDone
		}
	}
}

func (e *Engine) exchange(ctx context.Context, x *xchg) (Manipulate, error) {
	defer e.timer.Stop()
	if !x.sent {
		if err := e.sendPacket(x.pkt); err != nil {
			return Manipulate{}, err
		}
		x.sent = true
	}
	var reply Manipulate
	gotReply, resends := false, 0
	if !x.acked {
		if !e.caps.NoAcks {
			var err error
			reply, gotReply, err = e.waitAck(ctx, x.pkt)
			if err != nil {
				return Manipulate{}, err
			}
		}
		x.acked = true
		e.mu.Lock()
		e.pend.acked = true
		if e.resetGen == x.gen {
			e.nextID = x.pkt.ID ^ 1
		}
		e.mu.Unlock()
	}
	if !x.wantReply || x.got {
		return Manipulate{}, nil
	}
	if gotReply {
		x.got = true
		return reply, nil
	}
	e.timer.Reset(e.opts.ReplyTimeout)
	for {
		s, ok, err := e.wait(ctx)
		switch {
		case err == errEngineDone:
			return Manipulate{}, e.err
		case err != nil:
			return Manipulate{}, err
		case !ok:
			return Manipulate{}, ErrNoReply
		}
		switch s.kind {
		case sigReply:
			if !s.stale {
				x.got = true
				return s.reply, nil
			}
			// A stale reply to an earlier request: drop it.
		case sigReset, sigStateChange:
			return Manipulate{}, errRestart
		case sigResend:
			// Without KD ACKs, the target's RESEND is the only sign that
			// it could not take the request.
			if e.caps.NoAcks {
				resends++
				if resends > 4*e.opts.Retries {
					return Manipulate{}, ErrTooManyResends
				}
				if err := e.sendPacket(x.pkt); err != nil {
					return Manipulate{}, err
				}
			}
		}
	}
}

// waitAck waits for the ACK of pkt. A manipulate reply that arrives first
// counts as the ACK (the ACK was lost on the line); it is returned when it
// answers the request.
func (e *Engine) waitAck(ctx context.Context, pkt Packet) (Manipulate, bool, error) {
	e.timer.Reset(e.opts.AckTimeout)
	timeouts, resends := 0, 0
	resend := func() error {
		if err := e.sendPacket(pkt); err != nil {
			return err
		}
		e.timer.Reset(e.opts.AckTimeout)
		return nil
	}
	for {
		s, ok, err := e.wait(ctx)
		if err == errEngineDone {
			// The link went down; an ACK read just before still counts
			// (a target that reboots ACKs, then drops the link).
			return e.drainAck(pkt.ID)
		}
		if err != nil {
			return Manipulate{}, false, err
		}
		if !ok {
			timeouts++
			if timeouts > e.opts.Retries {
				return Manipulate{}, false, fmt.Errorf("%w after %d tries", ErrNoAck, timeouts)
			}
			if err := resend(); err != nil {
				return Manipulate{}, false, err
			}
			continue
		}
		switch s.kind {
		case sigAck:
			if s.id == pkt.ID {
				return Manipulate{}, false, nil
			}
		case sigReply:
			if s.stale {
				return Manipulate{}, false, nil
			}
			return s.reply, true, nil
		case sigResend:
			resends++
			if resends > 4*e.opts.Retries {
				return Manipulate{}, false, ErrTooManyResends
			}
			if err := resend(); err != nil {
				return Manipulate{}, false, err
			}
		case sigReset:
			return Manipulate{}, false, errRestart
		case sigTalk:
			// A DbgPrint or a new stop: the target runs, so it took
			// the request that resumed it and its ACK was lost.
			e.mu.Lock()
			resumes := e.pend.resumes
			e.mu.Unlock()
			if resumes {
				return Manipulate{}, false, nil
			}
		}
	}
}

// drainAck looks, once the link is down, for the ACK of id (or a reply)
// among the signals read before it went.
func (e *Engine) drainAck(id uint32) (Manipulate, bool, error) {
	for {
		select {
		case s := <-e.sig:
			if s.seq != e.seq {
				continue
			}
			if s.kind == sigAck && s.id == id {
				return Manipulate{}, false, nil
			}
			if s.kind == sigReply {
				if s.stale {
					return Manipulate{}, false, nil
				}
				return s.reply, true, nil
			}
		default:
			return Manipulate{}, false, e.err
		}
	}
}
