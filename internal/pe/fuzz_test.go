package pe

import (
	"bytes"
	"testing"
)

// FuzzOpen feeds arbitrary bytes to the reader in both layouts and reads
// every directory: it must return errors, never panic or allocate without
// bound. The seed corpus in testdata/fuzz/FuzzOpen holds the test images
// and damaged copies of them.
func FuzzOpen(f *testing.F) {
	f.Add(readFile(f, "unw.sys"))
	f.Add(readFile(f, "x86.dll"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, l := range []Layout{File, Memory} {
			im, err := Open(bytes.NewReader(data), int64(len(data)), l)
			if err != nil {
				continue
			}
			if ex, err := im.Exports(); err == nil {
				_ = ex.ByAddress()
			}
			_, _ = im.DebugDirectory()
			_, _ = im.CodeView()
			if ft, err := im.RuntimeFunctions(); err == nil {
				for _, rf := range ft {
					if _, ok := ft.Lookup(rf.Begin); !ok {
						t.Fatalf("Lookup(%#x) misses an entry of the table", rf.Begin)
					}
				}
			}
			_, _ = im.ReadRVA(im.EntryPoint, 16)
		}
	})
}
