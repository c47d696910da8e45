package sim

import "github.com/gokd/kd/kdproto"

// The processors' debug registers. The host writes Dr0-Dr3 into a
// processor's KSPECIAL_REGISTERS (WriteControlSpace) and Dr7 with every
// Continue2, as a Windows kernel takes them; the interpreter then checks
// them as an x64 processor does. An execution breakpoint faults before
// the instruction runs (rip stays at it); a data breakpoint traps after
// the instruction that read or wrote a watched byte (rip is past it).
// Both stop with STATUS_SINGLE_STEP and the hit's B0-B3 bit set in Dr6.
// The processor that stopped resumes with the resume flag set, so an
// execution breakpoint at its rip does not fire again at once.

// srDr0 is the offset of KernelDr0 in KSPECIAL_REGISTERS (Dr1-Dr3 follow).
const srDr0 = 0x20

// Dr6 and Dr7 bits.
const (
	dr6BS      = 1 << 14 // single step (trace flag)
	dr7RWExec  = 0       // break on instruction fetch
	dr7RWWrite = 1       // break on data writes
	dr7RWIO    = 2       // break on I/O (needs CR4.DE)
	dr7RWRead  = 3       // break on data reads or writes
)

// stepDebug: a debug register matched (a #DB exception).
const stepDebug = stepFault + 1

// access is one data access of the instruction being executed.
type access struct {
	addr  uint64
	size  uint64
	write bool
}

// note records a data access of the current instruction for the data
// breakpoints; an instruction of the simulated set makes at most two.
func (c *cpu) note(addr, size uint64, write bool) {
	if c.nacc < len(c.acc) {
		c.acc[c.nacc] = access{addr, size, write}
		c.nacc++
	}
}

// dr7Len decodes a LENn field: 1, 2, 8 or 4 bytes.
func dr7Len(f uint64) uint64 { return [4]uint64{1, 2, 8, 4}[f&3] }

// debugHits returns the B0-B3 bits of the enabled debug registers that
// match: exec set compares the instruction address, otherwise the data
// accesses of the instruction just executed.
func (c *cpu) debugHits(exec bool) uint64 {
	dr7 := le.Uint64(c.special[srDr7:])
	if dr7&0xFF == 0 {
		return 0
	}
	var hits uint64
	for i := 0; i < 4; i++ {
		if dr7>>(2*i)&3 == 0 {
			continue
		}
		rw := dr7 >> (16 + 4*i) & 3
		n := dr7Len(dr7 >> (18 + 4*i))
		dr := le.Uint64(c.special[srDr0+8*i:])
		if exec {
			if rw == dr7RWExec && dr == c.rip() {
				hits |= 1 << i
			}
			continue
		}
		if rw != dr7RWWrite && rw != dr7RWRead {
			continue // I/O: the simulated code does no port I/O
		}
		lo := dr &^ (n - 1)
		for _, a := range c.acc[:c.nacc] {
			if (a.write || rw == dr7RWRead) && a.addr < lo+n && lo < a.addr+a.size {
				hits |= 1 << i
			}
		}
	}
	return hits
}

// setDr6 records a debug exception's cause in Dr6.
func (c *cpu) setDr6(bits uint64) {
	le.PutUint64(c.special[srDr6:], le.Uint64(c.special[srDr6:])|bits)
}

// stepChecked executes one instruction under the debug registers: an
// execution breakpoint at rip (unless the resume flag is set) stops
// before it, a data breakpoint on what it accessed stops after it.
func (c *cpu) stepChecked(mem *memory) (stepResult, kdproto.Status) {
	rf := c.rf
	c.rf = false
	if !rf {
		if h := c.debugHits(true); h != 0 {
			c.setDr6(h)
			return stepDebug, kdproto.StatusSingleStep
		}
	}
	c.nacc = 0
	r, code := c.step(mem)
	if r == stepOK || r == stepHalt {
		if h := c.debugHits(false); h != 0 {
			c.setDr6(h)
			return stepDebug, kdproto.StatusSingleStep
		}
	}
	return r, code
}
