package target

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gokd/kd/internal/safetext"
	"github.com/gokd/kd/kdproto"
)

// onEvent handles one engine event.
func (t *Target) onEvent(ctx context.Context, s *session, ev kdproto.Event) {
	switch ev.Kind {
	case kdproto.EventStateChange:
		t.onStateChange(ctx, s, ev)
	case kdproto.EventPrint:
		t.talked(s)
		t.emit(Print{Text: ev.Text})
	case kdproto.EventPrompt:
		t.talked(s)
		e := ev
		t.dbgPrompt = &e
		t.emit(Prompt{Text: ev.Text, MaxReply: ev.MaxReply})
	case kdproto.EventTargetReset:
		t.emit(TargetReset{})
	case kdproto.EventWarning:
		t.emit(Warning{Text: safetext.Sanitize(ev.Text)})
	case kdproto.EventRepaired:
		t.emit(Repaired{What: safetext.Sanitize(ev.Text)})
	case kdproto.EventLinkError:
		t.onLinkError(s, ev.Err)
	}
}

// talked notes that a running target spoke (DbgPrint): the connection is
// up even though kd cannot ask for its version until it stops.
func (t *Target) talked(s *session) {
	if s.established {
		return
	}
	s.established = true
	t.emit(Established{InitialBreak: s.initialBreak})
}

// onLinkError ends the session: the link is gone.
func (t *Target) onLinkError(s *session, err error) {
	t.mu.Lock()
	s.dead = true
	s.stopped = false
	t.mu.Unlock()
	if s.rebooting {
		// Some targets (and VMs) drop the line while they reboot.
		if rerr := t.reopenAfterReboot(); rerr == nil {
			return
		}
	}
	t.emit(LinkLost{Err: err})
}

// PendingPrompt reports whether a DbgPrompt waits for its answer.
func (t *Target) PendingPrompt() bool { return t.dbgPrompt != nil }

// AnswerPrompt sends line as the answer to the pending DbgPrompt, cut to
// the length the target accepts.
func (t *Target) AnswerPrompt(ctx context.Context, line string) error {
	ev := t.dbgPrompt
	t.dbgPrompt = nil
	s := t.session()
	if s == nil || ev == nil {
		return nil
	}
	b := []byte(line)
	if ev.MaxReply > 0 && uint32(len(b)) > ev.MaxReply {
		b = b[:ev.MaxReply]
	}
	return s.eng.AnswerPrompt(ctx, b)
}

