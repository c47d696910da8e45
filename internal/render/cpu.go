package render

import (
	"fmt"
	"strings"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/safetext"
)

// Renderers of the register-mask, MSR, I/O port and processor commands
// (rm, rdmsr, ib/iw/id, ~, !pcr, !idt, !cpuinfo).

func init() { addRenderers(cpuText, cpuJSON) }

func cpuText(r *Text, res commands.Result) bool {
	o := r.Out
	switch v := res.(type) {
	case commands.RegisterMask:
		var b strings.Builder
		if v.All {
			b.WriteString("Register output mask bits (x64):\n")
		} else {
			fmt.Fprintf(&b, "Register output mask is %x:\n", v.Mask)
		}
		for _, bit := range v.Bits {
			note := ""
			if !bit.Supported {
				note = " (not supported by kd)"
			}
			fmt.Fprintf(&b, "    %4x - %s%s\n", bit.Bit, bit.Text, note)
		}
		o.Printf("%s", b.String())
	case commands.MSRValue:
		o.Printf("msr[%x] = %s", v.MSR, Addr(v.Value))
	case commands.PortValue:
		o.Printf("%08x: %0*x", v.Port, 2*v.Size, v.Value)
	case commands.ProcessorList:
		var b strings.Builder
		for _, p := range v.Processors {
			mark := ' '
			if p.Current {
				mark = '.'
			}
			if p.Err != nil {
				fmt.Fprintf(&b, "%c %2d  cannot be read: %s\n", mark, p.Number, safetext.Sanitize([]byte(ErrText(p.Err))))
				continue
			}
			where := Addr(p.PC)
			if p.Symbol != "" {
				where = p.Symbol + " (" + where + ")"
			}
			fmt.Fprintf(&b, "%c %2d  KPCR %s  Thread %s  %s\n", mark, p.Number, Addr(p.KPCR), Addr(p.Thread), where)
		}
		o.Printf("%s", b.String())
	case commands.PCRInfo:
		p := v.PCR
		var b strings.Builder
		fmt.Fprintf(&b, "KPCR for Processor %d at %016x:\n", p.Processor, p.Addr)
		fmt.Fprintf(&b, "    Major %d Minor %d\n", p.MajorVersion, p.MinorVersion)
		row := func(name string, val uint64) { fmt.Fprintf(&b, "\t%19s: %016x\n", name, val) }
		row("GdtBase", p.GdtBase)
		row("TssBase", p.TssBase)
		row("UserRsp", p.UserRsp)
		row("SelfPcr", p.Self)
		row("CurrentPrcb", p.CurrentPrcb)
		row("IdtBase", p.IdtBase)
		row("Irql", uint64(p.Irql))
		fmt.Fprintf(&b, "\t%19s: %d\n", "StallScaleFactor", p.StallScale)
		b.WriteString("\n")
		row("Prcb", p.Prcb)
		fmt.Fprintf(&b, "\t%19s: %d\n", "Number", p.PrcbNumber)
		row("CurrentThread", p.CurrentThread)
		row("NextThread", p.NextThread)
		row("IdleThread", p.IdleThread)
		if !p.ThreadConsists {
			fmt.Fprintf(&b, "\tnote: control space names thread %016x as current\n", p.ControlThread)
		}
		o.Printf("%s", b.String())
	case commands.IDTInfo:
		var b strings.Builder
		fmt.Fprintf(&b, "Dumping IDT: %016x\n\n", v.Base)
		for _, g := range v.Gates {
			fmt.Fprintf(&b, "%02x:\t%016x", g.Vector, g.Handler)
			if g.Symbol != "" {
				b.WriteString(" " + g.Symbol)
			}
			if g.Stack != 0 {
				fmt.Fprintf(&b, "\tStack = 0x%016X", g.Stack)
			}
			b.WriteByte('\n')
		}
		if len(v.Gates) == 0 {
			b.WriteString("no present gates\n")
		}
		o.Printf("%s", b.String())
	case commands.CPUInfoList:
		var b strings.Builder
		b.WriteString("CP  F/M/S     Manufacturer   MHz  MSR 8B Signature  APIC base         Features\n")
		var missing []string
		for _, c := range v.CPUs {
			vendor := c.Vendor
			if vendor == "" {
				vendor = "?"
			}
			fms := fmt.Sprintf("%d,%d,%d", c.Family, c.Model, c.Stepping)
			fmt.Fprintf(&b, "%2d  %-9s %-13s %5d  %016x  %016x  %016x\n", c.Processor, fms, vendor, c.MHz, c.Microcode, c.APICBase, c.FeatureBits)
			if len(c.Missing) > 0 && missing == nil {
				missing = c.Missing
			}
		}
		if len(missing) > 0 {
			fmt.Fprintf(&b, "not available from the target: %s\n", safetext.Sanitize([]byte(strings.Join(missing, ", "))))
		}
		o.Printf("%s", b.String())
	case commands.DescriptorList:
		o.Printf("%s", DescriptorText(v))
	default:
		return false
	}
	return true
}

