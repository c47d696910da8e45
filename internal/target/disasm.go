package target

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/arch/x86/x86asm"
)

// Instruction is one decoded instruction. Valid is false when the bytes
// do not decode (KD shows "???"); Len is then 1.
type Instruction struct {
	Addr  uint64
	Bytes []byte // the instruction's bytes (the first byte when invalid)
	Text  string // KD's Intel syntax, with symbols for branch targets
	Len   int
	Valid bool
}

// Location is where the target stands: the symbol of an address and the
// instruction there.
type Location struct {
	Symbol string
	Inst   Instruction
}

// decode decodes the instruction at pc from code.
func (t *Target) decode(ctx context.Context, s *session, pc uint64, code []byte) Instruction {
	inst, err := x86asm.Decode(code, 64)
	if err != nil || inst.Len == 0 || inst.Op == 0 {
		in := Instruction{Addr: pc, Len: 1}
		if len(code) > 0 {
			in.Bytes = code[:1:1]
		}
		return in
	}
	return Instruction{Addr: pc, Bytes: append([]byte(nil), code[:inst.Len]...), Text: t.formatInst(ctx, s, inst, pc), Len: inst.Len, Valid: true}
}

// location returns the symbol and the instruction at pc. The stop's own
// report carries the instruction bytes at the stop address.
func (t *Target) location(ctx context.Context, s *session, pc uint64) Location {
	var code []byte
	if pc == s.last.PC {
		r := s.last.AMD64Report()
		code = r.InstructionBytes()
	}
	if len(code) == 0 {
		b, ok, err := t.readMemory(ctx, s, pc, 16)
		if err == nil {
			code = readable(b, ok)
		}
	}
	return Location{Symbol: t.symbolize(ctx, s, pc), Inst: t.decode(ctx, s, pc, code)}
}

// Disassemble decodes count instructions from addr, stopping after end
// when end is not 0. Each comes with the symbol of its address when that
// is a symbol's start (and for the first one, whatever its offset).
func (t *Target) Disassemble(ctx context.Context, addr uint64, count int, end uint64) ([]Location, error) {
	s, err := t.needStopped()
	if err != nil {
		return nil, err
	}
	// One read up front covers the whole listing: instructions are at
	// most 15 bytes.
	span := count * 16
	if end != 0 && end >= addr && end-addr < uint64(span) {
		span = int(end-addr) + 16
	}
	if _, _, err := t.readMemory(ctx, s, addr, span); err != nil {
		return nil, err
	}
	var out []Location
	for i := 0; i < count; i++ {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if end != 0 && addr > end {
			break
		}
		code, ok, err := t.readMemory(ctx, s, addr, 16)
		if err != nil {
			return out, err
		}
		valid := 0
		for valid < len(ok) && ok[valid] {
			valid++
		}
		var loc Location
		if sym := t.symbolize(ctx, s, addr); i == 0 && sym != "" || sym != "" && !strings.Contains(sym, "+") {
			loc.Symbol = sym
		}
		if valid == 0 {
			loc.Inst = Instruction{Addr: addr, Len: 1}
		} else {
			loc.Inst = t.decode(ctx, s, addr, code[:valid])
		}
		out = append(out, loc)
		addr += uint64(loc.Inst.Len)
	}
	return out, nil
}

// formatInst formats an instruction in KD's Intel syntax: lower-case
// mnemonic padded to 8 columns, operands without spaces after commas,
// numbers as 10h, branch targets as "module!symbol (address)".
func (t *Target) formatInst(ctx context.Context, s *session, inst x86asm.Inst, pc uint64) string {
	var pre []string
	for _, p := range inst.Prefix {
		if p == 0 {
			break
		}
		if p&x86asm.PrefixImplicit != 0 || p&x86asm.PrefixIgnored != 0 {
			continue
		}
		switch p &^ (x86asm.PrefixInvalid | x86asm.PrefixIgnored | x86asm.PrefixImplicit) {
		case x86asm.PrefixREP:
			pre = append(pre, "rep")
		case x86asm.PrefixREPN:
			pre = append(pre, "repne")
		case x86asm.PrefixLOCK:
			pre = append(pre, "lock")
		}
	}
	op := strings.ToLower(inst.Op.String())
	var args []string
	if inst.Op == x86asm.INT && inst.Args[0] != nil {
		if imm, ok := inst.Args[0].(x86asm.Imm); ok {
			args = append(args, fmtHex(uint64(imm)))
		}
	} else {
		for _, a := range inst.Args {
			if a == nil {
				break
			}
			args = append(args, t.formatArg(ctx, s, inst, a, pc))
		}
	}
	if op == "int3" {
		op, args = "int", []string{"3"}
	}
	mn := strings.Join(append(pre, op), " ")
	if len(args) == 0 {
		return mn
	}
	if len(mn) < 8 {
		mn += strings.Repeat(" ", 8-len(mn))
	} else {
		mn += " "
	}
	return mn + strings.Join(args, ",")
}

