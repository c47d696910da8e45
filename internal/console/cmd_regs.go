package console

import (
	"context"
	"fmt"
	"strings"

	"github.com/gokd/kd/kdproto"
)

var regCommands = []*Command{
	{
		Names: []string{"r"}, Group: groupData,
		Help: "Show or change registers of the current processor.\n\n\tr\n\tr Register[, Register...]\n\tr Register=Value\n\n" +
			"Without arguments r shows the integer registers, the flags, the segment registers and the current " +
			"instruction. Register names may be written with @ (r @rax=1). Values are expressions (hex by default).",
		Run: cmdRegisters,
	},
}

// regRows is the layout of KD's x64 register display.
var regRows = [][]string{
	{"rax", "rbx", "rcx"},
	{"rdx", "rsi", "rdi"},
	{"rip", "rsp", "rbp"},
	{"r8", "r9", "r10"},
	{"r11", "r12", "r13"},
	{"r14", "r15"},
}

// fmtReg formats name=value with KD's widths: 16 digits for 64-bit
// registers, and the names right-aligned to three columns in the full
// display (" r8=...").
func fmtReg(cx kdproto.Context, name string, align bool) string {
	r, _ := cx.Lookup(name)
	v, _ := cx.Get(name)
	n := name
	if align && len(n) < 3 {
		n = strings.Repeat(" ", 3-len(n)) + n
	}
	return fmt.Sprintf("%s=%0*x", n, 2*r.Size, v)
}

// flagsText renders the flags the way KD's register display does.
func flagsText(efl uint64) string {
	pick := func(bit uint64, set, clear string) string {
		if efl&bit != 0 {
			return set
		}
		return clear
	}
	return fmt.Sprintf("iopl=%-9d %s %s %s %s %s %s %s %s",
		(efl>>kdproto.EFlagsIOPLShift)&kdproto.EFlagsIOPLMask,
		pick(kdproto.EFlagsOverflow, "ov", "nv"),
		pick(kdproto.EFlagsDirection, "dn", "up"),
		pick(kdproto.EFlagsInterrupt, "ei", "di"),
		pick(kdproto.EFlagsSign, "ng", "pl"),
		pick(kdproto.EFlagsZero, "zr", "nz"),
		pick(kdproto.EFlagsAux, "ac", "na"),
		pick(kdproto.EFlagsParity, "pe", "po"),
		pick(kdproto.EFlagsCarry, "cy", "nc"))
}

// printRegisters prints the full x64 register display and the current
// instruction.
func (c *Console) printRegisters(ctx context.Context, s *session) error {
	cx, err := c.contextRegs(ctx, s)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, row := range regRows {
		for i, n := range row {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(fmtReg(cx, n, true))
		}
		b.WriteByte('\n')
	}
	b.WriteString(flagsText(cx.MustGet("efl")) + "\n")
	fmt.Fprintf(&b, "cs=%04x  ss=%04x  ds=%04x  es=%04x  fs=%04x  gs=%04x             efl=%08x\n",
		cx.MustGet("cs"), cx.MustGet("ss"), cx.MustGet("ds"), cx.MustGet("es"), cx.MustGet("fs"), cx.MustGet("gs"), cx.MustGet("efl"))
	_, _ = c.out.Write([]byte(b.String()))
	c.printLocation(ctx, s, cx.MustGet("rip"))
	return nil
}

func cmdRegisters(ctx context.Context, c *Console, args string) error {
	s, err := c.needStopped()
	if err != nil {
		return err
	}
	args = strings.TrimSpace(args)
	if args == "" {
		return c.printRegisters(ctx, s)
	}
	line := "r " + args
	cx, err := c.contextRegs(ctx, s)
	if err != nil {
		return err
	}
	if name, val, ok := strings.Cut(args, "="); ok {
		name = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(name), "@"))
		if _, known := cx.Lookup(name); !known {
			return syntaxErr(line, "bad register %q", name)
		}
		v, err := evalExpr(val, env{c, s, ctx})
		if err != nil {
			return syntaxErr(line, "%v", err)
		}
		raw := append([]byte(nil), cx.Raw...)
		nc := kdproto.Context{Regs: cx.Regs, Raw: raw}
		nc.Set(name, v)
		flags := uint32(nc.MustGet("contextflags"))
		if flags == 0 {
			flags = kdproto.ContextAMD64Full
		}
		if err := s.eng.SetContext(ctx, s.cpu, flags, raw); err != nil {
			return err
		}
		s.contexts[s.cpu] = nc
		return nil
	}
	var out []string
	for _, f := range strings.Split(args, ",") {
		name := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(f), "@"))
		if _, known := cx.Lookup(name); !known {
			return syntaxErr(line, "bad register %q", name)
		}
		out = append(out, fmtReg(cx, name, false))
	}
	c.out.Printf("%s", strings.Join(out, " "))
	return nil
}