// DescriptorText is dg's table, in the layout of public KD transcripts.
func DescriptorText(v commands.DescriptorList) string {
	var b strings.Builder
	b.WriteString("                                                    P Si Gr Pr Lo\n")
	b.WriteString("Sel        Base              Limit          Type    l ze an es ng Flags\n")
	b.WriteString("---- ----------------- ----------------- ---------- - -- -- -- -- --------\n")
	pick := func(c bool, yes, no string) string {
		if c {
			return yes
		}
		return no
	}
	for _, d := range v.Descriptors {
		if !d.Valid {
			fmt.Fprintf(&b, "%04x <selector is past the GDT's limit>\n", d.Selector)
			continue
		}
		fmt.Fprintf(&b, "%04x %s %s %-10s %d %s %s %s %s %08x\n", d.Selector, Addr(d.Base), Addr(d.Limit), d.TypeText(), d.DPL,
			pick(d.Big, "Bg", "Nb"), pick(d.Granular, "Pg", "By"), pick(d.Present, "P ", "NP"), pick(d.Long, "Lo", "Nl"), d.Flags)
	}
	return b.String()
}

func cpuJSON(res commands.Result) (any, bool) {
	switch v := res.(type) {
	case commands.RegisterMask:
		bits := make([]any, 0, len(v.Bits))
		for _, b := range v.Bits {
			bits = append(bits, map[string]any{"bit": Hex(b.Bit), "text": b.Text, "supported": b.Supported})
		}
		return map[string]any{"mask": Hex(v.Mask), "bits": bits, "all": v.All}, true
	case commands.MSRValue:
		return map[string]any{"msr": Hex(v.MSR), "value": Hex(v.Value)}, true
	case commands.PortValue:
		return map[string]any{"port": Hex(v.Port), "size": v.Size, "value": Hex(v.Value)}, true
	case commands.ProcessorList:
		list := make([]any, 0, len(v.Processors))
		for _, p := range v.Processors {
			m := map[string]any{"number": p.Number, "current": p.Current}
			if p.Err != nil {
				m["error"] = ErrText(p.Err)
			} else {
				m["kpcr"], m["kprcb"], m["thread"], m["pc"] = Hex(p.KPCR), Hex(p.KPRCB), Hex(p.Thread), Hex(p.PC)
				m["symbol"] = p.Symbol
			}
			list = append(list, m)
		}
		return map[string]any{"processors": list}, true
	case commands.PCRInfo:
		p := v.PCR
		return map[string]any{"processor": p.Processor, "address": Hex(p.Addr), "major": p.MajorVersion, "minor": p.MinorVersion,
			"gdt_base": Hex(p.GdtBase), "tss_base": Hex(p.TssBase), "user_rsp": Hex(p.UserRsp), "self": Hex(p.Self),
			"current_prcb": Hex(p.CurrentPrcb), "idt_base": Hex(p.IdtBase), "irql": p.Irql, "stall_scale_factor": p.StallScale,
			"prcb": Hex(p.Prcb), "number": p.PrcbNumber, "current_thread": Hex(p.CurrentThread),
			"next_thread": Hex(p.NextThread), "idle_thread": Hex(p.IdleThread), "control_thread": Hex(p.ControlThread)}, true
	case commands.IDTInfo:
		gates := make([]any, 0, len(v.Gates))
		for _, g := range v.Gates {
			m := map[string]any{"vector": g.Vector, "handler": Hex(g.Handler), "selector": Hex(g.Selector), "ist": g.IST,
				"type": g.Type, "dpl": g.DPL, "symbol": g.Symbol}
			if g.Stack != 0 {
				m["stack"] = Hex(g.Stack)
			}
			gates = append(gates, m)
		}
		return map[string]any{"base": Hex(v.Base), "limit": Hex(v.Limit), "gates": gates}, true
	case commands.DescriptorList:
		list := make([]any, 0, len(v.Descriptors))
		for _, d := range v.Descriptors {
			m := map[string]any{"selector": Hex(d.Selector), "valid": d.Valid}
			if d.Valid {
				m["base"], m["limit"], m["type"], m["type_text"] = Hex(d.Base), Hex(d.Limit), d.Type, d.TypeText()
				m["system"], m["dpl"], m["present"], m["granular"] = d.System, d.DPL, d.Present, d.Granular
				m["long"], m["big"], m["flags"] = d.Long, d.Big, Hex(d.Flags)
			}
			list = append(list, m)
		}
		return map[string]any{"descriptors": list}, true
	case commands.CPUInfoList:
		list := make([]any, 0, len(v.CPUs))
		for _, c := range v.CPUs {
			list = append(list, map[string]any{"processor": c.Processor, "vendor": c.Vendor, "family": c.Family, "model": c.Model,
				"stepping": c.Stepping, "mhz": c.MHz, "feature_bits": Hex(c.FeatureBits), "microcode": Hex(c.Microcode),
				"apic_base": Hex(c.APICBase), "tsc": Hex(c.TSC), "missing": c.Missing})
		}
		return map[string]any{"processors": list}, true
	}
	return nil, false
}
