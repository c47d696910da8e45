package console

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/arch/x86/x86asm"
)

// disasm decodes one instruction at pc and formats it as KD does:
// "fffff803`78806e40 cc              int     3". n is the instruction
// length (1 when the bytes do not decode, shown as "???").
func (c *Console) disasmLine(ctx context.Context, s *session, pc uint64, code []byte) (string, int) {
	inst, err := x86asm.Decode(code, 64)
	if err != nil || inst.Len == 0 || inst.Op == 0 {
		b := ""
		if len(code) > 0 {
			b = fmt.Sprintf("%02x", code[0])
		}
		return fmt.Sprintf("%s %-16s???", fmtAddr(pc), b), 1
	}
	hex := fmt.Sprintf("%x", code[:inst.Len])
	text := c.formatInst(ctx, s, inst, pc)
	if len(hex) >= 16 {
		hex += " "
	}
	return fmt.Sprintf("%s %-16s%s", fmtAddr(pc), hex, text), inst.Len
}

// formatInst formats an instruction in KD's Intel syntax: lower-case
// mnemonic padded to 8 columns, operands without spaces after commas,
// numbers as 10h, branch targets as "module!symbol (address)".
func (c *Console) formatInst(ctx context.Context, s *session, inst x86asm.Inst, pc uint64) string {
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
			args = append(args, c.formatArg(ctx, s, inst, a, pc))
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

func (c *Console) formatArg(ctx context.Context, s *session, inst x86asm.Inst, a x86asm.Arg, pc uint64) string {
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
		return c.addrText(ctx, s, target)
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
			b.WriteString("[" + c.addrText(ctx, s, target) + "]")
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
func (c *Console) addrText(ctx context.Context, s *session, addr uint64) string {
	if sym := c.symbolize(ctx, s, addr); sym != "" {
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
