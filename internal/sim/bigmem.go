package sim

// The bulk pool: a large mapped region whose contents are computed on
// demand from the address, so that transfers of many megabytes can be
// measured without the simulator holding them in RAM. Only pages the host
// writes are stored, up to a fixed budget per boot.

const (
	// BulkPoolBase is the fixed kernel virtual address of the bulk pool, a
	// non-paged pool range of BulkPoolSize bytes with generated contents
	// (see docs/kdsim.md, "Bulk pool"). It is the same for every seed.
	BulkPoolBase uint64 = 0xFFFFD00000000000
	// BulkPoolSize is the size of the bulk pool: 256 MiB.
	BulkPoolSize = 256 << 20
	// BulkPoolPhys is the physical address that backs BulkPoolBase; the
	// pool is physically contiguous.
	BulkPoolPhys uint64 = 0x100000000
	// bulkPTPhys is where the 128 page-table pages that map the bulk pool
	// live; their entries are generated too.
	bulkPTPhys = 0xFF000000
	// MaxWrittenPages is how many distinct pages of generated memory the
	// host may write in one boot (64 MiB). A write past the budget fails
	// like a write to an unmapped page, with the bytes done before it.
	MaxWrittenPages = 16384
)

// backing is the contents of a generated region: word(off) is the
// little-endian 8-byte word at byte offset off (a multiple of 8), except on
// pages the host has written, which are kept in pages. A backing may be
// mapped by several windows (the bulk pool is seen through virtual and
// physical memory); they share its written pages.
type backing struct {
	size uint64 // bytes, a multiple of pageSize
	word func(off uint64) uint64
	// words, when set, fills dst (a multiple of 8 bytes) with the words
	// from off (a multiple of 8) as word would, in one call rather than one
	// per word: the bulk pool's bulk reads.
	words  func(off uint64, dst []byte)
	pages  map[uint64]*page // written pages, by page index in the backing
	budget *int             // pages that may still be written (shared per boot)
}

// window maps a backing at base in one address space.
type window struct {
	base uint64
	b    *backing
}

func (w *window) contains(a uint64) bool { return a >= w.base && a-w.base < w.b.size }

// read copies from a (inside the window) to dst, up to the end of a's page,
// and returns how many bytes it copied.
func (w *window) read(a uint64, dst []byte) int {
	off := a - w.base
	pg, in := off/pageSize, off%pageSize
	n := min(len(dst), int(pageSize-in))
	if p := w.b.pages[pg]; p != nil {
		return copy(dst[:n], p[in:])
	}
	w.b.gen(off, dst[:n])
	return n
}

// writable returns the stored copy of a's page, storing it first if the
// budget allows, or nil.
func (w *window) writable(a uint64) *page {
	pg := (a - w.base) / pageSize
	if p := w.b.pages[pg]; p != nil {
		return p
	}
	if *w.b.budget <= 0 {
		return nil
	}
	*w.b.budget--
	p := new(page)
	w.b.gen(pg*pageSize, p[:])
	w.b.pages[pg] = p
	return p
}

// gen fills dst with the generated contents from byte offset off.
func (b *backing) gen(off uint64, dst []byte) {
	for len(dst) > 0 {
		wo := off &^ 7
		v := b.word(wo)
		if sh := off - wo; sh != 0 || len(dst) < 8 {
			var w [8]byte
			le.PutUint64(w[:], v)
			k := copy(dst, w[sh:])
			dst, off = dst[k:], off+uint64(k)
			continue
		}
		le.PutUint64(dst, v)
		dst, off = dst[8:], off+8
		if n := len(dst) &^ 7; b.words != nil && n > 0 {
			b.words(off, dst[:n])
			dst, off = dst[n:], off+uint64(n)
		}
	}
}

// window returns the window that maps a, or nil.
func (m *memory) window(a uint64) *window {
	for i := range m.windows {
		if m.windows[i].contains(a) {
			return &m.windows[i]
		}
	}
	return nil
}

// mapWindow maps b at base. The range must not overlap mapped pages.
func (m *memory) mapWindow(base uint64, b *backing) {
	m.windows = append(m.windows, window{base: base, b: b})
}

// BulkPoolWord returns the 8-byte little-endian word that a machine with
// this seed holds at virtual address va (a multiple of 8 inside the bulk
// pool) until the host writes there: the splitmix64 finaliser of va XOR a
// key derived from the seed. Tools can use it to check a dump.
func BulkPoolWord(seed int64, va uint64) uint64 { return mix64(va ^ bulkKey(seed)) }

func bulkKey(seed int64) uint64 { return mix64(uint64(seed) ^ 0x62756c6b706f6f6c) } // "bulkpool"

// mix64 is the splitmix64 finaliser: a cheap, well-spread bijection.
func mix64(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

// mapBulkPool maps the bulk pool in virtual and physical memory and its
// page tables: PD entries in real pages under CR3, the 128 page-table
// pages generated at bulkPTPhys.
func (im *image) mapBulkPool(seed int64) {
	budget := MaxWrittenPages
	key := bulkKey(seed)
	pool := &backing{size: BulkPoolSize, pages: make(map[uint64]*page), budget: &budget,
		word: func(off uint64) uint64 { return mix64((BulkPoolBase + off) ^ key) },
		words: func(off uint64, dst []byte) {
			for a := BulkPoolBase + off; len(dst) >= 8; a += 8 {
				le.PutUint64(dst, mix64(a^key))
				dst = dst[8:]
			}
		}}
	im.vmem.mapWindow(BulkPoolBase, pool)
	im.pmem.mapWindow(BulkPoolPhys, pool)

	const npt = BulkPoolSize / pageSize / 512 // page-table pages
	pts := &backing{size: npt * pageSize, pages: make(map[uint64]*page), budget: &budget,
		word: func(off uint64) uint64 { return (BulkPoolPhys + off/8*pageSize) | pteKernelData }}
	im.pmem.mapWindow(bulkPTPhys, pts)

	pd := im.tableFor(BulkPoolBase, 2)
	first := uint64(BulkPoolBase>>21) & 0x1FF
	for i := uint64(0); i < npt; i++ {
		le.PutUint64(pd[(first+i)*8:], (bulkPTPhys+i*pageSize)|pteTable)
	}
}
