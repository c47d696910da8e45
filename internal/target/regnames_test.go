package target

import (
	"testing"

	"github.com/gokd/kd/kdproto"
)

// Every register name reads back what was stored, and a part changes
// only its own bits of the field that holds it.
func TestRegisterNamesRoundTrip(t *testing.T) {
	for _, name := range RegisterNames() {
		d, ok := LookupRegister(name)
		if !ok || d.Name != name || d.Bits == 0 {
			t.Fatalf("%s: %+v", name, d)
		}
		buf := make([]byte, max(kdproto.AMD64ContextSize, SpecialRegistersSize))
		for i := range buf {
			buf[i] = 0xA5
		}
		before := append([]byte(nil), buf...)
		if d.Class == RegVector {
			if d.Writable() {
				t.Errorf("%s: a vector register is writable", name)
			}
			continue
		}
		want := uint64(0x0123456789ABCDEF) & mask(d.Bits)
		if !d.store(buf, want) {
			t.Fatalf("%s: store failed", name)
		}
		var got uint64
		if d.Class == RegSpecial {
			got = d.specialIn(buf).Value
		} else {
			got = d.valueIn(buf).Value
		}
		if got != want {
			t.Errorf("%s: stored %#x, read %#x", name, want, got)
		}
		for i := range buf {
			inField := i >= d.Offset && i < d.Offset+d.Size
			if !inField && buf[i] != before[i] {
				t.Errorf("%s: byte %#x outside its field changed", name, i)
			}
		}
	}
}

func TestRegisterTable(t *testing.T) {
	for _, tc := range []struct {
		name  string
		class RegClass
		base  string
		shift uint
		bits  uint
	}{
		{"RAX", RegContext, "", 0, 64}, {"eax", RegPart, "rax", 0, 32}, {"ah", RegPart, "rax", 8, 8},
		{"r15b", RegPart, "r15", 0, 8}, {"spl", RegPart, "rsp", 0, 8}, {"zf", RegPart, "efl", 6, 1},
		{"iopl", RegPart, "efl", 12, 2}, {"cr3", RegSpecial, "", 0, 64}, {"gdtl", RegSpecial, "", 0, 16},
		{"xmm15", RegVector, "", 0, 128}, {"st7", RegVector, "", 0, 80}, {"mm3", RegContext, "", 0, 64},
	} {
		d, ok := LookupRegister(tc.name)
		if !ok || d.Class != tc.class || d.Base != tc.base || d.Shift != tc.shift || d.Bits != tc.bits {
			t.Errorf("%s = %+v (%v)", tc.name, d, ok)
		}
	}
	for _, bad := range []string{"", "r16", "xmm16", "st8", "cr1", "eflags", "@rax", "contextflags"} {
		if IsRegister(bad) {
			t.Errorf("%q is a register", bad)
		}
	}
	g, ok := DecodeGate(0xe, []byte{0x30, 0x10, 0x10, 0, 1, 0xEE, 0xa0, 0x36, 0x00, 0xf8, 0xff, 0xff, 0, 0, 0, 0})
	if !ok || g.Handler != 0xfffff80036a01030 || g.Selector != 0x10 || g.IST != 1 || g.Type != 0xE || g.DPL != 3 || !g.Present {
		t.Errorf("DecodeGate = %+v", g)
	}
	if _, ok := DecodeGate(0, make([]byte, 15)); ok {
		t.Error("DecodeGate took 15 bytes")
	}
}
