package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gokd/kd/internal/target"
)

var regCommands = []*Command{
	{
		Names: []string{"r"}, Group: groupData,
		Example: "r\nr rax, rip\nr eax=0n100, zf=1\nr cr3\nr @r8 = @rsp+8\nr $t0=@rax*2, $t1",
		Help: "Show or change registers of the current processor.\n\n\tr\n\tr Register[, Register...]\n\tr Register=Value[, Register=Value...]\n\n" +
			"Without arguments r shows the registers the register mask selects (rm; by default the integer registers, " +
			"the flags and the segment registers) and the current instruction. Register names may be written with @ " +
			"(r @rax=1). Values are expressions (hex by default).\n\n" +
			"Names: rax-r15 and rip; their parts eax, ax, al, ah, r8d, r8w, r8b, eip, ip; efl and the flags of, df, " +
			"if, tf, sf, zf, af, pf, cf, iopl, vif, vip (r zf=1 changes one bit); cs, ds, es, fs, gs, ss; dr0-dr3, dr6, " +
			"dr7 (the context's debug registers); mxcsr, fpcw, fpsw, fptw, st0-st7, mm0-mm7, xmm0-xmm15; and, from the " +
			"processor's KSPECIAL_REGISTERS, cr0, cr2, cr3, cr4, cr8, gdtr, gdtl, idtr, idtl, tr, ldtr, xcr0. Writing a " +
			"part changes only its bits; writing a control register writes the special registers back to the target. " +
			"st and xmm registers are shown as raw hex (KD shows them as floating-point numbers) and cannot be written. " +
			"Pseudo-registers can be shown ($ip, $ra, $thread...) and $t0-$t19 set (r $t0=rax+8). " +
			"KD's processor prefix (1r), the r. and rF/rX forms and type suffixes (r xmm0:uq) are not supported. " +
			"A name kd does not know gives KD's `^ Bad register error in '...'`.",
		Run: cmdRegisters,
	},
	{
		Names: []string{"rm"}, Group: groupData,
		Example: "rm\nrm ?\nrm 0x18a",
		Help: "Show or set the register mask: which registers r shows.\n\n\trm\n\trm ?\n\trm Mask\n\n" +
			"Mask bits (x64): 1 or 2 integer registers (either shows the 64-bit integer state), 4 x87 registers, " +
			"8 segment registers, 10 MMX registers, 20 debug registers and cr4, 40 XMM registers and mxcsr, 80 control " +
			"registers cr0, cr2, cr3, cr8, 100 descriptor and task registers. The default is a. The AVX and AVX-512 " +
			"bits (200-4000) are refused: kd reads the legacy CONTEXT, which holds no YMM or ZMM state. The mask lasts " +
			"for the session; the register display after t and p does not use it.",
		Run: cmdRegMask,
	},
}

// Register-mask bits (KD's rm, x86/x64).
const (
	maskInt32   = 0x1
	maskInt64   = 0x2
	maskFloat   = 0x4
	maskSegment = 0x8
	maskMMX     = 0x10
	maskDebug   = 0x20
	maskXMM     = 0x40
	maskControl = 0x80
	maskDescr   = 0x100
	// DefaultRegMask is what r shows until rm changes it.
	DefaultRegMask = maskInt64 | maskSegment
)

// maskBits names the mask bits rm explains, in order.
var maskBits = []struct {
	bit  uint32
	text string
	ok   bool
}{
	{maskInt32, "Integer state (32-bit)", true},
	{maskInt64, "Integer state (64-bit)", true},
	{maskFloat, "Floating-point state", true},
	{maskSegment, "Segment registers", true},
	{maskMMX, "MMX registers", true},
	{maskDebug, "Debug registers and kernel cr4", true},
	{maskXMM, "SSE XMM registers", true},
	{maskControl, "Kernel control registers", true},
	{maskDescr, "Kernel descriptor and task registers", true},
	{0x200, "AVX YMM registers (floating point)", false},
	{0x400, "AVX YMM registers (integer)", false},
	{0x800, "AVX XMM registers (integer)", false},
	{0x1000, "AVX-512 ZMM registers (floating point)", false},
	{0x2000, "AVX-512 ZMM registers (integer)", false},
	{0x4000, "AVX-512 opmask registers k0-k7", false},
}

// regMask returns the session's register mask.
func (e *Env) regMask() uint32 {
	if e.regs.maskSet {
		return e.regs.mask
	}
	return DefaultRegMask
}

