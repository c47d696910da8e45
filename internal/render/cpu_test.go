package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/target"
)

// sampleCPUResults is one of every register, MSR, port and processor result.
func sampleCPUResults() []commands.Result {
	regs := sampleRegs()
	return []commands.Result{
		commands.RegisterDisplay{Regs: regs, Location: loc, Mask: 0x1E2, Extra: [][]commands.RegValue{
			{{Name: "dr0", Value: 0, Bits: 64}, {Name: "dr7", Value: 0x401, Bits: 64}},
			{{Name: "xmm0", Value: 0x1122334455667788, Hi: 0x99, Bits: 128}},
			{{Name: "st0", Value: 0x8000000000000000, Hi: 0x3fff, Bits: 80}},
			{{Name: "cr3", Value: 0x1ad000, Bits: 64}, {Name: "gdtl", Value: 0x57, Bits: 16}, {Name: "zf", Value: 1, Bits: 1}},
		}},
		commands.RegisterDisplay{Regs: regs, Location: loc, Mask: 0x2},
		commands.RegisterMask{Mask: 0xa, Bits: []commands.MaskBit{{Bit: 2, Text: "Integer state (64-bit)", Supported: true}, {Bit: 8, Text: "Segment registers", Supported: true}}},
		commands.RegisterMask{Mask: 0xa, All: true, Bits: []commands.MaskBit{{Bit: 0x200, Text: "AVX YMM registers (floating point)"}}},
		commands.MSRValue{MSR: 0xc0000082, Value: 0xfffff80036a01100},
		commands.PortValue{Port: 0x71, Size: 1, Value: 0x26},
		commands.PortValue{Port: 0xcfc, Size: 4, Value: 0x12378086},
		commands.ProcessorList{Processors: []target.Processor{
			{Number: 0, Current: true, KPCR: 0xfffff80012340000, KPRCB: 0xfffff80012340180, Thread: 0xfffff80012348000, PC: 0xfffff80036a01030, Symbol: "nt!DbgBreakPointWithStatus"},
			{Number: 1, KPCR: 0xfffff80012350000, PC: 0x1000},
			{Number: 2, Err: errors.New("the target refused \x1b[31m")},
		}},
		commands.PCRInfo{PCR: target.PCR{Processor: 1, Addr: 0xfffff80012350000, GdtBase: 0xfffff80012352000, TssBase: 0xfffff80012354000,
			Self: 0xfffff80012350000, CurrentPrcb: 0xfffff80012350180, IdtBase: 0xfffff80012353000, MajorVersion: 1, MinorVersion: 1,
			StallScale: 3192, Prcb: 0xfffff80012350180, CurrentThread: 0xfffff80012358000, IdleThread: 0xfffff80012358000, PrcbNumber: 1,
			ControlThread: 0xfffff80012359000}},
		commands.IDTInfo{IDT: target.IDT{Base: 0xfffff80012353000, Limit: 0xfff, Gates: []target.Gate{
			{Vector: 0, Handler: 0xfffff80036a01200, Selector: 0x10, Type: 0xe, Present: true, Symbol: "nt!KiDivideErrorFault"},
			{Vector: 8, Handler: 0xfffff80036a01280, Selector: 0x10, Type: 0xe, IST: 1, Present: true, Symbol: "nt!KiDoubleFaultAbort", Stack: 0xfffff80040106000},
		}}},
		commands.IDTInfo{IDT: target.IDT{Base: 0x1000, Limit: 0xfff}},
		commands.DescriptorList{Descriptors: []target.Descriptor{
			{Selector: 0x10, Valid: true, Type: 0xB, Present: true, Long: true, Flags: 0x29b},
			{Selector: 0x40, Valid: true, Base: 0xfffff80012354000, Limit: 0x67, Type: 0xB, System: true, Present: true, Flags: 0x8b},
			{Selector: 0x58},
		}},
		commands.CPUInfoList{CPUs: []target.CPUInfo{
			{Processor: 0, Vendor: "GenuineIntel", Family: 6, Model: 158, Stepping: 10, MHz: 3192, Microcode: 0xb400000000, APICBase: 0xfee00900, FeatureBits: 0xa3cd3ffe},
			{Processor: 1, APICBase: 0xfee00800, Missing: []string{"_KPRCB (no type information for nt)"}},
		}},
	}
}

