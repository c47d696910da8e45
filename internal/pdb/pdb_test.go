package pdb

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// rsds reads the CodeView RSDS record (GUID, age, PDB path) of an image
// file and its section headers.
func rsds(t *testing.T, path string) (GUID, uint32, string, []Section) {
	t.Helper()
	f, err := pe.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
	if !ok {
		t.Fatalf("%s is not PE32+", path)
	}
	var secs []Section
	for _, s := range f.Sections {
		secs = append(secs, Section{Name: s.Name, VirtualSize: s.VirtualSize, VirtualAddress: s.VirtualAddress, Characteristics: s.Characteristics})
	}
	dd := oh.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_DEBUG]
	read := func(rva, n uint32) []byte {
		for _, s := range f.Sections {
			if rva >= s.VirtualAddress && rva+n <= s.VirtualAddress+s.VirtualSize {
				b, err := s.Data()
				if err != nil {
					t.Fatal(err)
				}
				return b[rva-s.VirtualAddress : rva-s.VirtualAddress+n]
			}
		}
		t.Fatalf("RVA %#x not in a section", rva)
		return nil
	}
	dir := read(dd.VirtualAddress, dd.Size)
	for i := 0; i+28 <= len(dir); i += 28 {
		if binary.LittleEndian.Uint32(dir[i+12:]) != 2 {
			continue
		}
		cv := read(binary.LittleEndian.Uint32(dir[i+20:]), binary.LittleEndian.Uint32(dir[i+16:]))
		if string(cv[:4]) != "RSDS" {
			t.Fatalf("CodeView record %q", cv[:4])
		}
		var g GUID
		copy(g[:], cv[4:20])
		name, _, _ := bytes.Cut(cv[24:], []byte{0})
		return g, binary.LittleEndian.Uint32(cv[20:]), string(name), secs
	}
	t.Fatalf("%s has no CodeView debug entry", path)
	return GUID{}, 0, "", nil
}

func TestImageMatch(t *testing.T) {
	tests := []struct{ image, pdb string }{
		{"kdtdrv.sys", "kdtdrv.pdb"},
		{"kdtlib.dll", "kdtlib.pdb"},
	}
	for _, tc := range tests {
		t.Run(tc.image, func(t *testing.T) {
			guid, age, name, imgSecs := rsds(t, filepath.Join(symbolsDir(), tc.image))
			if name != tc.pdb {
				t.Errorf("RSDS names %q; want %q", name, tc.pdb)
			}
			f := openTest(t, tc.pdb)
			if err := f.Match(guid, age); err != nil {
				t.Errorf("Match = %v", err)
			}
			secs, err := f.Sections()
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(secs) != fmt.Sprint(imgSecs) {
				t.Errorf("PDB sections %v; image has %v", secs, imgSecs)
			}
			var me *MismatchError
			if err := f.Match(guid, age+1); !errors.As(err, &me) || !strings.Contains(err.Error(), "age") {
				t.Errorf("Match(age+1) = %v; want an age mismatch", err)
			}
			other := guid
			other[0] ^= 1
			if err := f.Match(other, age); !errors.As(err, &me) || !strings.Contains(err.Error(), "GUID") {
				t.Errorf("Match(other GUID) = %v; want a GUID mismatch", err)
			}
		})
	}
}

func TestGUIDFormats(t *testing.T) {
	g := GUID{0x97, 0x67, 0x69, 0x9E, 0xE3, 0x35, 0xB7, 0xCC, 0x4C, 0x4C, 0x44, 0x20, 0x50, 0x44, 0x42, 0x2E}
	if got, want := g.String(), "{9E696797-35E3-CCB7-4C4C-44205044422E}"; got != want {
		t.Errorf("String() = %s; want %s", got, want)
	}
	if got, want := g.StoreKey(1), "9E69679735E3CCB74C4C44205044422E1"; got != want {
		t.Errorf("StoreKey(1) = %s; want %s", got, want)
	}
	if got, want := g.StoreKey(0x1a), "9E69679735E3CCB74C4C44205044422E1A"; got != want {
		t.Errorf("StoreKey(0x1a) = %s; want %s", got, want)
	}
}