func (t *Target) formatArg(ctx context.Context, s *session, inst x86asm.Inst, a x86asm.Arg, pc uint64) string {
	switch a := a.(type) {
	case x86asm.Reg:
		return strings.ToLower(a.String())
	case x86asm.Imm:
		v := uint64(a)
		if inst.DataSize == 32 && inst.Op != x86asm.MOV {
			v = uint64(uint32(v))
		}
		return fmtHex(v)
	case x86asm.Rel:
		target := pc + uint64(inst.Len) + uint64(int64(a))
		return t.addrText(ctx, s, target)
	case x86asm.Mem:
		var b strings.Builder
		if inst.Op != x86asm.LEA {
			if p := memSize(inst.MemBytes); p != "" {
				b.WriteString(p + " ptr ")
			}
		}
		if a.Segment != 0 {
			b.WriteString(strings.ToLower(a.Segment.String()) + ":")
		}
		if a.Base == x86asm.RIP {
			target := pc + uint64(inst.Len) + uint64(a.Disp)
			b.WriteString("[" + t.addrText(ctx, s, target) + "]")
			return b.String()
		}
		b.WriteByte('[')
		first := true
		if a.Base != 0 {
			b.WriteString(strings.ToLower(a.Base.String()))
			first = false
		}
		if a.Index != 0 {
			if !first {
				b.WriteByte('+')
			}
			b.WriteString(strings.ToLower(a.Index.String()))
			if a.Scale > 1 {
				fmt.Fprintf(&b, "*%d", a.Scale)
			}
			first = false
		}
		if a.Disp != 0 || first {
			d := a.Disp
			switch {
			case first:
				b.WriteString(fmtHex(uint64(d)))
			case d < 0:
				b.WriteString("-" + fmtHex(uint64(-d)))
			default:
				b.WriteString("+" + fmtHex(uint64(d)))
			}
		}
		b.WriteByte(']')
		return b.String()
	}
	return strings.ToLower(a.String())
}

// addrText shows a code or data address as "symbol (fffff803`78806e40)".
func (t *Target) addrText(ctx context.Context, s *session, addr uint64) string {
	if s == nil {
		return fmtAddr(addr)
	}
	if sym := t.symbolize(ctx, s, addr); sym != "" {
		return sym + " (" + fmtAddr(addr) + ")"
	}
	return fmtAddr(addr)
}

func memSize(n int) string {
	switch n {
	case 1:
		return "byte"
	case 2:
		return "word"
	case 4:
		return "dword"
	case 8:
		return "qword"
	case 10:
		return "tbyte"
	case 16:
		return "xmmword"
	case 32:
		return "ymmword"
	}
	return ""
}

// fmtAddr formats an address as KD does: two 8-digit halves joined by a
// backtick.
func fmtAddr(v uint64) string { return fmt.Sprintf("%08x`%08x", v>>32, uint32(v)) }

// fmtHex formats a number the way KD's disassembler does: small values in
// decimal, larger ones in upper-case hex with an h suffix and a leading 0
// when the first digit is a letter.
func fmtHex(v uint64) string {
	if v < 10 {
		return fmt.Sprintf("%d", v)
	}
	s := fmt.Sprintf("%X", v)
	if s[0] >= 'A' {
		s = "0" + s
	}
	return s + "h"
}

// Location returns the symbol and the instruction at pc.
func (t *Target) Location(ctx context.Context, pc uint64) (Location, error) {
	s, err := t.needStopped()
	if err != nil {
		return Location{}, err
	}
	return t.location(ctx, s, pc), nil
}
