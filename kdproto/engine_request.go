package kdproto

import (
	"context"
	"errors"
	"fmt"
	"time"
)

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
	if e.State() == StateRunning {
		return Manipulate{}, &RequestError{API: m.API, Err: ErrTargetRunning}
	}
	if ManipulateSize+len(m.Data) > e.opts.MaxPacket {
		return Manipulate{}, &RequestError{API: m.API, Err: fmt.Errorf("%w: %d data bytes", ErrPacketTooLarge, len(m.Data))}
	}
	if err := e.acquire(ctx); err != nil {
		return Manipulate{}, &RequestError{API: m.API, Err: err}
	}
	defer e.release()
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
	reply, err := e.transact(ctx, PacketTypeStateManipulate, e.payload, m.API, m.API.HasReply())
	e.mu.Lock()
	defer e.mu.Unlock()
	if resumes {
		switch {
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
	_, err := e.transact(ctx, PacketTypeDebugIO, d.Append(nil), APIGetString, false)
	return err
}

// acquire takes the request slot, giving up when ctx ends or the engine stops.
func (e *Engine) acquire(ctx context.Context) error {
	select {
	case e.reqSem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-e.done:
		return e.err
	}
}

func (e *Engine) release() { <-e.reqSem }

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
		_, _ = e.transact(ctx, PacketTypeFileIO, f.Append(nil), api, false)
	}()
}

