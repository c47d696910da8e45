package commands_test

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/internal/target/targettest"
	"github.com/gokd/kd/kdproto"
)

// regVal runs "r NAME" and returns its one value.
func (s *session) regVal(name string) target.RegValue {
	s.T.Helper()
	rv := as[commands.RegisterValues](s.t(), "r "+name, s.run("r "+name))
	if len(rv.Values) != 1 {
		s.T.Fatalf("r %s gave %d values", name, len(rv.Values))
	}
	return rv.Values[0]
}

func TestRegisterParts(t *testing.T) {
	s := newSession(t, targettest.Options{})
	s.run("r rax=1122334455667788")
	for _, tc := range []struct {
		name string
		want uint64
		bits uint
	}{
		{"rax", 0x1122334455667788, 64}, {"eax", 0x55667788, 32}, {"ax", 0x7788, 16}, {"al", 0x88, 8}, {"ah", 0x77, 8},
	} {
		if v := s.regVal(tc.name); v.Value != tc.want || v.Bits != tc.bits {
			t.Errorf("r %s = %#x (%d bits); want %#x (%d)", tc.name, v.Value, v.Bits, tc.want, tc.bits)
		}
	}
	// Writing a part changes only its bits, in the machine.
	for _, tc := range []struct {
		line string
		reg  string
		want uint64
	}{
		{"r eax=0n100", "rax", 0x1122334400000064},
		{"r ah=ff", "rax", 0x112233440000ff64},
		{"r @al = 1", "rax", 0x112233440000ff01},
		{"r r8d=12345678, r8w=abcd", "r8", 0},
		{"r r9b=7f", "r9", 0},
	} {
		before := s.Regs(0).MustGet(tc.reg)
		s.run(tc.line)
		got := s.Regs(0).MustGet(tc.reg)
		want := tc.want
		switch tc.reg {
		case "r8":
			want = before&^0xFFFFFFFF | 0x1234abcd
		case "r9":
			want = before&^0xFF | 0x7f
		}
		if got != want {
			t.Errorf("%s: the machine's %s is %#x, want %#x", tc.line, tc.reg, got, want)
		}
	}
}

func TestRegisterFlags(t *testing.T) {
	s := newSession(t, targettest.Options{})
	efl := s.Regs(0).MustGet("efl")
	if v := s.regVal("efl"); v.Value != efl || v.Digits() != 8 {
		t.Fatalf("r efl = %+v; the machine has %#x", v, efl)
	}
	if v := s.regVal("zf"); v.Value != efl>>6&1 || v.Digits() != 1 {
		t.Fatalf("r zf = %+v; efl %#x", v, efl)
	}
	s.run("r zf=0, cf=1, iopl=3")
	got := s.Regs(0).MustGet("efl")
	if want := efl&^0x40 | 1 | 3<<12; got != want {
		t.Fatalf("after r zf=0, cf=1, iopl=3 the machine's efl is %#x, want %#x", got, want)
	}
	err := s.fail("r zf=2")
	var ce *commands.Error
	if !errors.As(err, &ce) || !strings.Contains(ce.Msg, "does not fit") {
		t.Fatalf("r zf=2 = %v; want a does-not-fit error", err)
	}
	if s.Regs(0).MustGet("efl") != got {
		t.Fatal("a refused r zf=2 changed efl")
	}
}

