package target

import (
	"context"
	"fmt"
)

// MaxBreakpoints is the kernel's limit of software breakpoints.
const MaxBreakpoints = 32

// breakpoint is one software breakpoint kd planted.
type breakpoint struct {
	id      int
	addr    uint64
	handle  uint32
	written bool // planted in the target right now
	hits    int
}

// Breakpoint describes one breakpoint (bl).
type Breakpoint struct {
	ID      int
	Addr    uint64
	Enabled bool
	Hits    int
}

// breakpointAt returns the breakpoint at addr, or nil.
func (s *session) breakpointAt(addr uint64) *breakpoint {
	for _, b := range s.bps {
		if b.addr == addr {
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
	s, err := t.needStopped()
	if err != nil {
		return 0, false, err
	}
	if b := s.breakpointAt(addr); b != nil {
		return b.id, true, nil
	}
	if len(s.bps) >= MaxBreakpoints {
		return 0, false, fmt.Errorf("the kernel allows only %d software breakpoints", MaxBreakpoints)
	}
	h, err := s.eng.WriteBreakPoint(ctx, s.cpu, addr)
	if err != nil {
		return 0, false, err
	}
	id = 0
	for s.breakpointByID(id) != nil {
		id++
	}
	s.bps = append(s.bps, &breakpoint{id: id, addr: addr, handle: h, written: true})
	return id, false, nil
}

// Breakpoints lists the breakpoints by id.
func (t *Target) Breakpoints() []Breakpoint {
	s := t.session()
	if s == nil {
		return nil
	}
	out := make([]Breakpoint, 0, len(s.bps))
	for _, b := range s.bps {
		out = append(out, Breakpoint{ID: b.id, Addr: b.addr, Enabled: true, Hits: b.hits})
	}
	return out
}

// NoBreakpointError says a breakpoint id does not exist.
type NoBreakpointError struct{ ID int }

func (e *NoBreakpointError) Error() string { return fmt.Sprintf("breakpoint %d does not exist", e.ID) }

// ClearBreakpoints removes the breakpoints with the given ids (all when
// all is set). An id that does not exist is an error and clears nothing.
func (t *Target) ClearBreakpoints(ctx context.Context, ids []int, all bool) error {
	s, err := t.needStopped()
	if err != nil {
		return err
	}
	var clear []*breakpoint
	if all {
		clear, ids = append(clear, s.bps...), nil
	}
	for _, id := range ids {
		b := s.breakpointByID(id)
		if b == nil {
			return &NoBreakpointError{ID: id}
		}
		clear = append(clear, b)
	}
	for _, b := range clear {
		if b.written {
			if err := s.eng.RestoreBreakPoint(ctx, s.cpu, b.handle); err != nil {
				return err
			}
		}
		for i, x := range s.bps {
			if x == b {
				s.bps = append(s.bps[:i], s.bps[i+1:]...)
				break
			}
		}
		if s.reinsert == b {
			s.reinsert = nil
		}
	}
	return nil
}