func cmdRegMask(_ context.Context, e *Env, args string) (Result, error) {
	args = strings.TrimSpace(args)
	switch args {
	case "":
		return RegisterMask{Mask: e.regMask(), Bits: explainMask(e.regMask(), false)}, nil
	case "?":
		return RegisterMask{Mask: e.regMask(), Bits: explainMask(^uint32(0), true), All: true}, nil
	}
	v, ok := parseNumber(args)
	if !ok || v > 0xFFFFFFFF {
		return nil, syntaxErr("rm "+args, "a mask (a hex number) is expected")
	}
	m := uint32(v)
	for _, b := range maskBits {
		if m&b.bit != 0 && !b.ok {
			return nil, &Error{Msg: fmt.Sprintf("rm %s: mask bit %x (%s) is not supported by kd", args, b.bit, b.text),
				Hints: []string{"kd reads the legacy CONTEXT, which holds no YMM or ZMM state; rm ? lists the bits"}}
		}
	}
	var known uint32
	for _, b := range maskBits {
		known |= b.bit
	}
	if m&^known != 0 {
		return nil, &Error{Msg: fmt.Sprintf("rm %s: bits %x mean nothing on x64", args, m&^known), Hints: []string{"rm ? lists the bits"}}
	}
	if m&maskInt64 != 0 {
		m &^= maskInt32 // KD: 2 overrides 1
	}
	e.regs.mask, e.regs.maskSet = m, true
	return nil, nil
}

func explainMask(m uint32, all bool) []MaskBit {
	var out []MaskBit
	for _, b := range maskBits {
		if m&b.bit != 0 {
			out = append(out, MaskBit{Bit: b.bit, Text: b.text, Supported: b.ok || !all})
		}
	}
	return out
}

// regState is what r keeps between commands.
type regState struct {
	mask    uint32
	maskSet bool
}

func cmdRegisters(ctx context.Context, e *Env, args string) (Result, error) {
	line := strings.TrimSpace("r " + args)
	args = strings.TrimSpace(args)
	if args == "" {
		return registerDisplay(ctx, e, e.regMask())
	}
	items, err := ParseRegisterArgs(args)
	if err != nil {
		var be *badRegister
		if errors.As(err, &be) {
			return nil, &SyntaxError{Line: line, Kind: "Bad register", Msg: be.Error()}
		}
		return nil, syntaxErr(line, "%v", err)
	}
	var out RegisterValues
	for _, it := range items {
		if isPseudo(it.Name) {
			v, err := e.pseudoRegister(ctx, line, it)
			if err != nil {
				return nil, err
			}
			if !it.Assign {
				out.Values = append(out.Values, v)
			}
			continue
		}
		if !it.Assign {
			v, err := e.T.ReadRegister(ctx, it.Name)
			if err != nil {
				return nil, err
			}
			out.Values = append(out.Values, v)
			continue
		}
		d, _ := target.LookupRegister(it.Name)
		if !d.Writable() {
			return nil, &Error{Msg: fmt.Sprintf("%s: kd cannot change %s", line, it.Name),
				Hints: []string{"st0-st7 and xmm0-xmm15 are shown but not written; mm0-mm7 can be"}}
		}
		v, err := e.eval(ctx, it.Value)
		if err != nil {
			return nil, syntaxErr(line, "%v", err)
		}
		if d.Bits < 64 && v > 1<<d.Bits-1 {
			return nil, &Error{Msg: fmt.Sprintf("%s: %x does not fit in %s (%d bits)", line, v, it.Name, d.Bits),
				Hints: []string{fmt.Sprintf("give a value up to %x", uint64(1)<<d.Bits-1)}}
		}
		if err := e.T.SetRegister(ctx, it.Name, v); err != nil {
			return nil, err
		}
	}
	if len(out.Values) == 0 {
		return nil, nil
	}
	return out, nil
}

// pseudoRegister reads or sets a pseudo-register named in r's arguments:
// any one the evaluator knows can be shown, $t0-$t19 can be set.
func (e *Env) pseudoRegister(ctx context.Context, line string, it RegisterArg) (RegValue, error) {
	if it.Assign {
		v, err := e.eval(ctx, it.Value)
		if err != nil {
			return RegValue{}, syntaxErr(line, "%v", err)
		}
		if err := e.setPseudo(it.Name, v); err != nil {
			return RegValue{}, &Error{Msg: line + ": " + err.Error(), Hints: []string{"$t0 to $t19 are the user pseudo-registers"}}
		}
		return RegValue{}, nil
	}
	v, ok, err := exprTarget{ctx, e}.register(it.Name)
	if err != nil {
		return RegValue{}, err
	}
	if !ok {
		return RegValue{}, &SyntaxError{Line: line, Kind: "Bad register", Msg: fmt.Sprintf("%q is not a pseudo-register", it.Name)}
	}
	return RegValue{Name: it.Name, Value: v, Bits: 64}, nil
}