func TestControlRegisters(t *testing.T) {
	s := newSession(t, targettest.Options{})
	sp, err := target.ParseSpecialRegisters(s.Machine.Special(0))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		want uint64
		dig  int
	}{
		{"cr0", sp.Cr0, 16}, {"cr3", sp.Cr3, 16}, {"cr4", sp.Cr4, 16}, {"cr8", sp.Cr8, 16},
		{"gdtr", sp.Gdtr.Base, 16}, {"gdtl", uint64(sp.Gdtr.Limit), 4}, {"idtr", sp.Idtr.Base, 16},
		{"idtl", uint64(sp.Idtr.Limit), 4}, {"tr", uint64(sp.Tr), 4}, {"ldtr", uint64(sp.Ldtr), 4}, {"xcr0", sp.Xcr0, 16},
	} {
		if v := s.regVal(tc.name); v.Value != tc.want || v.Digits() != tc.dig {
			t.Errorf("r %s = %#x (%d digits); the machine has %#x (%d)", tc.name, v.Value, v.Digits(), tc.want, tc.dig)
		}
	}
	if ev := as[commands.Evaluation](t, "? @cr3", s.run("? @cr3")); ev.Value != sp.Cr3 {
		t.Errorf("? @cr3 = %#x, want %#x", ev.Value, sp.Cr3)
	}
	// Writing a control register writes KSPECIAL_REGISTERS back.
	s.run("r cr8=f")
	s.run("r cr2=fffff80012345678")
	after, _ := target.ParseSpecialRegisters(s.Machine.Special(0))
	if after.Cr8 != 0xf || after.Cr2 != 0xfffff80012345678 || after.Cr3 != sp.Cr3 || after.Idtr != sp.Idtr {
		t.Fatalf("after r cr8, cr2 the machine has cr8 %#x cr2 %#x cr3 %#x idtr %+v", after.Cr8, after.Cr2, after.Cr3, after.Idtr)
	}
	if n := s.SimCount(sim.EventAPI, kdproto.APIWriteControlSpace.String()); n != 2 {
		t.Errorf("%d WriteControlSpace requests for two writes", n)
	}
}

func TestRegisterErrors(t *testing.T) {
	s := newSession(t, targettest.Options{})
	for _, tc := range []struct {
		line, kind string
	}{
		{"r nosuch", "Bad register"}, {"r rax, nosuch", "Bad register"}, {"r nosuch=1", "Bad register"},
		{"r rax=", "Syntax"}, {"r =1", "Syntax"}, {"r $nosuch", "Bad register"}, {"r $t0=(", "Syntax"}, {"r rax=(1", "Syntax"}, {"r rax,,rbx", "Syntax"},
	} {
		var se *commands.SyntaxError
		if err := s.fail(tc.line); !errors.As(err, &se) || se.KindText() != tc.kind {
			t.Errorf("%s = %v; want a %q caret error", tc.line, err, tc.kind)
		}
	}
	for _, line := range []string{"r xmm0=1", "r st0=1", "r $ip=1", "r $t20=1"} {
		var ce *commands.Error
		if err := s.fail(line); !errors.As(err, &ce) {
			t.Errorf("%s = %v; want a plain error with a hint", line, err)
		}
	}
}

func TestRegisterMask(t *testing.T) {
	s := newSession(t, targettest.Options{})
	rm := as[commands.RegisterMask](t, "rm", s.run("rm"))
	if rm.Mask != commands.DefaultRegMask || len(rm.Bits) != 2 || rm.Bits[0].Bit != 2 || rm.Bits[1].Bit != 8 {
		t.Fatalf("rm = %+v; want a: 2 and 8", rm)
	}
	s.run("rm 1a3")
	rm = as[commands.RegisterMask](t, "rm", s.run("rm"))
	if rm.Mask != 0x1a2 { // 2 overrides 1
		t.Fatalf("after rm 1a3 the mask is %x, want 1a2", rm.Mask)
	}
	rd := as[commands.RegisterDisplay](t, "r", s.run("r"))
	sp, _ := target.ParseSpecialRegisters(s.Machine.Special(0))
	seen := map[string]uint64{}
	for _, row := range rd.Extra {
		for _, v := range row {
			seen[v.Name] = v.Value
		}
	}
	want := map[string]uint64{"dr7": s.Regs(0).MustGet("dr7"), "cr4": sp.Cr4, "cr0": sp.Cr0, "cr3": sp.Cr3,
		"cr8": sp.Cr8, "gdtr": sp.Gdtr.Base, "idtl": uint64(sp.Idtr.Limit), "tr": uint64(sp.Tr)}
	for n, w := range want {
		if got, ok := seen[n]; !ok || got != w {
			t.Errorf("r with mask 1a2: %s = %#x (shown %v), want %#x", n, got, ok, w)
		}
	}
	if _, ok := seen["xmm0"]; ok {
		t.Error("r shows xmm0 without mask bit 40")
	}
	s.run("rm 40")
	rd = as[commands.RegisterDisplay](t, "r", s.run("r"))
	if len(rd.Extra) != 17 || rd.Extra[16][0].Name != "mxcsr" || rd.Extra[16][0].Value != s.Regs(0).MustGet("mxcsr") {
		t.Fatalf("r with mask 40 shows %d lines: %+v", len(rd.Extra), rd.Extra)
	}
	for _, line := range []string{"rm 200", "rm 8000", "rm x"} {
		s.fail(line)
	}
	if all := as[commands.RegisterMask](t, "rm ?", s.run("rm ?")); !all.All || len(all.Bits) != 15 {
		t.Fatalf("rm ? = %+v", all)
	}
}

