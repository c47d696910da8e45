package target

import (
	"strings"

	"github.com/gokd/kd/kdproto"
)

// RegClass says where a register's value lives.
type RegClass int

// Register classes.
const (
	// RegContext is a field of the CONTEXT record (rax, cs, efl, dr7,
	// mxcsr, fpcw, mm0...).
	RegContext RegClass = iota
	// RegPart is a bit field of a CONTEXT field: a sub-register (eax,
	// ax, al, ah, r8d) or a flag (zf, iopl).
	RegPart
	// RegSpecial is a field of KSPECIAL_REGISTERS, read from control
	// space: cr0, cr2, cr3, cr4, cr8, gdtr, gdtl, idtr, idtl, tr, ldtr,
	// xcr0.
	RegSpecial
	// RegVector is wider than 64 bits: st0-st7 (80 bits) and
	// xmm0-xmm15 (128 bits) of the CONTEXT's FXSAVE area.
	RegVector
)

// RegDesc describes a register name r and expressions accept.
type RegDesc struct {
	Name  string
	Class RegClass
	// Offset of the value in the CONTEXT (RegContext, RegVector) or in
	// KSPECIAL_REGISTERS (RegSpecial); for RegPart the offset of the
	// CONTEXT field holding it.
	Offset int
	// Size in bytes of the field at Offset.
	Size int
	// Shift and Bits select a RegPart's bits; Bits is the width of every
	// register (its display width is Bits/4 hex digits, rounded up).
	Shift, Bits uint
	// Base names the CONTEXT register a RegPart belongs to.
	Base string
}

// Digits returns how many hex digits KD shows for the register.
func (d RegDesc) Digits() int { return int(d.Bits+3) / 4 }

// Writable reports whether kd can change the register.
func (d RegDesc) Writable() bool { return d.Class != RegVector }

// Offsets in the AMD64 CONTEXT's FXSAVE area.
const (
	ctxFloatRegs = 0x120 // st0-st7 / mm0-mm7, 16 bytes apart
	ctxXmmRegs   = kdproto.AMD64XmmOffset
)

var regTable = buildRegTable()

func buildRegTable() map[string]RegDesc {
	t := make(map[string]RegDesc)
	add := func(d RegDesc) { t[d.Name] = d }
	ctxOff := make(map[string]kdproto.Reg)
	for _, r := range kdproto.AMD64Regs {
		if r.Name == "contextflags" {
			continue
		}
		ctxOff[r.Name] = r
		add(RegDesc{Name: r.Name, Class: RegContext, Offset: r.Offset, Size: r.Size, Bits: uint(8 * r.Size)})
	}
	part := func(name, base string, shift, bits uint) {
		r := ctxOff[base]
		add(RegDesc{Name: name, Class: RegPart, Offset: r.Offset, Size: r.Size, Shift: shift, Bits: bits, Base: base})
	}
	// The legacy registers' 32-, 16- and 8-bit parts.
	for _, l := range []struct{ x, b8 string }{{"ax", "al"}, {"bx", "bl"}, {"cx", "cl"}, {"dx", "dl"},
		{"si", "sil"}, {"di", "dil"}, {"sp", "spl"}, {"bp", "bpl"}} {
		base := "r" + l.x
		part("e"+l.x, base, 0, 32)
		part(l.x, base, 0, 16)
		part(l.b8, base, 0, 8)
	}
	for _, h := range []string{"ah", "bh", "ch", "dh"} {
		part(h, "r"+h[:1]+"x", 8, 8)
	}
	for i := 8; i <= 15; i++ {
		base := "r" + itoa(i)
		part(base+"d", base, 0, 32)
		part(base+"w", base, 0, 16)
		part(base+"b", base, 0, 8)
	}
	part("eip", "rip", 0, 32)
	part("ip", "rip", 0, 16)
	// The flags, as KD names them.
	for _, f := range []struct {
		name  string
		shift uint
		bits  uint
	}{{"cf", 0, 1}, {"pf", 2, 1}, {"af", 4, 1}, {"zf", 6, 1}, {"sf", 7, 1}, {"tf", 8, 1}, {"if", 9, 1},
		{"df", 10, 1}, {"of", 11, 1}, {"iopl", 12, 2}, {"vif", 19, 1}, {"vip", 20, 1}} {
		part(f.name, "efl", f.shift, f.bits)
	}
	for i := 0; i < 8; i++ {
		n := itoa(i)
		add(RegDesc{Name: "st" + n, Class: RegVector, Offset: ctxFloatRegs + 16*i, Size: 10, Bits: 80})
		add(RegDesc{Name: "mm" + n, Class: RegContext, Offset: ctxFloatRegs + 16*i, Size: 8, Bits: 64})
	}
	for i := 0; i < 16; i++ {
		add(RegDesc{Name: "xmm" + itoa(i), Class: RegVector, Offset: ctxXmmRegs + 16*i, Size: 16, Bits: 128})
	}
	special := func(name string, off, size int) {
		add(RegDesc{Name: name, Class: RegSpecial, Offset: off, Size: size, Bits: uint(8 * size)})
	}
	special("cr0", srCr0, 8)
	special("cr2", srCr2, 8)
	special("cr3", srCr3, 8)
	special("cr4", srCr4, 8)
	special("cr8", srCr8, 8)
	special("gdtr", srGdtr+8, 8)
	special("gdtl", srGdtr+6, 2)
	special("idtr", srIdtr+8, 8)
	special("idtl", srIdtr+6, 2)
	special("tr", srTr, 2)
	special("ldtr", srLdtr, 2)
	special("xcr0", srXcr0, 8)
	return t
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return "1" + string(rune('0'+i-10))
}

