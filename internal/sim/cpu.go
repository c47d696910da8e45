package sim

import (
	"github.com/gokd/kd/kdproto"
)

// Offsets in the AMD64 CONTEXT record (kdproto.AMD64Regs).
const (
	ctxFlags = 0x30
	ctxMxCsr = 0x34
	ctxCs    = 0x38
	ctxDs    = 0x3A
	ctxEs    = 0x3C
	ctxFs    = 0x3E
	ctxGs    = 0x40
	ctxSs    = 0x42
	ctxEFl   = 0x44
	ctxDr6   = 0x68
	ctxDr7   = 0x70
	ctxRax   = 0x78
	ctxRcx   = 0x80
	ctxRsp   = 0x98
	ctxRbp   = 0xA0
	ctxRip   = 0xF8
	ctxFpCw  = 0x100
	ctxFxMx  = 0x118
)

// specialSize is the size of our AMD64 KSPECIAL_REGISTERS (control space 2).
const specialSize = 0xE0

// Offsets in KSPECIAL_REGISTERS.
const (
	srCr0    = 0x00
	srCr2    = 0x08
	srCr3    = 0x10
	srCr4    = 0x18
	srDr6    = 0x40
	srDr7    = 0x48
	srGdtr   = 0x50 // Pad[3], Limit at +6, Base at +8
	srIdtr   = 0x60
	srTr     = 0x70
	srMxCsr  = 0x74
	srGsBase = 0xA8
	srGsSwap = 0xB0
	srStar   = 0xB8
	srLStar  = 0xC0
	srSfMask = 0xD0
	srXcr0   = 0xD8
)

// cpu is one simulated processor: its CONTEXT, special registers and MSRs.
type cpu struct {
	index   int
	ctx     []byte // kdproto.AMD64ContextSize bytes
	special [specialSize]byte
	msr     map[uint32]uint64
	kpcr    uint64
	kprcb   uint64
	thread  uint64
	acc     [2]access // data accesses of the instruction being executed
	nacc    int
	rf      bool // resume flag: skip execution breakpoints for one instruction
}

func (c *cpu) reg(off int) uint64       { return le.Uint64(c.ctx[off:]) }
func (c *cpu) setReg(off int, v uint64) { le.PutUint64(c.ctx[off:], v) }
func (c *cpu) rip() uint64              { return c.reg(ctxRip) }

type stepResult int

const (
	stepOK    stepResult = iota
	stepHalt             // executed hlt: the processor waits for the next tick
	stepBreak            // rip points at an int 3
	stepFault            // illegal instruction or stack fault at rip
)

func (c *cpu) push(mem *memory, v uint64) bool {
	sp := c.reg(ctxRsp) - 8
	c.note(sp, 8, true)
	if !mem.put64(sp, v) {
		return false
	}
	c.setReg(ctxRsp, sp)
	return true
}

func (c *cpu) pop(mem *memory) (uint64, bool) {
	sp := c.reg(ctxRsp)
	c.note(sp, 8, false)
	v, ok := mem.u64(sp)
	if ok {
		c.setReg(ctxRsp, sp+8)
	}
	return v, ok
}

// step executes the instruction at rip. It understands exactly the
// instructions asm.go emits; anything else is an illegal instruction, which
// is how a real processor would end up after running into garbage.
func (c *cpu) step(mem *memory) (stepResult, kdproto.Status) {
	rip := c.rip()
	var ib [16]byte
	n := mem.read(rip, ib[:])
	if n == 0 {
		return stepFault, kdproto.StatusAccessViolation
	}
	i := ib[:n]
	need := func(k int) bool { return len(i) >= k }
	next := func(k int) { c.setReg(ctxRip, rip+uint64(k)) }
	rel32 := func(at int) uint64 { return uint64(int64(int32(le.Uint32(i[at:])))) }
	switch {
	case i[0] == 0xCC:
		return stepBreak, kdproto.StatusBreakpoint
	case i[0] == 0x55:
		if !c.push(mem, c.reg(ctxRbp)) {
			return stepFault, kdproto.StatusAccessViolation
		}
		next(1)
	case i[0] == 0x5D:
		v, ok := c.pop(mem)
		if !ok {
			return stepFault, kdproto.StatusAccessViolation
		}
		c.setReg(ctxRbp, v)
		next(1)
	case i[0] == 0xC3:
		v, ok := c.pop(mem)
		if !ok {
			return stepFault, kdproto.StatusAccessViolation
		}
		c.setReg(ctxRip, v)
	case i[0] == 0xE8 && need(5):
		if !c.push(mem, rip+5) {
			return stepFault, kdproto.StatusAccessViolation
		}
		c.setReg(ctxRip, rip+5+rel32(1))
	case i[0] == 0xE9 && need(5):
		c.setReg(ctxRip, rip+5+rel32(1))
	case i[0] == 0xEB && need(2):
		c.setReg(ctxRip, rip+2+uint64(int64(int8(i[1]))))
	case i[0] == 0x90, i[0] == 0xFB, i[0] == 0xFA:
		fl := c.reg(ctxEFl)
		if i[0] == 0xFB {
			fl |= kdproto.EFlagsInterrupt
		} else if i[0] == 0xFA {
			fl &^= kdproto.EFlagsInterrupt
		}
		le.PutUint32(c.ctx[ctxEFl:], uint32(fl))
		next(1)
	case i[0] == 0xF4:
		next(1)
		return stepHalt, 0
	case i[0] == 0xF3 && need(2) && i[1] == 0x90:
		next(2)
	case i[0] == 0x31 && need(2) && i[1] == 0xC9:
		c.setReg(ctxRcx, 0)
		next(2)
	case i[0] == 0x31 && need(2) && i[1] == 0xC0:
		c.setReg(ctxRax, 0)
		next(2)
	case i[0] == 0xB9 && need(5):
		c.setReg(ctxRcx, uint64(le.Uint32(i[1:])))
		next(5)
	case i[0] == 0x48 && need(3) && i[1] == 0x89 && i[2] == 0xE5:
		c.setReg(ctxRbp, c.reg(ctxRsp))
		next(3)
	case i[0] == 0x48 && need(4) && i[1] == 0x83 && (i[2] == 0xEC || i[2] == 0xC4):
		d := uint64(int64(int8(i[3])))
		if i[2] == 0xEC {
			d = -d
		}
		c.setReg(ctxRsp, c.reg(ctxRsp)+d)
		next(4)
	case i[0] == 0xFF && need(6) && i[1] == 0x05:
		a := rip + 6 + rel32(2)
		c.note(a, 4, true) // a read-modify-write: the write covers the read
		v, ok := mem.u32(a)
		if !ok || !mem.put32(a, v+1) {
			return stepFault, kdproto.StatusAccessViolation
		}
		next(6)
	case i[0] == 0x48 && need(7) && i[1] == 0x8D && i[2] == 0x0D:
		c.setReg(ctxRcx, rip+7+rel32(3))
		next(7)
	default:
		return stepFault, statusIllegalInstruction
	}
	return stepOK, 0
}

// statusIllegalInstruction is STATUS_ILLEGAL_INSTRUCTION (kdproto has no name for it).
const statusIllegalInstruction kdproto.Status = 0xC000001D
