package target

import (
	"context"
	"encoding/binary"
	"fmt"
)

// SpecialRegistersSize is the size of an x64 KSPECIAL_REGISTERS, the
// block ReadControlSpace returns for address 2.
const SpecialRegistersSize = 0xE0

// Control-space addresses of an x64 target (ReadControlSpace).
const (
	ControlKPCR    = 0 // pointer to the processor's KPCR
	ControlKPRCB   = 1 // pointer to its KPRCB
	ControlSpecial = 2 // its KSPECIAL_REGISTERS
	ControlKThread = 3 // pointer to its current KTHREAD
)

// DescriptorTable is a GDTR or IDTR value.
type DescriptorTable struct {
	Limit uint16
	Base  uint64
}

// SpecialRegisters is a processor's x64 KSPECIAL_REGISTERS: the control
// registers, the kernel debug registers, the descriptor tables and the
// system-call MSRs the kernel saved when it entered the debugger. Raw
// keeps the bytes as the target sent them, for writing back.
type SpecialRegisters struct {
	Cr0, Cr2, Cr3, Cr4                         uint64
	KernelDr0, KernelDr1, KernelDr2, KernelDr3 uint64
	KernelDr6, KernelDr7                       uint64
	Gdtr, Idtr                                 DescriptorTable
	Tr, Ldtr                                   uint16
	MxCsr                                      uint32
	DebugControl                               uint64
	LastBranchToRip, LastBranchFromRip         uint64
	LastExceptionToRip, LastExceptionFrom      uint64
	Cr8                                        uint64
	MsrGsBase, MsrGsSwap                       uint64
	MsrStar, MsrLStar, MsrCStar, MsrSfMask     uint64
	Xcr0                                       uint64
	Raw                                        []byte
}

// Offsets of the fields in an x64 KSPECIAL_REGISTERS.
const (
	srCr0          = 0x00
	srCr2          = 0x08
	srCr3          = 0x10
	srCr4          = 0x18
	srKernelDr0    = 0x20
	srKernelDr6    = 0x40
	srKernelDr7    = 0x48
	srGdtr         = 0x50 // 6 bytes of padding, Limit at +6, Base at +8
	srIdtr         = 0x60
	srTr           = 0x70
	srLdtr         = 0x72
	srMxCsr        = 0x74
	srDebugControl = 0x78
	srLastBranch   = 0x80 // To, From, ExceptionTo, ExceptionFrom
	srCr8          = 0xA0
	srMsrGsBase    = 0xA8
	srMsrGsSwap    = 0xB0
	srMsrStar      = 0xB8
	srMsrLStar     = 0xC0
	srMsrCStar     = 0xC8
	srMsrSfMask    = 0xD0
	srXcr0         = 0xD8
)

// ParseSpecialRegisters decodes an x64 KSPECIAL_REGISTERS.
func ParseSpecialRegisters(b []byte) (SpecialRegisters, error) {
	if len(b) < SpecialRegistersSize {
		return SpecialRegisters{}, fmt.Errorf("the target sent %d bytes of special registers, want %d", len(b), SpecialRegistersSize)
	}
	q := func(off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }
	dt := func(off int) DescriptorTable {
		return DescriptorTable{Limit: binary.LittleEndian.Uint16(b[off+6:]), Base: q(off + 8)}
	}
	return SpecialRegisters{
		Cr0: q(srCr0), Cr2: q(srCr2), Cr3: q(srCr3), Cr4: q(srCr4),
		KernelDr0: q(srKernelDr0), KernelDr1: q(srKernelDr0 + 8), KernelDr2: q(srKernelDr0 + 16), KernelDr3: q(srKernelDr0 + 24),
		KernelDr6: q(srKernelDr6), KernelDr7: q(srKernelDr7),
		Gdtr: dt(srGdtr), Idtr: dt(srIdtr),
		Tr: binary.LittleEndian.Uint16(b[srTr:]), Ldtr: binary.LittleEndian.Uint16(b[srLdtr:]),
		MxCsr:           binary.LittleEndian.Uint32(b[srMxCsr:]),
		DebugControl:    q(srDebugControl),
		LastBranchToRip: q(srLastBranch), LastBranchFromRip: q(srLastBranch + 8),
		LastExceptionToRip: q(srLastBranch + 16), LastExceptionFrom: q(srLastBranch + 24),
		Cr8: q(srCr8), MsrGsBase: q(srMsrGsBase), MsrGsSwap: q(srMsrGsSwap),
		MsrStar: q(srMsrStar), MsrLStar: q(srMsrLStar), MsrCStar: q(srMsrCStar), MsrSfMask: q(srMsrSfMask),
		Xcr0: q(srXcr0),
		Raw:  append([]byte(nil), b[:SpecialRegistersSize]...),
	}, nil
}

// SpecialRegisters reads the current processor's KSPECIAL_REGISTERS
// (control space address 2). It is read afresh on every call.
func (t *Target) SpecialRegisters(ctx context.Context) (SpecialRegisters, error) {
	s, err := t.needStopped()
	if err != nil {
		return SpecialRegisters{}, err
	}
	b, err := s.eng.ReadControlSpace(ctx, s.cpu, ControlSpecial, SpecialRegistersSize)
	if err != nil {
		return SpecialRegisters{}, err
	}
	return ParseSpecialRegisters(b)
}

// ControlPointer reads one of the pointers of the current processor's
// control space: ControlKPCR, ControlKPRCB or ControlKThread.
func (t *Target) ControlPointer(ctx context.Context, which uint64) (uint64, error) {
	s, err := t.needStopped()
	if err != nil {
		return 0, err
	}
	b, err := s.eng.ReadControlSpace(ctx, s.cpu, which, 8)
	if err != nil {
		return 0, err
	}
	if len(b) < 8 {
		return 0, fmt.Errorf("the target sent %d bytes for control-space pointer %d, want 8", len(b), which)
	}
	return binary.LittleEndian.Uint64(b), nil
}