// onStateChange handles the target stopping.
func (t *Target) onStateChange(ctx context.Context, s *session, ev kdproto.Event) {
	sc := ev.State

	if !s.haveVersion && !s.synced && !s.joinFresh(ev) {
		// The first stop of a connection: put the packet ids in step
		// with a RESET exchange before asking anything, unless the stop
		// carried the sync bit within the listen window (joinFresh). A
		// RESET loop already sending is left alone: two RESETs crossing
		// on the line would confuse the exchange.
		t.stopBreakins(s)
		if s.pendingStop == nil {
			t.startResetLoop(s, 0)
		}
		first := ev
		first.Repeat, first.Stale = false, false // kd has handled no stop yet
		s.pendingStop = &first
		return
	}
	if ev.Stale && !s.stopped {
		// A re-send of a stop kd handled before it resumed the target
		// (it waited in the queue meanwhile): the next stop is another.
		return
	}
	if ev.Repeat && s.stopped {
		t.stopBreakins(s) // it is stopped: a break-in would linger until the next g
		return
	}
	if ev.Repeat && s.eng.State() == kdproto.StateRunning {
		// The target re-sent the stop kd knows (after a RESET, a RESEND
		// or a stray byte). Re-sends cross with requests, so one can
		// reach kd after it resumed the target: the engine then says
		// running, while a new stop would have told it stopped.
		return
	}
	t.stopConnecting(s)
	// The event says the target is stopped, whatever the engine noted
	// when the ACK of the last Continue raced with this state change.
	s.eng.SetState(kdproto.StateStopped)
	t.mu.Lock()
	s.stopped = true
	s.stops++
	s.last = sc
	s.cpu = sc.Processor
	if sc.NumberProcessors > 0 && sc.NumberProcessors != 0xFFFFFFFF {
		s.nprocs = sc.NumberProcessors
	}
	s.contexts = nil
	breakin := s.breakinSent
	s.breakinSent = false
	stepping := s.stepping
	s.stepping = false
	switching := s.switching
	s.switching = false
	t.mu.Unlock()
	s.mem.clear()
	if sc.NumberProcessors == 0 || sc.NumberProcessors == 0xFFFFFFFF {
		t.emit(Warning{Notice: true, Text: fmt.Sprintf("the target's stop claims %d processors, which cannot be; kd keeps %d", sc.NumberProcessors, max(s.nprocs, 1))})
	}

	if !s.haveVersion && !t.connected(ctx, s) {
		return
	}
	if s.replant {
		t.replant(ctx, s)
	}
	if t.afterStep(ctx, s, sc, breakin) {
		return
	}
	st := Stopped{
		CPU: s.cpu, NProcs: s.nprocs, PC: sc.PC, Kind: StopOther,
		Breakpoint: -1, BreakIn: breakin, Step: stepping,
	}
	switch sc.NewState &^ kdproto.StateAlternate {
	case kdproto.StateLoadSymbols:
		if !t.onModuleLoad(ctx, s, sc, breakin) {
			return
		}
		st.Kind = StopModuleLoad
		st.Load = &ModuleLoad{Path: safetext.Sanitize(sc.ImagePath()), Base: sc.LoadSymbols.BaseOfDll}
	case kdproto.StateException:
		st.Kind = StopException
		st.Code = sc.Exception.Code
		st.FirstChance = sc.Exception.FirstChance != 0
	}
	t.liftTemps(ctx, s)
	if st.Kind == StopException {
		if bp := s.hitAt(sc, st.Code); bp != nil {
			bp.hits++
			if bp.passes > 1 && !breakin {
				// Not yet: count the pass down and carry on.
				bp.passes--
				if t.carryOn(ctx, s, t.continueRun(ctx, s)) {
					return
				}
			}
			st.Breakpoint = bp.id
			st.Action = bp.action
			if bp.oneShot && !breakin {
				if err := t.remove(ctx, s, bp); err != nil {
					t.emit(Failure{What: "bp /1", Err: err})
				}
			}
			s.plan = nil
		}
	}
	if s.plan != nil {
		if breakin || st.Kind != StopException {
			s.plan = nil
		} else if t.advance(ctx, s, &st, sc) {
			return
		}
	}
	if switching && !breakin {
		st.Kind = StopSwitch
	}
	if st.Kind != StopSwitch {
		t.fillStop(ctx, s, &st)
	}
	t.emit(st)
}

// fillStop adds the location (and after a step the registers) to a stop.
func (t *Target) fillStop(ctx context.Context, s *session, st *Stopped) {
	if st.Step {
		regs, err := t.registers(ctx, s)
		if err == nil {
			st.Regs = &regs
			st.Location = t.location(ctx, s, regs.PC())
			return
		}
		t.emit(Failure{What: "r", Err: err})
	}
	st.Location = t.location(ctx, s, st.PC)
}

// hitAt returns the breakpoint a stop hit: the enabled software one at
// the stop address of a breakpoint exception, or the hardware one whose
// Dr6 bit a single-step exception reports.
func (s *session) hitAt(sc kdproto.StateChange, code kdproto.Status) *breakpoint {
	switch code {
	case kdproto.StatusBreakpoint:
		if b := s.breakpointAt(sc.PC); b != nil && b.enabled {
			return b
		}
	case kdproto.StatusSingleStep:
		return s.hardwareHit(sc.AMD64Report().Dr6)
	}
	return nil
}

