package unwind

import (
	"encoding/binary"
	"fmt"

	"github.com/gokd/kd/internal/pe"
)

// epilogWindow is how many code bytes are read at RIP to recognise an
// epilog: an add or lea, up to ten two-byte pops and a jump fit.
const epilogWindow = 40

// inEpilog reports whether RIP may be in an epilog and the bytes there
// should be decoded. Version 2 entries that describe their epilogs are
// believed; otherwise the bytes decide.
func inEpilog(ui *Info, rf pe.RuntimeFunction, base, off, rip uint64) bool {
	if off < uint64(ui.SizeOfProlog) {
		return false
	}
	if ui.Version != 2 || len(ui.Codes) == 0 || ui.Codes[0].Op != Epilog {
		return true
	}
	end := base + uint64(rf.End)
	first := ui.Codes[0]
	size := uint64(first.Offset)
	if first.Info&1 != 0 && rip >= end-size && rip < end {
		return true
	}
	for _, c := range ui.Codes[1:] {
		if c.Op != Epilog {
			break
		}
		if c.Value == 0 {
			break // padding ends the list
		}
		start := end - uint64(c.Value)
		if rip >= start && rip < start+size {
			return true
		}
	}
	return false
}

// emulateEpilog decodes the code at RIP; if it is the rest of an epilog
// (an optional add rsp or lea rsp, pops, then a return or a jump out of the
// function) it runs it on c and reports true.
func emulateEpilog(mem Memory, ui *Info, rf pe.RuntimeFunction, base uint64, c *Context) (bool, error) {
	b := make([]byte, epilogWindow)
	if err := mem.ReadMemory(c.RIP, b); err != nil {
		// The window may cross into an unreadable page: try to its end.
		n := int(0x1000 - c.RIP&0xFFF)
		if n >= epilogWindow || mem.ReadMemory(c.RIP, b[:n]) != nil {
			return false, nil // code unreadable: not provably an epilog
		}
		b = b[:n]
	}
	at := func(i int) int {
		if i < len(b) {
			return int(b[i])
		}
		return -1
	}
	i := 0
	sp := c.SP()
	// add rsp, imm8 / add rsp, imm32 / lea rsp, [frame register + disp].
	switch {
	case at(0) == 0x48 && at(1) == 0x83 && at(2) == 0xC4 && at(3) >= 0:
		sp += uint64(int64(int8(b[3])))
		i = 4
	case at(0) == 0x48 && at(1) == 0x81 && at(2) == 0xC4 && len(b) >= 7:
		sp += uint64(int64(int32(binary.LittleEndian.Uint32(b[3:]))))
		i = 7
	case (at(0) == 0x48 || at(0) == 0x49) && at(1) == 0x8D && at(2) >= 0 && ui.FrameRegister != 0:
		modrm := b[2]
		rm := modrm&7 | (b[0]&1)<<3
		if (modrm>>3)&7 != RSP || rm != ui.FrameRegister || modrm&7 == 4 {
			return false, nil
		}
		switch modrm >> 6 {
		case 1:
			if at(3) < 0 {
				return false, nil
			}
			sp = c.GPR[rm] + uint64(int64(int8(b[3])))
			i = 4
		case 2:
			if len(b) < 7 {
				return false, nil
			}
			sp = c.GPR[rm] + uint64(int64(int32(binary.LittleEndian.Uint32(b[3:]))))
			i = 7
		default:
			return false, nil
		}
	}
	var pops []int
	for {
		if at(i)&0xF8 == 0x58 {
			pops = append(pops, at(i)&7)
			i++
		} else if at(i) == 0x41 && at(i+1)&0xF8 == 0x58 {
			pops = append(pops, 8+at(i+1)&7)
			i += 2
		} else {
			break
		}
	}
	if !isEpilogEnd(b, i, c.RIP, base, rf) {
		return false, nil
	}
	for _, r := range pops {
		v, err := read64(mem, sp)
		if err != nil {
			return true, err
		}
		c.GPR[r] = v
		sp += 8
	}
	ret, err := read64(mem, sp)
	if err != nil {
		return true, err
	}
	c.RIP = ret
	c.GPR[RSP] = sp + 8
	return true, nil
}

// isEpilogEnd reports whether the instruction at b[i] ends an epilog: a
// return, a jump whose target is outside the function (a tail call) or an
// indirect jump.
func isEpilogEnd(b []byte, i int, rip, base uint64, rf pe.RuntimeFunction) bool {
	at := func(j int) int {
		if j < len(b) {
			return int(b[j])
		}
		return -1
	}
	if at(i) == 0xF3 || at(i) == 0xF2 { // rep ret, bnd ret or bnd jmp
		i++
	}
	outside := func(target uint64) bool {
		begin, end := base+uint64(rf.Begin), base+uint64(rf.End)
		return target < begin || target >= end || target == begin
	}
	switch {
	case at(i) == 0xC3:
		return true
	case at(i) == 0xC2 && at(i+2) >= 0:
		return true
	case at(i) == 0xEB && at(i+1) >= 0:
		next := rip + uint64(i) + 2
		return outside(next + uint64(int64(int8(b[i+1]))))
	case at(i) == 0xE9 && i+5 <= len(b):
		next := rip + uint64(i) + 5
		return outside(next + uint64(int64(int32(binary.LittleEndian.Uint32(b[i+1:])))))
	case at(i) == 0xFF && at(i+1) == 0x25:
		return true // jmp qword ptr [rip+disp32]
	case (at(i)&0xF8 == 0x48) && at(i+1) == 0xFF && at(i+2) >= 0 && (b[i+2]>>3)&7 == 4:
		return true // rex.w jmp r/m64
	}
	return false
}

// String prints one code as llvm-readobj does, for test failures and traces.
func (c Code) String() string {
	return fmt.Sprintf("%#02x: %v info=%d value=%#x", c.Offset, c.Op, c.Info, c.Value)
}
