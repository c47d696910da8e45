package target

import (
	"context"
	"fmt"
	"strings"

	"github.com/gokd/kd/kdproto"
)

// Registers is a processor's register context.
type Registers struct{ kdproto.Context }

// PC returns the instruction pointer.
func (r Registers) PC() uint64 { return r.MustGet("rip") }

// needStopped returns the session when the target is stopped.
func (t *Target) needStopped() (*session, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.sess
	if s == nil || !s.stopped || s.dead {
		return nil, ErrNotStopped
	}
	return s, nil
}

// Registers returns the register context of the current processor,
// fetched once per stop.
func (t *Target) Registers(ctx context.Context) (Registers, error) {
	s, err := t.needStopped()
	if err != nil {
		return Registers{}, err
	}
	return t.registers(ctx, s)
}

func (t *Target) registers(ctx context.Context, s *session) (Registers, error) {
	if cx, ok := s.contexts[s.cpu]; ok {
		return Registers{cx}, nil
	}
	b, err := s.eng.GetContext(ctx, s.cpu)
	if err != nil {
		return Registers{}, err
	}
	if len(b) < kdproto.AMD64ContextSize {
		return Registers{}, fmt.Errorf("the target sent a %d-byte CONTEXT, want %d", len(b), kdproto.AMD64ContextSize)
	}
	cx := kdproto.Context{Regs: kdproto.AMD64Regs, Raw: b}
	if s.contexts == nil {
		s.contexts = make(map[uint16]kdproto.Context)
	}
	s.contexts[s.cpu] = cx
	return Registers{cx}, nil
}

// IsRegister reports whether name (without @) is a register kd knows.
func IsRegister(name string) bool {
	_, ok := kdproto.NewAMD64Context().Lookup(strings.ToLower(name))
	return ok
}

// SetRegister changes one register of the current processor.
func (t *Target) SetRegister(ctx context.Context, name string, v uint64) error {
	s, err := t.needStopped()
	if err != nil {
		return err
	}
	regs, err := t.registers(ctx, s)
	if err != nil {
		return err
	}
	name = strings.ToLower(name)
	if _, known := regs.Lookup(name); !known {
		return fmt.Errorf("bad register %q", name)
	}
	raw := append([]byte(nil), regs.Raw...)
	nc := kdproto.Context{Regs: regs.Regs, Raw: raw}
	nc.Set(name, v)
	flags := uint32(nc.MustGet("contextflags"))
	if flags == 0 {
		flags = kdproto.ContextAMD64Full
	}
	if err := s.eng.SetContext(ctx, s.cpu, flags, raw); err != nil {
		return err
	}
	s.contexts[s.cpu] = nc
	return nil
}

// CheckStopped returns ErrNotStopped unless the target is stopped.
func (t *Target) CheckStopped() error {
	_, err := t.needStopped()
	return err
}
