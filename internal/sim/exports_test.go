package sim

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
)

// The PE export directories of the module images, read back from simulated
// memory with a parser of their own (not the console's).

var exportModules = []struct{ name, file string }{
	{"nt", "ntoskrnl.exe"}, {"hal", "hal.dll"}, {"kdcom", "kdcom.dll"}, {"simdrv", "simdrv.sys"},
}

// parsedExports is one module's export directory as found in memory.
type parsedExports struct {
	dllName   string
	timestamp uint32
	base      uint32            // ordinal base
	names     []string          // name pointer table order
	byName    map[string]uint64 // name -> absolute address
	dirRVA    uint32
	dirSize   uint32
}

// readExports parses the export directory of the image at base in m's
// virtual memory, failing t on any structural error.
func readExports(t *testing.T, m *Machine, base uint64) parsedExports {
	t.Helper()
	v := m.im.vmem
	read := func(rva uint32, n int) []byte {
		t.Helper()
		b := make([]byte, n)
		if got := v.read(base+uint64(rva), b); got != n {
			t.Fatalf("RVA %#x: %d of %d bytes mapped", rva, got, n)
		}
		return b
	}
	cstr := func(rva uint32) string {
		t.Helper()
		var s []byte
		for i := uint32(0); i < 256; i++ {
			c := read(rva+i, 1)[0]
			if c == 0 {
				return string(s)
			}
			s = append(s, c)
		}
		t.Fatalf("string at RVA %#x is not terminated", rva)
		return ""
	}
	u32 := binary.LittleEndian.Uint32
	u16 := binary.LittleEndian.Uint16

	dos := read(0, 0x40)
	if string(dos[:2]) != "MZ" {
		t.Fatalf("no MZ at %#x", base)
	}
	nt := u32(dos[0x3C:])
	if string(read(nt, 4)) != "PE\x00\x00" {
		t.Fatalf("no PE signature at RVA %#x", nt)
	}
	optSize := u16(read(nt+20, 2))
	opt := read(nt+24, int(optSize))
	if u16(opt) != 0x20B || len(opt) < 0x78 {
		t.Fatalf("optional header magic %#x size %#x", u16(opt), len(opt))
	}
	sizeOfImage := u32(opt[0x38:])
	p := parsedExports{dirRVA: u32(opt[0x70:]), dirSize: u32(opt[0x74:]), byName: map[string]uint64{}}
	if p.dirRVA == 0 || p.dirSize < 40 || p.dirRVA+p.dirSize > sizeOfImage {
		t.Fatalf("DataDirectory[EXPORT] = %#x+%#x, SizeOfImage %#x", p.dirRVA, p.dirSize, sizeOfImage)
	}
	inDir := func(rva uint32, n uint32) bool { return rva >= p.dirRVA && rva+n <= p.dirRVA+p.dirSize }

	d := read(p.dirRVA, 40)
	if c := u32(d[0x00:]); c != 0 {
		t.Errorf("Characteristics %#x", c)
	}
	p.timestamp = u32(d[0x04:])
	nameRVA, nFuncs, nNames := u32(d[0x0C:]), u32(d[0x14:]), u32(d[0x18:])
	p.base = u32(d[0x10:])
	eat, npt, ot := u32(d[0x1C:]), u32(d[0x20:]), u32(d[0x24:])
	if !inDir(eat, 4*nFuncs) || !inDir(npt, 4*nNames) || !inDir(ot, 2*nNames) || !inDir(nameRVA, 1) {
		t.Fatalf("tables outside the directory: EAT %#x NPT %#x OT %#x Name %#x (%d functions, %d names)",
			eat, npt, ot, nameRVA, nFuncs, nNames)
	}
	p.dllName = cstr(nameRVA)
	funcs, names, ords := read(eat, int(4*nFuncs)), read(npt, int(4*nNames)), read(ot, int(2*nNames))
	for i := range nNames {
		nrva := u32(names[4*i:])
		if !inDir(nrva, 1) {
			t.Errorf("name %d at RVA %#x outside the directory", i, nrva)
		}
		name := cstr(nrva)
		ord := uint32(u16(ords[2*i:]))
		if ord >= nFuncs {
			t.Fatalf("%s: ordinal index %d of %d functions", name, ord, nFuncs)
		}
		frva := u32(funcs[4*ord:])
		if inDir(frva, 1) {
			t.Errorf("%s: RVA %#x is a forwarder", name, frva)
		}
		if _, dup := p.byName[name]; dup {
			t.Errorf("%s exported twice", name)
		}
		p.names = append(p.names, name)
		p.byName[name] = base + uint64(frva)
	}
	return p
}

