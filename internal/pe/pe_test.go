package pe

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// The expected values below are what llvm-readobj 14 prints for the same
// files (--file-headers --sections --coff-exports --coff-debug-directory
// --unwind); TestMatchesReadobj checks them again where it is installed.

func TestHeaders(t *testing.T) {
	file := readFile(t, "unw.sys")
	mem := load(t, file)
	tests := []struct {
		name   string
		data   []byte
		layout Layout
	}{
		{"file", file, File},
		{"memory", mem, Memory},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			im, err := Open(bytes.NewReader(tc.data), int64(len(tc.data)), tc.layout)
			if err != nil {
				t.Fatal(err)
			}
			if im.Machine != MachineAMD64 || !im.PE32Plus {
				t.Errorf("machine %#x pe32+ %v; want amd64 pe32+", im.Machine, im.PE32Plus)
			}
			if im.TimeDateStamp != 0xD12CA7AE || im.SizeOfImage != 0x5000 || im.ImageBase != 0x180000000 {
				t.Errorf("timestamp %#x size %#x base %#x", im.TimeDateStamp, im.SizeOfImage, im.ImageBase)
			}
			if got := im.ImageKey(); got != "D12CA7AE5000" {
				t.Errorf("ImageKey() = %q; want D12CA7AE5000", got)
			}
			var names []string
			for _, s := range im.Sections {
				names = append(names, s.Name)
			}
			if got := strings.Join(names, " "); got != ".text .rdata .data .pdata" {
				t.Errorf("sections %q", got)
			}
			if s, ok := im.Section(0x4010); !ok || s.Name != ".pdata" {
				t.Errorf("Section(0x4010) = %v, %v; want .pdata", s, ok)
			}
			if d := im.Directory(DirException); d.RVA != 0x4000 || d.Size != 0xA8 {
				t.Errorf("exception directory %+v", d)
			}
		})
	}
}

func TestCodeView(t *testing.T) {
	file := readFile(t, "unw.sys")
	for _, im := range []*Image{mustOpen(t, file, File), openMem(t, load(t, file))} {
		cv, err := im.CodeView()
		if err != nil {
			t.Fatalf("%v: %v", im.Layout(), err)
		}
		if got, want := cv.GUID.String(), "{7949F79E-0E70-04B8-4C4C-44205044422E}"; got != want {
			t.Errorf("%v: guid %s; want %s", im.Layout(), got, want)
		}
		if cv.Age != 1 || cv.Path != "unw.pdb" || cv.PDBName() != "unw.pdb" {
			t.Errorf("%v: age %d path %q", im.Layout(), cv.Age, cv.Path)
		}
		if got, want := cv.Key(), "7949F79E0E7004B84C4C44205044422E1"; got != want {
			t.Errorf("%v: Key() = %s; want %s", im.Layout(), got, want)
		}
	}
}

func TestStoreKeyFormat(t *testing.T) {
	// The example from the symbol-store notes: raw bytes to key and GUID text.
	cv := CodeView{GUID: GUID{0x97, 0x67, 0x69, 0x9E, 0xE3, 0x35, 0xB7, 0xCC, 0x4C, 0x4C, 0x44, 0x20, 0x50, 0x44, 0x42, 0x2E}, Age: 1,
		Path: `C:\build\obj\drv2.pdb`}
	tests := []struct{ got, want string }{
		{cv.GUID.String(), "{9E696797-35E3-CCB7-4C4C-44205044422E}"},
		{cv.Key(), "9E69679735E3CCB74C4C44205044422E1"},
		{cv.PDBName(), "drv2.pdb"},
		{CodeView{GUID: cv.GUID, Age: 0x1A}.Key(), "9E69679735E3CCB74C4C44205044422E1A"},
		{CodeView{Path: "/home/u/x/ntkrnlmp.pdb"}.PDBName(), "ntkrnlmp.pdb"},
	}
	for i, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%d: got %q; want %q", i, tc.got, tc.want)
		}
	}
}

func TestExports(t *testing.T) {
	file := readFile(t, "unw.sys")
	for _, im := range []*Image{mustOpen(t, file, File), openMem(t, load(t, file))} {
		ex, err := im.Exports()
		if err != nil {
			t.Fatalf("%v: %v", im.Layout(), err)
		}
		if ex.DLLName != "unw.sys" {
			t.Errorf("%v: dll name %q", im.Layout(), ex.DLLName)
		}
		byName := map[string]Export{}
		var noName []Export
		for _, e := range ex.List {
			if e.Name == "" {
				noName = append(noName, e)
			} else {
				byName[e.Name] = e
			}
		}
		if e := byName["KdFwd"]; e.Forwarder != "ntoskrnl.KeBugCheckEx" || e.RVA != 0 {
			t.Errorf("%v: KdFwd = %+v; want forwarder ntoskrnl.KeBugCheckEx", im.Layout(), e)
		}
		if e := byName["DriverEntry"]; e.RVA != 0x1090 || e.Ordinal != 8 {
			t.Errorf("%v: DriverEntry = %+v; want rva 0x1090 ordinal 8", im.Layout(), e)
		}
		if e := byName["GlobalObj"]; e.RVA != 0x3000 {
			t.Errorf("%v: GlobalObj = %+v; want rva 0x3000", im.Layout(), e)
		}
		if len(noName) != 1 || noName[0].Ordinal != 7 || noName[0].RVA != 0x1000 {
			t.Errorf("%v: ordinal-only exports %+v; want Leaf as #7 at 0x1000", im.Layout(), noName)
		}
		sorted := ex.ByAddress()
		for i := 1; i < len(sorted); i++ {
			if sorted[i-1].RVA > sorted[i].RVA || sorted[i].Forwarder != "" {
				t.Fatalf("%v: ByAddress not sorted or holds a forwarder: %+v", im.Layout(), sorted)
			}
		}
	}
}

