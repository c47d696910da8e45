package render

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/kdproto"
)

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

// FlagsText renders the flags the way KD's register display does.
func FlagsText(efl uint64) string {
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

// RegisterText is KD's full x64 register display (without the location).
func RegisterText(cx kdproto.Context) string {
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
	b.WriteString(FlagsText(cx.MustGet("efl")) + "\n")
	fmt.Fprintf(&b, "cs=%04x  ss=%04x  ds=%04x  es=%04x  fs=%04x  gs=%04x             efl=%08x\n",
		cx.MustGet("cs"), cx.MustGet("ss"), cx.MustGet("ds"), cx.MustGet("es"), cx.MustGet("fs"), cx.MustGet("gs"), cx.MustGet("efl"))
	return b.String()
}

// registers prints the full register display and the location.
func (r *Text) registers(regs target.Registers, loc target.Location) {
	r.Out.Printf("%s", RegisterText(regs.Context))
	r.location(loc)
}

// RegValueText formats name=value with the register's width: 16 digits
// for 64-bit registers, 1 for a flag, 32 for an xmm register.
func RegValueText(v target.RegValue) string {
	d := v.Digits()
	if d <= 16 {
		return fmt.Sprintf("%s=%0*x", v.Name, d, v.Value)
	}
	return fmt.Sprintf("%s=%0*x%016x", v.Name, d-16, v.Hi, v.Value)
}

// RegisterMaskText is r's display for a register mask: the integer rows
// and flags (mask 1 or 2), the segment line (8), then the other groups'
// lines.
func RegisterMaskText(d commands.RegisterDisplay) string {
	var b strings.Builder
	cx := d.Regs.Context
	if d.Mask&3 != 0 {
		for _, row := range regRows {
			for i, n := range row {
				if i > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(fmtReg(cx, n, true))
			}
			b.WriteByte('\n')
		}
		b.WriteString(FlagsText(cx.MustGet("efl")) + "\n")
	}
	switch {
	case d.Mask&8 != 0:
		fmt.Fprintf(&b, "cs=%04x  ss=%04x  ds=%04x  es=%04x  fs=%04x  gs=%04x             efl=%08x\n",
			cx.MustGet("cs"), cx.MustGet("ss"), cx.MustGet("ds"), cx.MustGet("es"), cx.MustGet("fs"), cx.MustGet("gs"), cx.MustGet("efl"))
	case d.Mask&3 != 0:
		fmt.Fprintf(&b, "efl=%08x\n", cx.MustGet("efl"))
	}
	for _, row := range d.Extra {
		for i, v := range row {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(RegValueText(v))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// registerDisplay prints r's display and the location.
func (r *Text) registerDisplay(d commands.RegisterDisplay) {
	if d.Mask == 0 && d.Extra == nil {
		d.Mask = commands.DefaultRegMask
	}
	if s := RegisterMaskText(d); s != "" {
		r.Out.Printf("%s", s)
	}
	r.location(d.Location)
}

// registerData is the JSON of r's results: every register shown, by name.
func registerData(res commands.Result) map[string]any {
	switch v := res.(type) {
	case commands.RegisterDisplay:
		m := registers(v.Regs.Context)
		for _, row := range v.Extra {
			for _, x := range row {
				m[x.Name] = regJSON(x)
			}
		}
		mask := v.Mask
		if mask == 0 && v.Extra == nil {
			mask = commands.DefaultRegMask
		}
		return map[string]any{"registers": m, "location": location(v.Location), "mask": Hex(mask)}
	case commands.RegisterValues:
		m := map[string]any{}
		for _, x := range v.Values {
			m[x.Name] = regJSON(x)
		}
		return map[string]any{"registers": m}
	}
	return nil
}

// regJSON is a register's value: a hex string, 128-bit wide for xmm.
func regJSON(v target.RegValue) any {
	if v.Bits > 64 {
		return fmt.Sprintf("0x%x%016x", v.Hi, v.Value)
	}
	return Hex(v.Value)
}

// DumpLine formats one line of a d* display of size-byte elements.
func DumpLine(size, perLine int, at uint64, data []byte, ok []bool) string {
	var b strings.Builder
	b.WriteString(Addr(at) + " ")
	switch size {
	case 1:
		for i := 0; i < perLine; i++ {
			sep := byte(' ')
			if i == 8 && i < len(data) {
				sep = '-'
			}
			b.WriteByte(sep)
			switch {
			case i >= len(data):
				b.WriteString("  ")
			case !ok[i]:
				b.WriteString("??")
			default:
				fmt.Fprintf(&b, "%02x", data[i])
			}
		}
		b.WriteString("  ")
		for i := range data {
			b.WriteByte(asciiChar(data[i], ok[i]))
		}
	default:
		for i := 0; i+size <= len(data); i += size {
			b.WriteByte(' ')
			b.WriteString(valueText(size, commands.Element(data[i:], size), allOK(ok[i:i+size])))
		}
	}
	return b.String()
}

func isResyncFailed(err error) bool { return errors.Is(err, kdproto.ErrResyncFailed) }
