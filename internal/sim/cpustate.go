package sim

// The processor's system tables: each processor has a GDT, an IDT whose
// gates point at nt's trap and interrupt handlers, a TSS with interrupt
// stacks, and a KPCR/KPRCB that names them all, the way an x64 Windows
// processor has them after boot. !pcr, !idt, !cpuinfo, r gdtr and r idtr
// read these. See docs/kdsim.md ("Processors").

// Offsets of the processor's tables from its KPCR page (buildCPU maps the
// KPCR and KPRCB in the first two pages).
const (
	cpuGdtOff = 0x2000
	cpuIdtOff = 0x3000
	cpuTssOff = 0x4000
	gdtLimit  = 0x57
	idtLimit  = 0xFFF
)

// Offsets in the simulated KPRCB (types.h's _KPRCB).
const (
	prcbVendor   = 0x30
	prcbCpuType  = 0x3D
	prcbCpuID    = 0x3E
	prcbCpuStep  = 0x40
	prcbMHz      = 0x44
	prcbFeatures = 0x48
)

// The simulated processor: a family 6, model 0x9E, stepping 10 part at
// 3192 MHz with microcode revision 0xB4.
const (
	cpuFamily    = 6
	cpuModel     = 0x9E
	cpuStepping  = 10
	cpuMHz       = 3192
	cpuMicrocode = 0xB4
	cpuFeatures  = 0x00000000A3CD3FFE
)

// trapHandlers are the IDT's gates: vector, nt handler, IST index, DPL.
var trapHandlers = []struct {
	vector uint8
	name   string
	ist    uint8
	dpl    uint8
}{
	{0x00, "nt!KiDivideErrorFault", 0, 0},
	{0x01, "nt!KiDebugTrapOrFault", 4, 0},
	{0x02, "nt!KiNmiInterrupt", 3, 0},
	{0x03, "nt!KiBreakpointTrap", 0, 3},
	{0x04, "nt!KiOverflowTrap", 0, 3},
	{0x05, "nt!KiBoundFault", 0, 0},
	{0x06, "nt!KiInvalidOpcodeFault", 0, 0},
	{0x07, "nt!KiNpxNotAvailableFault", 0, 0},
	{0x08, "nt!KiDoubleFaultAbort", 1, 0},
	{0x09, "nt!KiNpxSegmentOverrunAbort", 0, 0},
	{0x0A, "nt!KiInvalidTssFault", 0, 0},
	{0x0B, "nt!KiSegmentNotPresentFault", 0, 0},
	{0x0C, "nt!KiStackFault", 0, 0},
	{0x0D, "nt!KiGeneralProtectionFault", 0, 0},
	{0x0E, "nt!KiPageFault", 0, 0},
	{0x10, "nt!KiFloatingErrorFault", 0, 0},
	{0x11, "nt!KiAlignmentFault", 0, 0},
	{0x12, "nt!KiMcheckAbort", 2, 0},
	{0x13, "nt!KiXmmException", 0, 0},
	{0x1F, "nt!KiApcInterrupt", 0, 0},
	{0x2C, "nt!KiRaiseAssertion", 0, 3},
	{0x2D, "nt!KiDebugServiceTrap", 0, 3},
	{0x2F, "nt!KiDpcInterrupt", 0, 0},
	{0xD1, "hal!HalpTimerClockInterrupt", 0, 0},
	{0xE1, "nt!KiIpiInterrupt", 0, 0},
}

// assembleTraps adds nt's trap and interrupt handlers: each is a frame
// set-up and a jump to itself, real code for disassemblers and unwinders
// that the simulated processors never run (they take no interrupts).
func assembleTraps(a *asm, module string) {
	for _, h := range trapHandlers {
		if len(h.name) > len(module) && h.name[:len(module)+1] == module+"!" {
			a.fn(h.name)
			a.prologue()
			a.jmpSelf()
		}
	}
}

// buildTables fills processor c's GDT, IDT, TSS, the KPCR fields that
// point at them and the KPRCB's identification, and sets the
// microcode-signature MSR. base is the KPCR page.
func (im *image) buildTables(c *cpu, base uint64) {
	v := im.vmem
	gdt, idt, tss := base+cpuGdtOff, base+cpuIdtOff, base+cpuTssOff
	for _, pg := range []uint64{gdt, idt, tss} {
		im.mapNew(pg, pteKernelData)
	}
	// GDT: null, kernel code/data, user code32/data/code64, the TSS
	// (a 16-byte system descriptor at 0x40) and the 32-bit TEB segment.
	for sel, d := range map[uint64]uint64{
		0x10: 0x00209B0000000000, 0x18: 0x00CF93000000FFFF, 0x20: 0x00CFFB000000FFFF,
		0x28: 0x00CFF3000000FFFF, 0x30: 0x0020FB0000000000, 0x50: 0x0040F30000003C00,
	} {
		v.put64(gdt+sel, d)
	}
	v.put64(gdt+0x40, 0x67|(tss&0xFFFFFF)<<16|0x8B<<40|(tss>>24&0xFF)<<56)
	v.put64(gdt+0x48, tss>>32)
	// TSS: RSP0 and IST1-4 at the tops of the processor's stack region.
	stackTop := im.stacks + 0x10000*uint64(c.index+1)
	v.put64(tss+0x04, stackTop)
	for i := uint64(1); i <= 4; i++ {
		v.put64(tss+0x24+8*(i-1), stackTop+0x100000+i*0x6000)
	}
	v.write(tss+0x66, []byte{0x68, 0})
	// IDT: present interrupt gates (type 0xE) through selector 0x10.
	for _, h := range trapHandlers {
		addr := im.syms[h.name]
		e := idt + 16*uint64(h.vector)
		v.put64(e, addr&0xFFFF|0x10<<16|uint64(h.ist)<<32|uint64(0x8E|h.dpl<<5)<<40|(addr>>16&0xFFFF)<<48)
		v.put64(e+8, addr>>32)
	}
	// KPCR: GdtBase, TssBase, IdtBase, Irql, MajorVersion/MinorVersion,
	// StallScaleFactor (Self and CurrentPrcb are set by buildCPU).
	v.put64(c.kpcr+0x00, gdt)
	v.put64(c.kpcr+0x08, tss)
	v.put64(c.kpcr+0x38, idt)
	v.write(c.kpcr+0x60, []byte{1, 0, 1, 0})
	v.put32(c.kpcr+0x64, cpuMHz)
	// KPRCB identification.
	v.write(c.kprcb+prcbVendor, []byte("GenuineIntel\x00"))
	v.write(c.kprcb+prcbCpuType, []byte{cpuFamily, 1})
	v.write(c.kprcb+prcbCpuStep, []byte{cpuStepping, cpuModel})
	v.put32(c.kprcb+prcbMHz, cpuMHz)
	v.put64(c.kprcb+prcbFeatures, cpuFeatures)
	c.msr[0x8B] = cpuMicrocode << 32

	sr := c.special[:]
	le.PutUint16(sr[srGdtr+6:], gdtLimit)
	le.PutUint64(sr[srGdtr+8:], gdt)
	le.PutUint16(sr[srIdtr+6:], idtLimit)
	le.PutUint64(sr[srIdtr+8:], idt)
}
