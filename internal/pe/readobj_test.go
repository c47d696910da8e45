package pe

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gokd/kd/internal/llvmtest"
)

// readobj runs llvm-readobj on a test image (skipped without the tool
// unless KD_REQUIRE_LLVM is set).
func readobj(t *testing.T, args ...string) string {
	t.Helper()
	return llvmtest.Run(t, llvmtest.Readobj(t), args...)
}

// TestMatchesReadobj compares the reader with llvm-readobj on the same files.
func TestMatchesReadobj(t *testing.T) {
	for _, name := range []string{"unw.sys", "x86.dll"} {
		t.Run(name, func(t *testing.T) {
			out := readobj(t, "--file-headers", "--coff-exports", "--coff-debug-directory", "testdata/"+name)
			im := mustOpen(t, readFile(t, name), File)
			field := func(key string) string {
				m := regexp.MustCompile(`(?m)^\s*` + key + `: (.*)$`).FindStringSubmatch(out)
				if m == nil {
					t.Fatalf("llvm-readobj printed no %s", key)
				}
				return m[1]
			}
			hexIn := func(s string) uint64 {
				m := regexp.MustCompile(`0x[0-9A-Fa-f]+`).FindString(s)
				v, err := strconv.ParseUint(strings.TrimPrefix(m, "0x"), 16, 64)
				if err != nil {
					t.Fatalf("no hex number in %q", s)
				}
				return v
			}
			if v := hexIn(field("TimeDateStamp")); v != uint64(im.TimeDateStamp) {
				t.Errorf("TimeDateStamp %#x; readobj %#x", im.TimeDateStamp, v)
			}
			if v, _ := strconv.ParseUint(field("SizeOfImage"), 10, 32); v != uint64(im.SizeOfImage) {
				t.Errorf("SizeOfImage %#x; readobj %#x", im.SizeOfImage, v)
			}
			if v := hexIn(field("ImageBase")); v != im.ImageBase {
				t.Errorf("ImageBase %#x; readobj %#x", im.ImageBase, v)
			}
			if v, _ := strconv.ParseUint(field("Checksum"), 0, 32); v != uint64(im.CheckSum) {
				t.Errorf("CheckSum %#x; readobj %#x", im.CheckSum, v)
			}
			// Exports: every named one with an address, and forwarders by name.
			ex, err := im.Exports()
			if err != nil {
				t.Fatal(err)
			}
			mine := map[string]Export{}
			for _, e := range ex.List {
				mine[e.Name] = e
			}
			re := regexp.MustCompile(`Export \{\s*Ordinal: (\d+)\s*Name: (\S*)\s*RVA: 0x([0-9A-F]+)`)
			n := 0
			for _, m := range re.FindAllStringSubmatch(out, -1) {
				if m[2] == "" {
					continue
				}
				n++
				e, ok := mine[m[2]]
				ord, _ := strconv.Atoi(m[1])
				rva, _ := strconv.ParseUint(m[3], 16, 32)
				switch {
				case !ok:
					t.Errorf("export %s missing", m[2])
				case uint32(ord) != e.Ordinal:
					t.Errorf("export %s ordinal %d; readobj %d", m[2], e.Ordinal, ord)
				case e.Forwarder == "" && uint32(rva) != e.RVA:
					t.Errorf("export %s rva %#x; readobj %#x", m[2], e.RVA, rva)
				}
			}
			if n == 0 {
				t.Error("readobj listed no named exports")
			}
			if !strings.Contains(out, "PDBInfo") {
				if _, err := im.CodeView(); err == nil {
					t.Error("CodeView found where readobj shows none")
				}
				return
			}
			cv, err := im.CodeView()
			if err != nil {
				t.Fatal(err)
			}
			var raw []string
			for _, b := range cv.GUID {
				raw = append(raw, strings.ToUpper(strconv.FormatUint(uint64(b)|0x100, 16)[1:]))
			}
			if got, want := "("+strings.Join(raw, " ")+")", field("PDBGUID"); got != want {
				t.Errorf("GUID bytes %s; readobj %s", got, want)
			}
			if got := strconv.Itoa(int(cv.Age)); got != field("PDBAge") {
				t.Errorf("age %s; readobj %s", got, field("PDBAge"))
			}
			if cv.Path != field("PDBFileName") {
				t.Errorf("PDB path %q; readobj %q", cv.Path, field("PDBFileName"))
			}
		})
	}
}
