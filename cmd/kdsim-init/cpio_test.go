package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// readCpio parses a newc archive the way the kernel's initramfs unpacker
// does, strictly: it checks the magic, the padding and the trailer.
func readCpio(t *testing.T, b []byte) []cpioEntry {
	t.Helper()
	var out []cpioEntry
	off := 0
	for {
		if off%4 != 0 || len(b)-off < 110 || string(b[off:off+6]) != "070701" {
			t.Fatalf("no newc header at %d", off)
		}
		field := func(i int) uint32 {
			v, err := strconv.ParseUint(string(b[off+6+8*i:off+14+8*i]), 16, 32)
			if err != nil {
				t.Fatalf("header field %d at %d: %v", i, off, err)
			}
			return uint32(v)
		}
		mode, size, rmaj, rmin, namesize := field(1), field(6), field(9), field(10), int(field(11))
		if field(2) != 0 || field(3) != 0 || field(5) != 0 || field(12) != 0 {
			t.Errorf("uid, gid, mtime or check not 0 at %d", off)
		}
		name := string(b[off+110 : off+110+namesize-1])
		if b[off+110+namesize-1] != 0 {
			t.Fatalf("name %q not NUL-terminated", name)
		}
		off = align4(off + 110 + namesize)
		if name == "TRAILER!!!" {
			if off != len(b) {
				t.Errorf("%d bytes after the trailer", len(b)-off)
			}
			return out
		}
		data := b[off : off+int(size)]
		off = align4(off + int(size))
		out = append(out, cpioEntry{Name: name, Mode: mode, RdevMajor: rmaj, RdevMinor: rmin, Data: data})
	}
}

func align4(n int) int { return (n + 3) &^ 3 }

func TestCpioRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []cpioEntry
	}{
		{"empty", nil},
		{"one byte file", []cpioEntry{{Name: "a", Mode: modeFile | 0o644, Data: []byte{1}}}},
		{"every padding", []cpioEntry{
			{Name: "d", Mode: modeDir | 0o755},
			{Name: "d/ab", Mode: modeFile | 0o755, Data: []byte("xy")},
			{Name: "d/abc", Mode: modeFile | 0o600, Data: []byte("xyz")},
			{Name: "d/abcd", Mode: modeFile | 0o600, Data: []byte("wxyz")},
			{Name: "dev/console", Mode: modeChar | 0o600, RdevMajor: 5, RdevMinor: 1},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := newCpioWriter(&buf)
			for _, e := range tc.entries {
				if err := w.add(e); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.close(); err != nil {
				t.Fatal(err)
			}
			got := readCpio(t, buf.Bytes())
			if len(got) != len(tc.entries) {
				t.Fatalf("%d entries; want %d", len(got), len(tc.entries))
			}
			for i, e := range tc.entries {
				g := got[i]
				if g.Name != e.Name || g.Mode != e.Mode || g.RdevMajor != e.RdevMajor || g.RdevMinor != e.RdevMinor || !bytes.Equal(g.Data, e.Data) {
					t.Errorf("entry %d = %+v; want %+v", i, g, e)
				}
			}
		})
	}
}

func TestCpioRefuses(t *testing.T) {
	for _, e := range []cpioEntry{
		{Name: "", Mode: modeFile},
		{Name: "/init", Mode: modeFile},
		{Name: "a\x00b", Mode: modeFile},
		{Name: strings.Repeat("a", 4096), Mode: modeFile},
		{Name: "dir", Mode: modeDir, Data: []byte("x")},
	} {
		if err := newCpioWriter(&bytes.Buffer{}).add(e); err == nil {
			t.Errorf("add(%.20q) accepted", e.Name)
		}
	}
	if err := newCpioWriter(&bytes.Buffer{}).add(cpioEntry{Name: "/x"}); !errors.Is(err, errCpioName) {
		t.Errorf("err = %v; want errCpioName", err)
	}
}

