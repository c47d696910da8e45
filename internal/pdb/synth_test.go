package pdb

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// exercise runs every query kd makes on f; on a hostile file each may
// fail, none may panic or hang.
func exercise(f *File) {
	f.Sections()
	f.Symbols()
	f.Functions()
	f.Nearest(0x1010)
	f.At(0x1010)
	f.FunctionAt(0x1011)
	f.Lookup("Alpha")
	f.Find("*a*", func(Symbol) bool { return true })
	names, _ := f.TypeNames("*")
	for _, n := range names {
		if ty, err := f.TypeByName(n); err == nil {
			f.Layout(ty.Index, 2)
		}
	}
	if t, err := f.loadTypes(); err == nil {
		for i := range min(len(t.offsets), 256) {
			ti := TypeIndex(tpiFirst + i)
			f.Type(ti)
			f.Resolve(ti)
			f.TypeName(ti)
			f.Layout(ti, 1)
		}
	}
}

func TestSynthetic(t *testing.T) {
	s := smallSynth()
	f, err := openBytes(s.build())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Info().GUID != s.guid || f.Info().Age != 3 || f.Age() != 3 || f.Machine() != 0x8664 {
		t.Errorf("Info = %+v age %d machine %#x", f.Info(), f.Age(), f.Machine())
	}
	if f.Info().Streams["/names"] != 9 {
		t.Errorf("named streams = %v", f.Info().Streams)
	}
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range syms {
		got = append(got, fmt.Sprintf("%s@%#x/%d/%s/static=%v", s.Name, s.RVA, s.Size, s.Kind, s.Static))
	}
	want := "Alpha@0x1010/32/function/static=false Beta@0x1040/0/public/static=false Hidden@0x1080/8/function/static=true Gamma@0x3008/0/data/static=false"
	if strings.Join(got, " ") != want {
		t.Errorf("symbols:\n%s\nwant:\n%s", strings.Join(got, " "), want)
	}
	ty, err := f.TypeByName("_NODE")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := f.Layout(ty.Index, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := layoutText(ms, ""), "+0x000 Next       : Ptr64 _NODE\n+0x008 Value      : Uint4B\n+0x00c Bits       : Pos 4, 3 Bits\n+0x010 Raw        : [16] UChar\n"; got != want {
		t.Errorf("layout:\n%s\nwant:\n%s", got, want)
	}
}

// bigSynth makes a PDB of n publics and functions and n/4 structures,
// sized so that streams span free-page-map blocks.
func bigSynth(n, blockSize int) *synth {
	s := smallSynth()
	s.blockSize = blockSize
	s.sections[0].VirtualSize = 0x4000000
	s.symRec, s.module, s.types = nil, nil, nil
	for i := range n {
		name := fmt.Sprintf("KiSyntheticRoutine%06d", i)
		s.symRec = s.symRec.append(pub32(name, 1, uint32(i*0x40), true))
		s.module = s.module.append(proc32(sGProc32, name, 1, uint32(i*0x40), 0x30, 0, 4+len(s.module)))
	}
	for i := range n / 4 {
		base := uint32(tpiFirst + 4*i)
		name := fmt.Sprintf("_KSYNTHETIC_%06d", i)
		s.types = append(s.types,
			mkStruct(lfStructure, name, 0, 0, true),
			mkPointer(base),
			mkFieldList(member{"Link", base + 1, 0}, member{"Count", 0x75, 8}, member{"Flags", 0x22, 12},
				member{"Data", 0x23, 16}, member{"Name", 0x70, 24}),
			mkStruct(lfStructure, name, base+2, 32, false))
	}
	return s
}

// TestReadPaths opens the same multi-interval PDB mapped, from memory
// and with plain ReadAt, and checks all three read every symbol.
func TestReadPaths(t *testing.T) {
	const n = 6000
	b := bigSynth(n, 512).build()
	path := filepath.Join(t.TempDir(), "big.pdb")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	readAtOnly := func() (*File, error) {
		fd, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		return newFile(&source{f: fd, size: int64(len(b))})
	}
	opens := map[string]func() (*File, error){
		"mapped": func() (*File, error) { return Open(path) },
		"bytes":  func() (*File, error) { return openBytes(b) },
		"readat": readAtOnly,
	}
	for name, open := range opens {
		t.Run(name, func(t *testing.T) {
			f, err := open()
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fns, err := f.Functions()
			if err != nil || len(fns) != n {
				t.Fatalf("Functions = %d, %v; want %d", len(fns), err, n)
			}
			s, err := f.Lookup("KiSyntheticRoutine004321")
			if err != nil || len(s) != 1 || s[0].RVA != 0x1000+4321*0x40 || s[0].Size != 0x30 {
				t.Errorf("Lookup = %+v, %v", s, err)
			}
			ty, err := f.TypeByName("_KSYNTHETIC_001234")
			if err != nil || ty.Size != 32 || len(ty.Fields) != 5 {
				t.Errorf("TypeByName = %+v, %v", ty, err)
			}
		})
	}
	// The streams cross free-page-map blocks, so some were copied.
	m, _ := readMSF(bytesSource(b))
	split := 0
	for _, bl := range m.blocks {
		for i := 1; i < len(bl); i++ {
			if bl[i] != bl[i-1]+1 {
				split++
				break
			}
		}
	}
	if split == 0 {
		t.Errorf("no stream spans a free-page-map block; the copy path is untested")
	}
}

func TestOMAPAndImageSections(t *testing.T) {
	s := smallSynth()
	// Code moved: [0x1000,0x1030) -> 0x5000, [0x1030,0x1080) dropped,
	// [0x1080, ...) -> 0x6000.
	s.omap = []omapEntry{{0x1000, 0x5000}, {0x1030, 0}, {0x1080, 0x6000}}
	f, err := openBytes(s.build())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	check := func(name string, rva uint32, found bool) {
		t.Helper()
		got, err := f.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if found != (len(got) == 1) || (found && got[0].RVA != rva) {
			t.Errorf("Lookup(%s) = %+v; want RVA %#x found=%v", name, got, rva, found)
		}
	}
	check("Alpha", 0x5010, true)
	check("Beta", 0, false)
	check("Hidden", 0x6000, true)

	if got, ok := translateOMAP(s.omap, 0xFFF); ok {
		t.Errorf("translateOMAP(before the table) = %#x", got)
	}

	// Without a section header stream the image's sections are needed.
	s = smallSynth()
	s.noSecHdr = true
	f, err = openBytes(s.build())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Lookup("Alpha"); err == nil || !strings.Contains(err.Error(), "no section header stream") {
		t.Errorf("Lookup without sections = %v", err)
	}
	f, err = openBytes(s.build())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.UseImageSections(smallSynth().sections)
	if got, err := f.Lookup("Alpha"); err != nil || len(got) != 1 || got[0].RVA != 0x1010 {
		t.Errorf("Lookup with image sections = %+v, %v", got, err)
	}
}

func TestCorruptSynthetic(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(s *synth)
		want   string // in the error of the first failing query
	}{
		{"symbol record length past end", func(s *synth) {
			s.symRec = append(s.symRec, le(nil).u16(0x7000).u16(sPub32)...)
		}, "runs past the end"},
		{"symbol record length 1", func(s *synth) {
			s.symRec = append(s.symRec, le(nil).u16(1).u16(sPub32)...)
		}, "length 1"},
		{"module record past end", func(s *synth) {
			s.module = append(s.module, le(nil).u16(0x100).u16(sGProc32)...)
		}, "runs past the end"},
		{"field list loop", func(s *synth) {
			s.types[2] = record(lfFieldList, le(nil).u16(lfIndex).u16(0).u32(0x1002))
		}, "loop"},
		{"unknown member", func(s *synth) {
			s.types[2] = record(lfFieldList, le(nil).u16(0x1234).u16(0))
		}, "unknown member record"},
		{"bad numeric", func(s *synth) {
			s.types[5] = record(lfArray, le(nil).u32(0x20).u32(0x23).u16(0x80FF))
		}, "unknown numeric leaf"},
		{"array of itself", func(s *synth) {
			s.types[5] = mkArray(0x1005, 16)
		}, ""},
		{"pointer cycle", func(s *synth) {
			s.types[1] = mkPointer(0x1001)
		}, ""},
		{"member type out of range", func(s *synth) {
			s.types[2] = mkFieldList(member{"X", 0x7FFFFF, 0})
		}, "outside the TPI stream"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := smallSynth()
			tc.mutate(s)
			f, err := openBytes(s.build())
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var first error
			note := func(err error) {
				if first == nil {
					first = err
				}
			}
			_, err = f.Symbols()
			note(err)
			ty, err := f.TypeByName("_NODE")
			note(err)
			if err == nil {
				_, err = f.Layout(ty.Index, 3)
				note(err)
			}
			for ti := TypeIndex(tpiFirst); ti < tpiFirst+6; ti++ {
				_, err := f.Type(ti)
				note(err)
				f.TypeName(ti)
			}
			exercise(f)
			switch {
			case tc.want == "" && first != nil:
				t.Errorf("unexpected error %v", first)
			case tc.want != "" && (first == nil || !strings.Contains(first.Error(), tc.want)):
				t.Errorf("first error %v; want one containing %q", first, tc.want)
			}
		})
	}
}