func TestSymbolQueries(t *testing.T) {
	f := openTest(t, "kdtdrv.pdb")
	find := func(pattern string) string {
		var names []string
		if err := f.Find(pattern, func(s Symbol) bool { names = append(names, s.Name); return true }); err != nil {
			t.Fatal(err)
		}
		return strings.Join(names, " ")
	}
	tests := []struct{ pattern, want string }{
		{"Kdt*Helper", "KdtStaticHelper"},
		{"kdtl?af", "KdtLeaf"},
		{"KDTMIDDLE", "KdtMiddle"},
		{"*Entry", "DriverEntry KdtCppEntry"},
		{"Kdt*Object", "KdtGlobalObject"},
		{"nothing*", ""},
	}
	for _, tc := range tests {
		if got := find(tc.pattern); got != tc.want {
			t.Errorf("Find(%q) = %q; want %q", tc.pattern, got, tc.want)
		}
	}

	leaf, err := f.Lookup("KdtLeaf")
	if err != nil || len(leaf) != 1 || leaf[0].Kind != SymFunction || leaf[0].Size == 0 || !leaf[0].Code {
		t.Fatalf("Lookup(KdtLeaf) = %+v, %v; want one function with a size that the publics call code", leaf, err)
	}
	mid, _ := f.Lookup("KdtMiddle")
	if len(mid) != 1 {
		t.Fatalf("Lookup(KdtMiddle) = %+v", mid)
	}
	if s, _ := f.Lookup("KdtStaticCounter"); len(s) != 1 || s[0].Kind != SymData || !s[0].Static {
		t.Errorf("Lookup(KdtStaticCounter) = %+v; want a static data symbol", s)
	}
	if s, _ := f.Lookup("kdtleaf"); len(s) != 0 {
		t.Errorf("Lookup is case-sensitive, got %+v", s)
	}

	// ln: inside KdtLeaf, exactly at KdtMiddle, and past the last symbol.
	below, okB, above, okA, err := f.Nearest(leaf[0].RVA + 3)
	if err != nil || !okB || !okA || below.Name != "KdtLeaf" || above.Name != "KdtMiddle" {
		t.Errorf("Nearest(KdtLeaf+3) = %v %v %v %v %v", below, okB, above, okA, err)
	}
	below, _, _, _, _ = f.Nearest(mid[0].RVA)
	if below.Name != "KdtMiddle" {
		t.Errorf("Nearest(KdtMiddle) below = %+v", below)
	}
	if _, okB, _, okA, _ := f.Nearest(0); okB || !okA {
		t.Errorf("Nearest(0): below %v above %v; want none below, one above", okB, okA)
	}
	if _, _, _, okA, _ := f.Nearest(0xFFFFFFFF); okA {
		t.Errorf("Nearest(max) found a symbol above")
	}
	// The C++ method has a function and a decorated public at one RVA.
	get, _ := f.Lookup("kdt::Device::Get")
	if len(get) != 1 {
		t.Fatalf("Lookup(kdt::Device::Get) = %+v", get)
	}
	at, err := f.At(get[0].RVA)
	if err != nil || len(at) != 2 || at[0].Name != "kdt::Device::Get" || at[1].Name != "?Get@Device@kdt@@UEBAHXZ" {
		t.Errorf("At(Get) = %+v, %v; want the function then the public", at, err)
	}

	// Function extents.
	fn, ok, err := f.FunctionAt(mid[0].RVA + mid[0].Size - 1)
	if err != nil || !ok || fn.Name != "KdtMiddle" {
		t.Errorf("FunctionAt(last byte of KdtMiddle) = %+v %v %v", fn, ok, err)
	}
	if fn, ok, _ := f.FunctionAt(mid[0].RVA + mid[0].Size); ok && fn.Name == "KdtMiddle" {
		t.Errorf("FunctionAt(end of KdtMiddle) still KdtMiddle")
	}
	data, _ := f.Lookup("KdtGlobalObject")
	if _, ok, _ := f.FunctionAt(data[0].RVA); ok {
		t.Errorf("FunctionAt(data) found a function")
	}
}