func TestMSRCommands(t *testing.T) {
	s := newSession(t, targettest.Options{Sim: sim.Config{Procs: 2}})
	for _, msr := range []uint32{target.MsrLSTAR, target.MsrGSBase, target.MsrAPICBase, target.MsrTSC, target.MsrBiosSignID} {
		want, ok := s.Machine.MSR(0, msr)
		if !ok {
			t.Fatalf("the machine has no MSR %x", msr)
		}
		line := "rdmsr " + strings.ToLower(strings.TrimLeft(hex32(msr), "0"))
		v := as[commands.MSRValue](t, line, s.run(line))
		if v.MSR != msr || v.Value != want {
			t.Errorf("%s = %+v; the machine has %#x", line, v, want)
		}
	}
	if v := as[commands.MSRValue](t, "rdmsr", s.run("rdmsr c0000082")); v.Value != s.Sym("nt!KiSystemCall64") {
		t.Errorf("IA32_LSTAR = %#x, want nt!KiSystemCall64", v.Value)
	}
	s.run("wrmsr c0000102 fffff80011112222")
	if v, _ := s.Machine.MSR(0, target.MsrKernelGSBas); v != 0xfffff80011112222 {
		t.Errorf("after wrmsr the machine's kernel GS base is %#x", v)
	}
	if v, _ := s.Machine.MSR(1, target.MsrKernelGSBas); v == 0xfffff80011112222 {
		t.Error("wrmsr changed another processor's MSR")
	}
	var ce *commands.Error
	if err := s.fail("rdmsr c0000999"); !errors.As(err, &ce) || !strings.Contains(ce.Msg, "STATUS_NO_SUCH_DEVICE") {
		t.Errorf("rdmsr of a missing MSR = %v", err)
	}
	for _, line := range []string{"rdmsr", "rdmsr 100000000", "wrmsr 10", "rdmsr 10 20", "wrmsr c0000082 (1"} {
		s.fail(line)
	}
}

func hex32(v uint32) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 8)
	for i := 7; i >= 0; i-- {
		b[i] = digits[v&0xF]
		v >>= 4
	}
	return string(b)
}

