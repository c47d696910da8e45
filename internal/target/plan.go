package target

import (
	"context"
	"errors"
	"fmt"

	"github.com/gokd/kd/kdproto"

	"golang.org/x/arch/x86/x86asm"
)

// A plan is an execution command that takes more than one stop: p and t
// with a count, pc/tc, pa/ta, gu and g with break addresses. The runner
// carries it on from stop to stop (advance) until it is done; a
// breakpoint hit, an exception, a module load kd stops at or CTRL+C ends
// it early, and the stop is shown as it is.
type plan struct {
	kind    planKind
	over    bool   // step over calls (p, pc, pa)
	left    int    // planSteps: steps still to take
	target  uint64 // planToAddr: the address; planGoUp: the return address
	frameSP uint64 // planGoUp: rsp inside the returning function
	temps   []temp // temporary breakpoints (g's addresses, gu's return, a call stepped over)
	stepOff bool   // tracing off a temporary breakpoint before going on
	overing bool   // the current step runs a call to completion
	steps   int    // steps taken (planToCall, planToAddr)
	cpu     uint16 // the processor it steps (gu and a call stepped over end only there)
}

type planKind int

const (
	planSteps  planKind = iota // p, t with a count: every step shown
	planToCall                 // pc, tc: up to the next call instruction
	planToAddr                 // pa, ta: up to an address, every step shown
	planGo                     // g with break addresses
	planGoUp                   // gu: until the function returns
)

// temp is a temporary breakpoint. It is not planted when one of the
// user's breakpoints is at the same address (that one stops there).
type temp struct {
	addr    uint64
	handle  uint32
	planted bool
}

// MaxPlanSteps bounds the steps of pc, tc, pa and ta: each is a round
// trip to the target; CTRL+C ends them sooner.
const MaxPlanSteps = 100000

// MaxGoAddresses is the number of break addresses g takes (KD's limit).
const MaxGoAddresses = 10

// StepOptions says how p and t (and their pc/tc/pa/ta forms) step.
type StepOptions struct {
	Over     bool    // p: run calls to completion
	Count    int     // steps (p, t); 0 means 1
	Start    *uint64 // =Address: set rip first
	ToCall   bool    // pc, tc: until the next call instruction
	ToAddr   bool    // pa, ta: until rip is Addr
	Addr     uint64
	MaxSteps int // pc/tc/pa/ta bound; 0 means MaxPlanSteps
}

// Step runs p, t, pc, tc, pa or ta. Each step of p and t (and of pa/ta)
// is shown as a Stopped event with the registers; the last one ends the
// command.
func (t *Target) Step(ctx context.Context, o StepOptions) error {
	s, err := t.needStopped()
	if err != nil {
		return err
	}
	p := &plan{kind: planSteps, over: o.Over, left: max(o.Count, 1), cpu: s.cpu}
	switch {
	case o.ToCall:
		p.kind = planToCall
	case o.ToAddr:
		p.kind, p.target = planToAddr, o.Addr
	}
	if p.kind != planSteps {
		p.left = MaxPlanSteps
		if o.MaxSteps > 0 {
			p.left = o.MaxSteps
		}
	}
	if o.Start != nil {
		if err := t.SetRegister(ctx, "rip", *o.Start); err != nil {
			return err
		}
	}
	s.planBreak.Store(false)
	s.plan = p
	return t.stepOnce(ctx, s)
}

// GoTo runs g [=Start] [Addr...]: rip moves to Start first, and the
// target stops at the first of the addresses it reaches (temporary
// breakpoints, gone at the next stop).
func (t *Target) GoTo(ctx context.Context, start *uint64, addrs []uint64) error {
	s, err := t.needStopped()
	if err != nil {
		return err
	}
	if len(addrs) > MaxGoAddresses {
		return fmt.Errorf("g takes at most %d break addresses", MaxGoAddresses)
	}
	if start != nil {
		if err := t.SetRegister(ctx, "rip", *start); err != nil {
			return err
		}
	}
	if len(addrs) == 0 {
		s.plan = nil
		return t.resume(ctx, s, false)
	}
	p := &plan{kind: planGo}
	for _, a := range addrs {
		p.temps = append(p.temps, temp{addr: a})
	}
	s.planBreak.Store(false)
	s.plan = p
	return t.goPlan(ctx, s)
}

