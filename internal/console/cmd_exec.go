package console

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gokd/kd/kdproto"

	"golang.org/x/arch/x86/x86asm"
)

var execCommands = []*Command{
	{
		Names: []string{"g"}, Group: groupExec,
		Help: "Go: resume the target.\n\n\tg\n\nkd shows no prompt while the target runs; CTRL+C breaks in again. " +
			"A breakpoint at the current address is stepped over first.",
		Run: cmdGo,
	},
	{
		Names: []string{"t"}, Group: groupExec, Repeat: true,
		Help: "Trace: execute one instruction (step into calls) and show the registers.\n\n\tt",
		Run:  cmdTrace,
	},
	{
		Names: []string{"p"}, Group: groupExec, Repeat: true,
		Help: "Step: execute one instruction, running calls to completion, and show the registers.\n\n\tp",
		Run:  cmdStep,
	},
	{
		Names: []string{"~s"}, Group: groupExec,
		Help: "Switch to another processor.\n\n\t~Ns\n\nN is the processor number; the prompt becomes `N: kd> `.",
		Run:  cmdSwitchProcessor,
	},
	{
		Names: []string{".reboot"}, Group: groupTarget,
		Help: "Reboot the target and wait for it to come back.\n\n\t.reboot\n\n" +
			"kd prints the shutdown line, then `Waiting to reconnect...` and the connection lines again. " +
			"Breakpoints are forgotten. CTRL+K chooses whether kd breaks in when the target is back.",
		Run: cmdReboot,
	},
	{
		Names: []string{".restart"}, Group: groupTarget, Anytime: true,
		Help: "Restart the kernel connection: drop the link and the protocol state and connect again.\n\n\t.restart\n\n" +
			"Stronger than CTRL+R ENTER: the same as quitting kd and attaching a new one.",
		Run: cmdRestart,
	},
	{
		Names: []string{"q"}, Group: groupSession, Anytime: true,
		Help: "Quit: end the session and exit kd. The target stays as it is (a stopped target stays stopped).\n\n\tq",
		Run:  cmdQuit,
	},
}

// needStopped returns the session when the target is stopped.
func (c *Console) needStopped() (*session, error) {
	s := c.session()
	if s == nil || !s.stopped || s.dead {
		return nil, errNotConnected
	}
	return s, nil
}

func noArgs(name, args string) error {
	if strings.TrimSpace(args) != "" {
		return syntaxErr(name+" "+args, "%s takes no arguments", name)
	}
	return nil
}

func cmdGo(ctx context.Context, c *Console, args string) error {
	if err := noArgs("g", args); err != nil {
		return err
	}
	s, err := c.needStopped()
	if err != nil {
		return err
	}
	return c.resume(ctx, s, false)
}

func cmdTrace(ctx context.Context, c *Console, args string) error {
	if err := noArgs("t", args); err != nil {
		return err
	}
	s, err := c.needStopped()
	if err != nil {
		return err
	}
	return c.resume(ctx, s, true)
}

// cmdStep steps over a call by planting a temporary breakpoint after it.
func cmdStep(ctx context.Context, c *Console, args string) error {
	if err := noArgs("p", args); err != nil {
		return err
	}
	s, err := c.needStopped()
	if err != nil {
		return err
	}
	cx, err := c.contextRegs(ctx, s)
	if err != nil {
		return err
	}
	rip := cx.MustGet("rip")
	code, _ := s.eng.ReadVirtual(ctx, s.cpu, rip, 16)
	inst, derr := x86asm.Decode(code, 64)
	if derr != nil || inst.Op != x86asm.CALL {
		return c.resume(ctx, s, true)
	}
	next := rip + uint64(inst.Len)
	h, err := s.eng.WriteBreakPoint(ctx, s.cpu, next)
	if err != nil {
		return err
	}
	s.tempBP = &breakpoint{addr: next, handle: h, written: true}
	if err := c.resume(ctx, s, false); err != nil {
		return err
	}
	c.mu.Lock()
	s.stepping = true
	c.mu.Unlock()
	return nil
}

// resume lets the target run (or single-step). An enabled breakpoint at
// the current address is lifted, the instruction stepped, and the
// breakpoint put back when that step reports.
func (c *Console) resume(ctx context.Context, s *session, step bool) error {
	if !s.stopped {
		return errNotConnected
	}
	c.stopBreakins(s)
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
	var err error
	if step {
		err = s.eng.Step(ctx)
	} else {
		err = s.eng.Go(ctx)
	}
	if err != nil {
		return err
	}
	c.mu.Lock()
	s.stopped = false
	s.stepping = step && !s.continueAfterStep
	s.contexts = nil
	c.mu.Unlock()
	return nil
}

func cmdSwitchProcessor(ctx context.Context, c *Console, args string) error {
	s, err := c.needStopped()
	if err != nil {
		return err
	}
	n, ok := parseNumber(strings.TrimSpace(args))
	if !ok {
		return syntaxErr("~"+args+"s", "a processor number is expected")
	}
	if n >= uint64(max(s.nprocs, 1)) || n > 0xFFFF {
		return fmt.Errorf("processor %d does not exist (the target has %d)", n, s.nprocs)
	}
	if uint16(n) == s.cpu {
		return nil
	}
	if err := s.eng.SwitchProcessor(ctx, uint16(n)); err != nil {
		return err
	}
	c.mu.Lock()
	s.stopped = false
	s.switching = true
	s.contexts = nil
	c.mu.Unlock()
	return nil
}

func cmdReboot(ctx context.Context, c *Console, args string) error {
	if err := noArgs(".reboot", args); err != nil {
		return err
	}
	s, err := c.needStopped()
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
	c.out.Printf("Shutdown occurred at (%s)...unloading all symbol tables.", fmtTime(c.cfg.Now()))
	c.mu.Lock()
	s.stopped = false
	st := c.breakState
	c.mu.Unlock()
	s.forget()
	s.rebooting = true
	s.breakOnLoad = st == breakOnModuleLoad
	c.startConnecting(s, st == breakOnReboot, true)
	return nil
}

// forget drops what kd knew about the target (it rebooted).
func (s *session) forget() {
	s.haveVersion = false
	s.established = false
	s.syms = nil
	s.bps = nil
	s.contexts = nil
	s.tempBP = nil
	s.reinsert = nil
	s.continueAfterStep = false
}

func cmdRestart(ctx context.Context, c *Console, args string) error {
	if err := noArgs(".restart", args); err != nil {
		return err
	}
	c.out.Printf("Restarting the kernel connection...")
	return c.reopen()
}

func cmdQuit(_ context.Context, c *Console, args string) error {
	if err := noArgs("q", args); err != nil {
		return err
	}
	c.out.Printf("quit:")
	c.finish()
	return nil
}
