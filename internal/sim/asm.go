package sim

import "fmt"

// asm is a tiny x86-64 assembler for the handful of instructions the
// simulated modules are made of. Each helper emits the real encoding; the
// interpreter in cpu.go executes the same bytes. Calls, jumps and
// RIP-relative operands name a symbol and are patched by link once every
// module has been assembled.
type asm struct {
	base  uint64
	buf   []byte
	syms  map[string]uint64
	fixes []fixup
	fns   []int    // offsets in buf where each function starts, in order
	names []string // the functions' names, module!name
}

type fixup struct {
	at   int    // offset of the rel32 field in buf
	next uint64 // address of the next instruction (the displacement's origin)
	sym  string
}

func newAsm(base uint64, syms map[string]uint64) *asm { return &asm{base: base, syms: syms} }

func (a *asm) pc() uint64 { return a.base + uint64(len(a.buf)) }

// fn aligns to 16 bytes with int3 padding (as compilers pad between
// functions) and defines name at the new address.
func (a *asm) fn(name string) {
	for len(a.buf)%16 != 0 {
		a.buf = append(a.buf, 0xCC)
	}
	a.label(name)
	a.fns = append(a.fns, len(a.buf))
	a.names = append(a.names, name)
}

func (a *asm) label(name string) {
	if _, dup := a.syms[name]; dup {
		panic("sim: duplicate symbol " + name)
	}
	a.syms[name] = a.pc()
}

func (a *asm) b(bs ...byte) { a.buf = append(a.buf, bs...) }

// rel32 emits op followed by a 32-bit displacement to sym, with tail bytes
// after the displacement (an immediate) counted in the instruction length.
func (a *asm) rel32(sym string, tail int, op ...byte) {
	a.b(op...)
	at := len(a.buf)
	a.b(0, 0, 0, 0)
	a.fixes = append(a.fixes, fixup{at: at, next: a.pc() + uint64(tail), sym: sym})
}

func (a *asm) pushRbp()          { a.b(0x55) }
func (a *asm) popRbp()           { a.b(0x5D) }
func (a *asm) movRbpRsp()        { a.b(0x48, 0x89, 0xE5) }
func (a *asm) subRsp(n byte)     { a.b(0x48, 0x83, 0xEC, n) }
func (a *asm) addRsp(n byte)     { a.b(0x48, 0x83, 0xC4, n) }
func (a *asm) ret()              { a.b(0xC3) }
func (a *asm) int3()             { a.b(0xCC) }
func (a *asm) xorEcx()           { a.b(0x31, 0xC9) }
func (a *asm) xorEax()           { a.b(0x31, 0xC0) }
func (a *asm) movEcx(v uint32)   { a.b(0xB9, byte(v), byte(v>>8), byte(v>>16), byte(v>>24)) }
func (a *asm) sti()              { a.b(0xFB) }
func (a *asm) cli()              { a.b(0xFA) }
func (a *asm) hlt()              { a.b(0xF4) }
func (a *asm) pause()            { a.b(0xF3, 0x90) }
func (a *asm) jmpSelf()          { a.b(0xEB, 0xFE) }
func (a *asm) call(sym string)   { a.rel32(sym, 0, 0xE8) }
func (a *asm) incRip(sym string) { a.rel32(sym, 0, 0xFF, 0x05) } // inc dword ptr [rip+sym]

// jmpBack emits a short jmp to an already defined label.
func (a *asm) jmpBack(sym string) {
	d := int64(a.syms[sym]) - int64(a.pc()+2)
	if d < -128 || d > 127 {
		panic("sim: short jump out of range to " + sym)
	}
	a.b(0xEB, byte(int8(d)))
}

// prologue and epilogue are the frame-pointer function entry and exit.
func (a *asm) prologue() { a.pushRbp(); a.movRbpRsp(); a.subRsp(0x20) }
func (a *asm) epilogue() { a.addRsp(0x20); a.popRbp(); a.ret() }

// link patches every displacement; all symbols must be defined by now.
func (a *asm) link() error {
	for _, f := range a.fixes {
		t, ok := a.syms[f.sym]
		if !ok {
			return fmt.Errorf("sim: undefined symbol %s", f.sym)
		}
		d := int64(t - f.next)
		if d != int64(int32(d)) {
			return fmt.Errorf("sim: %s out of rel32 range", f.sym)
		}
		le.PutUint32(a.buf[f.at:], uint32(int32(d)))
	}
	return nil
}
