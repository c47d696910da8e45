package pdb

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestIndexedGlobalsMatchScan checks that the publics and globals
// streams index exactly the publics and global data that a linear scan
// of the symbol-record stream finds, in lld's output.
func TestIndexedGlobalsMatchScan(t *testing.T) {
	for _, name := range testPDBs {
		t.Run(name, func(t *testing.T) {
			f := openTest(t, name)
			offs, err := f.globalOffsets()
			if err != nil || offs == nil {
				t.Fatalf("globalOffsets = %v, %v; want the lld indexes", offs, err)
			}
			b, err := f.msf.stream(int(f.dbi.symRecords), "test")
			if err != nil {
				t.Fatal(err)
			}
			collect := func(scan func(addFunc) error) []string {
				var out []string
				if err := scan(func(s Symbol, seg uint16, off uint32) {
					out = append(out, fmt.Sprintf("%s %d:%d %s", s.Name, seg, off, s.Kind))
				}); err != nil {
					t.Fatal(err)
				}
				slices.Sort(out)
				return out
			}
			indexed := collect(func(a addFunc) error { return scanIndexed(b, offs, a) })
			linear := collect(func(a addFunc) error { return scanGlobals(b, a) })
			if !slices.Equal(indexed, linear) {
				t.Errorf("indexed:\n%s\nlinear scan:\n%s", strings.Join(indexed, "\n"), strings.Join(linear, "\n"))
			}
			if len(indexed) < 10 {
				t.Errorf("only %d publics and globals", len(indexed))
			}
		})
	}
}

func TestGSIErrors(t *testing.T) {
	hdr := func(hr uint32) le { return le(nil).u32(gsiSignature).u32(gsiVersion).u32(hr).u32(0) }
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"short", []byte{1, 2, 3}, "shorter"},
		{"signature", le(nil).u32(1).u32(2).u32(0).u32(0), "signature"},
		{"records past end", hdr(64), "do not fit"},
		{"odd size", hdr(4).u32(0), "do not fit"},
		{"zero offset", hdr(8).u32(0).u32(1), "offset 0"},
	}
	for _, tc := range tests {
		if _, err := gsiOffsets(tc.b, "globals stream"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: gsiOffsets = %v; want %q", tc.name, err, tc.want)
		}
	}
	pub := func(symHash, addrMap uint32) le {
		return le(nil).u32(symHash).u32(addrMap).u32(0).u32(0).u16(0).u16(0).u32(0).u32(0)
	}
	for _, b := range [][]byte{pub(0, 8), pub(1<<31, 0), pub(0, 3).u32(0)} {
		if _, err := publicOffsets(b); err == nil {
			t.Errorf("publicOffsets(%x) succeeded", b)
		}
	}
	if offs, err := publicOffsets(pub(0, 8).u32(4).u32(8)); err != nil || !slices.Equal(offs, []uint32{4, 8}) {
		t.Errorf("publicOffsets = %v, %v", offs, err)
	}
	if err := scanIndexed([]byte{8, 0, 0x0E, 0x11}, []uint32{0}, func(Symbol, uint16, uint32) {}); err == nil {
		t.Errorf("scanIndexed of a record past the end succeeded")
	}
}
