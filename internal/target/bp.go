package target

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// MaxBreakpoints is the kernel's limit of software breakpoints.
const MaxBreakpoints = 32

// MaxHardwareBreakpoints is the number of x64 debug address registers
// (Dr0-Dr3).
const MaxHardwareBreakpoints = 4

// MaxBreakpointID bounds the ids kd hands out (KD's bl shows them in
// decimal; a list of 36 breakpoints never needs more).
const MaxBreakpointID = 0xFFFF

// breakpoint is one breakpoint of kd's list: a software breakpoint (an
// int 3 the kernel plants), a hardware one (a debug register) or a
// deferred one (bu) waiting for its module.
type breakpoint struct {
	id      int
	addr    uint64
	handle  uint32
	written bool // planted in the target right now (software)
	enabled bool
	hits    int

	deferred bool                                      // not resolved yet (bu)
	expr     string                                    // what bu was given
	resolve  func(ctx context.Context) (uint64, error) // bu: resolves expr

	passes, initPasses int // remaining and initial pass counts (1 = stop at once)
	oneShot            bool
	action             string

	hw     bool
	access byte // hardware: 'e', 'r', 'w' or 'i'
	size   int  // hardware: 1, 2, 4 or 8
	slot   int  // hardware: its debug register while it is enabled
}

// Breakpoint describes one breakpoint (bl).
type Breakpoint struct {
	ID       int
	Addr     uint64 // 0 while Deferred
	Enabled  bool
	Deferred bool   // bu: the symbol is not resolved yet
	Expr     string // bu's symbol text ("" for bp and ba)
	Hits     int
	// Passes is the remaining pass count, InitialPasses the one set:
	// the breakpoint stops once Passes reaches 1.
	Passes, InitialPasses int
	OneShot               bool
	Action                string // commands run when it is hit
	Hardware              bool
	Access                byte // 'e', 'r', 'w' or 'i' (Hardware)
	Size                  int  // bytes watched (Hardware)
}

// BreakSpec describes a breakpoint to set.
type BreakSpec struct {
	Addr uint64
	// Expr and Resolve make a deferred breakpoint (bu): Resolve is
	// tried now and again at every module load until it succeeds.
	Expr    string
	Resolve func(ctx context.Context) (uint64, error)
	Passes  int // 0 or 1: stop at the first hit
	OneShot bool
	Action  string
	// Hardware breakpoints (ba): Access is 'e', 'r', 'w' or 'i'.
	Hardware bool
	Access   byte
	Size     int
}

func (b *breakpoint) info() Breakpoint {
	return Breakpoint{ID: b.id, Addr: b.addr, Enabled: b.enabled, Deferred: b.deferred, Expr: b.expr,
		Hits: b.hits, Passes: b.passes, InitialPasses: b.initPasses, OneShot: b.oneShot, Action: b.action,
		Hardware: b.hw, Access: b.access, Size: b.size}
}

// breakpointAt returns the resolved software breakpoint at addr, or nil.
func (s *session) breakpointAt(addr uint64) *breakpoint {
	for _, b := range s.bps {
		if !b.hw && !b.deferred && b.addr == addr {
			return b
		}
	}
	return nil
}

func (s *session) breakpointByID(id int) *breakpoint {
	for _, b := range s.bps {
		if b.id == id {
			return b
		}
	}
	return nil
}

// AddBreakpoint plants a software breakpoint at addr. When one is there
// already it returns it with existed set.
func (t *Target) AddBreakpoint(ctx context.Context, addr uint64) (id int, existed bool, err error) {
	return t.SetBreakpoint(ctx, BreakSpec{Addr: addr})
}

// HardwareError says a hardware breakpoint cannot be set as asked.
type HardwareError struct{ Msg, Hint string }

func (e *HardwareError) Error() string { return e.Msg }

// checkHardware applies x64's debug-register rules to a ba request.
func checkHardware(sp BreakSpec) error {
	switch sp.Access {
	case 'e', 'r', 'w', 'i':
	default:
		return &HardwareError{fmt.Sprintf("bad access type %q", sp.Access), "the access is e (execute), r (read/write), w (write) or i (I/O port)"}
	}
	switch sp.Size {
	case 1, 2, 4, 8:
	default:
		return &HardwareError{fmt.Sprintf("bad size %d", sp.Size), "a debug register watches 1, 2, 4 or 8 bytes"}
	}
	if sp.Access == 'e' && sp.Size != 1 {
		return &HardwareError{"execution breakpoints must have size 1", "use ba e1 ADDRESS"}
	}
	if sp.Access == 'i' && (sp.Size == 8 || sp.Addr > 0xFFFF) {
		return &HardwareError{fmt.Sprintf("I/O breakpoint at %#x size %d: ports are 0-ffff and 1, 2 or 4 bytes wide", sp.Addr, sp.Size), ""}
	}
	if sp.Addr%uint64(sp.Size) != 0 {
		return &HardwareError{fmt.Sprintf("address %#x is not aligned to the size %d", sp.Addr, sp.Size),
			"a debug register watches a naturally aligned range: align the address down or use a smaller size"}
	}
	return nil
}

