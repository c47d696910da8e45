package sim

import (
	"bytes"
	"debug/pe"
	"strings"
	"testing"
	"unicode/utf16"

	"golang.org/x/arch/x86/x86asm"
)

// The memory image: PE headers, loader list, code, page tables.

func TestImageIsDeterministic(t *testing.T) {
	a, b, c := New(Config{Seed: 1}), New(Config{Seed: 1}), New(Config{Seed: 2})
	if a.KernBase() != b.KernBase() || a.KernBase() == c.KernBase() {
		t.Fatalf("KernBase %#x %#x %#x: want equal for equal seeds, different otherwise", a.KernBase(), b.KernBase(), c.KernBase())
	}
	var pa, pb [pageSize]byte
	a.im.vmem.read(a.KernBase(), pa[:])
	b.im.vmem.read(b.KernBase(), pb[:])
	if pa != pb {
		t.Errorf("headers differ for equal seeds")
	}
}

// TestPEHeadersParse reads every module image out of simulated memory and
// checks it with debug/pe.
func TestPEHeadersParse(t *testing.T) {
	m := New(Config{})
	for _, mod := range []string{"nt", "hal", "kdcom", "simdrv"} {
		base := m.Symbol(mod + "!__ImageBase")
		hdr := make([]byte, pageSize)
		m.im.vmem.read(base, hdr)
		f, err := pe.NewFile(bytes.NewReader(hdr))
		if err != nil {
			t.Fatalf("%s: %v", mod, err)
		}
		oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
		if !ok || f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 || oh.ImageBase != base || len(f.Sections) != 3 {
			t.Errorf("%s: machine %#x base ok %v sections %d", mod, f.Machine, ok && oh.ImageBase == base, len(f.Sections))
			continue
		}
		// Every page of the image is mapped, nothing after it.
		if n := m.im.vmem.read(base, make([]byte, oh.SizeOfImage+1)); n != int(oh.SizeOfImage) {
			t.Errorf("%s: %#x bytes readable; SizeOfImage %#x", mod, n, oh.SizeOfImage)
		}
		dd := oh.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_DEBUG]
		dbg := make([]byte, 28)
		m.im.vmem.read(base+uint64(dd.VirtualAddress), dbg)
		rsds := make([]byte, 64)
		m.im.vmem.read(base+uint64(le.Uint32(dbg[20:])), rsds)
		if string(rsds[:4]) != "RSDS" || !strings.HasSuffix(string(bytes.TrimRight(rsds[24:], "\x00")), ".pdb") {
			t.Errorf("%s: CodeView record %q", mod, rsds)
		}
	}
}

func readUnicode(m *Machine, at uint64) string {
	n, _ := m.im.vmem.u32(at)
	buf, _ := m.im.vmem.u64(at + 8)
	b := make([]byte, n&0xFFFF)
	m.im.vmem.read(buf, b)
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = le.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

func TestLoadedModuleList(t *testing.T) {
	m := New(Config{})
	head := m.Symbol("nt!PsLoadedModuleList")
	var names []string
	prev := head
	for e, _ := m.im.vmem.u64(head); e != head; e, _ = m.im.vmem.u64(e) {
		if blink, _ := m.im.vmem.u64(e + 8); blink != prev {
			t.Fatalf("Blink of %#x is %#x; want %#x", e, blink, prev)
		}
		base, _ := m.im.vmem.u64(e + 0x30)
		size, _ := m.im.vmem.u32(e + 0x40)
		hdr := make([]byte, 2)
		m.im.vmem.read(base, hdr)
		if string(hdr) != "MZ" || size < 0x4000 {
			t.Errorf("entry %#x: DllBase %#x size %#x", e, base, size)
		}
		full := readUnicode(m, e+0x48)
		names = append(names, readUnicode(m, e+0x58))
		if !strings.HasPrefix(full, `\SystemRoot\`) || !strings.HasSuffix(full, names[len(names)-1]) {
			t.Errorf("FullDllName %q, BaseDllName %q", full, names[len(names)-1])
		}
		prev = e
		if len(names) > 10 {
			t.Fatalf("list does not end")
		}
	}
	if got := strings.Join(names, ","); got != "ntoskrnl.exe,hal.dll,kdcom.dll,simdrv.sys" {
		t.Errorf("modules %s", got)
	}
}

// TestCodeDisassembles decodes every function with an independent x86-64
// decoder: the bytes are real instructions, and the ones the simulated
// processors run are exactly those cpu.step implements.
func TestCodeDisassembles(t *testing.T) {
	m := New(Config{})
	want := map[string]string{
		"nt!KiIdleLoop":              "push rbp;mov rbp, rsp;sub rsp, 0x20;xor ecx, ecx;call .+",
		"nt!DbgBreakPointWithStatus": "int3;ret",
		"hal!HalProcessorIdle":       "push rbp;mov rbp, rsp;sub rsp, 0x20;sti;hlt;add rsp, 0x20;pop rbp;ret",
		"simdrv!SimDrvTimerRoutine":  "push rbp;mov rbp, rsp;sub rsp, 0x20;inc dword ptr [rip+",
		"nt!KiSystemCall64":          "swapgs;mov qword ptr gs:[0x10], rsp;mov rsp, qword ptr gs:[0x1a8]",
	}
	for sym, prefix := range want {
		code := make([]byte, 48)
		m.im.vmem.read(m.Symbol(sym), code)
		var ops []string
		for off := 0; off < 40; {
			inst, err := x86asm.Decode(code[off:], 64)
			if err != nil {
				t.Fatalf("%s+%#x: %v", sym, off, err)
			}
			ops = append(ops, x86asm.IntelSyntax(inst, 0, nil))
			off += inst.Len
		}
		if got := strings.Join(ops, ";"); !strings.HasPrefix(got, prefix) {
			t.Errorf("%s:\n got %s\nwant %s...", sym, got, prefix)
		}
	}
}

// TestPageTablesTranslate walks the 4-level page tables from CR3 in
// physical memory and checks that they map KernBase to the same page.
func TestPageTablesTranslate(t *testing.T) {
	m := New(Config{})
	cr3 := le.Uint64(m.im.cpus[0].special[srCr3:])
	va := m.KernBase() + 0x1234
	t0 := cr3
	for level := 3; level >= 0; level-- {
		e, ok := m.im.pmem.u64(t0 + 8*((va>>(12+9*level))&0x1FF))
		if !ok || e&1 == 0 {
			t.Fatalf("level %d entry %#x not present", level, e)
		}
		t0 = e & 0x000FFFFFFFFFF000
	}
	var v, p [16]byte
	m.im.vmem.read(va, v[:])
	m.im.pmem.read(t0+0x234, p[:])
	if v != p {
		t.Errorf("virtual % x, physical % x", v, p)
	}
}