func TestPortCommands(t *testing.T) {
	s := newSession(t, targettest.Options{})
	// COM1's line status register, then CMOS through index/data ports.
	if v := as[commands.PortValue](t, "ib 3fd", s.run("ib 3fd")); v.Port != 0x3fd || v.Size != 1 || uint8(v.Value) != s.Machine.PeekPort(0x3fd) {
		t.Fatalf("ib 3fd = %+v; the machine has %#x", v, s.Machine.PeekPort(0x3fd))
	}
	s.run("ob 70 a")
	if v := as[commands.PortValue](t, "ib 71", s.run("ib 71")); v.Value != 0x26 || v.Value != uint32(s.Machine.PeekPort(0x71)) {
		t.Fatalf("CMOS register A = %#x, want 26", v.Value)
	}
	s.run("ob 70 40")
	s.run("ob 71 5a")
	s.run("ob 70 40")
	if v := as[commands.PortValue](t, "ib 71", s.run("ib 71")); v.Value != 0x5a {
		t.Fatalf("CMOS byte 40 reads %#x after writing 5a", v.Value)
	}
	// PCI configuration mechanism #1: od the address, id the data.
	s.run("od cf8 80000000")
	if v := as[commands.PortValue](t, "id cfc", s.run("id cfc")); v.Size != 4 || v.Value != 0x12378086 {
		t.Fatalf("PCI 0:0.0 vendor/device = %#x, want 12378086", v.Value)
	}
	if v := as[commands.PortValue](t, "iw cfc", s.run("iw cfc")); v.Size != 2 || v.Value != 0x8086 {
		t.Fatalf("iw cfc = %#x", v.Value)
	}
	// The interval timer: latch channel 0, then read the frozen count.
	s.run("ob 43 0")
	lo := s.Machine.PeekPort(0x40)
	if v := as[commands.PortValue](t, "ib 40", s.run("ib 40")); uint8(v.Value) != lo {
		t.Fatalf("latched PIT low byte %#x, the machine has %#x", v.Value, lo)
	}
	hi := s.Machine.PeekPort(0x40)
	if v := as[commands.PortValue](t, "ib 40", s.run("ib 40")); uint8(v.Value) != hi || uint16(hi)<<8|uint16(lo) > 0x4A9 {
		t.Fatalf("latched PIT high byte %#x (machine %#x); count %#x", v.Value, hi, uint16(hi)<<8|uint16(lo))
	}
	s.run("ow 80 1234")
	if s.Machine.PeekPort(0x80) != 0x34 || s.Machine.PeekPort(0x81) != 0x12 {
		t.Fatalf("ow 80 1234 left %#x %#x", s.Machine.PeekPort(0x80), s.Machine.PeekPort(0x81))
	}
	var ce *commands.Error
	for _, line := range []string{"ob 70 100", "ib 10000", "iw 71", "id fffe"} {
		if err := s.fail(line); !errors.As(err, &ce) {
			t.Errorf("%s = %v; want an error with a hint", line, err)
		}
	}
	for _, line := range []string{"ib", "ob 70", "ib 70 71"} {
		var se *commands.SyntaxError
		if err := s.fail(line); !errors.As(err, &se) {
			t.Errorf("%s = %v; want a syntax error", line, err)
		}
	}
}

func TestProcessorCommands(t *testing.T) {
	s := newSession(t, targettest.Options{Sim: sim.Config{Procs: 3}})
	pl := as[commands.ProcessorList](t, "~", s.run("~"))
	if len(pl.Processors) != 3 {
		t.Fatalf("~ lists %d processors, want 3", len(pl.Processors))
	}
	for i, p := range pl.Processors {
		kpcr, _, thread, _ := s.Machine.ProcessorBlocks(i)
		pc := s.Regs(i).MustGet("rip")
		if p.Err != nil || p.Number != uint16(i) || p.Current != (i == 0) || p.KPCR != kpcr || p.Thread != thread || p.PC != pc || p.Symbol == "" {
			t.Errorf("~ line %d = %+v; the machine has KPCR %#x thread %#x rip %#x", i, p, kpcr, thread, pc)
		}
	}
	for cpu := 0; cpu < 3; cpu++ {
		line := "!pcr " + string(rune('0'+cpu))
		p := as[commands.PCRInfo](t, line, s.run(line))
		kpcr, kprcb, thread, _ := s.Machine.ProcessorBlocks(cpu)
		sp, _ := target.ParseSpecialRegisters(s.Machine.Special(cpu))
		raw, _ := s.Machine.PeekVirtual(kpcr, 0x68)
		if p.Addr != kpcr || p.Self != kpcr || p.CurrentPrcb != kprcb || p.Prcb != kprcb || p.CurrentThread != thread ||
			p.IdleThread != thread || p.IdtBase != sp.Idtr.Base || p.GdtBase != sp.Gdtr.Base || p.PrcbNumber != uint32(cpu) ||
			p.TssBase != binary.LittleEndian.Uint64(raw[8:]) || p.MajorVersion != 1 || !p.ThreadConsists {
			t.Errorf("%s = %+v; the machine has KPCR %#x KPRCB %#x thread %#x IDT %#x", line, p.PCR, kpcr, kprcb, thread, sp.Idtr.Base)
		}
	}
	if p := as[commands.PCRInfo](t, "!pcr", s.run("!pcr")); p.Processor != 0 {
		t.Errorf("!pcr shows processor %d, want the current 0", p.Processor)
	}
	s.fail("!pcr 3")
	s.fail("!pcr (")
}

