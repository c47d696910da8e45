package target

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/gokd/kd/internal/pdb"
	"github.com/gokd/kd/internal/safetext"
)

// Offsets in the x64 KPCR and KPRCB that kd reads. The fields at the start
// of both are fixed by the x64 ABI (drivers compile gs:[20h] and
// gs:[188h] into their code), so they hold on every Windows x64 build.
const (
	pcrGdtBase      = 0x00
	pcrTssBase      = 0x08
	pcrUserRsp      = 0x10
	pcrSelf         = 0x18
	pcrCurrentPrcb  = 0x20
	pcrIdtBase      = 0x38
	pcrIrql         = 0x50
	pcrMajorVersion = 0x60
	pcrMinorVersion = 0x62
	pcrStallScale   = 0x64
	pcrPrcb         = 0x180
	pcrSize         = 0x68 // what kd reads of the KPCR proper

	prcbCurrentThread = 0x08
	prcbNextThread    = 0x10
	prcbIdleThread    = 0x18
	prcbNumber        = 0x24
	prcbSize          = 0x28
)

// PCR is what !pcr shows of one processor's KPCR and KPRCB.
type PCR struct {
	Processor      uint16
	Addr           uint64 // the KPCR
	GdtBase        uint64
	TssBase        uint64
	UserRsp        uint64
	Self           uint64
	CurrentPrcb    uint64
	IdtBase        uint64
	Irql           uint8
	MajorVersion   uint16
	MinorVersion   uint16
	StallScale     uint32
	Prcb           uint64 // from control space (KPRCB pointer)
	CurrentThread  uint64
	NextThread     uint64
	IdleThread     uint64
	PrcbNumber     uint32
	ControlThread  uint64 // control space's KTHREAD pointer
	ThreadConsists bool   // CurrentThread == ControlThread
}

// ReadPCR reads processor cpu's KPCR (!pcr). cpu must be a processor of
// the target; its KPCR address comes from control space.
func (t *Target) ReadPCR(ctx context.Context, cpu uint16) (PCR, error) {
	s, err := t.needStopped()
	if err != nil {
		return PCR{}, err
	}
	if _, n := t.Processor(); uint32(cpu) >= max(n, 1) {
		return PCR{}, fmt.Errorf("processor %d does not exist (the target has %d)", cpu, max(n, 1))
	}
	p := PCR{Processor: cpu}
	if p.Addr, err = t.controlPointerOf(ctx, s, cpu, ControlKPCR); err != nil {
		return PCR{}, err
	}
	if p.Prcb, err = t.controlPointerOf(ctx, s, cpu, ControlKPRCB); err != nil {
		return PCR{}, err
	}
	if p.ControlThread, err = t.controlPointerOf(ctx, s, cpu, ControlKThread); err != nil {
		return PCR{}, err
	}
	b, err := t.readAll(ctx, s, p.Addr, pcrSize, "KPCR")
	if err != nil {
		return PCR{}, err
	}
	q := func(off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }
	p.GdtBase, p.TssBase, p.UserRsp, p.Self = q(pcrGdtBase), q(pcrTssBase), q(pcrUserRsp), q(pcrSelf)
	p.CurrentPrcb, p.IdtBase, p.Irql = q(pcrCurrentPrcb), q(pcrIdtBase), b[pcrIrql]
	p.MajorVersion = binary.LittleEndian.Uint16(b[pcrMajorVersion:])
	p.MinorVersion = binary.LittleEndian.Uint16(b[pcrMinorVersion:])
	p.StallScale = binary.LittleEndian.Uint32(b[pcrStallScale:])
	pb, err := t.readAll(ctx, s, p.Prcb, prcbSize, "KPRCB")
	if err != nil {
		return PCR{}, err
	}
	p.CurrentThread = binary.LittleEndian.Uint64(pb[prcbCurrentThread:])
	p.NextThread = binary.LittleEndian.Uint64(pb[prcbNextThread:])
	p.IdleThread = binary.LittleEndian.Uint64(pb[prcbIdleThread:])
	p.PrcbNumber = binary.LittleEndian.Uint32(pb[prcbNumber:])
	p.ThreadConsists = p.CurrentThread == p.ControlThread
	return p, nil
}