// TestCorruptBytes damages the file itself: header fields, truncation
// and every byte in turn. Nothing may panic; header damage must be
// reported by Open.
func TestCorruptBytes(t *testing.T) {
	good := smallSynth().build()
	put32 := func(b []byte, off int, v uint32) []byte {
		b = append([]byte(nil), b...)
		b[off], b[off+1], b[off+2], b[off+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		return b
	}
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"block size", put32(good, 0x20, 3000), "block size 3000"},
		{"block count", put32(good, 0x28, 1<<30), "truncated"},
		{"directory size", put32(good, 0x2C, 1<<30), "does not fit"},
		{"block map address", put32(good, 0x34, 1<<20), "directory block map"},
		{"block map zero", put32(good, 0x34, 0), "directory block map"},
		{"truncated", good[:len(good)/2], "truncated"},
		{"magic", put32(good, 0, 0), "not a PDB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := openBytes(tc.b)
			if err == nil {
				f.Close()
				t.Fatalf("open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("open = %v; want %q", err, tc.want)
			}
		})
	}
	for cut := 0; cut < len(good); cut += 97 {
		if f, err := openBytes(good[:cut]); err == nil {
			exercise(f)
			f.Close()
		}
	}
	for i := range good {
		for _, v := range []byte{0xFF, 0x80} {
			b := append([]byte(nil), good...)
			b[i] ^= v
			if f, err := openBytes(b); err == nil {
				exercise(f)
				f.Close()
			}
		}
	}
}

// TestNewUDTRecordsSaid checks that a PDB with LF_CLASS2-family records,
// which kd does not decode, says so when a type is not found.
func TestNewUDTRecordsSaid(t *testing.T) {
	s := smallSynth()
	s.types = append(s.types, record(0x1609, le(nil).u32(0).u32(0).u32(0).u32(0).u16(0).u16(8).str("_NEW")))
	f, err := openBytes(s.build())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.TypeByName("_NEW"); err == nil || !strings.Contains(err.Error(), "LF_CLASS2") {
		t.Errorf("TypeByName(_NEW) = %v; want it to name the LF_CLASS2 records", err)
	}
	if _, err := f.TypeByName("_NODE"); err != nil {
		t.Errorf("TypeByName(_NODE) = %v", err)
	}
}
