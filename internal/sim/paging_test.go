package sim

import (
	"bytes"
	"testing"
)

// TestPagingConsistent checks that every mapped virtual page translates
// through the page tables to the physical page that holds the same
// bytes: for 4 KiB pages the very page object the virtual view uses, for
// the generated regions the same offset of the same backing.
func TestPagingConsistent(t *testing.T) {
	for _, seed := range []int64{1, 7, 12345} {
		im := buildImage(Config{Seed: seed, Procs: 2, Build: 19041})
		n := 0
		for pn, p := range im.vmem.pages {
			va := pn << 12
			if va&(1<<47) != 0 {
				va |= 0xFFFF000000000000
			}
			pa, ok := im.translate(va + 0x123)
			if !ok {
				t.Fatalf("seed %d: %#x is mapped but does not translate", seed, va)
			}
			if pa&0xFFF != 0x123 {
				t.Fatalf("seed %d: %#x -> %#x loses the page offset", seed, va, pa)
			}
			if im.pmem.page(pa) != p {
				t.Fatalf("seed %d: %#x -> %#x, a different physical page", seed, va, pa)
			}
			n++
		}
		if n < 20 {
			t.Fatalf("seed %d: only %d pages checked", seed, n)
		}
		for _, w := range im.vmem.windows {
			for _, off := range []uint64{0, 0x1000, 0x1FF008, w.b.size/2 + 0x10, w.b.size - 8} {
				va := w.base + off
				pa, ok := im.translate(va)
				if !ok {
					t.Fatalf("seed %d: window %#x+%#x does not translate", seed, w.base, off)
				}
				pw := im.pmem.window(pa)
				if pw == nil || pw.b != w.b || pa-pw.base != off {
					t.Fatalf("seed %d: window %#x+%#x -> %#x, not the same backing offset", seed, w.base, off, pa)
				}
				v, p := make([]byte, 8), make([]byte, 8)
				im.vmem.read(va, v)
				im.pmem.read(pa, p)
				if !bytes.Equal(v, p) {
					t.Fatalf("seed %d: %#x and #%#x hold different bytes", seed, va, pa)
				}
			}
		}
	}
}

// TestPagingSelfMapAndLargePage checks the PML4's self-map entry and the
// large page's PDE.
func TestPagingSelfMapAndLargePage(t *testing.T) {
	im := buildImage(Config{Seed: 3, Procs: 1, Build: 19041})
	e, _ := im.pmem.u64(im.cr3 + SelfMapIndex*8)
	if e&0x000FFFFFFFFFF000 != im.cr3 || e&1 == 0 {
		t.Fatalf("self-map entry %#x, want cr3 %#x present", e, im.cr3)
	}
	va := im.kernBase + LargePageOffset + 0x12345
	pa, ok := im.translate(va)
	if !ok || pa != LargePagePhys+0x12345 {
		t.Fatalf("large page: %#x -> %#x %v, want %#x", va, pa, ok, LargePagePhys+0x12345)
	}
	if _, ok := im.translate(im.kernBase + LargePageOffset + LargePageSize); ok {
		t.Fatal("the page after the large page translates")
	}
}