func TestIDT(t *testing.T) {
	s := newSession(t, targettest.Options{})
	idt := as[commands.IDTInfo](t, "!idt", s.run("!idt"))
	sp, _ := target.ParseSpecialRegisters(s.Machine.Special(0))
	if idt.Base != sp.Idtr.Base || idt.Limit != sp.Idtr.Limit || len(idt.Gates) < 20 {
		t.Fatalf("!idt base %#x limit %#x, %d gates; the machine's IDTR is %+v", idt.Base, idt.Limit, len(idt.Gates), sp.Idtr)
	}
	mem, _ := s.Machine.PeekVirtual(sp.Idtr.Base, 256*16)
	for _, g := range idt.Gates {
		want, _ := target.DecodeGate(g.Vector, mem[16*int(g.Vector):])
		if !want.Present || g.Handler != want.Handler || g.IST != want.IST || g.Selector != 0x10 || g.Type != 0xE {
			t.Errorf("vector %02x = %+v; the machine's gate is %+v", g.Vector, g, want)
		}
		if s.Sym(g.Symbol) != g.Handler {
			t.Errorf("vector %02x: handler %#x named %q", g.Vector, g.Handler, g.Symbol)
		}
	}
	pf := as[commands.IDTInfo](t, "!idt e", s.run("!idt e"))
	if len(pf.Gates) != 1 || pf.Gates[0].Handler != s.Sym("nt!KiPageFault") || pf.Gates[0].Symbol != "nt!KiPageFault" {
		t.Fatalf("!idt e = %+v; want nt!KiPageFault", pf.Gates)
	}
	df := as[commands.IDTInfo](t, "!idt 8", s.run("!idt 8"))
	if len(df.Gates) != 1 || df.Gates[0].IST != 1 || df.Gates[0].Stack == 0 {
		t.Fatalf("!idt 8 = %+v; want IST 1 with its stack", df.Gates)
	}
	if empty := as[commands.IDTInfo](t, "!idt 20", s.run("!idt 20")); len(empty.Gates) != 0 {
		t.Fatalf("!idt 20 = %+v; the vector has no gate", empty.Gates)
	}
	for _, line := range []string{"!idt 100", "!idt -a", "!idt zz"} {
		s.fail(line)
	}
	// What the target says about its tables is not trusted: a limit past
	// 256 gates reads 256, a base in unmapped memory is one clear error.
	s.run("r idtl=ffff")
	if big := as[commands.IDTInfo](t, "!idt", s.run("!idt")); len(big.Gates) != len(idt.Gates) || big.Limit != 0xffff {
		t.Errorf("with idtl ffff: %d gates, limit %x", len(big.Gates), big.Limit)
	}
	s.run("r idtr=1000")
	if err := s.fail("!idt"); !strings.Contains(err.Error(), "cannot read the IDT at 0x1000") {
		t.Errorf("!idt on an unmapped IDT = %v", err)
	}
	s.run("r gdtl=f")
	dl := as[commands.DescriptorList](t, "dg 0 18", s.run("dg 0 18")).Descriptors
	if !dl[0].Valid || !dl[1].Valid || dl[2].Valid || dl[3].Valid {
		t.Errorf("dg with gdtl f = %+v", dl)
	}
}