// readAll reads n bytes at addr or fails naming what it read.
func (t *Target) readAll(ctx context.Context, s *session, addr uint64, n int, what string) ([]byte, error) {
	b, ok, err := t.readMemory(ctx, s, addr, n)
	if err != nil {
		return nil, err
	}
	for i, good := range ok {
		if !good {
			return nil, fmt.Errorf("cannot read the %s at %#x (byte %#x is not readable)", what, addr, i)
		}
	}
	return b, nil
}

// Gate is one x64 IDT entry (a 16-byte KIDTENTRY64).
type Gate struct {
	Vector   uint8
	Handler  uint64
	Selector uint16
	IST      uint8
	Type     uint8 // 0xE interrupt gate, 0xF trap gate
	DPL      uint8
	Present  bool
	Symbol   string
	Stack    uint64 // the IST stack from the TSS, when IST != 0 and readable
}

// DecodeGate decodes a 16-byte x64 interrupt or trap gate.
func DecodeGate(vector uint8, b []byte) (Gate, bool) {
	if len(b) < 16 {
		return Gate{}, false
	}
	attr := b[5]
	return Gate{
		Vector: vector,
		Handler: uint64(binary.LittleEndian.Uint16(b[0:])) | uint64(binary.LittleEndian.Uint16(b[6:]))<<16 |
			uint64(binary.LittleEndian.Uint32(b[8:]))<<32,
		Selector: binary.LittleEndian.Uint16(b[2:]),
		IST:      b[4] & 7,
		Type:     attr & 0xF,
		DPL:      attr >> 5 & 3,
		Present:  attr&0x80 != 0,
	}, true
}

// IDT is !idt's answer: the table's base and its present gates.
type IDT struct {
	Base  uint64
	Limit uint16
	Gates []Gate
}

// ReadIDT reads the current processor's IDT from the base and limit in
// its IDTR, decodes every present gate (or only vector when one is
// given), names each handler and finds the IST stacks in the KPCR's TSS.
func (t *Target) ReadIDT(ctx context.Context, vector int) (IDT, error) {
	s, err := t.needStopped()
	if err != nil {
		return IDT{}, err
	}
	sr, err := t.SpecialRegisters(ctx)
	if err != nil {
		return IDT{}, err
	}
	out := IDT{Base: sr.Idtr.Base, Limit: sr.Idtr.Limit}
	n := min(int(sr.Idtr.Limit)+1, 256*16) / 16
	first := 0
	if vector >= 0 {
		if vector >= n {
			return out, fmt.Errorf("vector %x is past the IDT's limit %x", vector, sr.Idtr.Limit)
		}
		first, n = vector, vector+1
	}
	b, err := t.readAll(ctx, s, out.Base+uint64(16*first), 16*(n-first), "IDT")
	if err != nil {
		return out, err
	}
	var tss []byte
	if kpcr, err := t.controlPointerOf(ctx, s, s.cpu, ControlKPCR); err == nil {
		if pb, ok, err := t.readMemory(ctx, s, kpcr+pcrTssBase, 8); err == nil && ok[7] {
			if tb, err := t.readAll(ctx, s, binary.LittleEndian.Uint64(pb), 0x68, "TSS"); err == nil {
				tss = tb
			}
		}
	}
	for v := first; v < n; v++ {
		g, _ := DecodeGate(uint8(v), b[16*(v-first):])
		if !g.Present {
			continue
		}
		g.Symbol = t.symbolize(ctx, s, g.Handler)
		if g.IST != 0 && tss != nil {
			g.Stack = binary.LittleEndian.Uint64(tss[0x24+8*(int(g.IST)-1):])
		}
		out.Gates = append(out.Gates, g)
	}
	return out, ctx.Err()
}