// RegisterArg is one item of r's argument list: a register to show, or
// one to set to the expression Value.
type RegisterArg struct {
	Name   string // lower case, without @; "$t0" for a pseudo-register
	Assign bool
	Value  string
}

type badRegister struct{ name string }

func (b *badRegister) Error() string { return fmt.Sprintf("%q is not a register", b.name) }

// maxRegisterArgs bounds one r line.
const maxRegisterArgs = 64

// ParseRegisterArgs parses r's arguments: comma-separated items, each a
// register name (with or without @) optionally followed by = and an
// expression. A name starting with $ is a pseudo-register.
func ParseRegisterArgs(args string) ([]RegisterArg, error) {
	parts := strings.Split(args, ",")
	if len(parts) > maxRegisterArgs {
		return nil, fmt.Errorf("at most %d registers a line", maxRegisterArgs)
	}
	out := make([]RegisterArg, 0, len(parts))
	for _, p := range parts {
		name, val, assign := strings.Cut(p, "=")
		name = strings.TrimSpace(name)
		name = strings.ToLower(strings.TrimPrefix(name, "@"))
		if name == "" {
			return nil, fmt.Errorf("a register name is expected")
		}
		if strings.HasPrefix(name, "$") {
			if !isPseudoName(name[1:]) {
				return nil, &badRegister{name}
			}
		} else if !target.IsRegister(name) {
			return nil, &badRegister{name}
		}
		it := RegisterArg{Name: name, Assign: assign}
		if assign {
			it.Value = strings.TrimSpace(val)
			if it.Value == "" {
				return nil, fmt.Errorf("a value is expected after %s=", name)
			}
		}
		out = append(out, it)
	}
	return out, nil
}

func isPseudoName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return false
		}
	}
	return true
}

// registerDisplay builds r's full display for mask.
func registerDisplay(ctx context.Context, e *Env, mask uint32) (Result, error) {
	regs, err := e.T.Registers(ctx)
	if err != nil {
		return nil, err
	}
	loc, err := e.T.Location(ctx, regs.PC())
	if err != nil {
		return nil, err
	}
	d := RegisterDisplay{Regs: regs, Location: loc, Mask: mask}
	ctxRow := func(names ...string) []RegValue {
		row := make([]RegValue, 0, len(names))
		for _, n := range names {
			v, _ := regs.Value(n)
			row = append(row, v)
		}
		return row
	}
	if mask&maskFloat != 0 {
		d.Extra = append(d.Extra, ctxRow("fpcw", "fpsw", "fptw"))
		for i := 0; i < 8; i += 4 {
			d.Extra = append(d.Extra, ctxRow(fmt.Sprintf("st%d", i), fmt.Sprintf("st%d", i+1)), ctxRow(fmt.Sprintf("st%d", i+2), fmt.Sprintf("st%d", i+3)))
		}
	}
	if mask&maskMMX != 0 {
		d.Extra = append(d.Extra, ctxRow("mm0", "mm1", "mm2"), ctxRow("mm3", "mm4", "mm5"), ctxRow("mm6", "mm7"))
	}
	if mask&maskDebug != 0 {
		d.Extra = append(d.Extra, ctxRow("dr0", "dr1", "dr2"), ctxRow("dr3", "dr6", "dr7"))
	}
	if mask&maskXMM != 0 {
		for i := 0; i < 16; i++ {
			d.Extra = append(d.Extra, ctxRow(fmt.Sprintf("xmm%d", i)))
		}
		d.Extra = append(d.Extra, ctxRow("mxcsr"))
	}
	var rows [][]string
	if mask&maskDebug != 0 {
		rows = append(rows, []string{"cr4"})
	}
	if mask&maskControl != 0 {
		rows = append(rows, []string{"cr0", "cr2", "cr3"}, []string{"cr8"})
	}
	if mask&maskDescr != 0 {
		rows = append(rows, []string{"gdtr", "gdtl", "idtr"}, []string{"idtl", "tr", "ldtr"})
	}
	if len(rows) > 0 {
		sr, err := e.T.SpecialRegisters(ctx)
		if err != nil {
			return nil, err
		}
		for _, row := range rows {
			vals := make([]RegValue, 0, len(row))
			for _, n := range row {
				v, _ := sr.Value(n)
				vals = append(vals, v)
			}
			d.Extra = append(d.Extra, vals)
		}
	}
	return d, nil
}
