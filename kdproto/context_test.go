package kdproto_test

import (
	"bytes"
	"sort"
	"testing"

	. "github.com/gokd/kd/kdproto"
)

// regLayout is a register's place in a CONTEXT record, typed in from the
// tables of spec §7 (not from the package's own tables).
type regLayout struct {
	name   string
	offset int
	size   int
}

// amd64Layout is spec §7.1.
var amd64Layout = []regLayout{
	{"contextflags", 0x30, 4}, {"mxcsr", 0x34, 4},
	{"cs", 0x38, 2}, {"ds", 0x3A, 2}, {"es", 0x3C, 2}, {"fs", 0x3E, 2}, {"gs", 0x40, 2}, {"ss", 0x42, 2},
	{"efl", 0x44, 4},
	{"dr0", 0x48, 8}, {"dr1", 0x50, 8}, {"dr2", 0x58, 8}, {"dr3", 0x60, 8}, {"dr6", 0x68, 8}, {"dr7", 0x70, 8},
	{"rax", 0x78, 8}, {"rcx", 0x80, 8}, {"rdx", 0x88, 8}, {"rbx", 0x90, 8},
	{"rsp", 0x98, 8}, {"rbp", 0xA0, 8}, {"rsi", 0xA8, 8}, {"rdi", 0xB0, 8},
	{"r8", 0xB8, 8}, {"r9", 0xC0, 8}, {"r10", 0xC8, 8}, {"r11", 0xD0, 8},
	{"r12", 0xD8, 8}, {"r13", 0xE0, 8}, {"r14", 0xE8, 8}, {"r15", 0xF0, 8},
	{"rip", 0xF8, 8},
	{"fpcw", 0x100, 2}, {"fpsw", 0x102, 2}, {"fptw", 0x104, 1},
}

// x86Layout is spec §7.2.
var x86Layout = []regLayout{
	{"contextflags", 0x00, 4},
	{"dr0", 0x04, 4}, {"dr1", 0x08, 4}, {"dr2", 0x0C, 4}, {"dr3", 0x10, 4}, {"dr6", 0x14, 4}, {"dr7", 0x18, 4},
	{"gs", 0x8C, 4}, {"fs", 0x90, 4}, {"es", 0x94, 4}, {"ds", 0x98, 4},
	{"edi", 0x9C, 4}, {"esi", 0xA0, 4}, {"ebx", 0xA4, 4}, {"edx", 0xA8, 4},
	{"ecx", 0xAC, 4}, {"eax", 0xB0, 4}, {"ebp", 0xB4, 4}, {"eip", 0xB8, 4},
	{"cs", 0xBC, 4}, {"efl", 0xC0, 4}, {"esp", 0xC4, 4}, {"ss", 0xC8, 4},
}

func TestContextRegisters(t *testing.T) {
	const pattern = 0x8877665544332211
	arches := []struct {
		name   string
		newCtx func() Context
		size   int
		layout []regLayout
	}{
		{"amd64", NewAMD64Context, AMD64ContextSize, amd64Layout},
		{"x86", NewX86Context, X86ContextSize, x86Layout},
	}
	for _, arch := range arches {
		for _, reg := range arch.layout {
			t.Run(arch.name+"/"+reg.name, func(t *testing.T) {
				c := arch.newCtx()
				if len(c.Raw) != arch.size {
					t.Fatalf("new %s context is %#x bytes; want %#x", arch.name, len(c.Raw), arch.size)
				}
				if !c.Set(reg.name, pattern) {
					t.Fatalf("Set(%q) = false; want true", reg.name)
				}
				want := make([]byte, arch.size)
				copy(want[reg.offset:reg.offset+reg.size], []byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}[:reg.size])
				if !bytes.Equal(c.Raw, want) {
					t.Errorf("Set(%q, %#x) wrote %x at %#x; want %x at %#x only", reg.name, uint64(pattern),
						nonzero(c.Raw), firstNonzero(c.Raw), want[reg.offset:reg.offset+reg.size], reg.offset)
				}
				wantVal := uint64(pattern) & (1<<(8*reg.size) - 1)
				if reg.size == 8 {
					wantVal = pattern
				}
				if v, ok := c.Get(reg.name); !ok || v != wantVal {
					t.Errorf("Get(%q) = %#x, %v; want %#x, true", reg.name, v, ok, wantVal)
				}
				if v := c.MustGet(reg.name); v != wantVal {
					t.Errorf("MustGet(%q) = %#x; want %#x", reg.name, v, wantVal)
				}
				r, ok := c.Lookup(reg.name)
				if !ok || r.Offset != reg.offset || r.Size != reg.size {
					t.Errorf("Lookup(%q) = %+v, %v; want offset %#x size %d", reg.name, r, ok, reg.offset, reg.size)
				}
			})
		}
	}
}

