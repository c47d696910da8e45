package unwind

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gokd/kd/internal/pe"
)

// Register numbers, in UNWIND_CODE and CONTEXT order.
const (
	RAX = iota
	RCX
	RDX
	RBX
	RSP
	RBP
	RSI
	RDI
	R8
	R9
	R10
	R11
	R12
	R13
	R14
	R15
)

// maxChain is how many chained entries are followed, as in Windows.
const maxChain = 32

// Context is the register state of one frame.
type Context struct {
	RIP uint64
	GPR [16]uint64    // indexed by register number; GPR[RSP] is the stack pointer
	XMM [16][2]uint64 // low and high quadwords
}

// SP returns the stack pointer.
func (c *Context) SP() uint64 { return c.GPR[RSP] }

// Memory reads target memory.
type Memory interface {
	// ReadMemory fills p from addr or fails; a short read is a failure.
	ReadMemory(addr uint64, p []byte) error
}

// MemoryFunc adapts a function to Memory.
type MemoryFunc func(addr uint64, p []byte) error

// ReadMemory calls f.
func (f MemoryFunc) ReadMemory(addr uint64, p []byte) error { return f(addr, p) }

// Function is where Lookup found a code address.
type Function struct {
	Module    string // for messages; may be empty
	ImageBase uint64
	Entry     pe.RuntimeFunction // valid when HasEntry
	HasEntry  bool               // false: a leaf function with no .pdata entry
}

// Lookup finds the unwind data for a code address.
type Lookup interface {
	// LookupFunction returns the image holding pc and its runtime function.
	// For an address in no known image it returns an error wrapping ErrNoModule.
	LookupFunction(pc uint64) (Function, error)
}

// LookupFunc adapts a function to Lookup.
type LookupFunc func(pc uint64) (Function, error)

// LookupFunction calls f.
func (f LookupFunc) LookupFunction(pc uint64) (Function, error) { return f(pc) }

// ErrNoModule reports a code address outside every known image.
var ErrNoModule = errors.New("address is in no known module")

// How says how a frame's instruction and stack pointers were found.
type How int

// The ways a frame is found.
const (
	FromContext      How = iota // frame 0: the register context itself
	FromUnwindInfo              // undoing the callee's prolog from its unwind codes
	FromEpilog                  // emulating the rest of the callee's epilog
	FromLeaf                    // the callee had no .pdata entry: return address at RSP
	FromMachineFrame            // the callee's PUSH_MACHFRAME: an interrupted context
	FromFramePointer            // following the RBP chain: a guess
)

var howNames = [...]string{"context", "unwind info", "epilog", "leaf", "machine frame", "frame pointer guess"}

// String describes how the frame was found.
func (h How) String() string {
	if h >= 0 && int(h) < len(howNames) {
		return howNames[h]
	}
	return fmt.Sprintf("how(%d)", int(h))
}

// Guess reports whether the frame may be wrong.
func (h How) Guess() bool { return h == FromFramePointer }

