package target

import (
	"context"
	"encoding/binary"
	"fmt"
)

// Descriptor is one GDT entry as dg shows it.
type Descriptor struct {
	Selector uint16
	Valid    bool   // inside the GDT's limit
	Base     uint64 // 64-bit for system descriptors (TSS, LDT)
	Limit    uint64 // in bytes, granularity applied
	Type     uint8  // the 4-bit type field
	System   bool   // S clear: TSS, LDT, gates
	DPL      uint8
	Present  bool
	Granular bool // G: the limit counts 4 KiB pages
	Long     bool // L: a 64-bit code segment
	Big      bool // D/B
	Flags    uint16
}

// TypeText names the descriptor's type the way dg does ("Code RE Ac",
// "Data RW", "TSS64 Bs").
func (d Descriptor) TypeText() string {
	if d.System {
		switch d.Type {
		case 0x2:
			return "LDT"
		case 0x9:
			return "TSS64 Av"
		case 0xB:
			return "TSS64 Bs"
		case 0xC:
			return "CallGate64"
		case 0xE:
			return "IntGate64"
		case 0xF:
			return "TrapGate64"
		}
		if d.Type == 0 {
			return "Reserved"
		}
		return fmt.Sprintf("Reserved%X", d.Type)
	}
	s := ""
	if d.Type&0x8 != 0 {
		s = "Code EO"
		if d.Type&0x2 != 0 {
			s = "Code RE"
		}
		if d.Type&0x4 != 0 {
			s += " C"
		}
	} else {
		s = "Data RO"
		if d.Type&0x2 != 0 {
			s = "Data RW"
		}
		if d.Type&0x4 != 0 {
			s += " Ed"
		}
	}
	if d.Type&0x1 != 0 {
		s += " Ac"
	}
	return s
}

// DecodeDescriptor decodes the 8-byte descriptor at b (16 bytes for a
// system descriptor, whose base bits 32-63 sit in the second half; with
// only 8 bytes they read as 0).
func DecodeDescriptor(sel uint16, b []byte) (Descriptor, bool) {
	if len(b) < 8 {
		return Descriptor{}, false
	}
	d := binary.LittleEndian.Uint64(b)
	access := uint8(d >> 40)
	flags := uint8(d>>52) & 0xF
	out := Descriptor{
		Selector: sel, Valid: true,
		Base:     d>>16&0xFFFFFF | (d>>56&0xFF)<<24,
		Limit:    d&0xFFFF | (d>>48&0xF)<<16,
		Type:     access & 0xF,
		System:   access&0x10 == 0,
		DPL:      access >> 5 & 3,
		Present:  access&0x80 != 0,
		Granular: flags&0x8 != 0,
		Long:     flags&0x2 != 0,
		Big:      flags&0x4 != 0,
		Flags:    uint16(access) | uint16(flags)<<8,
	}
	if out.Granular {
		out.Limit = out.Limit<<12 | 0xFFF
	}
	if out.System && len(b) >= 16 && out.Type != 0 {
		out.Base |= uint64(binary.LittleEndian.Uint32(b[8:])) << 32
	}
	return out, true
}

// maxSelectors bounds one dg, as KD does.
const maxSelectors = 256

// ReadDescriptors reads the current processor's GDT entries for the
// selectors first to last (dg). A selector past the GDT's limit comes back
// with Valid false; LDT selectors (TI set) are refused: x64 Windows has no
// LDT.
func (t *Target) ReadDescriptors(ctx context.Context, first, last uint16) ([]Descriptor, error) {
	s, err := t.needStopped()
	if err != nil {
		return nil, err
	}
	for _, sel := range []uint16{first, last} {
		if sel&4 != 0 {
			return nil, fmt.Errorf("selector %x is in the LDT, which x64 Windows does not use", sel)
		}
	}
	first, last = first&^7, last&^7
	if last < first {
		first, last = last, first
	}
	if int(last-first)/8+1 > maxSelectors {
		return nil, fmt.Errorf("dg shows at most %d selectors at a time", maxSelectors)
	}
	sr, err := t.SpecialRegisters(ctx)
	if err != nil {
		return nil, err
	}
	gdt := sr.Gdtr
	end := uint64(last) + 16
	if end > uint64(gdt.Limit)+1 {
		end = uint64(gdt.Limit) + 1
	}
	var table []byte
	if end > uint64(first) {
		b, ok, err := t.readMemory(ctx, s, gdt.Base+uint64(first), int(end-uint64(first)))
		if err != nil {
			return nil, err
		}
		for i := range ok {
			if !ok[i] {
				b = b[:i]
				break
			}
		}
		table = b
	}
	out := make([]Descriptor, 0, int(last-first)/8+1)
	for sel := uint32(first); sel <= uint32(last); sel += 8 {
		off := int(sel) - int(first)
		if sel+7 > uint32(gdt.Limit) || off+8 > len(table) {
			out = append(out, Descriptor{Selector: uint16(sel)})
			continue
		}
		d, _ := DecodeDescriptor(uint16(sel), table[off:min(off+16, len(table))])
		out = append(out, d)
	}
	return out, nil
}