// ErrNoReturn says gu cannot find where the current function returns.
var ErrNoReturn = errors.New("cannot find the current function's return address")

// GoUp runs gu: the target runs until the current function returns to
// its caller (the return address from the unwinder, and the stack
// pointer above the function's frame, so that a recursive call of the
// same function does not end it).
func (t *Target) GoUp(ctx context.Context) error {
	s, err := t.needStopped()
	if err != nil {
		return err
	}
	st, err := t.Stack(ctx, StackFrom{}, 2, false)
	if err != nil {
		return err
	}
	if len(st.Frames) == 0 || st.Frames[0].RetAddr == 0 {
		return ErrNoReturn
	}
	f := st.Frames[0]
	s.planBreak.Store(false)
	s.plan = &plan{kind: planGoUp, target: f.RetAddr, frameSP: f.ChildSP, temps: []temp{{addr: f.RetAddr}}, cpu: s.cpu}
	return t.goPlan(ctx, s)
}

// GoException continues after an exception as handled (gh) or not
// handled (gn): the status of the Continue2. At one of kd's breakpoints
// it is g.
func (t *Target) GoException(ctx context.Context, handled bool) error {
	s, err := t.needStopped()
	if err != nil {
		return err
	}
	s.plan = nil
	regs, err := t.registers(ctx, s)
	if err != nil {
		return err
	}
	if b := s.breakpointAt(regs.PC()); b != nil && b.written || s.execHardwareAt(regs.PC()) {
		// A stop at one of kd's own breakpoints: the kernel takes no
		// handled/not handled for it (and ignores the trace flag that
		// steps off it when the status is not handled), so this is g.
		return t.resume(ctx, s, false)
	}
	s.contStatus = kdproto.DbgExceptionNotHandled
	if handled {
		s.contStatus = kdproto.DbgExceptionHandled
	}
	return t.resume(ctx, s, false)
}

// stepOnce takes the plan's next step: a call stepped over runs with a
// temporary breakpoint at its return address, anything else is traced.
func (t *Target) stepOnce(ctx context.Context, s *session) error {
	p := s.plan
	p.overing = false
	if p.over {
		pc, inst, ok, err := t.currentInst(ctx, s)
		if err != nil {
			return err
		}
		if ok && inst.Op == x86asm.CALL {
			p.overing = true
			p.temps = []temp{{addr: pc + uint64(inst.Len)}}
			return t.goPlan(ctx, s)
		}
	}
	return t.resume(ctx, s, true)
}

// currentInst decodes the instruction at the current rip.
func (t *Target) currentInst(ctx context.Context, s *session) (uint64, x86asm.Inst, bool, error) {
	regs, err := t.registers(ctx, s)
	if err != nil {
		return 0, x86asm.Inst{}, false, err
	}
	pc := regs.PC()
	code, err := t.codeAt(ctx, s, pc)
	if err != nil {
		return pc, x86asm.Inst{}, false, err
	}
	inst, derr := x86asm.Decode(code, 64)
	return pc, inst, derr == nil, nil
}

// goPlan lets the target run with the plan's temporary breakpoints in.
// Sitting on one of them, it traces off it first.
func (t *Target) goPlan(ctx context.Context, s *session) error {
	p := s.plan
	regs, err := t.registers(ctx, s)
	if err != nil {
		return err
	}
	for _, tp := range p.temps {
		if tp.addr == regs.PC() {
			p.stepOff = true
			return t.resume(ctx, s, true)
		}
	}
	for i := range p.temps {
		tp := &p.temps[i]
		if tp.planted || s.breakpointAt(tp.addr) != nil && s.breakpointAt(tp.addr).written {
			continue
		}
		h, err := s.eng.WriteBreakPoint(ctx, s.cpu, tp.addr)
		if err != nil {
			t.liftTemps(ctx, s)
			return err
		}
		tp.handle, tp.planted = h, true
	}
	s.mem.clear()
	return t.resume(ctx, s, false)
}

