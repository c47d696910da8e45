package target

import (
	"encoding/binary"
	"errors"
	"testing"
)

// FuzzWalkList walks a LIST_ENTRY chain through hostile memory: a blob
// of quadwords mapped at a kernel address. The walk never panics, never
// returns more than its bound or a repeated entry, and each entry it
// returns is a kernel address inside the blob.
func FuzzWalkList(f *testing.F) {
	const base = 0xFFFFC00000000000
	le := binary.LittleEndian
	seed := func(links ...uint64) []byte {
		b := make([]byte, 8*len(links))
		for i, l := range links {
			le.PutUint64(b[8*i:], l)
		}
		return b
	}
	f.Add(seed(base+16, 0, base+32, 0, base, 0), uint8(0))               // a ring of three
	f.Add(seed(base+16, 0, base+16, 0), uint8(0))                        // a self-loop off the head
	f.Add(seed(base+8, base+16, 0x7ff000001000), uint8(0))               // a user pointer
	f.Add(seed(base+0x1000), uint8(0))                                   // unreadable
	f.Add(seed(base+3), uint8(0))                                        // misaligned
	f.Add(seed(base+8, base+16, base+24, base+32, base+40, 0), uint8(2)) // longer than the bound
	f.Fuzz(func(t *testing.T, mem []byte, max uint8) {
		if len(mem) > 1<<16 {
			return
		}
		read8 := func(a uint64) (uint64, error) {
			if a < base || a-base+8 > uint64(len(mem)) {
				return 0, errors.New("unreadable")
			}
			return le.Uint64(mem[a-base:]), nil
		}
		out, _ := WalkList(base, int(max), read8)
		if len(out) > int(max) {
			t.Fatalf("%d entries, bound %d", len(out), max)
		}
		seen := map[uint64]bool{}
		for _, e := range out {
			if seen[e] || e == base || e < base || e-base+8 > uint64(len(mem)) || e&7 != 0 {
				t.Fatalf("entry %#x: repeated, the head, or outside the blob", e)
			}
			seen[e] = true
		}
	})
}
