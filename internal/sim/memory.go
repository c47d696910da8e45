package sim

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"
)

const pageSize = 0x1000

type page [pageSize]byte

// memory is a sparse address space made of 4 KiB pages, plus windows on
// generated backings (large regions whose contents are computed on demand,
// see bigmem.go). Nothing the host sends can map a page: only the image
// builder maps pages and windows, so the size of the address space never
// depends on a request; writes into a window keep at most a fixed budget
// of pages.
type memory struct {
	pages   map[uint64]*page // by page number (address >> 12)
	sorted  []uint64         // page numbers in order, rebuilt when dirty
	dirty   bool
	windows []window // generated regions, sorted by base, disjoint from pages
}

func newMemory() *memory { return &memory{pages: make(map[uint64]*page)} }

func (m *memory) mapPage(addr uint64, p *page) {
	m.pages[addr>>12] = p
	m.dirty = true
}

func (m *memory) page(addr uint64) *page { return m.pages[addr>>12] }

// read copies bytes from addr into dst and returns how many were copied
// before the first unmapped page (or the end of the address space).
func (m *memory) read(addr uint64, dst []byte) int {
	n := 0
	for n < len(dst) {
		a := addr + uint64(n)
		if a < addr {
			break
		}
		if p := m.page(a); p != nil {
			n += copy(dst[n:], p[a&(pageSize-1):])
			continue
		}
		w := m.window(a)
		if w == nil {
			break
		}
		n += w.read(a, dst[n:])
	}
	return n
}

// write copies src to addr and returns how many bytes were written before
// the first unmapped page (or the first window page over the write budget).
func (m *memory) write(addr uint64, src []byte) int {
	n := 0
	for n < len(src) {
		a := addr + uint64(n)
		if a < addr {
			break
		}
		p := m.page(a)
		if p == nil {
			if w := m.window(a); w != nil {
				p = w.writable(a)
			}
		}
		if p == nil {
			break
		}
		n += copy(p[a&(pageSize-1):], src[n:])
	}
	return n
}

func (m *memory) u8(addr uint64) (byte, bool) {
	var b [1]byte
	ok := m.read(addr, b[:]) == 1
	return b[0], ok
}

func (m *memory) u32(addr uint64) (uint32, bool) {
	var b [4]byte
	ok := m.read(addr, b[:]) == 4
	return le.Uint32(b[:]), ok
}

func (m *memory) u64(addr uint64) (uint64, bool) {
	var b [8]byte
	ok := m.read(addr, b[:]) == 8
	return le.Uint64(b[:]), ok
}

func (m *memory) put32(addr uint64, v uint32) bool {
	var b [4]byte
	le.PutUint32(b[:], v)
	return m.write(addr, b[:]) == 4
}

func (m *memory) put64(addr uint64, v uint64) bool {
	var b [8]byte
	le.PutUint64(b[:], v)
	return m.write(addr, b[:]) == 8
}

func (m *memory) pageNumbers() []uint64 {
	if m.dirty || m.sorted == nil {
		m.sorted = m.sorted[:0]
		for k := range m.pages {
			m.sorted = append(m.sorted, k)
		}
		slices.Sort(m.sorted)
		m.dirty = false
	}
	return m.sorted
}

// runs calls f for every maximal run of consecutive mapped pages that
// intersects [start, end), clipped to it. end == 0 means the top of the
// address space. Work is bounded by the number of mapped pages and windows.
func (m *memory) runs(start, end uint64, f func(addr uint64, n uint64) bool) {
	for _, e := range m.extents(start) {
		lo, hi := e[0], e[1] // hi == 0 when the run ends at 2^64
		if lo < start {
			lo = start
		}
		if end != 0 && (hi == 0 || hi > end) {
			hi = end
		}
		if end != 0 && lo >= end {
			return
		}
		if hi != 0 && lo >= hi {
			continue
		}
		if !f(lo, hi-lo) {
			return
		}
	}
}

// extents returns the maximal mapped ranges [lo, hi) that end after start,
// in address order: runs of pages and windows, merged where they touch.
func (m *memory) extents(start uint64) [][2]uint64 {
	var out [][2]uint64
	pns := m.pageNumbers()
	i, _ := slices.BinarySearch(pns, start>>12)
	for i < len(pns) {
		j := i
		for j+1 < len(pns) && pns[j+1] == pns[j]+1 {
			j++
		}
		out = append(out, [2]uint64{pns[i] << 12, (pns[j] + 1) << 12})
		i = j + 1
	}
	for _, w := range m.windows {
		if hi := w.base + w.b.size; hi == 0 || hi > start {
			out = append(out, [2]uint64{w.base, hi})
		}
	}
	slices.SortFunc(out, func(a, b [2]uint64) int { return cmp.Compare(a[0], b[0]) })
	merged := out[:0]
	for _, e := range out {
		if k := len(merged) - 1; k >= 0 && merged[k][1] == e[0] && e[0] != 0 {
			merged[k][1] = e[1]
			continue
		}
		merged = append(merged, e)
	}
	return merged
}

// searchChunk is how much memory search examines at a time.
const searchChunk = 64 << 10

// search finds the first occurrence of pat in [start, start+length) that
// lies entirely in mapped memory. It reads in bounded chunks, so searching
// a large generated region allocates no more than one chunk.
func (m *memory) search(start, length uint64, pat []byte) (uint64, bool) {
	if len(pat) == 0 || length == 0 {
		return 0, false
	}
	end := start + length
	if end < start {
		end = 0
	}
	var found uint64
	ok := false
	buf := make([]byte, searchChunk+len(pat)-1)
	m.runs(start, end, func(addr, n uint64) bool {
		// Each step reads a chunk plus len(pat)-1 bytes of overlap, so a
		// match that straddles two chunks is found in the first.
		for off := uint64(0); off < n; off += searchChunk {
			k := min(n-off, uint64(len(buf)))
			if k < uint64(len(pat)) {
				break
			}
			b := buf[:k]
			m.read(addr+off, b)
			if i := bytes.Index(b, pat); i >= 0 {
				found, ok = addr+off+uint64(i), true
				return false
			}
		}
		return true
	})
	return found, ok
}

// fill repeats pat over length bytes from addr and returns how many bytes
// were written before the first unmapped page.
func (m *memory) fill(addr uint64, length uint32, pat []byte) uint32 {
	// rep holds the pattern repeated over a page and one more copy, so that
	// a page's span starts at any phase of the pattern.
	rep := make([]byte, 0, pageSize+2*len(pat))
	for len(rep) < pageSize+len(pat) {
		rep = append(rep, pat...)
	}
	var done uint32
	for done < length {
		a := addr + uint64(done)
		if a < addr {
			break
		}
		span := min(uint32(pageSize-a&(pageSize-1)), length-done)
		phase := int(done % uint32(len(pat)))
		n := m.write(a, rep[phase:phase+int(span)])
		done += uint32(n)
		if uint32(n) < span {
			break
		}
	}
	return done
}

var le = binary.LittleEndian
