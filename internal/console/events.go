package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gokd/kd/kdproto"
)

// breakBox is the box KD prints when the user broke in (spec §4.3).
const breakBox = `*******************************************************************************
*                                                                             *
*   You are seeing this message because you pressed either                    *
*       CTRL+C (if you run console kernel debugger) or,                       *
*       CTRL+BREAK (if you run GUI kernel debugger),                          *
*   on your debugger machine's keyboard.                                      *
*                                                                             *
*                   THIS IS NOT A BUG OR A SYSTEM CRASH                       *
*                                                                             *
* If you did not intend to break into the debugger, press the "g" key, then   *
* press the "Enter" key now.  This message might immediately reappear.  If it *
* does, press "g" and "Enter" again.                                          *
*                                                                             *
*******************************************************************************`

// onEvent handles one engine event.
func (c *Console) onEvent(ctx context.Context, s *session, ev kdproto.Event) {
	switch ev.Kind {
	case kdproto.EventStateChange:
		c.onStateChange(ctx, s, ev)
	case kdproto.EventPrint:
		c.talked(s)
		c.out.Target(ev.Text)
	case kdproto.EventPrompt:
		// DbgPrompt: the text up to its last line is printed; the last
		// line is the prompt the answer is typed after.
		c.talked(s)
		i := bytes.LastIndexByte(ev.Text, '\n')
		head, tail := ev.Text[:i+1], ev.Text[i+1:]
		c.out.Target(head)
		c.dbgPromptText = Sanitize(tail)
		if !c.in.Interactive() {
			c.out.Target(tail)
		} else {
			c.out.FlushTarget()
		}
		e := ev
		c.dbgPrompt = &e
	case kdproto.EventTargetReset:
		if c.verbose.Load() {
			c.out.Printf("Target sent a RESET: packet ids start again.")
		}
	case kdproto.EventWarning:
		if c.verbose.Load() {
			c.out.Warnf("%s", Sanitize(ev.Text))
		}
	case kdproto.EventLinkError:
		c.onLinkError(ctx, s, ev.Err)
	}
}

// talked notes that a running target spoke (DbgPrint): the connection is
// up even though kd cannot ask for its version until it stops.
func (c *Console) talked(s *session) {
	if s.established {
		return
	}
	s.established = true
	c.out.Printf("%s", establishedLine(s))
}

func establishedLine(s *session) string {
	if s.initialBreak {
		return "Kernel Debugger connection established.  (Initial Breakpoint requested)"
	}
	return "Kernel Debugger connection established."
}

// onLinkError ends the session: the link is gone.
func (c *Console) onLinkError(ctx context.Context, s *session, err error) {
	c.mu.Lock()
	s.dead = true
	s.stopped = false
	c.mu.Unlock()
	if c.finished() {
		return
	}
	if s.rebooting {
		// Some targets (and VMs) drop the line while they reboot.
		if rerr := c.reopenAfterReboot(); rerr == nil {
			return
		}
	}
	c.out.Errorf("connection to the target lost: "+errText(err),
		"check the pipe or cable; start kd again (or .restart) once the target is back")
	c.fail(ExitConnection)
	c.finish()
}

// reopenAfterReboot reconnects after the link dropped during .reboot.
func (c *Console) reopenAfterReboot() error {
	c.closeSession()
	c.mu.Lock()
	st := c.breakState
	c.mu.Unlock()
	if err := c.open(st == breakOnReboot, st == breakOnModuleLoad, false); err != nil {
		return err
	}
	if s := c.session(); s != nil {
		s.rebooting = true
	}
	return nil
}