// liftTemps takes the plan's temporary breakpoints out and reports
// whether pc is one of them.
func (t *Target) liftTemps(ctx context.Context, s *session) {
	p := s.plan
	if p == nil {
		return
	}
	for i := range p.temps {
		tp := &p.temps[i]
		if tp.planted {
			if err := s.eng.RestoreBreakPoint(ctx, s.cpu, tp.handle); err != nil {
				t.emit(Failure{What: "temporary breakpoint", Err: err})
			}
			tp.planted = false
			s.mem.clear()
		}
	}
}

func (p *plan) atTemp(pc uint64) bool {
	for _, tp := range p.temps {
		if tp.addr == pc {
			return true
		}
	}
	return false
}

// advance carries the plan on at a stop that is its own (a step, a
// temporary breakpoint). It reports whether the stop was consumed (the
// target runs again); otherwise st is the command's last stop.
func (t *Target) advance(ctx context.Context, s *session, st *Stopped, sc kdproto.StateChange) bool {
	p := s.plan
	if s.planBreak.Swap(false) {
		s.plan = nil // CTRL+C
		return false
	}
	step := st.Kind == StopException && st.Code == kdproto.StatusSingleStep
	arrived := st.Kind == StopException && st.Code == kdproto.StatusBreakpoint && p.atTemp(sc.PC)
	if arrived && st.CPU != p.cpu && (p.kind == planGoUp || p.overing) {
		// Another processor ran into the temporary breakpoint: not the
		// return kd waits for. It steps off it and all go on.
		return t.carryOn(ctx, s, t.goPlan(ctx, s))
	}
	if p.stepOff {
		p.stepOff = false
		if !step {
			s.plan = nil
			return false
		}
		return t.carryOn(ctx, s, t.goPlan(ctx, s))
	}
	switch p.kind {
	case planGo, planGoUp:
		if !arrived {
			s.plan = nil
			return false
		}
		if p.kind == planGoUp {
			regs, err := t.registers(ctx, s)
			// A deeper call of the same function returned: go on.
			if err == nil && regs.MustGet("rsp") <= p.frameSP {
				return t.carryOn(ctx, s, t.goPlan(ctx, s))
			}
		}
		s.plan = nil
		st.Reached = true
		return false
	}
	if !step && !(p.overing && arrived) {
		s.plan = nil
		return false
	}
	p.left--
	p.steps++
	done := p.left <= 0
	switch p.kind {
	case planToCall:
		_, inst, ok, err := t.currentInst(ctx, s)
		done = done || err != nil || ok && inst.Op == x86asm.CALL
	case planToAddr:
		done = done || sc.PC == p.target
	}
	st.Step = true
	st.Reached = arrived // a call stepped over: no exception line
	if done {
		if p.kind != planSteps && p.left <= 0 && sc.PC != p.target {
			t.emit(Warning{Notice: true, Text: fmt.Sprintf("gave up after %d steps", p.steps)})
		}
		s.plan = nil
		return false
	}
	if p.kind != planToCall {
		t.fillStop(ctx, s, st)
		t.emit(*st)
	}
	return t.carryOn(ctx, s, t.stepOnce(ctx, s))
}

// carryOn finishes a resume the plan made at a stop: when it failed the
// plan ends and the stop stays.
func (t *Target) carryOn(ctx context.Context, s *session, err error) bool {
	if err == nil {
		return true
	}
	s.plan = nil
	t.emit(Failure{What: "step", Err: err})
	if s.stopped {
		t.emit(Where{Location: t.location(ctx, s, s.last.PC)})
	}
	return false
}