func TestCPUInfo(t *testing.T) {
	s := newSession(t, targettest.Options{Sim: sim.Config{Procs: 2}})
	// Without nt's types only the MSRs are known, and kd says what is missing.
	bare := as[commands.CPUInfoList](t, "!cpuinfo", s.run("!cpuinfo"))
	if len(bare.CPUs) != 2 || bare.CPUs[0].Vendor != "" || len(bare.CPUs[0].Missing) != 1 || bare.CPUs[0].APICBase == 0 {
		t.Fatalf("!cpuinfo without symbols = %+v", bare.CPUs)
	}
	dir, err := sim.WriteSymbolStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s.run(".sympath " + dir)
	s.run(".reload")
	ci := as[commands.CPUInfoList](t, "!cpuinfo", s.run("!cpuinfo"))
	if len(ci.CPUs) != 2 {
		t.Fatalf("!cpuinfo lists %d processors", len(ci.CPUs))
	}
	for i, c := range ci.CPUs {
		apic, _ := s.Machine.MSR(i, target.MsrAPICBase)
		ucode, _ := s.Machine.MSR(i, target.MsrBiosSignID)
		if c.Vendor != "GenuineIntel" || c.Family != 6 || c.Model != 0x9e || c.Stepping != 10 || c.MHz != 3192 ||
			c.APICBase != apic || c.Microcode != ucode || len(c.Missing) != 0 {
			t.Errorf("!cpuinfo line %d = %+v; the machine has APIC base %#x microcode %#x", i, c, apic, ucode)
		}
	}
}

func (s *session) t() *testing.T { return s.T.(*testing.T) }

func TestDescriptors(t *testing.T) {
	s := newSession(t, targettest.Options{})
	sp, _ := target.ParseSpecialRegisters(s.Machine.Special(0))
	gdt, _ := s.Machine.PeekVirtual(sp.Gdtr.Base, int(sp.Gdtr.Limit)+1)
	dl := as[commands.DescriptorList](t, "dg 0 58", s.run("dg 0 58"))
	if len(dl.Descriptors) != 12 {
		t.Fatalf("dg 0 58 gave %d lines", len(dl.Descriptors))
	}
	for i, d := range dl.Descriptors {
		sel := uint16(8 * i)
		if d.Selector != sel {
			t.Fatalf("line %d is selector %x", i, d.Selector)
		}
		if int(sel)+8 > len(gdt) {
			if d.Valid {
				t.Errorf("selector %x past the limit %x is valid", sel, sp.Gdtr.Limit)
			}
			continue
		}
		want, _ := target.DecodeDescriptor(sel, gdt[sel:min(int(sel)+16, len(gdt))])
		if d != want {
			t.Errorf("dg %x = %+v; the machine's GDT holds %+v", sel, d, want)
		}
	}
	kc := as[commands.DescriptorList](t, "dg 10", s.run("dg 10")).Descriptors[0]
	if !kc.Long || !kc.Present || kc.DPL != 0 || kc.TypeText() != "Code RE Ac" || kc.Selector != uint16(s.Regs(0).MustGet("cs")) {
		t.Errorf("dg 10 = %+v", kc)
	}
	tss := as[commands.DescriptorList](t, "dg 40", s.run("dg @tr")).Descriptors[0]
	kpcr, _, _, _ := s.Machine.ProcessorBlocks(0)
	raw, _ := s.Machine.PeekVirtual(kpcr+8, 8)
	if tss.TypeText() != "TSS64 Bs" || tss.Base != binary.LittleEndian.Uint64(raw) || tss.Limit != 0x67 {
		t.Errorf("dg @tr = %+v; the KPCR's TssBase is %#x", tss, binary.LittleEndian.Uint64(raw))
	}
	for _, line := range []string{"dg", "dg 4", "dg 0 1000", "dg 10000", "dg (", "dg 10 20 30"} {
		s.fail(line)
	}
}

func TestPseudoRegistersThroughR(t *testing.T) {
	s := newSession(t, targettest.Options{})
	rax := s.Regs(0).MustGet("rax")
	s.run("r $t0=@rax*2, $t1=0n10")
	rv := as[commands.RegisterValues](t, "r $t0, $t1, $ip", s.run("r $t0, $t1, $ip"))
	if len(rv.Values) != 3 || rv.Values[0].Value != rax*2 || rv.Values[1].Value != 10 || rv.Values[2].Value != s.Regs(0).MustGet("rip") {
		t.Fatalf("r $t0, $t1, $ip = %+v; rax %#x", rv.Values, rax)
	}
	if ev := as[commands.Evaluation](t, "? $t0+$t1", s.run("? $t0+$t1")); ev.Value != rax*2+10 {
		t.Fatalf("? $t0+$t1 = %#x", ev.Value)
	}
	if s.Regs(0).MustGet("rax") != rax {
		t.Fatal("setting $t0 changed rax")
	}
}