// onStateChange handles the target stopping.
func (c *Console) onStateChange(ctx context.Context, s *session, ev kdproto.Event) {
	sc := ev.State

	if !s.haveVersion && !s.synced {
		// The first stop of a connection: put the packet ids in step
		// with a RESET exchange before asking anything.
		// A RESET loop already sending is left alone: two RESETs
		// crossing on the line would confuse the exchange.
		c.stopBreakins(s)
		if s.pendingStop == nil {
			c.startResetLoop(s, 0)
		}
		s.pendingStop = &ev
		return
	}
	if ev.Repeat && s.stopped {
		c.stopBreakins(s) // it is stopped: a break-in would linger until the next g
		return
	}
	if ev.Repeat && s.eng.State() == kdproto.StateRunning {
		// The target re-sent the stop kd knows (after a RESET, a RESEND
		// or a stray byte). Re-sends cross with requests, so one can
		// reach kd after it resumed the target: the engine then says
		// running, while a new stop would have told it stopped.
		return
	}
	c.stopConnecting(s)
	// The event says the target is stopped, whatever the engine noted
	// when the ACK of the last Continue raced with this state change.
	s.eng.SetState(kdproto.StateStopped)
	c.mu.Lock()
	s.stopped = true
	s.last = sc
	s.cpu = sc.Processor
	s.nprocs = sc.NumberProcessors
	s.contexts = nil
	breakin := s.breakinSent
	s.breakinSent = false
	stepping := s.stepping
	s.stepping = false
	switching := s.switching
	s.switching = false
	c.mu.Unlock()

	if !s.haveVersion {
		c.connected(ctx, s)
	}
	if c.afterStep(ctx, s, sc, breakin) {
		return
	}
	if s.tempBP != nil {
		// p's breakpoint after a call: lift it; stopping there is the step.
		_ = s.eng.RestoreBreakPoint(ctx, s.cpu, s.tempBP.handle)
		if sc.PC == s.tempBP.addr && !breakin {
			stepping = true
		}
		s.tempBP = nil
	}
	if sc.NewState&^kdproto.StateAlternate == kdproto.StateLoadSymbols {
		c.onModuleLoad(ctx, s, sc)
		return
	}
	c.out.FlushTarget()
	if switching && !breakin {
		return // ~Ns: the new prompt says it all
	}
	if sc.NewState&^kdproto.StateAlternate == kdproto.StateException {
		c.printException(s, sc, breakin, stepping)
	}
	if stepping {
		if err := c.printRegisters(ctx, s); err != nil {
			c.reportError("r", err)
		}
		return
	}
	c.printLocation(ctx, s, sc.PC)
}

// afterStep finishes stepping off a breakpoint: the breakpoint goes back
// in and, when the step was for g, the target runs on without a word. It
// reports whether the stop was consumed.
func (c *Console) afterStep(ctx context.Context, s *session, sc kdproto.StateChange, breakin bool) bool {
	bp := s.reinsert
	if bp == nil {
		return false
	}
	s.reinsert = nil
	if h, err := s.eng.WriteBreakPoint(ctx, s.cpu, bp.addr); err == nil {
		bp.handle, bp.written = h, true
	} else {
		c.reportError("bp", err)
	}
	cont := s.continueAfterStep
	s.continueAfterStep = false
	if !cont || breakin || sc.Exception.Code != kdproto.StatusSingleStep {
		return false
	}
	if err := c.resume(ctx, s, false); err != nil {
		c.reportError("g", err)
		return false
	}
	return true
}

// connected asks for the version at the first stop and prints KD's
// connection lines and target summary.
func (c *Console) connected(ctx context.Context, s *session) {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := s.eng.GetVersion(rctx)
	if err != nil {
		c.reportError("GetVersion", err)
		return
	}
	s.version, s.haveVersion = v, true
	s.rebooting = false
	c.out.Printf("Connected to %s %d %s target at (%s), ptr64 %s",
		windowsName(v.MinorVersion), v.MinorVersion, v.MachineName(), fmtTime(c.cfg.Now()), strings.ToUpper(fmt.Sprint(v.Ptr64())))
	if !s.established {
		s.established = true
		c.out.Printf("%s", establishedLine(s))
	}
	if c.cfg.SymbolPath != "" {
		c.out.Printf("Symbol search path is: %s", c.cfg.SymbolPath)
	}
	c.printTargetSummary(s)
}