// nonzero returns the non-zero span of b, for failure messages.
func nonzero(b []byte) []byte {
	lo, hi := firstNonzero(b), len(b)
	for hi > lo && b[hi-1] == 0 {
		hi--
	}
	return b[lo:hi]
}

func firstNonzero(b []byte) int {
	for i, c := range b {
		if c != 0 {
			return i
		}
	}
	return len(b)
}

func TestContextTablesMatchSpec(t *testing.T) {
	// Every register the package names is in the spec table, and the
	// registers do not overlap or run past the record.
	for _, tt := range []struct {
		name   string
		regs   []Reg
		layout []regLayout
		size   int
	}{
		{"amd64", AMD64Regs, amd64Layout, AMD64ContextSize},
		{"x86", X86Regs, x86Layout, X86ContextSize},
	} {
		spec := map[string]regLayout{}
		for _, l := range tt.layout {
			spec[l.name] = l
		}
		regs := append([]Reg(nil), tt.regs...)
		sort.Slice(regs, func(i, j int) bool { return regs[i].Offset < regs[j].Offset })
		for i, r := range regs {
			if l, ok := spec[r.Name]; !ok || l.offset != r.Offset || l.size != r.Size {
				t.Errorf("%s register %+v; spec §7 says %+v (known %v)", tt.name, r, l, ok)
			}
			if r.Offset+r.Size > tt.size {
				t.Errorf("%s register %+v runs past the %#x-byte record", tt.name, r, tt.size)
			}
			if i > 0 && regs[i-1].Offset+regs[i-1].Size > r.Offset {
				t.Errorf("%s registers %+v and %+v overlap", tt.name, regs[i-1], r)
			}
		}
		if len(tt.regs) != len(tt.layout) {
			t.Errorf("%s: package names %d registers; spec table here has %d", tt.name, len(tt.regs), len(tt.layout))
		}
	}
}

func TestContextLookup(t *testing.T) {
	c := NewAMD64Context()
	tests := []struct {
		name string
		ok   bool
	}{
		{"rip", true}, {"RIP", true}, {"Rax", true}, {"EFL", true},
		{"eip", false}, {"", false}, {"rip ", false}, {"xmm0", false},
	}
	for _, tt := range tests {
		if _, ok := c.Lookup(tt.name); ok != tt.ok {
			t.Errorf("amd64 Lookup(%q) ok = %v; want %v", tt.name, ok, tt.ok)
		}
		if _, ok := c.Get(tt.name); ok != tt.ok {
			t.Errorf("amd64 Get(%q) ok = %v; want %v", tt.name, ok, tt.ok)
		}
	}
	if c.Set("eip", 1) {
		t.Errorf("amd64 Set(\"eip\") = true; want false")
	}
	if !bytes.Equal(c.Raw, make([]byte, AMD64ContextSize)) {
		t.Errorf("failed Set modified the record")
	}
	if v := c.MustGet("nosuch"); v != 0 {
		t.Errorf("MustGet(\"nosuch\") = %#x; want 0", v)
	}
}

