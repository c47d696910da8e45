package unwind

import (
	"encoding/binary"
	"fmt"

	"github.com/gokd/kd/internal/pe"
)

// Op is an UNWIND_CODE operation.
type Op uint8

// The unwind operations.
const (
	PushNonvol    Op = 0
	AllocLarge    Op = 1
	AllocSmall    Op = 2
	SetFPReg      Op = 3
	SaveNonvol    Op = 4
	SaveNonvolFar Op = 5
	Epilog        Op = 6 // version 2 only
	SpareCode     Op = 7
	SaveXMM128    Op = 8
	SaveXMM128Far Op = 9
	PushMachframe Op = 10
)

var opNames = [...]string{"PUSH_NONVOL", "ALLOC_LARGE", "ALLOC_SMALL", "SET_FPREG", "SAVE_NONVOL",
	"SAVE_NONVOL_FAR", "EPILOG", "SPARE_CODE", "SAVE_XMM128", "SAVE_XMM128_FAR", "PUSH_MACHFRAME"}

// String names the operation as Windows headers do.
func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return fmt.Sprintf("UNWIND_OP_%d", uint8(o))
}

// UNWIND_INFO flags.
const (
	FlagEHandler  = 1
	FlagUHandler  = 2
	FlagChainInfo = 4
)

// Code is one decoded unwind operation (one to three slots).
type Code struct {
	Offset uint8  // offset in the prolog of the end of the instruction
	Op     Op     // operation
	Info   uint8  // register number, or the operation's small operand
	Value  uint32 // ALLOC size, SAVE offset in bytes from the frame base, EPILOG size or distance
}

// Info is a decoded UNWIND_INFO.
type Info struct {
	Version       uint8
	Flags         uint8
	SizeOfProlog  uint8
	FrameRegister uint8 // 0: none
	FrameOffset   uint8 // unscaled: the frame register is RSP + 16*FrameOffset
	Codes         []Code
	Chained       pe.RuntimeFunction // the parent entry when Flags has FlagChainInfo
	Handler       uint32             // handler RVA when Flags has FlagEHandler or FlagUHandler
}

// infoSize is the number of bytes an UNWIND_INFO with count code slots
// occupies up to and including the chained entry or the handler RVA.
func infoSize(count, flags uint8) int {
	n := 4 + 2*((int(count)+1)&^1)
	switch {
	case flags&FlagChainInfo != 0:
		n += 12
	case flags&(FlagEHandler|FlagUHandler) != 0:
		n += 4
	}
	return n
}

// DecodeInfo decodes an UNWIND_INFO. b must hold the whole structure (see
// ReadInfo); anything it does not describe is an error.
func DecodeInfo(b []byte) (Info, error) {
	if len(b) < 4 {
		return Info{}, fmt.Errorf("unwind info is %d bytes, want at least 4", len(b))
	}
	ui := Info{
		Version:       b[0] & 7,
		Flags:         b[0] >> 3,
		SizeOfProlog:  b[1],
		FrameRegister: b[3] & 15,
		FrameOffset:   b[3] >> 4,
	}
	if ui.Version != 1 && ui.Version != 2 {
		return Info{}, fmt.Errorf("unwind info version %d is not 1 or 2", ui.Version)
	}
	count := b[2]
	if need := infoSize(count, ui.Flags); len(b) < need {
		return Info{}, fmt.Errorf("unwind info needs %d bytes, have %d", need, len(b))
	}
	le := binary.LittleEndian
	slot := func(i int) uint16 { return le.Uint16(b[4+2*i:]) }
	for i := 0; i < int(count); {
		s := slot(i)
		c := Code{Offset: uint8(s), Op: Op(s>>8) & 15, Info: uint8(s >> 12)}
		slots := 1
		switch c.Op {
		case PushNonvol, SetFPReg, PushMachframe:
		case AllocSmall:
			c.Value = uint32(c.Info)*8 + 8
		case AllocLarge:
			switch c.Info {
			case 0:
				slots = 2
			case 1:
				slots = 3
			default:
				return Info{}, fmt.Errorf("ALLOC_LARGE with op info %d", c.Info)
			}
		case SaveNonvol, SaveXMM128:
			slots = 2
		case SaveNonvolFar, SaveXMM128Far:
			slots = 3
		case Epilog:
			if ui.Version != 2 {
				return Info{}, fmt.Errorf("unwind code 6 (legacy SAVE_XMM) in a version 1 entry is not supported")
			}
			c.Value = uint32(c.Offset) | uint32(c.Info)<<8
		case SpareCode:
			slots = 2
		default:
			return Info{}, fmt.Errorf("unknown unwind operation %d at slot %d", c.Op, i)
		}
		if i+slots > int(count) {
			return Info{}, fmt.Errorf("%v at slot %d runs past the %d code slots", c.Op, i, count)
		}
		switch {
		case c.Op == AllocLarge && c.Info == 0:
			c.Value = uint32(slot(i+1)) * 8
		case c.Op == AllocLarge:
			c.Value = uint32(slot(i+1)) | uint32(slot(i+2))<<16
		case c.Op == SaveNonvol:
			c.Value = uint32(slot(i+1)) * 8
		case c.Op == SaveXMM128:
			c.Value = uint32(slot(i+1)) * 16
		case c.Op == SaveNonvolFar || c.Op == SaveXMM128Far:
			c.Value = uint32(slot(i+1)) | uint32(slot(i+2))<<16
		}
		if c.Op == SetFPReg && ui.FrameRegister == 0 {
			return Info{}, fmt.Errorf("SET_FPREG without a frame register")
		}
		ui.Codes = append(ui.Codes, c)
		i += slots
	}
	tail := b[4+2*((int(count)+1)&^1):]
	switch {
	case ui.Flags&FlagChainInfo != 0:
		ui.Chained = pe.DecodeRuntimeFunction(tail)
	case ui.Flags&(FlagEHandler|FlagUHandler) != 0:
		ui.Handler = le.Uint32(tail)
	}
	return ui, nil
}

// ReadInfo reads and decodes the UNWIND_INFO at addr.
func ReadInfo(mem Memory, addr uint64) (Info, error) {
	var hdr [4]byte
	if err := mem.ReadMemory(addr, hdr[:]); err != nil {
		return Info{}, fmt.Errorf("read unwind info at %#x: %w", addr, err)
	}
	b := make([]byte, infoSize(hdr[2], hdr[0]>>3))
	copy(b, hdr[:])
	if err := mem.ReadMemory(addr+4, b[4:]); err != nil {
		return Info{}, fmt.Errorf("read unwind codes at %#x: %w", addr+4, err)
	}
	ui, err := DecodeInfo(b)
	if err != nil {
		return Info{}, fmt.Errorf("unwind info at %#x: %w", addr, err)
	}
	return ui, nil
}