// printTargetSummary prints the vertarget block.
func (c *Console) printTargetSummary(s *session) {
	v := s.version
	mp := "UP"
	if v.Flags&kdproto.VersionFlagMP != 0 || s.nprocs > 1 {
		mp = fmt.Sprintf("MP (%d procs)", max(s.nprocs, 1))
	}
	kind := "Free"
	if v.Checked() {
		kind = "Checked"
	}
	c.out.Printf("%s Kernel Version %d %s %s %s", windowsName(v.MinorVersion), v.MinorVersion, mp, kind, v.MachineName())
	c.out.Printf("Kernel base = 0x%s PsLoadedModuleList = 0x%s", fmtAddr(v.KernBase), fmtAddr(v.PsLoadedModuleList))
	c.out.Printf("Debug session time: %s", fmtTime(c.cfg.Now()))
	c.out.Printf("System Uptime: not available")
}

// onModuleLoad handles a module-load stop: it continues at once unless a
// break on the first module load was asked for.
func (c *Console) onModuleLoad(ctx context.Context, s *session, sc kdproto.StateChange) {
	path := Sanitize(sc.ImagePath())
	verb := "Load"
	if sc.LoadSymbols.Unload {
		verb = "Unload"
	}
	if s.breakOnLoad && !sc.LoadSymbols.Unload {
		s.breakOnLoad = false
		c.out.Printf("%s module %s at %s", verb, path, fmtAddr(sc.LoadSymbols.BaseOfDll))
		c.printLocation(ctx, s, sc.PC)
		return
	}
	if c.verbose.Load() {
		c.out.Printf("%s module %s at %s", verb, path, fmtAddr(sc.LoadSymbols.BaseOfDll))
	}
	s.syms = nil // the module list changed
	if err := c.resume(ctx, s, false); err != nil {
		c.reportError("g", err)
	}
}

// exceptionName names an exception code the way KD's event line does.
func exceptionName(code kdproto.Status) string {
	switch code {
	case kdproto.StatusBreakpoint:
		return "Break instruction exception"
	case kdproto.StatusSingleStep:
		return "Single step exception"
	case kdproto.StatusAccessViolation:
		return "Access violation"
	case kdproto.StatusDatatypeMisalignment:
		return "Data misaligned"
	case kdproto.StatusAssertionFailure:
		return "Assertion failure"
	}
	return "Unknown exception"
}

// printException prints the event line of an exception stop.
func (c *Console) printException(s *session, sc kdproto.StateChange, breakin, stepping bool) {
	code := sc.Exception.Code
	if stepping && code == kdproto.StatusSingleStep {
		return
	}
	if code == kdproto.StatusBreakpoint {
		if bp := s.breakpointAt(sc.PC); bp != nil && !breakin {
			c.out.Printf("Breakpoint %d hit", bp.id)
			return
		}
	}
	chance := "(first chance)"
	if sc.Exception.FirstChance == 0 {
		chance = "(!!! second chance !!!)"
	}
	c.out.Printf("%s - code %08x %s", exceptionName(code), uint32(code), chance)
	if breakin && code == kdproto.StatusBreakpoint && !c.quiet() {
		c.out.Printf("%s", breakBox)
	}
}

// quiet reports KD's quiet mode (KDQUIET), which hides the break-in box.
func (c *Console) quiet() bool { return c.cfg.Quiet }

// printLocation prints the symbol line and the disassembly of pc.
func (c *Console) printLocation(ctx context.Context, s *session, pc uint64) {
	code := []byte(nil)
	if pc == s.last.PC {
		r := s.last.AMD64Report()
		code = r.InstructionBytes()
	}
	if len(code) == 0 {
		code, _ = c.readCode(ctx, s, pc, 16)
	}
	if sym := c.symbolize(ctx, s, pc); sym != "" {
		c.out.Printf("%s:", sym)
	}
	line, _ := c.disasmLine(ctx, s, pc, code)
	c.out.Printf("%s", line)
}