func TestPack(t *testing.T) {
	dir := t.TempDir()
	initBin, kdsimBin, out := filepath.Join(dir, "init"), filepath.Join(dir, "kdsim"), filepath.Join(dir, "initramfs.cpio")
	os.WriteFile(initBin, []byte("init binary"), 0o755)
	os.WriteFile(kdsimBin, []byte("kdsim binary"), 0o755)
	if err := pack(out, initBin, kdsimBin); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var list []string
	for _, e := range readCpio(t, b) {
		list = append(list, fmt.Sprintf("%s %o %d:%d %q", e.Name, e.Mode, e.RdevMajor, e.RdevMinor, e.Data))
	}
	want := []string{
		`bin 40755 0:0 ""`, `dev 40755 0:0 ""`, `dev/console 20600 5:1 ""`, `proc 40555 0:0 ""`, `sys 40555 0:0 ""`,
		`init 100755 0:0 "init binary"`, `bin/kdsim 100755 0:0 "kdsim binary"`,
	}
	if strings.Join(list, "\n") != strings.Join(want, "\n") {
		t.Errorf("archive:\n%s\nwant:\n%s", strings.Join(list, "\n"), strings.Join(want, "\n"))
	}
	// A missing input leaves no output behind.
	out2 := filepath.Join(dir, "other.cpio")
	if err := pack(out2, initBin, filepath.Join(dir, "missing")); err == nil {
		t.Error("pack with a missing kdsim succeeded")
	}
	if _, err := os.Stat(out2); !os.IsNotExist(err) {
		t.Errorf("output left behind: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 3 {
		t.Errorf("temporary files left behind: %v", ents)
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	kdsim := filepath.Join(dir, "kdsim")
	os.WriteFile(kdsim, []byte("kdsim binary"), 0o755)
	for _, tc := range []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"-h"}, 0, "Usage: kdsim-init pack", ""},
		{nil, 2, "", "kdsim-init: error: kdsim-init runs as process 1"},
		{[]string{"pack"}, 2, "", "pack needs --kdsim PATH and -o FILE"},
		{[]string{"pack", "--kdsim", kdsim, "-o", filepath.Join(dir, "x.cpio"), "extra"}, 2, "", `unexpected argument "extra"`},
		{[]string{"pack", "--bogus"}, 2, "", "unknown flag: --bogus"},
		{[]string{"pack", "--kdsim", filepath.Join(dir, "none"), "-o", filepath.Join(dir, "x.cpio")}, 1, "", "kdsim-init: error: open "},
		{[]string{"pack", "--kdsim", kdsim, "-o", filepath.Join(dir, "x.cpio")}, 0, "kdsim-init: wrote ", ""},
	} {
		var out, errb bytes.Buffer
		code := run(tc.args, &out, &errb)
		if code != tc.code || !strings.Contains(out.String(), tc.out) || !strings.Contains(errb.String(), tc.err) {
			t.Errorf("run %q = %d, stdout %q, stderr %q; want %d, %q, %q", tc.args, code, out.String(), errb.String(), tc.code, tc.out, tc.err)
		}
		if code == 2 && !strings.Contains(errb.String(), "kdsim-init: hint: ") {
			t.Errorf("run %q: no hint in %q", tc.args, errb.String())
		}
	}
}

func TestArgsAfterDashes(t *testing.T) {
	many := "x --" + strings.Repeat(" a", maxArgs+10)
	for _, tc := range []struct {
		cmdline string
		want    []string
	}{
		{"console=ttyS1 quiet\n", nil},
		{"console=ttyS1 nokaslr -- --seed 5 --print-every 1s\n", []string{"--seed", "5", "--print-every", "1s"}},
		{"a -- b -- c", []string{"b", "--", "c"}},
		{"a --", []string{}},
		{"", nil},
		{many, strings.Fields(strings.Repeat(" a", maxArgs))},
	} {
		got := argsAfterDashes(tc.cmdline)
		if strings.Join(got, " ") != strings.Join(tc.want, " ") || (got == nil) != (tc.want == nil) {
			t.Errorf("argsAfterDashes(%.30q) = %q; want %q", tc.cmdline, got, tc.want)
		}
	}
}
