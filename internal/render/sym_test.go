package render

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/target"
)

// sampleSymResults is one of every symbol and stack result.
func sampleSymResults() []commands.Result {
	nt := target.Module{Name: "nt", File: "ntoskrnl.exe", Base: 0xfffff80036a00000, Size: 0x6000}
	hal := target.Module{Name: "hal", File: "hal.dll", Base: 0xfffff80037200000, Size: 0x4000}
	drv := target.Module{Name: "simdrv", File: "simdrv.sys", Base: 0xfffff80037a00000, Size: 0x4000}
	fn := target.Sym{Module: "nt", Name: "KeBugCheckEx", Addr: 0xfffff80036a01070, Size: 0x20, Kind: "function", Type: "void (unsigned long, unsigned __int64)"}
	pub := target.Sym{Module: "nt", Name: "RtlAssert", Addr: 0xfffff80036a01090, Kind: "public"}
	data := target.Sym{Module: "nt", Name: "KeNumberProcessors", Addr: 0xfffff80036a04030, Kind: "data", Type: "unsigned long"}
	exp := target.Sym{Module: "hal", Name: "HalInitSystem", Addr: 0xfffff80037201000, Kind: "export"}
	return []commands.Result{
		commands.ModuleList{Modules: []target.ModuleInfo{
			{Module: nt, State: target.SymPrivatePDB, PDBPath: "/cache/ntkrnlmp.pdb/48DC1/ntkrnlmp.pdb"},
			{Module: hal, State: target.SymExport},
			{Module: drv, State: target.SymDeferred},
		}},
		commands.ModuleList{Verbose: true, Modules: []target.ModuleInfo{
			{Module: nt, State: target.SymPrivatePDB, PDBPath: "/cache/ntkrnlmp.pdb/48DC1/ntkrnlmp.pdb", Path: `\SystemRoot\system32\ntoskrnl.exe`,
				HaveImage: true, Timestamp: 0x5F3778AE, CheckSum: 0x5F32DD0B, ImageSize: 0x6000, PDBName: "ntkrnlmp.pdb", PDBKey: "48DC1"},
			{Module: hal, State: target.SymExport, Path: `\SystemRoot\system32\hal.dll`, HaveImage: true, Timestamp: 1, PDBName: "hal.pdb", PDBKey: "AB1",
				Why: "hal.pdb not found"},
		}},
		commands.SymbolList{Symbols: []target.Sym{fn, pub, data, exp}},
		commands.SymbolList{},
		commands.NearSymbols{Near: target.Near{Addr: fn.Addr, Module: "nt", Below: fn, HaveBelow: true, Above: pub, HaveAbove: true, Exact: []target.Sym{fn}}},
		commands.NearSymbols{Near: target.Near{Addr: fn.Addr + 3, Module: "nt", Below: fn, HaveBelow: true}},
		commands.NearSymbols{Near: target.Near{Addr: 0x1000}},
		commands.StackTrace{Stack: sampleStack()},
		commands.StackTrace{Stack: sampleStack(), Numbers: true, Args: true},
		commands.StackTrace{Stack: sampleStack(), Args: true, Verbose: true},
		commands.StackTrace{Stack: sampleStack(), Params: true},
		commands.TypeDisplay{TypeLayout: sampleType(false)},
		commands.TypeDisplay{TypeLayout: sampleType(true)},
		commands.TypeList{Module: "nt", Names: []string{"_KPRCB", "_KTHREAD"}},
		commands.Reloaded{Modules: []target.ModuleInfo{{Module: nt, State: target.SymDeferred}}},
		commands.Reloaded{Forced: true, Modules: []target.ModuleInfo{{Module: nt, State: target.SymPDB, PDBPath: "/s/nt.pdb"}}},
		commands.SymbolNoise{Noisy: true},
		commands.SymbolNoise{},
		commands.SymbolPathInfo{},
		commands.SymbolPathInfo{Path: "srv*", Expanded: "cache*/home/u/.cache/kd/sym;SRV*https://msdl.microsoft.com/download/symbols"},
	}
}

func sampleSymEvents() []target.Event {
	return []target.Event{
		target.SymbolMessage{Module: "hal", Text: "*** ERROR: Module load completed but symbols could not be loaded for hal.dll"},
		target.SymbolMessage{Module: "nt", Text: "SYMSRV:  /cache/ntkrnlmp.pdb/48DC1/ntkrnlmp.pdb not found", Noisy: true},
	}
}

// TestSymGolden renders the symbol and stack results and events in KD's
// text and in JSON and compares them with golden files.
func TestSymGolden(t *testing.T) {
	var s screen
	r := &Text{Out: &s, Runtime: "go test"}
	var b bytes.Buffer
	j := NewJSON(&b)
	for _, ev := range sampleSymEvents() {
		fmt.Fprintf(&s.b, "== event %s\n", ev.EventName())
		r.Event(ev)
		j.Event(ev)
	}
	for _, res := range sampleSymResults() {
		fmt.Fprintf(&s.b, "== result %s\n", res.ResultName())
		r.Result(res)
		j.Result("cmd", res, nil)
	}
	golden(t, "sym_text.golden", s.b.String())
	golden(t, "sym_json.golden", b.String())
}

func sampleStack() target.Stack {
	return target.Stack{Frames: []target.StackFrame{
		{Num: 0, ChildSP: 0xfffff8003aa0ff98, RetAddr: 0xfffff80036a01024, IP: 0xfffff80037201010, CallSite: "hal!HalProcessorIdle",
			Args: [4]uint64{1, 2, 3, 4}, HaveArgs: true, Params: []string{"unsigned long", "void *"}, How: "context"},
		{Num: 1, ChildSP: 0xfffff8003aa0ffa0, RetAddr: 0xfffff80036a0100d, IP: 0xfffff80036a01024, CallSite: "nt!KiIdleLoop+0x14", How: "unwind info"},
		{Num: 2, ChildSP: 0xfffff8003aa0ffd0, IP: 0xfffff80036a0100d, CallSite: "nt!KiSystemStartup+0xd", How: "frame pointer (guess)", Guess: true},
	}, Stopped: "return address 0x1 is not canonical"}
}

func sampleType(values bool) target.TypeLayout {
	l := target.TypeLayout{Module: "nt", Name: "_KPRCB", Size: 0x40, Addr: 0xffffc2aab0010180, HasAdr: values, Fields: []target.TypeField{
		{Offset: 0, Name: "MxCsr", Text: "Uint4B", Value: "0x1f80"},
		{Offset: 8, Name: "CurrentThread", Text: "Ptr64 _KTHREAD", Value: "0xffffc2aa`b0018000"},
		{Offset: 0x22, Name: "Spare", Text: "Pos 2, 6 Bits", Value: "0y000000"},
		{Offset: 0x28, Name: "u", Text: "_KPRCB::<unnamed-tag>"},
		{Depth: 1, Offset: 0, Name: "RspBase", Text: "Uint8B", Value: "0x0"},
	}}
	for i := range l.Fields {
		l.Fields[i].HasValue = values && l.Fields[i].Name != "u"
	}
	return l
}