// readCode reads up to n code bytes at addr (the readable prefix).
func (c *Console) readCode(ctx context.Context, s *session, addr uint64, n int) ([]byte, error) {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return s.eng.ReadVirtual(rctx, s.cpu, addr, n)
}

// Interrupt is CTRL+C (and CTRL+F ENTER, and SIGINT): break into a running
// target (or one kd is still waiting for, or during a resync); cancel the
// command in progress when the target is stopped.
func (c *Console) Interrupt() {
	c.mu.Lock()
	s := c.sess
	cancel := c.cmdCancel
	resync := c.resyncing
	if s == nil || s.dead {
		c.mu.Unlock()
		return
	}
	stopped := s.stopped
	if stopped && !resync {
		c.mu.Unlock()
		if cancel != nil {
			cancel()
		}
		return
	}
	c.mu.Unlock()
	c.startBreakins(s, 500*time.Millisecond)
}

// startResync begins CTRL+R ENTER: RESET packets until the target answers.
// Commands wait until it is over; a request stalled on a link that fell
// out of step is sent again after the RESET exchange.
func (c *Console) startResync() {
	c.mu.Lock()
	s := c.sess
	if s == nil || s.dead {
		c.mu.Unlock()
		c.out.Printf("Resync failed: not connected")
		return
	}
	if c.resyncing {
		c.mu.Unlock()
		c.out.Printf("Resync already in progress.")
		return
	}
	c.resyncing = true
	c.mu.Unlock()
	c.out.Printf("Resynchronizing with target...")
	go func() {
		res, err := s.eng.Resync(s.ctx, kdproto.ResyncOptions{Interval: time.Second, Max: c.resets()})
		if err == nil {
			c.out.Printf("Resync complete (%d ms, %d RESET packets).", res.Elapsed.Milliseconds(), res.Resets)
		}
		c.mail.post(resyncNote{gen: s.gen, res: res, err: err})
	}()
}

// onResyncDone finishes a resync: on success the stop location is shown
// again when the target is stopped; on failure the reason and a hint.
func (c *Console) onResyncDone(ctx context.Context, n resyncNote) {
	c.mu.Lock()
	c.resyncing = false
	s := c.sess
	c.mu.Unlock()
	if s == nil || s.gen != n.gen || c.finished() {
		return
	}
	if s.stopped {
		c.stopBreakins(s)
	}
	if n.err != nil {
		if errors.Is(n.err, context.Canceled) {
			return
		}
		reason := errText(n.err)
		if errors.Is(n.err, kdproto.ErrResyncFailed) {
			reason = fmt.Sprintf("the target did not answer %d RESET packets", n.res.Resets)
		}
		c.out.Printf("Resync failed: %s", reason)
		if s.stopped {
			c.out.Hint("check the pipe or cable and that the target is alive; CTRL+R ENTER again, .restart, or CTRL+B ENTER to quit")
		} else {
			c.out.Hint("the target is running: it answers when it next talks (DbgPrint); press CTRL+C to break in")
		}
		return
	}
	if s.stopped && s.haveVersion {
		c.printLocation(ctx, s, s.last.PC)
	}
}

// errText is an error's text without the package prefixes users do not need.
func errText(err error) string {
	s := err.Error()
	for _, p := range []string{"kdproto: ", "transport: "} {
		s = strings.ReplaceAll(s, p, "")
	}
	return s
}

// answerPrompt sends the user's line as the answer to a DbgPrompt.
func (c *Console) answerPrompt(ctx context.Context, line string) {
	ev := c.dbgPrompt
	c.dbgPrompt = nil
	s := c.session()
	if s == nil || ev == nil {
		return
	}
	if !c.in.Interactive() {
		c.out.Continue(line + "\n")
	}
	b := []byte(line)
	if ev.MaxReply > 0 && uint32(len(b)) > ev.MaxReply {
		b = b[:ev.MaxReply]
	}
	if err := s.eng.AnswerPrompt(ctx, b); err != nil {
		c.reportError("(answer to the target's prompt)", err)
	}
}
