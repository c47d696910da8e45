package unwind

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/arch/x86/x86asm"
)

// pagedMemory is sparse test memory in 4 KiB pages; reads of unmapped
// pages fail, as paged-out target memory does.
type pagedMemory map[uint64]*[4096]byte

func (m pagedMemory) ReadMemory(addr uint64, p []byte) error {
	for i := range p {
		pg, ok := m[(addr+uint64(i))>>12]
		if !ok {
			return fmt.Errorf("address %#x is not mapped", addr+uint64(i))
		}
		p[i] = pg[(addr+uint64(i))&0xFFF]
	}
	return nil
}

// write maps pages as needed and stores p at addr.
func (m pagedMemory) write(addr uint64, p []byte) {
	for i, c := range p {
		a := addr + uint64(i)
		pg, ok := m[a>>12]
		if !ok {
			pg = new([4096]byte)
			m[a>>12] = pg
		}
		pg[a&0xFFF] = c
	}
}

func (m pagedMemory) put64(addr, v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	m.write(addr, b[:])
}

// shadowFrame is what the emulator knows about a caller when it enters a
// callee: the caller's context right after the callee returns.
type shadowFrame struct {
	ctx Context
}

// emulator runs the few x86-64 instructions the test image uses, keeping a
// shadow stack of the callers' contexts as the ground truth for unwinding.
type emulator struct {
	mem      pagedMemory
	c        Context
	shadow   []shadowFrame
	trap     uint64 // where int3 goes (a machine frame)
	trapErr  uint64 // where ud2 goes (a machine frame with an error code)
	returned bool   // the root function returned
}

func (e *emulator) push(v uint64) {
	e.c.GPR[RSP] -= 8
	e.mem.put64(e.c.SP(), v)
}

func (e *emulator) pop() (uint64, error) {
	v, err := read64(e.mem, e.c.SP())
	e.c.GPR[RSP] += 8
	return v, err
}

// reg maps an x86asm register to its number, width in bytes and bit shift.
func reg(r x86asm.Reg) (idx int, size int, shift uint, ok bool) {
	switch {
	case r >= x86asm.AL && r <= x86asm.BL:
		return int(r - x86asm.AL), 1, 0, true
	case r >= x86asm.AH && r <= x86asm.BH:
		return int(r - x86asm.AH), 1, 8, true
	case r >= x86asm.SPB && r <= x86asm.R15B:
		return int(r-x86asm.SPB) + 4, 1, 0, true
	case r >= x86asm.AX && r <= x86asm.R15W:
		return int(r - x86asm.AX), 2, 0, true
	case r >= x86asm.EAX && r <= x86asm.R15L:
		return int(r - x86asm.EAX), 4, 0, true
	case r >= x86asm.RAX && r <= x86asm.R15:
		return int(r - x86asm.RAX), 8, 0, true
	}
	return 0, 0, 0, false
}

func mask(size int) uint64 {
	if size == 8 {
		return ^uint64(0)
	}
	return 1<<(8*uint(size)) - 1
}

func (e *emulator) addr(m x86asm.Mem, next uint64) uint64 {
	var a uint64
	switch {
	case m.Base == x86asm.RIP:
		a = next
	case m.Base != 0:
		i, _, _, _ := reg(m.Base)
		a = e.c.GPR[i]
	}
	if m.Index != 0 {
		i, _, _, _ := reg(m.Index)
		a += e.c.GPR[i] * uint64(m.Scale)
	}
	return a + uint64(m.Disp)
}

// get reads an operand of size bytes.
func (e *emulator) get(a x86asm.Arg, size int, next uint64) (uint64, error) {
	switch a := a.(type) {
	case x86asm.Reg:
		i, sz, sh, ok := reg(a)
		if !ok {
			return 0, fmt.Errorf("register %v", a)
		}
		return e.c.GPR[i] >> sh & mask(sz), nil
	case x86asm.Imm:
		return uint64(a) & mask(size), nil
	case x86asm.Mem:
		b := make([]byte, 8)
		if err := e.mem.ReadMemory(e.addr(a, next), b[:size]); err != nil {
			return 0, err
		}
		return binary.LittleEndian.Uint64(b), nil
	}
	return 0, fmt.Errorf("operand %v", a)
}

// set writes an operand; 32-bit register writes clear the upper half.
func (e *emulator) set(a x86asm.Arg, v uint64, size int, next uint64) error {
	switch a := a.(type) {
	case x86asm.Reg:
		i, sz, sh, ok := reg(a)
		if !ok {
			return fmt.Errorf("register %v", a)
		}
		switch sz {
		case 8, 4:
			e.c.GPR[i] = v & mask(sz)
		default:
			e.c.GPR[i] = e.c.GPR[i]&^(mask(sz)<<sh) | (v&mask(sz))<<sh
		}
		return nil
	case x86asm.Mem:
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], v)
		e.mem.write(e.addr(a, next), b[:size])
		return nil
	}
	return fmt.Errorf("destination %v", a)
}

// size is the width of an instruction's first operand.
func size(in x86asm.Inst, a x86asm.Arg) int {
	if r, ok := a.(x86asm.Reg); ok {
		if _, sz, _, ok := reg(r); ok {
			return sz
		}
	}
	if in.MemBytes != 0 {
		return in.MemBytes
	}
	return in.DataSize / 8
}

func signExtend(v uint64, size int) uint64 {
	sh := 64 - 8*uint(size)
	return uint64(int64(v<<sh) >> sh)
}