// CPUInfo is !cpuinfo's line for one processor. Fields the target's
// symbols do not describe are left zero and named in Missing.
type CPUInfo struct {
	Processor   uint16
	Vendor      string
	Family      uint8 // KPRCB CpuType
	Model       uint8
	Stepping    uint8
	MHz         uint32
	FeatureBits uint64
	Microcode   uint64 // MSR 8B (IA32_BIOS_SIGN_ID)
	APICBase    uint64 // MSR 1B
	TSC         uint64 // MSR 10
	Missing     []string
}

// ReadCPUInfo reads what the target says about processor cpu's identity:
// the KPRCB's CpuType, CpuStep, MHz, VendorString and FeatureBits through
// nt's type information, and the microcode signature, APIC base and time
// stamp counter MSRs.
func (t *Target) ReadCPUInfo(ctx context.Context, cpu uint16) (CPUInfo, error) {
	s, err := t.needStopped()
	if err != nil {
		return CPUInfo{}, err
	}
	info := CPUInfo{Processor: cpu}
	prcb, err := t.controlPointerOf(ctx, s, cpu, ControlKPRCB)
	if err != nil {
		return info, err
	}
	fields, why := t.typeMembers(ctx, "nt", "_KPRCB")
	read := func(name string) (uint64, []byte, bool) {
		m, ok := fields[name]
		if !ok || m.Size == 0 || m.Size > 64 {
			info.Missing = append(info.Missing, "_KPRCB."+name)
			return 0, nil, false
		}
		b, err := t.readAll(ctx, s, prcb+m.Offset, int(m.Size), "KPRCB")
		if err != nil {
			info.Missing = append(info.Missing, "_KPRCB."+name)
			return 0, nil, false
		}
		var v uint64
		for i := min(len(b), 8) - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		return v, b, true
	}
	if why != "" {
		info.Missing = append(info.Missing, "_KPRCB ("+why+")")
	} else {
		if v, _, ok := read("CpuType"); ok {
			info.Family = uint8(v)
		}
		if v, _, ok := read("CpuStep"); ok {
			info.Model, info.Stepping = uint8(v>>8), uint8(v)
		}
		if v, _, ok := read("MHz"); ok {
			info.MHz = uint32(v)
		}
		if v, _, ok := read("FeatureBits"); ok {
			info.FeatureBits = v
		}
		if _, b, ok := read("VendorString"); ok {
			if i := strings.IndexByte(string(b), 0); i >= 0 {
				b = b[:i]
			}
			info.Vendor = safetext.Sanitize(b)
		}
	}
	for _, m := range []struct {
		msr  uint32
		dst  *uint64
		name string
	}{{MsrBiosSignID, &info.Microcode, "MSR 8B"}, {MsrAPICBase, &info.APICBase, "MSR 1B"}, {MsrTSC, &info.TSC, "MSR 10"}} {
		v, err := t.readMSROf(ctx, s, cpu, m.msr)
		if err != nil {
			if ctx.Err() != nil {
				return info, ctx.Err()
			}
			info.Missing = append(info.Missing, m.name)
			continue
		}
		*m.dst = v
	}
	return info, nil
}

// typeMembers returns the top-level members of mod!name by name, or why
// there are none.
func (t *Target) typeMembers(ctx context.Context, mod, name string) (map[string]pdb.Member, string) {
	_, m, ms, err := t.symbolModule(ctx, mod)
	if err != nil {
		return nil, err.Error()
	}
	if ms == nil || ms.pdb == nil {
		return nil, "no type information for " + m.Name
	}
	ty, err := ms.pdb.TypeByName(name)
	if err != nil || ty.Forward {
		return nil, m.Name + "'s PDB does not define " + name
	}
	list, err := ms.pdb.Layout(ty.Index, 0)
	if err != nil {
		return nil, err.Error()
	}
	out := make(map[string]pdb.Member, len(list))
	for _, mb := range list {
		out[mb.Name] = mb
	}
	return out, ""
}