// transact sends one data packet, waits for its ACK (retransmitting on
// RESEND and on ACK timeouts) and, if wantReply, for the manipulate reply
// with the same API. A RESET from the target, or a state change re-sent
// while the reply is awaited, means the target dropped the request: it is
// sent once more with the new id, then the request fails. The caller holds
// the request slot (acquire).
func (e *Engine) transact(ctx context.Context, t PacketType, payload []byte, api API, wantReply bool) (Manipulate, error) {
	select {
	case <-e.done:
		return Manipulate{}, &RequestError{API: api, Err: e.err}
	default:
	}
	restarts := 1
	// One channel for every attempt: when a RESET crosses a request that
	// the target had in fact received after its reset, the reply to that
	// first copy still answers the request sent again.
	ch := make(chan signal, 16)
	for {
		e.mu.Lock()
		id, gen := e.nextID, e.resetGen
		p := &pending{id: id, api: api, ch: ch}
		e.pend = p
		e.mu.Unlock()
		e.pkt = AppendData(e.pkt[:0], t, id, payload)
		reply, err := e.exchange(ctx, p, gen, e.pkt, wantReply)
		e.mu.Lock()
		if e.pend == p {
			e.pend = nil
		}
		e.mu.Unlock()
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

func (e *Engine) exchange(ctx context.Context, p *pending, gen int, pkt []byte, wantReply bool) (Manipulate, error) {
	if err := e.sendRaw(pkt); err != nil {
		return Manipulate{}, err
	}
	reply, gotReply, err := e.waitAck(ctx, p, pkt)
	if err != nil {
		return Manipulate{}, err
	}
	e.mu.Lock()
	if e.resetGen == gen {
		e.nextID = p.id ^ 1
	}
	e.mu.Unlock()
	if !wantReply {
		return Manipulate{}, nil
	}
	if gotReply && reply.API == p.api {
		return reply, nil
	}
	timer := time.NewTimer(e.opts.ReplyTimeout)
	defer timer.Stop()
	for {
		select {
		case s := <-p.ch:
			switch s.kind {
			case sigReply:
				if s.reply.API == p.api {
					return *s.reply, nil
				}
				// A stale reply to an earlier request: drop it.
			case sigReset, sigStateChange:
				return Manipulate{}, errRestart
			}
		case <-timer.C:
			return Manipulate{}, ErrNoReply
		case <-ctx.Done():
			return Manipulate{}, ctx.Err()
		case <-e.done:
			return Manipulate{}, e.err
		}
	}
}

// waitAck waits for the ACK of pkt. A manipulate reply that arrives first
// counts as the ACK (the ACK was lost on the line).
func (e *Engine) waitAck(ctx context.Context, p *pending, pkt []byte) (Manipulate, bool, error) {
	timer := time.NewTimer(e.opts.AckTimeout)
	defer timer.Stop()
	timeouts, resends := 0, 0
	resend := func() error {
		if err := e.sendRaw(pkt); err != nil {
			return err
		}
		timer.Reset(e.opts.AckTimeout)
		return nil
	}
	for {
		select {
		case s := <-p.ch:
			switch s.kind {
			case sigAck:
				if s.id == p.id {
					return Manipulate{}, false, nil
				}
			case sigReply:
				return *s.reply, true, nil
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
			}
		case <-timer.C:
			timeouts++
			if timeouts > e.opts.Retries {
				return Manipulate{}, false, fmt.Errorf("%w after %d tries", ErrNoAck, timeouts)
			}
			if err := resend(); err != nil {
				return Manipulate{}, false, err
			}
		case <-ctx.Done():
			return Manipulate{}, false, ctx.Err()
		case <-e.done:
			// The link went down; an ACK read just before still counts
			// (a target that reboots ACKs, then drops the link).
			for {
				select {
				case s := <-p.ch:
					if s.kind == sigAck && s.id == p.id {
						return Manipulate{}, false, nil
					}
					if s.kind == sigReply {
						return *s.reply, true, nil
					}
					continue
				default:
				}
				return Manipulate{}, false, e.err
			}
		}
	}
}

// ResyncOptions configure Resync.
type ResyncOptions struct {
	// Interval between RESET packets (default 1s).
	Interval time.Duration
	// Max is the most RESET packets to send; 0 means no limit (KD's resets=0).
	Max int
}

// ResyncResult reports a completed resynchronisation.
type ResyncResult struct {
	Resets  int           // RESET packets sent
	Elapsed time.Duration // from the first RESET to the target's answer
}

// Resync sends RESET packets until the target answers with its own RESET,
// then both sides number their packets from InitialPacketID again. A target
// that is stopped re-sends its state change afterwards (an EventStateChange
// with Repeat set when nothing else changed). A running target only reads
// packets when it next talks (a DbgPrint) or after a break-in, so Resync
// keeps trying until Max is reached or ctx ends; BreakIn from another
// goroutine completes it. A request in flight is sent again once after the
// RESET.
func (e *Engine) Resync(ctx context.Context, o ResyncOptions) (ResyncResult, error) {
	if err := ctx.Err(); err != nil {
		return ResyncResult{}, err
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	answered := make(chan struct{})
	e.mu.Lock()
	e.resyncers = append(e.resyncers, answered)
	e.mu.Unlock()
	defer e.dropResyncer(answered)
	start := time.Now()
	var timer *time.Timer
	for n := 1; ; n++ {
		if err := e.sendControl(PacketTypeReset, 0); err != nil {
			return ResyncResult{Resets: n}, err
		}
		if timer == nil {
			timer = time.NewTimer(o.Interval)
			defer timer.Stop()
		} else {
			timer.Reset(o.Interval)
		}
		select {
		case <-answered:
			return ResyncResult{Resets: n, Elapsed: time.Since(start)}, nil
		case <-timer.C:
			if o.Max > 0 && n >= o.Max {
				return ResyncResult{Resets: n, Elapsed: time.Since(start)}, fmt.Errorf("%w after %d RESET packets", ErrResyncFailed, n)
			}
		case <-ctx.Done():
			return ResyncResult{Resets: n, Elapsed: time.Since(start)}, ctx.Err()
		case <-e.done:
			return ResyncResult{Resets: n, Elapsed: time.Since(start)}, e.err
		}
	}
}

func (e *Engine) dropResyncer(c chan struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, r := range e.resyncers {
		if r == c {
			e.resyncers = append(e.resyncers[:i], e.resyncers[i+1:]...)
			return
		}
	}
}
