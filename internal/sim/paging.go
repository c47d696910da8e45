package sim

// Paging: what the simulated page tables offer beyond the 4 KiB mappings
// that mapNew enters. The PML4 maps itself at SelfMapIndex, as Windows'
// does, so a debugger can place every page-table entry in virtual memory;
// and a 2 MiB large page (a PDE with PS set) maps LargePageSize bytes of
// generated contents at LargePageOffset past the kernel base. Every
// virtual page is backed by the same bytes in physical memory: mapNew
// shares one page between the two address spaces and the generated
// regions share one backing.

const (
	// SelfMapIndex is the PML4 entry that points back at the PML4 (the
	// classic Windows x64 index: page tables at 0xFFFFF680`00000000).
	SelfMapIndex = 0x1ED
	// LargePageOffset is where the large page lies, from the kernel base
	// (which is 2 MiB aligned).
	LargePageOffset = 0x2000000
	// LargePageSize is the size of the large page.
	LargePageSize = 2 << 20
	// LargePagePhys is the physical address of the large page.
	LargePagePhys uint64 = 0x80000000
	// pdeLarge is the large page's PDE flags: P|RW|A|D|PS|G and NX.
	pdeLarge = 0x8000000000000063 | 0x80 | 0x100
)

// mapPaging adds the self-map entry and the large page.
func (im *image) mapPaging(seed int64) {
	pml4 := im.pmem.page(im.cr3)
	le.PutUint64(pml4[SelfMapIndex*8:], im.cr3|pteKernelData)

	budget := 0                               // the large page is read-only to the host: writes fail
	key := mix64(uint64(seed) ^ 0x6c61726765) // "large"
	va := im.kernBase + LargePageOffset
	b := &backing{size: LargePageSize, pages: make(map[uint64]*page), budget: &budget,
		word: func(off uint64) uint64 { return mix64((LargePagePhys + off) ^ key) }}
	im.vmem.mapWindow(va, b)
	im.pmem.mapWindow(LargePagePhys, b)
	pd := im.tableFor(va, 2)
	le.PutUint64(pd[((va>>21)&0x1FF)*8:], LargePagePhys|pdeLarge)
}

// PeekPhysical returns n bytes of physical memory at addr and, for each,
// whether it exists (a missing byte reads as 0). n is capped at 16 MiB.
// See the rules of inspect.go for when it may be called.
func (m *Machine) PeekPhysical(addr uint64, n int) ([]byte, []bool) {
	n = max(0, min(n, 16<<20))
	data, ok := make([]byte, n), make([]bool, n)
	for off := 0; off < n; {
		a := addr + uint64(off)
		if a < addr {
			break
		}
		chunk := min(n-off, int(pageSize-a&(pageSize-1)))
		got := m.im.pmem.read(a, data[off:off+chunk])
		for i := off; i < off+got; i++ {
			ok[i] = true
		}
		off += chunk
	}
	return data, ok
}

// Translate returns the physical address that virtual address va maps to
// through the machine's page tables (processor 0's CR3), and whether it
// is mapped.
func (m *Machine) Translate(va uint64) (uint64, bool) { return m.im.translate(va) }

func (im *image) translate(va uint64) (uint64, bool) {
	t := im.cr3
	for level := 3; level >= 0; level-- {
		shift := uint(12 + 9*level)
		e, ok := im.pmem.u64(t + ((va>>shift)&0x1FF)*8)
		if !ok || e&1 == 0 {
			return 0, false
		}
		frame := e & 0x000FFFFFFFFFF000
		if level == 0 || (level <= 2 && e&0x80 != 0) {
			size := uint64(1) << shift
			return frame&^(size-1) | va&(size-1), true
		}
		t = frame
	}
	return 0, false
}