// layoutText renders a layout as dt -r does, for golden files.
func layoutText(ms []Member, indent string) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "%s+0x%03x %-10s : %s\n", indent, m.Offset, m.Name, m.Text)
		b.WriteString(layoutText(m.Members, indent+"   "))
	}
	return b.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestLayoutGolden(t *testing.T) {
	f := openTest(t, "kdtdrv.pdb")
	tests := []struct {
		typ   string
		depth int
		file  string
	}{
		{"_KDT_OBJECT", 0, "dt_kdt_object.txt"},
		{"_KDT_OBJECT", 3, "dt_r_kdt_object.txt"},
		{"kdt::Device", 1, "dt_r_device.txt"},
		{"_kdt_big", 0, "dt_kdt_big.txt"},
	}
	for _, tc := range tests {
		ty, err := f.TypeByName(tc.typ)
		if err != nil {
			t.Fatalf("TypeByName(%s) = %v", tc.typ, err)
		}
		ms, err := f.Layout(ty.Index, tc.depth)
		if err != nil {
			t.Fatalf("Layout(%s) = %v", tc.typ, err)
		}
		golden(t, tc.file, fmt.Sprintf("dt %s (size %#x)\n%s", ty.Name, ty.Size, layoutText(ms, "   ")))
	}
}

func TestTypeQueries(t *testing.T) {
	f := openTest(t, "kdtdrv.pdb")
	obj, err := f.TypeByName("_KDT_OBJECT")
	if err != nil || obj.Forward || obj.Size != 176 {
		t.Fatalf("TypeByName(_KDT_OBJECT) = %+v, %v", obj, err)
	}
	names := map[string]string{}
	for _, fl := range obj.Fields {
		if fl.Kind == FieldMember {
			n, err := f.TypeName(fl.Type)
			if err != nil {
				t.Fatal(err)
			}
			names[fl.Name] = n
		}
	}
	want := map[string]string{
		"Next":     "struct _KDT_OBJECT *",
		"Owner":    "struct _KDT_OBJECT * *",
		"Name":     "char[15]",
		"Kind":     "unsigned int : 3",
		"Counter":  "const volatile unsigned int *",
		"Callback": "int (void *, unsigned int) *",
		"Matrix":   "int[3][4]",
		"Pointer":  "void *",
	}
	for k, v := range want {
		if names[k] != v {
			t.Errorf("TypeName(%s) = %q; want %q", k, names[k], v)
		}
	}
	if _, err := f.TypeByName("NoSuchType"); err == nil {
		t.Errorf("TypeByName(NoSuchType) succeeded")
	}
	wide, err := f.TypeByName("kdt::Wide")
	if err != nil || wide.Kind != KindEnum || wide.Size != 8 || len(wide.Fields) != 3 || wide.Fields[2].Value != ^uint64(0) {
		t.Errorf("kdt::Wide = %+v, %v", wide, err)
	}
	got, err := f.TypeNames("_KDT_*")
	if err != nil || len(got) < 5 {
		t.Errorf("TypeNames(_KDT_*) = %v, %v", got, err)
	}
	if _, err := f.Layout(wide.Index, 0); err == nil {
		t.Errorf("Layout(enum) succeeded")
	}
	if _, err := f.Type(0x7FFFFFFF); err == nil {
		t.Errorf("Type(0x7FFFFFFF) succeeded")
	}
}

func TestClosed(t *testing.T) {
	f, err := Open(filepath.Join(symbolsDir(), "kdtlib.pdb"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if _, err := f.Lookup("KdtLeaf"); !errors.Is(err, ErrClosed) {
		t.Errorf("Lookup after Close = %v", err)
	}
	if _, err := f.TypeByName("_KDT_OBJECT"); !errors.Is(err, ErrClosed) {
		t.Errorf("TypeByName after Close = %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "none.pdb"), "no such file"},
		{"directory", dir, "not a regular file"},
		{"empty", write("empty.pdb", nil), "too short"},
		{"image", write("img.pdb", bytes.Repeat([]byte("MZ"), 100)), "not a PDB"},
		{"small msf", write("old.pdb", append([]byte("Microsoft C/C++ program database 2.00\r\n\x1aJG\x00\x00"), make([]byte, 64)...)), "PDB 2.00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Open(tc.path)
			if err == nil {
				f.Close()
				t.Fatalf("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open = %v; want %q", err, tc.want)
			}
		})
	}
}
