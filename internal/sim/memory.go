package sim

import (
	"bytes"
	"encoding/binary"
	"slices"
)

const pageSize = 0x1000

type page [pageSize]byte

// memory is a sparse address space made of 4 KiB pages. Nothing the host
// sends can create a page: only the image builder maps pages, so the size
// of the address space never depends on a request.
type memory struct {
	pages  map[uint64]*page // by page number (address >> 12)
	sorted []uint64         // page numbers in order, rebuilt when dirty
	dirty  bool
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
		p := m.page(a)
		if p == nil {
			break
		}
		n += copy(dst[n:], p[a&(pageSize-1):])
	}
	return n
}

// write copies src to addr and returns how many bytes were written before
// the first unmapped page.
func (m *memory) write(addr uint64, src []byte) int {
	n := 0
	for n < len(src) {
		a := addr + uint64(n)
		if a < addr {
			break
		}
		p := m.page(a)
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
// address space. Work is bounded by the number of mapped pages.
func (m *memory) runs(start, end uint64, f func(addr uint64, n uint64) bool) {
	pns := m.pageNumbers()
	i, _ := slices.BinarySearch(pns, start>>12)
	for i < len(pns) {
		j := i
		for j+1 < len(pns) && pns[j+1] == pns[j]+1 {
			j++
		}
		lo, hi := pns[i]<<12, (pns[j]+1)<<12 // hi == 0 when the run ends at 2^64
		i = j + 1
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

// search finds the first occurrence of pat in [start, start+length) that
// lies entirely in mapped memory.
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
	m.runs(start, end, func(addr, n uint64) bool {
		buf := make([]byte, n)
		m.read(addr, buf)
		if i := bytes.Index(buf, pat); i >= 0 {
			found, ok = addr+uint64(i), true
			return false
		}
		return true
	})
	return found, ok
}

// fill repeats pat over length bytes from addr and returns how many bytes
// were written before the first unmapped page.
func (m *memory) fill(addr uint64, length uint32, pat []byte) uint32 {
	var done uint32
	for done < length {
		p := m.page(addr + uint64(done))
		if p == nil || addr+uint64(done) < addr {
			break
		}
		off := (addr + uint64(done)) & (pageSize - 1)
		for ; off < pageSize && done < length; off++ {
			p[off] = pat[int(done)%len(pat)]
			done++
		}
	}
	return done
}

var le = binary.LittleEndian