func TestExportDirectory(t *testing.T) {
	for _, seed := range []int64{1, 2, 0x5eed} {
		m := New(Config{Seed: seed})
		syms := m.Symbols()
		for _, mod := range exportModules {
			base := m.Symbol(mod.name + "!__ImageBase")
			p := readExports(t, m, base)
			if p.dllName != mod.file || p.base != 1 {
				t.Errorf("seed %d %s: Name %q Base %d; want %q, 1", seed, mod.name, p.dllName, p.base, mod.file)
			}
			hdr := make([]byte, 0x200)
			m.im.vmem.read(base, hdr)
			if ts := le.Uint32(hdr[peOffset+8:]); p.timestamp != ts {
				t.Errorf("seed %d %s: TimeDateStamp %#x, file header %#x", seed, mod.name, p.timestamp, ts)
			}
			// Sorted ascending by byte value, as the loader's binary search needs.
			if !slices.IsSorted(p.names) {
				t.Errorf("seed %d %s: names not sorted: %q", seed, mod.name, p.names)
			}
			// Every symbol the simulator knows in the module (but the
			// linker's __ImageBase) resolves to its address; nothing else
			// is exported.
			want := 0
			for name, addr := range syms {
				n, ok := strings.CutPrefix(name, mod.name+"!")
				if !ok || strings.HasPrefix(n, "__") {
					continue
				}
				want++
				if got, ok := p.byName[n]; !ok || got != addr {
					t.Errorf("seed %d %s: export %s = %#x (found %v); want %#x", seed, mod.name, n, got, ok, addr)
				}
			}
			if len(p.names) != want || want == 0 {
				t.Errorf("seed %d %s: %d exports, want %d", seed, mod.name, len(p.names), want)
			}
		}
	}
	m := New(Config{Seed: 1})
	p := readExports(t, m, m.KernBase())
	for _, name := range []string{"DbgBreakPointWithStatus", "KeBugCheckEx", "PsLoadedModuleList", "KdDebuggerDataBlock"} {
		if p.byName[name] != m.Symbol("nt!"+name) {
			t.Errorf("nt!%s = %#x, want %#x", name, p.byName[name], m.Symbol("nt!"+name))
		}
	}
}

// TestExportDirectoryPE checks the export directory with debug/pe: the
// image still parses, DataDirectory[0] is set and lies inside the
// read-only .rdata section.
func TestExportDirectoryPE(t *testing.T) {
	m := New(Config{})
	for _, mod := range exportModules {
		base := m.Symbol(mod.name + "!__ImageBase")
		img := make([]byte, 0x10000)
		n := m.im.vmem.read(base, img)
		f, err := pe.NewFile(bytes.NewReader(img[:n]))
		if err != nil {
			t.Fatalf("%s: %v", mod.name, err)
		}
		oh := f.OptionalHeader.(*pe.OptionalHeader64)
		if oh.NumberOfRvaAndSizes <= pe.IMAGE_DIRECTORY_ENTRY_EXPORT {
			t.Fatalf("%s: %d data directories", mod.name, oh.NumberOfRvaAndSizes)
		}
		dd := oh.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_EXPORT]
		if dd.VirtualAddress == 0 || dd.Size < 40 {
			t.Fatalf("%s: DataDirectory[EXPORT] = %+v", mod.name, dd)
		}
		var sec *pe.Section
		for _, s := range f.Sections {
			if dd.VirtualAddress >= s.VirtualAddress && dd.VirtualAddress+dd.Size <= s.VirtualAddress+s.VirtualSize {
				sec = s
			}
		}
		const memWrite, memRead = 0x80000000, 0x40000000
		if sec == nil || sec.Name != ".rdata" || sec.Characteristics&memWrite != 0 || sec.Characteristics&memRead == 0 {
			t.Fatalf("%s: export directory %#x+%#x not inside a read-only .rdata (%+v)", mod.name, dd.VirtualAddress, dd.Size, sec)
		}
		// debug/pe reads sections from file offsets; in this image file
		// offsets equal RVAs, so the section's data is the memory image.
		data, err := sec.Data()
		if err != nil {
			t.Fatalf("%s: .rdata: %v", mod.name, err)
		}
		off := dd.VirtualAddress - sec.VirtualAddress
		if nf := le.Uint32(data[off+0x14:]); nf == 0 || le.Uint32(data[off+0x10:]) != 1 {
			t.Errorf("%s: NumberOfFunctions %d Base %d", mod.name, nf, le.Uint32(data[off+0x10:]))
		}
		// Mapped pages only: nothing was added past SizeOfImage.
		if n != int(oh.SizeOfImage) {
			t.Errorf("%s: %#x bytes mapped, SizeOfImage %#x", mod.name, n, oh.SizeOfImage)
		}
	}
}

// TestExportDirectoryDeterministic: equal seeds give byte-identical
// export data.
func TestExportDirectoryDeterministic(t *testing.T) {
	a, b := New(Config{Seed: 7}), New(Config{Seed: 7})
	for _, mod := range exportModules {
		ba, bb := a.Symbol(mod.name+"!__ImageBase"), b.Symbol(mod.name+"!__ImageBase")
		pa, pb := readExports(t, a, ba), readExports(t, b, bb)
		da, db := make([]byte, pa.dirSize), make([]byte, pb.dirSize)
		a.im.vmem.read(ba+uint64(pa.dirRVA), da)
		b.im.vmem.read(bb+uint64(pb.dirRVA), db)
		if !bytes.Equal(da, db) {
			t.Errorf("%s: export data differ for equal seeds", mod.name)
		}
	}
}
