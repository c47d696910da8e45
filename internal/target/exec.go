package target

import (
	"context"
	"errors"
	"fmt"

	"github.com/gokd/kd/kdproto"
)

// Go resumes the target (g). A breakpoint at the current address is
// stepped over first.
func (t *Target) Go(ctx context.Context) error {
	s, err := t.needStopped()
	if err != nil {
		return err
	}
	s.plan = nil
	return t.resume(ctx, s, false)
}

// Trace executes one instruction, stepping into calls (t).
func (t *Target) Trace(ctx context.Context) error { return t.Step(ctx, StepOptions{Count: 1}) }

// StepOver executes one instruction, running a call to completion with a
// temporary breakpoint after it (p).
func (t *Target) StepOver(ctx context.Context) error {
	return t.Step(ctx, StepOptions{Count: 1, Over: true})
}

// codeAt returns the instruction bytes at pc as the program sees them:
// kd's own int 3 at pc would hide the instruction. At the stop address the
// stop's report has the original bytes (the kernel takes its debugger's
// breakpoints out of it); elsewhere kd's breakpoint is lifted to read
// them, and goes back in at the next stop.
func (t *Target) codeAt(ctx context.Context, s *session, pc uint64) ([]byte, error) {
	if pc == s.last.PC {
		if r := s.last.AMD64Report(); len(r.InstructionBytes()) > 0 {
			return r.InstructionBytes(), nil
		}
	}
	if bp := s.breakpointAt(pc); bp != nil && bp.written {
		if err := s.eng.RestoreBreakPoint(ctx, s.cpu, bp.handle); err != nil {
			return nil, err
		}
		bp.written = false
		s.reinsert = bp
		s.mem.clear()
	}
	code, _, err := t.readMemory(ctx, s, pc, 16)
	return code, err
}

// resume lets the target run (or single-step). An enabled breakpoint at
// the current address is lifted, the instruction stepped, and the
// breakpoint put back when that step reports.
func (t *Target) resume(ctx context.Context, s *session, step bool) error {
	if !s.stopped {
		return ErrNotStopped
	}
	t.stopBreakins(s)
	pc := s.last.PC
	if cx, ok := s.contexts[s.cpu]; ok {
		pc = cx.MustGet("rip")
	}
	if bp := s.breakpointAt(pc); bp != nil && bp.written {
		if err := s.eng.RestoreBreakPoint(ctx, s.cpu, bp.handle); err != nil {
			return err
		}
		bp.written = false
		s.reinsert = bp
		s.continueAfterStep = !step
		step = true
	}
	dr7, err := t.syncDebugRegisters(ctx, s)
	if err != nil {
		return err
	}
	if s.execHardwareAt(pc) {
		// Step off an execution breakpoint with its Dr7 bits clear; it
		// comes back with the next Continue2.
		dr7 = s.dr7Without(pc)
		if !step {
			s.hwStepOff = true
			s.continueAfterStep = true
			step = true
		}
	}
	status := kdproto.DbgContinue
	if s.contStatus != 0 {
		status, s.contStatus = s.contStatus, 0
	}
	c2 := kdproto.Continue2{Status: status, Dr7: dr7, SymbolStart: 1}
	if step {
		c2.TraceFlag = 1
	}
	err = s.eng.Continue2(ctx, c2)
	if err != nil && s.eng.State() == kdproto.StateUnknown {
		// No ACK and no word: the target may run. kd does not claim it
		// is stopped (no prompt, CTRL+C sends the break-in byte); the
		// next stop, a re-sent one included, settles it.
		t.mu.Lock()
		s.stopped = false
		s.contexts = nil
		t.mu.Unlock()
		s.mem.clear()
		return fmt.Errorf("%w (%v)", ErrResumeUnconfirmed, err)
	}
	if err != nil {
		return err
	}
	t.mu.Lock()
	s.stopped = false
	s.stepping = step && !s.continueAfterStep
	s.contexts = nil
	t.mu.Unlock()
	s.mem.clear()
	t.emit(Running{Step: step})
	return nil
}

// SwitchProcessor makes processor n the current one (~Ns); the target
// reports the switch as a stop.
func (t *Target) SwitchProcessor(ctx context.Context, n uint64) error {
	s, err := t.needStopped()
	if err != nil {
		return err
	}
	if n >= uint64(max(s.nprocs, 1)) || n > 0xFFFF {
		return fmt.Errorf("processor %d does not exist (the target has %d)", n, max(s.nprocs, 1))
	}
	if uint16(n) == s.cpu {
		return nil
	}
	if err := s.eng.SwitchProcessor(ctx, uint16(n)); err != nil {
		return err
	}
	t.mu.Lock()
	s.stopped = false
	s.switching = true
	s.contexts = nil
	t.mu.Unlock()
	s.mem.clear()
	return nil
}

// Reboot reboots the target and waits for it to come back.
func (t *Target) Reboot(ctx context.Context) error {
	s, err := t.needStopped()
	if err != nil {
		return err
	}
	// A target may drop the line before its ACK arrives: a link that
	// fails now is the reboot under way.
	s.rebooting = true
	if err := s.eng.Reboot(ctx); err != nil {
		var le *kdproto.LinkError
		if !errors.As(err, &le) {
			s.rebooting = false
			return err
		}
	}
	t.emit(Rebooting{Time: t.cfg.Now()})
	t.mu.Lock()
	s.stopped = false
	t.mu.Unlock()
	st := t.currentBreakState()
	s.forget()
	s.rebooting = true
	s.breakOnLoad = st == BreakOnModuleLoad
	t.startConnecting(s, st == BreakOnReboot, true)
	return nil
}

// forget drops what kd knew about the target (it rebooted).
func (s *session) forget() {
	s.haveVersion = false
	s.established = false
	s.mods = nil
	s.bps = nil
	s.contexts = nil
	s.plan = nil
	s.hwDirty = false
	s.hwStepOff = false
	s.contStatus = 0
	s.reinsert = nil
	s.continueAfterStep = false
	s.mem.clear()
}