func TestContextShortRecord(t *testing.T) {
	// A truncated GetContext reply must not make Get or Set panic.
	c := Context{Regs: AMD64Regs, Raw: make([]byte, 0x80)}
	if _, ok := c.Get("rcx"); ok {
		t.Errorf("Get(\"rcx\") on a 0x80-byte record: ok; want not ok (rcx ends at 0x88)")
	}
	if c.Set("rip", 1) {
		t.Errorf("Set(\"rip\") on a 0x80-byte record = true; want false")
	}
	if v, ok := c.Get("rax"); !ok || v != 0 {
		t.Errorf("Get(\"rax\") on a 0x80-byte record = %#x, %v; want 0, true", v, ok)
	}
	empty := Context{Regs: X86Regs}
	if _, ok := empty.Get("eax"); ok || empty.Set("eax", 1) {
		t.Errorf("Get/Set on an empty record succeeded")
	}
}

func TestContextOverWire(t *testing.T) {
	// A GetContext reply carries the whole CONTEXT as message data.
	ctx := NewAMD64Context()
	ctx.Set("rip", 0xFFFFF80002A9B590)
	ctx.Set("rsp", 0xFFFFF80000B9CB58)
	ctx.Set("cs", AMD64KernelCS)
	ctx.Set("efl", EFlagsInterrupt|EFlagsZero|EFlagsParity|0x2) // bit 1 always reads as 1
	ctx.Set("contextflags", ContextAMD64All)
	reply := NewManipulate(APIGetContext, 0, nil, ctx.Raw)
	pkt := AppendData(nil, PacketTypeStateManipulate, InitialPacketID, reply.Append(nil))
	p, _, err := ParsePacket(pkt)
	if err != nil {
		t.Fatalf("ParsePacket(GetContext reply): %v", err)
	}
	m, err := ParseManipulate(p.Payload)
	if err != nil {
		t.Fatalf("ParseManipulate(GetContext reply): %v", err)
	}
	got := Context{Regs: AMD64Regs, Raw: m.Data}
	if v, _ := got.Get("rip"); v != 0xFFFFF80002A9B590 || len(m.Data) != AMD64ContextSize {
		t.Errorf("rip from the reply = %#x (%d data bytes); want 0xfffff80002a9b590 (%d)", v, len(m.Data), AMD64ContextSize)
	}
	if v, _ := got.Get("efl"); v != 0x246 {
		t.Errorf("efl from the reply = %#x; want 0x246", v)
	}
}

func TestContextConstants(t *testing.T) {
	// Spec §7.3 and the EFLAGS bits kd decodes.
	tests := []struct {
		name      string
		got, want uint32
	}{
		{"CONTEXT_AMD64", ContextAMD64, 0x00100000},
		{"CONTEXT_AMD64 FULL", ContextAMD64Full, 0x0010000B},
		{"CONTEXT_AMD64 ALL", ContextAMD64All, 0x0010001F},
		{"CONTEXT_i386", ContextI386, 0x00010000},
		{"CONTEXT_i386 FULL", ContextI386Full, 0x00010007},
		{"CONTEXT_i386 ALL", ContextI386All, 0x0001003F},
		{"TF", EFlagsTrap, 1 << 8}, {"IF", EFlagsInterrupt, 1 << 9}, {"DF", EFlagsDirection, 1 << 10},
		{"OF", EFlagsOverflow, 1 << 11}, {"SF", EFlagsSign, 1 << 7}, {"ZF", EFlagsZero, 1 << 6},
		{"AF", EFlagsAux, 1 << 4}, {"PF", EFlagsParity, 1 << 2}, {"CF", EFlagsCarry, 1},
		{"IOPL shift", EFlagsIOPLShift, 12}, {"IOPL mask", EFlagsIOPLMask, 3},
		{"kernel CS", AMD64KernelCS, 0x10}, {"AMD64 alignment", AMD64ContextAlign, 16},
		{"Xmm0", AMD64XmmOffset, 0x1A0},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %#x; want %#x", tt.name, tt.got, tt.want)
		}
	}
}
