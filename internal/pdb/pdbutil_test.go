package pdb

import (
	"bufio"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gokd/kd/internal/llvmtest"
)

// These tests compare the reader with llvm-pdbutil's dump of the same
// files. CI sets KD_REQUIRE_LLVM=1 and installs LLVM, so a missing tool
// fails there instead of skipping.

// dumpLines runs llvm-pdbutil dump with flags on path.
func dumpLines(t *testing.T, tool, path string, flags ...string) []string {
	t.Helper()
	out := llvmtest.Run(t, tool, append(append([]string{"dump"}, flags...), path)...)
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

var testPDBs = []string{"kdtdrv.pdb", "kdtlib.pdb"}

func symbolsDir() string { return filepath.Join("..", "..", "testdata", "symbols") }

func openTest(t *testing.T, name string) *File {
	t.Helper()
	f, err := Open(filepath.Join(symbolsDir(), name))
	if err != nil {
		t.Fatalf("Open(%s) = %v", name, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

var (
	reRecord = regexp.MustCompile("^\\s*(0x[0-9A-F]+|\\d+) \\| (\\w+) \\[size = \\d+\\](?: `(.*)`)?")
	reAddr   = regexp.MustCompile(`addr = (\d{4}):(\d+)`)
	reSize   = regexp.MustCompile(`code size = (\d+)`)
)

// addr converts llvm-pdbutil's "addr = SSSS:OOOO" (offset in decimal)
// to an RVA using the file's section headers.
func addr(t *testing.T, secs []Section, line string) (uint32, bool) {
	t.Helper()
	m := reAddr.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no addr in %q", line)
	}
	seg, _ := strconv.Atoi(m[1])
	off, _ := strconv.ParseUint(m[2], 10, 32)
	if seg == 0 || seg > len(secs) {
		return 0, false
	}
	return secs[seg-1].VirtualAddress + uint32(off), true
}

func TestAgainstPdbutilSummaryAndSections(t *testing.T) {
	tool := llvmtest.Pdbutil(t)
	for _, name := range testPDBs {
		t.Run(name, func(t *testing.T) {
			f := openTest(t, name)
			path := filepath.Join(symbolsDir(), name)
			want := map[string]string{}
			for _, l := range dumpLines(t, tool, path, "--summary") {
				if k, v, ok := strings.Cut(strings.TrimSpace(l), ": "); ok {
					want[k] = v
				}
			}
			in := f.Info()
			got := map[string]string{"GUID": in.GUID.String(), "Age": fmt.Sprint(in.Age), "Signature": fmt.Sprint(in.Signature)}
			for k, v := range got {
				if want[k] != v {
					t.Errorf("%s = %s; llvm-pdbutil says %s", k, v, want[k])
				}
			}
			secs, err := f.Sections()
			if err != nil {
				t.Fatal(err)
			}
			var wantSecs []Section
			for _, l := range dumpLines(t, tool, path, "--section-headers") {
				fs := strings.Fields(l)
				switch {
				case len(fs) == 3 && fs[0] == "SECTION" && fs[1] == "HEADER":
					wantSecs = append(wantSecs, Section{})
				case len(wantSecs) == 0:
				case len(fs) == 2 && fs[1] == "name":
					wantSecs[len(wantSecs)-1].Name = fs[0]
				case len(fs) == 3 && fs[1] == "virtual" && fs[2] == "size":
					v, _ := strconv.ParseUint(fs[0], 16, 32)
					wantSecs[len(wantSecs)-1].VirtualSize = uint32(v)
				case len(fs) == 3 && fs[1] == "virtual" && fs[2] == "address":
					v, _ := strconv.ParseUint(fs[0], 16, 32)
					wantSecs[len(wantSecs)-1].VirtualAddress = uint32(v)
				case len(fs) == 2 && fs[1] == "flags":
					v, _ := strconv.ParseUint(fs[0], 16, 32)
					wantSecs[len(wantSecs)-1].Characteristics = uint32(v)
				}
			}
			if fmt.Sprint(secs) != fmt.Sprint(wantSecs) {
				t.Errorf("sections = %v\nllvm-pdbutil: %v", secs, wantSecs)
			}
		})
	}
}

func TestAgainstPdbutilSymbols(t *testing.T) {
	tool := llvmtest.Pdbutil(t)
	for _, name := range testPDBs {
		t.Run(name, func(t *testing.T) {
			f := openTest(t, name)
			path := filepath.Join(symbolsDir(), name)
			secs, err := f.Sections()
			if err != nil {
				t.Fatal(err)
			}
			// Publics and global data: each must be found by name at
			// its address.
			type named struct {
				name string
				rva  uint32
			}
			var want []named
			lines := dumpLines(t, tool, path, "--publics", "--globals")
			for i, l := range lines {
				m := reRecord.FindStringSubmatch(l)
				if m == nil || (m[2] != "S_PUB32" && m[2] != "S_GDATA32" && m[2] != "S_LDATA32") {
					continue
				}
				if rva, ok := addr(t, secs, lines[i+1]); ok {
					want = append(want, named{m[3], rva})
				}
			}
			if len(want) < 5 {
				t.Fatalf("llvm-pdbutil listed only %d publics and globals", len(want))
			}
			for _, w := range want {
				syms, err := f.Lookup(w.name)
				if err != nil {
					t.Fatal(err)
				}
				found := false
				for _, s := range syms {
					found = found || s.RVA == w.rva
				}
				if !found {
					t.Errorf("Lookup(%q) = %+v; llvm-pdbutil has it at RVA %#x", w.name, syms, w.rva)
				}
			}
			// Module procedures: exactly the functions with extents.
			var wantFuncs []string
			lines = dumpLines(t, tool, path, "--symbols")
			for i, l := range lines {
				m := reRecord.FindStringSubmatch(l)
				if m == nil || !strings.Contains(m[2], "PROC32") {
					continue
				}
				rva, _ := addr(t, secs, lines[i+1])
				sz := reSize.FindStringSubmatch(lines[i+1])
				wantFuncs = append(wantFuncs, fmt.Sprintf("%s@%#x+%s", m[3], rva, sz[1]))
			}
			funcs, err := f.Functions()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range funcs {
				got = append(got, fmt.Sprintf("%s@%#x+%d", s.Name, s.RVA, s.Size))
			}
			if strings.Join(sorted(got), "\n") != strings.Join(sorted(wantFuncs), "\n") {
				t.Errorf("functions:\n%s\nllvm-pdbutil:\n%s", strings.Join(sorted(got), "\n"), strings.Join(sorted(wantFuncs), "\n"))
			}
			if len(funcs) < 5 {
				t.Errorf("only %d functions", len(funcs))
			}
		})
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
