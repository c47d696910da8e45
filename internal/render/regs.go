package render

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

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
			switch {
			case !ok[i]:
				b.WriteByte('?')
			case data[i] >= 0x20 && data[i] < 0x7f:
				b.WriteByte(data[i])
			default:
				b.WriteByte('.')
			}
		}
	default:
		for i := 0; i+size <= len(data); i += size {
			b.WriteByte(' ')
			all := true
			for _, o := range ok[i : i+size] {
				all = all && o
			}
			switch {
			case size == 4 && all:
				fmt.Fprintf(&b, "%08x", binary.LittleEndian.Uint32(data[i:]))
			case size == 4:
				b.WriteString("????????")
			case all:
				b.WriteString(Addr(binary.LittleEndian.Uint64(data[i:])))
			default:
				b.WriteString("????????`????????")
			}
		}
	}
	return b.String()
}

func isResyncFailed(err error) bool { return errors.Is(err, kdproto.ErrResyncFailed) }