// read64 reads a little-endian quadword.
func read64(mem Memory, addr uint64) (uint64, error) {
	var b [8]byte
	if err := mem.ReadMemory(addr, b[:]); err != nil {
		return 0, fmt.Errorf("read stack at %#x: %w", addr, err)
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// Step unwinds one frame: c is the context in fn at c.RIP; the result is
// the caller's context. A leaf function (fn without an entry) returns to the
// address at RSP.
func Step(mem Memory, fn Function, c Context) (Context, How, error) {
	if !fn.HasEntry {
		ret, err := read64(mem, c.SP())
		if err != nil {
			return c, FromLeaf, err
		}
		c.RIP = ret
		c.GPR[RSP] += 8
		return c, FromLeaf, nil
	}
	base := fn.ImageBase
	rf := fn.Entry
	if rf.UnwindData&1 != 0 {
		// RUNTIME_FUNCTION_INDIRECT: UnwindData-1 is the RVA of the entry to use.
		var b [12]byte
		if err := mem.ReadMemory(base+uint64(rf.UnwindData-1), b[:]); err != nil {
			return c, FromUnwindInfo, fmt.Errorf("read indirect function entry: %w", err)
		}
		rf = pe.DecodeRuntimeFunction(b[:])
		if rf.UnwindData&1 != 0 {
			return c, FromUnwindInfo, errors.New("indirect function entry points at another indirect entry")
		}
	}
	ui, err := ReadInfo(mem, base+uint64(rf.UnwindData))
	if err != nil {
		return c, FromUnwindInfo, err
	}
	off := c.RIP - base - uint64(rf.Begin) // huge when RIP is before Begin: every code applies
	frameBase := establisherFrame(&ui, off, &c)

	if inEpilog(&ui, rf, base, off, c.RIP) {
		if done, err := emulateEpilog(mem, &ui, rf, base, &c); done || err != nil {
			return c, FromEpilog, err
		}
	}
	machine := false
	for depth := 0; ; depth++ {
		if err := undoCodes(mem, &ui, off, frameBase, &c, &machine); err != nil {
			return c, FromUnwindInfo, err
		}
		if ui.Flags&FlagChainInfo == 0 {
			break
		}
		if depth == maxChain {
			return c, FromUnwindInfo, fmt.Errorf("more than %d chained unwind entries", maxChain)
		}
		rf = ui.Chained
		if ui, err = ReadInfo(mem, base+uint64(rf.UnwindData)); err != nil {
			return c, FromUnwindInfo, fmt.Errorf("chained entry: %w", err)
		}
		off = c.RIP - base - uint64(rf.Begin)
	}
	if machine {
		return c, FromMachineFrame, nil
	}
	ret, err := read64(mem, c.SP())
	if err != nil {
		return c, FromUnwindInfo, err
	}
	c.RIP = ret
	c.GPR[RSP] += 8
	return c, FromUnwindInfo, nil
}

// establisherFrame is the base that SAVE_* offsets are relative to: RSP
// without a frame register, else the frame register less its offset once
// SET_FPREG has run.
func establisherFrame(ui *Info, off uint64, c *Context) uint64 {
	if ui.FrameRegister == 0 {
		return c.SP()
	}
	fp := c.GPR[ui.FrameRegister] - 16*uint64(ui.FrameOffset)
	if off >= uint64(ui.SizeOfProlog) || ui.Flags&FlagChainInfo != 0 {
		return fp
	}
	for _, code := range ui.Codes {
		if code.Op == SetFPReg && off >= uint64(code.Offset) {
			return fp
		}
	}
	return c.SP()
}

// undoCodes applies the inverse of every prolog operation that has run.
func undoCodes(mem Memory, ui *Info, off, frameBase uint64, c *Context, machine *bool) error {
	inProlog := off < uint64(ui.SizeOfProlog)
	for _, code := range ui.Codes {
		if code.Op == Epilog || code.Op == SpareCode {
			continue
		}
		if inProlog && uint64(code.Offset) > off {
			continue // this instruction has not run yet
		}
		switch code.Op {
		case PushNonvol:
			v, err := read64(mem, c.SP())
			if err != nil {
				return err
			}
			c.GPR[code.Info] = v
			c.GPR[RSP] += 8
		case AllocLarge, AllocSmall:
			c.GPR[RSP] += uint64(code.Value)
		case SetFPReg:
			c.GPR[RSP] = c.GPR[ui.FrameRegister] - 16*uint64(ui.FrameOffset)
		case SaveNonvol, SaveNonvolFar:
			v, err := read64(mem, frameBase+uint64(code.Value))
			if err != nil {
				return err
			}
			c.GPR[code.Info] = v
		case SaveXMM128, SaveXMM128Far:
			var b [16]byte
			if err := mem.ReadMemory(frameBase+uint64(code.Value), b[:]); err != nil {
				return fmt.Errorf("read saved xmm%d: %w", code.Info, err)
			}
			c.XMM[code.Info] = [2]uint64{binary.LittleEndian.Uint64(b[:]), binary.LittleEndian.Uint64(b[8:])}
		case PushMachframe:
			sp := c.SP()
			if code.Info != 0 {
				sp += 8 // an error code was pushed after the machine frame
			}
			rip, err := read64(mem, sp)
			if err != nil {
				return err
			}
			rsp, err := read64(mem, sp+24)
			if err != nil {
				return err
			}
			c.RIP, c.GPR[RSP] = rip, rsp
			*machine = true
		}
	}
	return nil
}