// enter records the caller's context as it will be after the return.
func (e *emulator) enter(ret, sp uint64) {
	c := e.c
	c.RIP, c.GPR[RSP] = ret, sp
	e.shadow = append(e.shadow, shadowFrame{ctx: c})
}

// step executes one instruction.
func (e *emulator) step() (x86asm.Inst, error) {
	code := make([]byte, 16)
	if err := e.mem.ReadMemory(e.c.RIP, code); err != nil {
		return x86asm.Inst{}, err
	}
	in, err := x86asm.Decode(code, 64)
	if err != nil {
		return in, fmt.Errorf("decode at %#x: %w", e.c.RIP, err)
	}
	next := e.c.RIP + uint64(in.Len)
	a0, a1 := in.Args[0], in.Args[1]
	rip := next
	switch in.Op {
	case x86asm.NOP:
	case x86asm.MOV:
		sz := size(in, a0)
		v, err := e.get(a1, sz, next)
		if err != nil {
			return in, err
		}
		err = e.set(a0, v, sz, next)
		if err != nil {
			return in, err
		}
	case x86asm.MOVSX, x86asm.MOVSXD:
		sz := in.MemBytes
		if r, ok := a1.(x86asm.Reg); ok {
			_, sz, _, _ = reg(r)
		}
		v, err := e.get(a1, sz, next)
		if err != nil {
			return in, err
		}
		if err := e.set(a0, signExtend(v, sz), size(in, a0), next); err != nil {
			return in, err
		}
	case x86asm.LEA:
		if err := e.set(a0, e.addr(a1.(x86asm.Mem), next), size(in, a0), next); err != nil {
			return in, err
		}
	case x86asm.ADD, x86asm.SUB, x86asm.AND, x86asm.OR, x86asm.XOR:
		sz := size(in, a0)
		x, err := e.get(a0, sz, next)
		if err != nil {
			return in, err
		}
		y, err := e.get(a1, sz, next)
		if err != nil {
			return in, err
		}
		switch in.Op {
		case x86asm.ADD:
			x += y
		case x86asm.SUB:
			x -= y
		case x86asm.AND:
			x &= y
		case x86asm.OR:
			x |= y
		case x86asm.XOR:
			x ^= y
		}
		if err := e.set(a0, x, sz, next); err != nil {
			return in, err
		}
	case x86asm.PUSH:
		v, err := e.get(a0, 8, next)
		if err != nil {
			return in, err
		}
		e.push(v)
	case x86asm.POP:
		v, err := e.pop()
		if err != nil {
			return in, err
		}
		if err := e.set(a0, v, 8, next); err != nil {
			return in, err
		}
	case x86asm.CALL:
		e.enter(next, e.c.SP())
		e.push(next)
		rip = next + uint64(a0.(x86asm.Rel))
	case x86asm.JMP:
		rip = next + uint64(a0.(x86asm.Rel))
	case x86asm.RET:
		if rip, err = e.pop(); err != nil {
			return in, err
		}
		e.shadow = e.shadow[:len(e.shadow)-1]
		e.returned = len(e.shadow) == 0
	case x86asm.INT, x86asm.UD2:
		// A hardware interrupt or exception: a machine frame (SS, RSP,
		// RFLAGS, CS, RIP), for ud2 an error code, then the handler.
		sp := e.c.SP()
		e.enter(next, sp)
		e.push(0x18)
		e.push(sp)
		e.push(0x246)
		e.push(0x10)
		e.push(next)
		rip = e.trap
		if in.Op == x86asm.UD2 {
			e.push(0xEC)
			rip = e.trapErr
		}
	case x86asm.IRETQ:
		if rip, err = e.pop(); err != nil {
			return in, err
		}
		if _, err := e.pop(); err != nil {
			return in, err
		}
		if _, err := e.pop(); err != nil {
			return in, err
		}
		sp, err := e.pop()
		if err != nil {
			return in, err
		}
		e.c.GPR[RSP] = sp
		e.shadow = e.shadow[:len(e.shadow)-1]
	case x86asm.XORPS:
		x, _, _, _ := xmm(a0)
		e.c.XMM[x] = [2]uint64{}
	case x86asm.MOVAPS:
		var b [16]byte
		if x, ok := xmmReg(a0); ok {
			if err := e.mem.ReadMemory(e.addr(a1.(x86asm.Mem), next), b[:]); err != nil {
				return in, err
			}
			e.c.XMM[x] = [2]uint64{binary.LittleEndian.Uint64(b[:]), binary.LittleEndian.Uint64(b[8:])}
		} else {
			x, _ := xmmReg(a1)
			binary.LittleEndian.PutUint64(b[:], e.c.XMM[x][0])
			binary.LittleEndian.PutUint64(b[8:], e.c.XMM[x][1])
			e.mem.write(e.addr(a0.(x86asm.Mem), next), b[:])
		}
	default:
		return in, fmt.Errorf("emulator does not run %v at %#x", in, e.c.RIP)
	}
	e.c.RIP = rip
	return in, nil
}

func xmm(a x86asm.Arg) (int, int, uint, bool) {
	x, ok := xmmReg(a)
	return x, 16, 0, ok
}

func xmmReg(a x86asm.Arg) (int, bool) {
	r, ok := a.(x86asm.Reg)
	if !ok || r < x86asm.X0 || r > x86asm.X15 {
		return 0, false
	}
	return int(r - x86asm.X0), true
}
