package target

import (
	"context"
	"encoding/binary"
	"fmt"
)

// Hardware breakpoints live in the x64 debug registers: Dr0-Dr3 hold the
// addresses and Dr7 enables them and says what each watches. A Windows
// kernel takes Dr0-Dr3 from each processor's KSPECIAL_REGISTERS (control
// space 2, written with WriteControlSpace) and Dr7 from every Continue2,
// and reports which one fired in the stop's Dr6 (B0-B3). Kernel
// breakpoints apply to every processor, so kd writes all of them.

// dr7 returns the Dr7 value for the enabled hardware breakpoints and
// assigns each its slot.
func (s *session) dr7() uint64 {
	var v uint64
	slot := 0
	for _, b := range s.bps {
		if !b.hw || !b.enabled || slot >= MaxHardwareBreakpoints {
			continue
		}
		b.slot = slot
		v |= 1 << (2 * slot) // Ln: enabled
		v |= uint64(dr7RW(b.access)) << (16 + 4*slot)
		v |= uint64(dr7Len(b.size)) << (18 + 4*slot)
		slot++
	}
	return v
}

func dr7RW(access byte) int {
	switch access {
	case 'w':
		return 1
	case 'i':
		return 2
	case 'r':
		return 3
	}
	return 0 // e
}

func dr7Len(size int) int {
	switch size {
	case 2:
		return 1
	case 8:
		return 2
	case 4:
		return 3
	}
	return 0
}

// syncDebugRegisters writes Dr0-Dr3 and Dr7 into every processor's
// special registers when the hardware breakpoints changed since the last
// time, and returns the Dr7 value for Continue2.
func (t *Target) syncDebugRegisters(ctx context.Context, s *session) (uint64, error) {
	dr7 := s.dr7()
	if !s.hwDirty {
		return dr7, nil
	}
	var dr [4]uint64
	for _, b := range s.bps {
		if b.hw && b.enabled && b.slot < 4 {
			dr[b.slot] = b.addr
		}
	}
	for cpu := uint16(0); uint32(cpu) < max(s.nprocs, 1); cpu++ {
		b, err := s.eng.ReadControlSpace(ctx, cpu, ControlSpecial, SpecialRegistersSize)
		if err != nil {
			return 0, fmt.Errorf("cannot read processor %d's debug registers: %w", cpu, err)
		}
		if len(b) < SpecialRegistersSize {
			return 0, fmt.Errorf("processor %d's special registers are %d bytes, want %d", cpu, len(b), SpecialRegistersSize)
		}
		b = b[:SpecialRegistersSize:SpecialRegistersSize]
		for i, a := range dr {
			binary.LittleEndian.PutUint64(b[srKernelDr0+8*i:], a)
		}
		binary.LittleEndian.PutUint64(b[srKernelDr7:], dr7)
		if n, err := s.eng.WriteControlSpace(ctx, cpu, ControlSpecial, b); err != nil {
			return 0, fmt.Errorf("cannot write processor %d's debug registers: %w", cpu, err)
		} else if n != len(b) {
			return 0, fmt.Errorf("processor %d took %d of %d bytes of special registers", cpu, n, len(b))
		}
	}
	s.hwDirty = false
	return dr7, nil
}

// hardwareHit returns the enabled hardware breakpoint whose Dr6 bit the
// stop reports, or nil.
func (s *session) hardwareHit(dr6 uint64) *breakpoint {
	if dr6&0xF == 0 {
		return nil
	}
	s.dr7() // the slots as they were planted
	for _, b := range s.bps {
		if b.hw && b.enabled && dr6&(1<<b.slot) != 0 {
			return b
		}
	}
	return nil
}

// execHardwareAt reports whether an enabled execution breakpoint watches
// pc: resuming there steps off it with Dr7 clear first.
func (s *session) execHardwareAt(pc uint64) bool {
	for _, b := range s.bps {
		if b.hw && b.enabled && b.access == 'e' && b.addr == pc {
			return true
		}
	}
	return false
}

// dr7Without returns Dr7 with the execution breakpoints at pc disabled
// (the others, data breakpoints included, stay armed for the step).
func (s *session) dr7Without(pc uint64) uint64 {
	v := s.dr7()
	for _, b := range s.bps {
		if b.hw && b.enabled && b.access == 'e' && b.addr == pc && b.slot < MaxHardwareBreakpoints {
			v &^= 3 << (2 * b.slot)
		}
	}
	return v
}