// SetBreakpoint sets a breakpoint. A software or deferred breakpoint at
// the same place (a hardware one with the same access and size) is
// redefined instead: it takes the new passes, action and options and
// keeps its id.
func (t *Target) SetBreakpoint(ctx context.Context, sp BreakSpec) (id int, redefined bool, err error) {
	s, err := t.needStopped()
	if err != nil {
		return 0, false, err
	}
	if sp.Passes <= 0 {
		sp.Passes = 1
	}
	if sp.Hardware {
		if err := checkHardware(sp); err != nil {
			return 0, false, err
		}
	}
	var old *breakpoint
	for _, b := range s.bps {
		switch {
		case sp.Hardware && b.hw && b.addr == sp.Addr && b.access == sp.Access && b.size == sp.Size,
			!sp.Hardware && sp.Resolve != nil && b.resolve != nil && b.expr == sp.Expr,
			!sp.Hardware && sp.Resolve == nil && !b.hw && !b.deferred && b.resolve == nil && b.addr == sp.Addr:
			old = b
		}
	}
	if old != nil {
		old.passes, old.initPasses, old.oneShot, old.action = sp.Passes, sp.Passes, sp.OneShot, sp.Action
		if !old.enabled {
			if err := t.enable(ctx, s, old, true); err != nil {
				return old.id, true, err
			}
		}
		return old.id, true, nil
	}
	b := &breakpoint{id: s.freeID(), addr: sp.Addr, enabled: true, passes: sp.Passes, initPasses: sp.Passes,
		oneShot: sp.OneShot, action: sp.Action, hw: sp.Hardware, access: sp.Access, size: sp.Size,
		expr: sp.Expr, resolve: sp.Resolve}
	if b.id < 0 {
		return 0, false, errors.New("no breakpoint ids are left")
	}
	switch {
	case b.hw:
		if n := s.enabledHardware(); n >= MaxHardwareBreakpoints {
			return 0, false, s.slotsError()
		}
		s.hwDirty = true
	case b.resolve != nil:
		b.deferred = true
		if a, err := b.resolve(ctx); err == nil {
			b.addr, b.deferred = a, false
		} else if ctx.Err() != nil {
			return 0, false, ctx.Err()
		}
		if !b.deferred {
			if err := t.plant(ctx, s, b); err != nil {
				return 0, false, err
			}
		}
	default:
		if err := t.plant(ctx, s, b); err != nil {
			return 0, false, err
		}
	}
	s.bps = append(s.bps, b)
	slices.SortFunc(s.bps, func(x, y *breakpoint) int { return x.id - y.id })
	return b.id, false, nil
}

// freeID returns the lowest id no breakpoint has, or -1.
func (s *session) freeID() int {
	for id := 0; id <= MaxBreakpointID; id++ {
		if s.breakpointByID(id) == nil {
			return id
		}
	}
	return -1
}

func (s *session) enabledHardware() int {
	n := 0
	for _, b := range s.bps {
		if b.hw && b.enabled {
			n++
		}
	}
	return n
}

func (s *session) slotsError() error {
	var ids []int
	for _, b := range s.bps {
		if b.hw && b.enabled {
			ids = append(ids, b.id)
		}
	}
	return &HardwareError{fmt.Sprintf("all %d debug registers are in use (breakpoints %v)", MaxHardwareBreakpoints, ids),
		"disable (bd) or clear (bc) a ba breakpoint first, or use bp for code"}
}

// plant writes a software breakpoint into the target.
func (t *Target) plant(ctx context.Context, s *session, b *breakpoint) error {
	if b.written || b.deferred || b.hw {
		return nil
	}
	if s.softPlanted() >= MaxBreakpoints {
		return fmt.Errorf("the kernel allows only %d software breakpoints", MaxBreakpoints)
	}
	h, err := s.eng.WriteBreakPoint(ctx, s.cpu, b.addr)
	if err != nil {
		return err
	}
	b.handle, b.written = h, true
	s.mem.clear()
	return nil
}