// TestCPUText checks the lines KD users key on.
func TestCPUText(t *testing.T) {
	for _, tc := range []struct {
		res  commands.Result
		want []string
	}{
		{sampleCPUResults()[0], []string{"dr0=0000000000000000 dr7=0000000000000401", "xmm0=00000000000000991122334455667788",
			"st0=3fff8000000000000000", "cr3=00000000001ad000 gdtl=0057 zf=1", "iopl=0", "rax="}},
		{sampleCPUResults()[1], []string{"efl=00000246\n", "r14="}},
		{commands.MSRValue{MSR: 0xc0000082, Value: 0xfffff80036a01100}, []string{"msr[c0000082] = fffff800`36a01100"}},
		{commands.PortValue{Port: 0x71, Size: 1, Value: 0x26}, []string{"00000071: 26"}},
		{commands.RegisterMask{Mask: 0xa, Bits: []commands.MaskBit{{Bit: 2, Text: "Integer state (64-bit)", Supported: true}}}, []string{"Register output mask is a:\n       2 - Integer state (64-bit)"}},
		{sampleCPUResults()[7], []string{".  0  KPCR fffff800`12340000  Thread fffff800`12348000  nt!DbgBreakPointWithStatus (fffff800`36a01030)", "   2  cannot be read: the target refused \\x1b[31m"}},
		{sampleCPUResults()[8], []string{"KPCR for Processor 1 at fffff80012350000:", "            IdtBase: fffff80012353000", "note: control space names thread fffff80012359000"}},
		{sampleCPUResults()[9], []string{"Dumping IDT: fffff80012353000\n\n00:\tfffff80036a01200 nt!KiDivideErrorFault\n08:\tfffff80036a01280 nt!KiDoubleFaultAbort\tStack = 0xFFFFF80040106000"}},
		{sampleCPUResults()[11], []string{"0010 00000000`00000000 00000000`00000000 Code RE Ac 0 Nb By P  Lo 0000029b",
			"0040 fffff800`12354000 00000000`00000067 TSS64 Bs   0 Nb By P  Nl 0000008b", "0058 <selector is past the GDT's limit>"}},
		{sampleCPUResults()[12], []string{" 0  6,158,10  GenuineIntel   3192  000000b400000000  00000000fee00900", "not available from the target: _KPRCB"}},
	} {
		var s screen
		(&Text{Out: &s}).Result(tc.res)
		for _, w := range tc.want {
			if !strings.Contains(s.b.String(), w) {
				t.Errorf("%s: %q not in\n%s", tc.res.ResultName(), w, s.b.String())
			}
		}
		if strings.ContainsRune(s.b.String(), 0x1b) {
			t.Errorf("%s: a raw escape reached the screen", tc.res.ResultName())
		}
	}
}

// TestCPUJSON decodes every result's JSON and checks its values.
func TestCPUJSON(t *testing.T) {
	decode := func(res commands.Result) map[string]any {
		t.Helper()
		var b bytes.Buffer
		NewJSON(&b).Result("cmd", res, nil)
		var o struct {
			Kind string         `json:"kind"`
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal(b.Bytes(), &o); err != nil || o.Kind != res.ResultName() {
			t.Fatalf("%s: %v %q", res.ResultName(), err, b.String())
		}
		return o.Data
	}
	all := sampleCPUResults()
	if d := decode(all[0]); d["mask"] != "0x1e2" || d["registers"].(map[string]any)["xmm0"] != "0x991122334455667788" ||
		d["registers"].(map[string]any)["cr3"] != "0x1ad000" || d["registers"].(map[string]any)["rip"] != "0xfffff80036a01030" {
		t.Errorf("registers: %v", d)
	}
	if d := decode(all[4]); d["msr"] != "0xc0000082" || d["value"] != "0xfffff80036a01100" {
		t.Errorf("msr: %v", d)
	}
	if d := decode(all[6]); d["port"] != "0xcfc" || d["size"] != float64(4) || d["value"] != "0x12378086" {
		t.Errorf("port: %v", d)
	}
	ps := decode(all[7])["processors"].([]any)
	if p := ps[0].(map[string]any); p["current"] != true || p["kpcr"] != "0xfffff80012340000" || p["symbol"] != "nt!DbgBreakPointWithStatus" {
		t.Errorf("processor 0: %v", p)
	}
	if p := ps[2].(map[string]any); p["error"] == nil {
		t.Errorf("processor 2: %v", p)
	}
	if d := decode(all[8]); d["idt_base"] != "0xfffff80012353000" || d["number"] != float64(1) || d["control_thread"] != "0xfffff80012359000" {
		t.Errorf("pcr: %v", d)
	}
	gates := decode(all[9])["gates"].([]any)
	if g := gates[1].(map[string]any); g["vector"] != float64(8) || g["ist"] != float64(1) || g["stack"] != "0xfffff80040106000" || g["symbol"] != "nt!KiDoubleFaultAbort" {
		t.Errorf("gate 8: %v", g)
	}
	ds := decode(all[11])["descriptors"].([]any)
	if d := ds[1].(map[string]any); d["base"] != "0xfffff80012354000" || d["type_text"] != "TSS64 Bs" || d["system"] != true {
		t.Errorf("dg: %v", d)
	}
	if d := ds[2].(map[string]any); d["valid"] != false || d["base"] != nil {
		t.Errorf("dg past the limit: %v", d)
	}
	cpus := decode(all[12])["processors"].([]any)
	if c := cpus[0].(map[string]any); c["vendor"] != "GenuineIntel" || c["model"] != float64(158) || c["microcode"] != "0xb400000000" {
		t.Errorf("cpuinfo 0: %v", c)
	}
	if d := decode(all[2]); d["mask"] != "0xa" || len(d["bits"].([]any)) != 2 {
		t.Errorf("rm: %v", d)
	}
}
