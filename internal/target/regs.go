package target

import (
	"context"

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
	return t.registersOf(ctx, s, s.cpu)
}

// CheckStopped returns ErrNotStopped unless the target is stopped.
func (t *Target) CheckStopped() error {
	_, err := t.needStopped()
	return err
}