// continueRun lets the target go on after a breakpoint pass: the plan's
// temporary breakpoints go back in when there is one.
func (t *Target) continueRun(ctx context.Context, s *session) error {
	if s.plan != nil && len(s.plan.temps) > 0 {
		return t.goPlan(ctx, s)
	}
	s.plan = nil
	return t.resume(ctx, s, false)
}

// afterStep finishes stepping off a breakpoint: the breakpoint goes back
// in and, when the step was for g, the target runs on without a word. It
// reports whether the stop was consumed.
func (t *Target) afterStep(ctx context.Context, s *session, sc kdproto.StateChange, breakin bool) bool {
	bp := s.reinsert
	if bp == nil && !s.hwStepOff {
		return false
	}
	s.reinsert = nil
	s.hwStepOff = false
	if bp != nil && bp.enabled {
		if h, err := s.eng.WriteBreakPoint(ctx, s.cpu, bp.addr); err == nil {
			bp.handle, bp.written = h, true
		} else {
			t.emit(Failure{What: "bp", Err: err})
		}
	}
	cont := s.continueAfterStep
	s.continueAfterStep = false
	if !cont || breakin || sc.Exception.Code != kdproto.StatusSingleStep {
		return false
	}
	if err := t.resume(ctx, s, false); err != nil {
		t.emit(Failure{What: "g", Err: err})
		return false
	}
	return true
}

// maxVersionTries bounds the RESET exchanges kd makes by itself when the
// version cannot be read at the first stop.
const maxVersionTries = 3

// connected asks for the version at the first stop. It reports whether
// it got it; on failure the next stop (or a resync) asks again.
func (t *Target) connected(ctx context.Context, s *session) bool {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := s.eng.GetVersion(rctx)
	var le *kdproto.LinkError
	if err != nil && (s.ctx.Err() != nil || errors.As(err, &le) || errors.Is(err, kdproto.ErrClosed)) {
		// The session is ending (CTRL+B, end of input) or the link went:
		// that is said once, as LinkLost, not as a failed GetVersion.
		return false
	}
	if err != nil {
		if s.ctx.Err() == nil {
			// Not when the connection is being closed (kd leaves,
			// .restart): nothing failed then. A CTRL+C that cut the
			// read short is reported, with the way to try again.
			if ctx.Err() == nil && s.versionTries < maxVersionTries && !s.dead {
				// A lost reply or a deaf moment is not a reason to give
				// up: put the ids in step with a RESET exchange, after
				// which the target re-sends its stop, and ask again.
				s.versionTries++
				t.emit(Repaired{What: fmt.Sprintf("kd could not read the target's version (%s); resynchronizing to ask again (%d of %d)", safetext.Sanitize([]byte(err.Error())), s.versionTries, maxVersionTries)})
				t.mu.Lock()
				s.stopped = false
				t.mu.Unlock()
				s.synced = false
				t.startResetLoop(s, 0)
				return false
			}
			t.emit(Failure{What: "GetVersion", Err: err, Hints: []string{"press CTRL+R then ENTER to resynchronize and try again"}})
		}
		return false
	}
	s.versionTries = 0
	s.version, s.haveVersion = v, true
	s.rebooting = false
	s.mods = nil
	announce := !s.established
	s.established = true
	t.emit(Connected{Info: Info{Version: v, NProcs: s.nprocs, Time: t.cfg.Now()}, Announce: announce, InitialBreak: s.initialBreak})
	return true
}