// lift takes a planted software breakpoint out of the target.
func (t *Target) lift(ctx context.Context, s *session, b *breakpoint) error {
	if !b.written {
		return nil
	}
	if err := s.eng.RestoreBreakPoint(ctx, s.cpu, b.handle); err != nil {
		return err
	}
	b.written = false
	s.mem.clear()
	if s.reinsert == b {
		s.reinsert = nil
	}
	return nil
}

func (s *session) softPlanted() int {
	n := 0
	for _, b := range s.bps {
		if b.written {
			n++
		}
	}
	return n
}

// Breakpoints lists the breakpoints by id.
func (t *Target) Breakpoints() []Breakpoint {
	s := t.session()
	if s == nil {
		return nil
	}
	out := make([]Breakpoint, 0, len(s.bps))
	for _, b := range s.bps {
		out = append(out, b.info())
	}
	return out
}

// NoBreakpointError says a breakpoint id does not exist.
type NoBreakpointError struct{ ID int }

func (e *NoBreakpointError) Error() string { return fmt.Sprintf("breakpoint %d does not exist", e.ID) }

// pick returns the breakpoints with the given ids (all of them when all
// is set). An id that does not exist is an error.
func (s *session) pick(ids []int, all bool) ([]*breakpoint, error) {
	if all {
		return slices.Clone(s.bps), nil
	}
	var out []*breakpoint
	for _, id := range ids {
		b := s.breakpointByID(id)
		if b == nil {
			return nil, &NoBreakpointError{ID: id}
		}
		if !slices.Contains(out, b) {
			out = append(out, b)
		}
	}
	return out, nil
}

// ClearBreakpoints removes the breakpoints with the given ids (all when
// all is set). An id that does not exist is an error and clears nothing.
func (t *Target) ClearBreakpoints(ctx context.Context, ids []int, all bool) error {
	s, err := t.needStopped()
	if err != nil {
		return err
	}
	clear, err := s.pick(ids, all)
	if err != nil {
		return err
	}
	for _, b := range clear {
		if err := t.remove(ctx, s, b); err != nil {
			return err
		}
	}
	return nil
}

// remove takes b out of the target and out of kd's list.
func (t *Target) remove(ctx context.Context, s *session, b *breakpoint) error {
	if err := t.lift(ctx, s, b); err != nil {
		return err
	}
	if b.hw {
		s.hwDirty = true
	}
	s.bps = slices.DeleteFunc(s.bps, func(x *breakpoint) bool { return x == b })
	if s.reinsert == b {
		s.reinsert = nil
	}
	return nil
}

// EnableBreakpoints enables (be) or disables (bd) breakpoints by id. A
// disabled software breakpoint is taken out of the target; a disabled
// hardware one frees its debug register.
func (t *Target) EnableBreakpoints(ctx context.Context, ids []int, all, on bool) error {
	s, err := t.needStopped()
	if err != nil {
		return err
	}
	list, err := s.pick(ids, all)
	if err != nil {
		return err
	}
	for _, b := range list {
		if err := t.enable(ctx, s, b, on); err != nil {
			return err
		}
	}
	return nil
}

func (t *Target) enable(ctx context.Context, s *session, b *breakpoint, on bool) error {
	if b.enabled == on {
		return nil
	}
	if b.hw {
		if on && s.enabledHardware() >= MaxHardwareBreakpoints {
			return s.slotsError()
		}
		b.enabled = on
		s.hwDirty = true
		return nil
	}
	if on {
		b.enabled = true
		if err := t.plant(ctx, s, b); err != nil {
			b.enabled = false
			return err
		}
		return nil
	}
	if err := t.lift(ctx, s, b); err != nil {
		return err
	}
	b.enabled = false
	return nil
}

// resolveDeferred tries the deferred breakpoints again (a module was
// loaded) and plants those that resolve now.
func (t *Target) resolveDeferred(ctx context.Context, s *session) {
	for _, b := range s.bps {
		if !b.deferred || b.resolve == nil {
			continue
		}
		a, err := b.resolve(ctx)
		if err != nil {
			continue
		}
		b.addr, b.deferred = a, false
		if b.enabled {
			if err := t.plant(ctx, s, b); err != nil {
				t.emit(Failure{What: fmt.Sprintf("bu %s", b.expr), Err: err})
			}
		}
	}
}