func TestRuntimeFunctions(t *testing.T) {
	file := readFile(t, "unw.sys")
	for _, im := range []*Image{mustOpen(t, file, File), openMem(t, load(t, file))} {
		ft, err := im.RuntimeFunctions()
		if err != nil {
			t.Fatal(err)
		}
		if len(ft) != 14 {
			t.Fatalf("%v: %d entries; want 14", im.Layout(), len(ft))
		}
		tests := []struct {
			rva   uint32
			begin uint32
			ok    bool
		}{
			{0x1000, 0, false}, // Leaf: no entry
			{0x1010, 0x1010, true},
			{0x1040 + 5, 0x1040, true},
			{0x11F5, 0x11F5, true}, // the chained part, after its parent
			{0x11F4, 0x11E9, true},
			{0xFFFFFFFF, 0, false},
		}
		for _, tc := range tests {
			rf, ok := ft.Lookup(tc.rva)
			if ok != tc.ok || (ok && rf.Begin != tc.begin) {
				t.Errorf("%v: Lookup(%#x) = %+v, %v; want begin %#x, %v", im.Layout(), tc.rva, rf, ok, tc.begin, tc.ok)
			}
		}
	}
}

func TestPE32(t *testing.T) {
	file := readFile(t, "x86.dll")
	im := mustOpen(t, file, File)
	if im.Machine != MachineI386 || im.PE32Plus || im.SizeOfImage != 0x3000 || im.TimeDateStamp != 0x9C82E359 {
		t.Errorf("machine %#x pe32+ %v size %#x ts %#x", im.Machine, im.PE32Plus, im.SizeOfImage, im.TimeDateStamp)
	}
	ex, err := im.Exports()
	if err != nil || len(ex.List) != 1 || ex.List[0].Name != "Add" || ex.List[0].RVA != 0x1000 {
		t.Errorf("exports %+v, %v", ex, err)
	}
	if _, err := im.RuntimeFunctions(); err == nil {
		t.Error("RuntimeFunctions on x86: want an error")
	}
	if _, err := im.CodeView(); !errors.Is(err, ErrNoCodeView) {
		t.Errorf("CodeView on an image without one: %v; want ErrNoCodeView", err)
	}
}

func TestHostile(t *testing.T) {
	file := readFile(t, "unw.sys")
	const lfanew = 0x78 // where lld puts the NT headers in these images
	tests := []struct {
		name string
		data []byte
		want string // in the error of Open, or of the first directory read
	}{
		{"empty", nil, "nothing to read"},
		{"no mz", append([]byte("ZM"), file[2:]...), "no MZ"},
		{"lfanew far", patch32(file, 0x3C, 0x7FFFFFFF), "out of range"},
		{"lfanew past end", patch32(file, 0x3C, 0xFFF0), "outside"},
		{"sections", patch32(file, lfanew+4, 0xFFFF0000|uint32(MachineAMD64)), "sections is over"},
		{"truncated", file[:0x300], "outside"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			im, err := Open(bytes.NewReader(tc.data), int64(len(tc.data)), File)
			if err == nil {
				_, err = im.Exports()
			}
			if err == nil {
				_, err = im.RuntimeFunctions()
			}
			if err == nil {
				_, err = im.CodeView()
			}
			if tc.want == "" {
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v; want one containing %q", err, tc.want)
			}
		})
	}
}

func TestLyingDirectories(t *testing.T) {
	mem := load(t, readFile(t, "unw.sys"))
	im := openMem(t, mem)
	exp := im.Directory(DirExport).RVA
	tests := []struct {
		name string
		off  int
		v    uint32
		want string
	}{
		{"huge function count", int(exp) + 20, 0xFFFFFFFF, "over the limit"},
		{"names over functions", int(exp) + 24, 0xFFFF, "names for"},
		{"name table outside", int(exp) + 32, 0xFFFFFF00, "outside"},
		{"address table outside", int(exp) + 28, 0x7FFFFFF0, "outside"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := openMem(t, patch32(mem, tc.off, tc.v)).Exports()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Exports() error %v; want one containing %q", err, tc.want)
			}
		})
	}
	// A name with no terminator before the end of the image.
	bad := bytes.Clone(mem)
	for i := len(bad) - 64; i < len(bad); i++ {
		bad[i] = 'A'
	}
	bim := openMem(t, bad)
	if _, err := bim.cString(uint32(len(bad) - 64)); err == nil {
		t.Error("unterminated string at the end of the image: want an error")
	}
	// Memory smaller than the headers claim.
	if _, err := Open(bytes.NewReader(mem[:0x1000]), 0x1000, Memory); err == nil {
		t.Error("memory image shorter than SizeOfImage: want an error")
	}
}

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Ke_Bug?", "Ke_Bug?"},
		{"a\x1b[2Jb", `a\x1b[2Jb`},
		{"\xff", `\xff`},
		{strings.Repeat("x", MaxNameLen+5), strings.Repeat("x", MaxNameLen)},
	}
	for _, tc := range tests {
		if got := Clean([]byte(tc.in)); got != tc.want {
			t.Errorf("Clean(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func mustOpen(t testing.TB, b []byte, l Layout) *Image {
	t.Helper()
	im, err := Open(bytes.NewReader(b), int64(len(b)), l)
	if err != nil {
		t.Fatal(err)
	}
	return im
}