// LookupRegister finds a register by name (case-insensitive, without @).
func LookupRegister(name string) (RegDesc, bool) {
	d, ok := regTable[strings.ToLower(name)]
	return d, ok
}

// IsRegister reports whether name (without @) is a register kd knows.
func IsRegister(name string) bool {
	_, ok := LookupRegister(name)
	return ok
}

// RegisterNames returns every register name, for completion and tests.
func RegisterNames() []string {
	out := make([]string, 0, len(regTable))
	for n := range regTable {
		out = append(out, n)
	}
	return out
}

// RegValue is one register's value. Hi holds the bits above 64 of an st
// or xmm register.
type RegValue struct {
	Name  string
	Value uint64
	Hi    uint64
	Bits  uint // the register's width
}

// Digits returns how many hex digits KD shows for v.
func (v RegValue) Digits() int { return int(v.Bits+3) / 4 }

// fieldLE reads size (at most 8) little-endian bytes at off of b.
func fieldLE(b []byte, off, size int) uint64 {
	if off < 0 || off+size > len(b) {
		return 0
	}
	var v uint64
	for i := size - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[off+i])
	}
	return v
}

func putFieldLE(b []byte, off, size int, v uint64) bool {
	if off < 0 || off+size > len(b) {
		return false
	}
	for i := 0; i < size; i++ {
		b[off+i] = byte(v >> (8 * i))
	}
	return true
}

// valueIn reads a non-special register from a CONTEXT record.
func (d RegDesc) valueIn(ctxRaw []byte) RegValue {
	v := RegValue{Name: d.Name, Bits: d.Bits}
	switch d.Class {
	case RegVector:
		v.Value = fieldLE(ctxRaw, d.Offset, 8)
		v.Hi = fieldLE(ctxRaw, d.Offset+8, d.Size-8)
	case RegPart:
		v.Value = fieldLE(ctxRaw, d.Offset, d.Size) >> d.Shift & mask(d.Bits)
	default:
		v.Value = fieldLE(ctxRaw, d.Offset, d.Size)
	}
	return v
}

// specialIn reads a RegSpecial register from a KSPECIAL_REGISTERS block.
func (d RegDesc) specialIn(raw []byte) RegValue {
	return RegValue{Name: d.Name, Bits: d.Bits, Value: fieldLE(raw, d.Offset, d.Size)}
}

// store writes v into buf (a CONTEXT for context registers and parts, a
// KSPECIAL_REGISTERS block for special ones), keeping the other bits of a
// part's field. It reports false when buf is too short.
func (d RegDesc) store(buf []byte, v uint64) bool {
	if d.Class == RegPart {
		old := fieldLE(buf, d.Offset, d.Size)
		m := mask(d.Bits) << d.Shift
		v = old&^m | (v<<d.Shift)&m
	}
	return putFieldLE(buf, d.Offset, d.Size, v)
}

func mask(bits uint) uint64 {
	if bits >= 64 {
		return ^uint64(0)
	}
	return 1<<bits - 1
}

// Value returns a register by any name kd knows except the special
// (control-space) ones: full registers, their parts and the flags, the
// x87/MMX and XMM registers.
func (r Registers) Value(name string) (RegValue, bool) {
	d, ok := LookupRegister(name)
	if !ok || d.Class == RegSpecial {
		return RegValue{}, false
	}
	return d.valueIn(r.Raw), true
}

// Value returns a control register or descriptor-table field (cr3, gdtr,
// idtl, tr...) by name.
func (sr SpecialRegisters) Value(name string) (RegValue, bool) {
	d, ok := LookupRegister(name)
	if !ok || d.Class != RegSpecial {
		return RegValue{}, false
	}
	return d.specialIn(sr.Raw), true
}
