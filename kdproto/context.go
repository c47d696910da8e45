package kdproto

import "strings"

// Sizes of the CONTEXT records carried by Get/SetContext.
const (
	AMD64ContextSize = 0x4D0
	X86ContextSize   = 0x2CC
)

// ContextFlags values.
const (
	ContextAMD64      = 0x00100000
	ContextAMD64Full  = 0x0010000B
	ContextAMD64All   = 0x0010001F
	ContextI386       = 0x00010000
	ContextI386Full   = 0x00010007
	ContextI386All    = 0x0001003F
	EFlagsTrap        = 0x100
	EFlagsInterrupt   = 0x200
	EFlagsDirection   = 0x400
	EFlagsOverflow    = 0x800
	EFlagsSign        = 0x80
	EFlagsZero        = 0x40
	EFlagsAux         = 0x10
	EFlagsParity      = 0x04
	EFlagsCarry       = 0x01
	EFlagsIOPLShift   = 12
	EFlagsIOPLMask    = 3
	AMD64KernelCS     = 0x10
	AMD64ContextAlign = 16
)

// Reg names one register in a CONTEXT record.
type Reg struct {
	Name   string
	Offset int
	Size   int
}

// AMD64Regs lists the AMD64 CONTEXT registers kd displays, with their offsets.
var AMD64Regs = []Reg{
	{"contextflags", 0x30, 4}, {"mxcsr", 0x34, 4},
	{"cs", 0x38, 2}, {"ds", 0x3A, 2}, {"es", 0x3C, 2}, {"fs", 0x3E, 2}, {"gs", 0x40, 2}, {"ss", 0x42, 2},
	{"efl", 0x44, 4},
	{"dr0", 0x48, 8}, {"dr1", 0x50, 8}, {"dr2", 0x58, 8}, {"dr3", 0x60, 8}, {"dr6", 0x68, 8}, {"dr7", 0x70, 8},
	{"rax", 0x78, 8}, {"rcx", 0x80, 8}, {"rdx", 0x88, 8}, {"rbx", 0x90, 8},
	{"rsp", 0x98, 8}, {"rbp", 0xA0, 8}, {"rsi", 0xA8, 8}, {"rdi", 0xB0, 8},
	{"r8", 0xB8, 8}, {"r9", 0xC0, 8}, {"r10", 0xC8, 8}, {"r11", 0xD0, 8},
	{"r12", 0xD8, 8}, {"r13", 0xE0, 8}, {"r14", 0xE8, 8}, {"r15", 0xF0, 8},
	{"rip", 0xF8, 8},
	{"fpcw", 0x100, 2}, {"fpsw", 0x102, 2}, {"fptw", 0x104, 1},
}

// X86Regs lists the x86 CONTEXT registers kd displays, with their offsets.
var X86Regs = []Reg{
	{"contextflags", 0x00, 4},
	{"dr0", 0x04, 4}, {"dr1", 0x08, 4}, {"dr2", 0x0C, 4}, {"dr3", 0x10, 4}, {"dr6", 0x14, 4}, {"dr7", 0x18, 4},
	{"gs", 0x8C, 4}, {"fs", 0x90, 4}, {"es", 0x94, 4}, {"ds", 0x98, 4},
	{"edi", 0x9C, 4}, {"esi", 0xA0, 4}, {"ebx", 0xA4, 4}, {"edx", 0xA8, 4},
	{"ecx", 0xAC, 4}, {"eax", 0xB0, 4}, {"ebp", 0xB4, 4}, {"eip", 0xB8, 4},
	{"cs", 0xBC, 4}, {"efl", 0xC0, 4}, {"esp", 0xC4, 4}, {"ss", 0xC8, 4},
}

// AMD64XmmOffset is the offset of Xmm0 in the AMD64 CONTEXT (16 bytes each).
const AMD64XmmOffset = 0x1A0

// Context is a CONTEXT record as raw bytes with named register access.
type Context struct {
	Regs []Reg
	Raw  []byte
}

// NewAMD64Context returns a zeroed AMD64 CONTEXT.
func NewAMD64Context() Context {
	return Context{Regs: AMD64Regs, Raw: make([]byte, AMD64ContextSize)}
}

// NewX86Context returns a zeroed x86 CONTEXT.
func NewX86Context() Context { return Context{Regs: X86Regs, Raw: make([]byte, X86ContextSize)} }

// Lookup finds a register by name (case-insensitive).
func (c Context) Lookup(name string) (Reg, bool) {
	name = strings.ToLower(name)
	for _, r := range c.Regs {
		if r.Name == name {
			return r, true
		}
	}
	return Reg{}, false
}

// Get returns the value of the named register; ok is false if the name is
// unknown or the record is too short to hold it.
func (c Context) Get(name string) (v uint64, ok bool) {
	r, ok := c.Lookup(name)
	if !ok || r.Offset+r.Size > len(c.Raw) {
		return 0, false
	}
	b := c.Raw[r.Offset : r.Offset+r.Size]
	for i := r.Size - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, true
}

// Set stores v in the named register, truncated to its size.
func (c Context) Set(name string, v uint64) bool {
	r, ok := c.Lookup(name)
	if !ok || r.Offset+r.Size > len(c.Raw) {
		return false
	}
	for i := 0; i < r.Size; i++ {
		c.Raw[r.Offset+i] = byte(v >> (8 * i))
	}
	return true
}

// MustGet returns the named register or 0.
func (c Context) MustGet(name string) uint64 {
	v, _ := c.Get(name)
	return v
}