// onModuleLoad handles a module-load stop. It reports whether the target
// stays stopped: the user asked to break at the first module load, or
// broke in (CTRL+C, -b) and the load came first (the break-in loop ended
// with this stop; continuing would leave the target running for good).
// Otherwise it continues at once.
func (t *Target) onModuleLoad(ctx context.Context, s *session, sc kdproto.StateChange, breakin bool) bool {
	s.mods = nil // the module list changed
	t.resolveDeferred(ctx, s)
	ml := ModuleLoad{Path: safetext.Sanitize(sc.ImagePath()), Base: sc.LoadSymbols.BaseOfDll, Unload: sc.LoadSymbols.Unload}
	if breakin || s.breakOnLoad && !sc.LoadSymbols.Unload {
		s.breakOnLoad = false
		return true
	}
	t.emit(ml)
	if err := t.resume(ctx, s, false); err != nil {
		t.emit(Failure{What: "g", Err: err})
	}
	return false
}

// Interrupt is CTRL+C (and CTRL+F ENTER, and SIGINT). It breaks into a
// running target, one kd is still waiting for, or one it is not sure
// about (during a resync), and reports true; when the target is stopped
// it reports false and the caller cancels the command in progress.
func (t *Target) Interrupt() bool {
	t.mu.Lock()
	s := t.sess
	resync := t.resyncing
	if s == nil || s.dead {
		t.mu.Unlock()
		return false
	}
	if s.stopped && !resync {
		// A multi-step command (p 5, pa) may be between two stops: it
		// ends at the next one.
		s.planBreak.Store(true)
		t.mu.Unlock()
		return false
	}
	t.mu.Unlock()
	t.startBreakins(s, 500*time.Millisecond)
	return true
}

// Resync begins CTRL+R ENTER: RESET packets until the target answers.
// Commands wait until it is over (Ready is false); a request stalled on a
// link that fell out of step is sent again after the RESET exchange. It is
// safe from any goroutine; the end is a ResyncDone event.
func (t *Target) Resync() error {
	t.mu.Lock()
	s := t.sess
	if s == nil || s.dead {
		t.mu.Unlock()
		return errors.New("not connected")
	}
	if t.resyncing {
		t.mu.Unlock()
		return ErrResyncInProgress
	}
	t.resyncing = true
	t.mu.Unlock()
	t.emit(ResyncStarted{})
	s.goBackground(func() {
		res, err := s.eng.Resync(s.ctx, kdproto.ResyncOptions{Interval: time.Second, Max: t.resets()})
		if !errors.Is(err, context.Canceled) {
			// Said at once, not when the runner is free again.
			t.mu.Lock()
			stopped := s.stopped
			t.mu.Unlock()
			t.emit(ResyncDone{Elapsed: res.Elapsed, Resets: res.Resets, Err: err, Stopped: stopped})
		}
		t.post(s.ctx, s.gen, resyncNote{res: res, err: err})
		if s.ctx.Err() != nil {
			t.mu.Lock()
			t.resyncing = false
			t.mu.Unlock()
		}
	})
	return nil
}

// ErrResyncInProgress is returned by Resync while one is under way.
var ErrResyncInProgress = errors.New("resync already in progress")

// onResyncDone finishes a resync on the runner: commands may run again,
// and after a successful one the stop location is shown again.
func (t *Target) onResyncDone(ctx context.Context, s *session, n resyncNote) {
	t.mu.Lock()
	t.resyncing = false
	stopped := s.stopped
	t.mu.Unlock()
	if stopped {
		t.stopBreakins(s)
	}
	if n.err == nil && stopped && !s.haveVersion {
		// The version read at this stop failed (the hint said CTRL+R):
		// handle the stop again now that the link is in step.
		t.onStateChange(ctx, s, kdproto.Event{Kind: kdproto.EventStateChange, State: s.last})
		return
	}
	if n.err == nil && stopped && s.haveVersion {
		t.emit(Where{Location: t.location(ctx, s, s.last.PC)})
	}
}

// SplitPrompt splits DbgPrompt text into what is printed and the last
// line, the prompt the answer is typed after.
func SplitPrompt(text []byte) (head, tail []byte) {
	i := bytes.LastIndexByte(text, '\n')
	return text[:i+1], text[i+1:]
}
