package target

import (
	"context"
	"fmt"

	"github.com/gokd/kd/kdproto"
)

// ErrBadRegister is returned for a name that is not a register.
var ErrBadRegister = fmt.Errorf("bad register")

// ReadRegister returns one register of the current processor by any name
// kd knows: CONTEXT registers and their parts and flags from the cached
// context, control registers and descriptor tables from the processor's
// KSPECIAL_REGISTERS (read afresh).
func (t *Target) ReadRegister(ctx context.Context, name string) (RegValue, error) {
	d, ok := LookupRegister(name)
	if !ok {
		return RegValue{}, fmt.Errorf("%w %q", ErrBadRegister, name)
	}
	if d.Class == RegSpecial {
		sr, err := t.SpecialRegisters(ctx)
		if err != nil {
			return RegValue{}, err
		}
		return d.specialIn(sr.Raw), nil
	}
	regs, err := t.Registers(ctx)
	if err != nil {
		return RegValue{}, err
	}
	return d.valueIn(regs.Raw), nil
}

// SetRegister changes one register of the current processor. A part
// (eax, al, zf) changes only its bits of the full register; a control
// register or descriptor table is written back to the processor's
// KSPECIAL_REGISTERS (WriteControlSpace address 2). st and xmm registers
// cannot be written.
func (t *Target) SetRegister(ctx context.Context, name string, v uint64) error {
	s, err := t.needStopped()
	if err != nil {
		return err
	}
	d, ok := LookupRegister(name)
	if !ok {
		return fmt.Errorf("%w %q", ErrBadRegister, name)
	}
	switch d.Class {
	case RegVector:
		return fmt.Errorf("kd cannot change %s: only integer, flag, segment, debug, x87 control, MMX and control registers can be set", d.Name)
	case RegSpecial:
		b, err := s.eng.ReadControlSpace(ctx, s.cpu, ControlSpecial, SpecialRegistersSize)
		if err != nil {
			return err
		}
		if len(b) < SpecialRegistersSize {
			return fmt.Errorf("the target sent %d bytes of special registers, want %d", len(b), SpecialRegistersSize)
		}
		b = b[:SpecialRegistersSize]
		d.store(b, v)
		n, err := s.eng.WriteControlSpace(ctx, s.cpu, ControlSpecial, b)
		if err != nil {
			return err
		}
		if n != len(b) {
			return fmt.Errorf("the target took %d of %d bytes of special registers", n, len(b))
		}
		return nil
	}
	regs, err := t.registers(ctx, s)
	if err != nil {
		return err
	}
	raw := append([]byte(nil), regs.Raw...)
	nc := kdproto.Context{Regs: regs.Regs, Raw: raw}
	if !d.store(raw, v) {
		return fmt.Errorf("the target's CONTEXT is too short for %s", d.Name)
	}
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
