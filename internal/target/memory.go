package target

import (
	"context"
	"errors"
	"fmt"

	"github.com/gokd/kd/kdproto"
)

// pageSize is the granule of the memory cache.
const pageSize = 4096

// maxCachedPages bounds the cache (16 MiB); past it the cache starts over.
const maxCachedPages = 4096

// page is one cached page: which bytes are known, and their values.
type page struct {
	data  [pageSize]byte
	valid [pageSize / 64]uint64
}

func (p *page) has(i int) bool { return p.valid[i/64]&(1<<(i%64)) != 0 }
func (p *page) set(i int)      { p.valid[i/64] |= 1 << (i % 64) }

// memCache is the page-granular cache of virtual memory of one stop. It is
// emptied whenever the target runs, memory is written, the processor
// changes or the target reboots.
type memCache struct {
	pages map[uint64]*page
	// Requests counts the read requests the cache sent (tests, benchmarks).
	requests int
}

func (m *memCache) init()  { m.pages = make(map[uint64]*page) }
func (m *memCache) clear() { clear(m.pages) }

// lookup returns the cached byte at addr.
func (m *memCache) lookup(addr uint64) (byte, bool) {
	p := m.pages[addr&^(pageSize-1)]
	if p == nil {
		return 0, false
	}
	i := int(addr & (pageSize - 1))
	return p.data[i], p.has(i)
}

// store records b as the bytes at addr.
func (m *memCache) store(addr uint64, b []byte) {
	if len(m.pages) > maxCachedPages {
		m.clear()
	}
	for len(b) > 0 {
		base := addr &^ (pageSize - 1)
		p := m.pages[base]
		if p == nil {
			p = new(page)
			m.pages[base] = p
		}
		i := int(addr - base)
		n := copy(p.data[i:], b)
		for j := i; j < i+n; j++ {
			p.set(j)
		}
		b = b[n:]
		addr += uint64(n)
	}
}

// MemoryChunk is the largest read one request carries.
const MemoryChunk = kdproto.MaxTransfer

// ReadMemory reads n bytes of virtual memory at addr on the current
// processor. ok[i] says whether byte i could be read: an unreadable page
// does not hide the pages after it. Errors of the link (rather than of the
// memory) are returned. Bytes not in the cache are fetched with the
// fewest requests that cover them, and kept until the target runs.
func (t *Target) ReadMemory(ctx context.Context, addr uint64, n int) ([]byte, []bool, error) {
	s, err := t.needStopped()
	if err != nil {
		return nil, nil, err
	}
	return t.readMemory(ctx, s, addr, n)
}

func (t *Target) readMemory(ctx context.Context, s *session, addr uint64, n int) ([]byte, []bool, error) {
	if n < 0 || n > MaxRead {
		return nil, nil, fmt.Errorf("a read of %d bytes is too large (at most %d at once)", n, MaxRead)
	}
	data := make([]byte, n)
	ok := make([]bool, n)
	for off := 0; off < n; {
		if b, hit := s.mem.lookup(addr + uint64(off)); hit {
			data[off], ok[off] = b, true
			off++
			continue
		}
		// A run of bytes the cache does not have.
		end := off + 1
		for end < n {
			if _, hit := s.mem.lookup(addr + uint64(end)); hit {
				break
			}
			end++
		}
		skipTo, err := t.fetch(ctx, s, addr+uint64(off), end-off)
		if err != nil {
			return nil, nil, err
		}
		for off < end {
			if b, hit := s.mem.lookup(addr + uint64(off)); hit {
				data[off], ok[off] = b, true
				off++
				continue
			}
			if skipTo == 0 {
				// The target gave less than asked without saying why:
				// count the byte as unreadable and go on.
				off++
				continue
			}
			// Unreadable from here to the end of its page (counted in
			// bytes, so that the last page of the address space, whose
			// end wraps to 0, is skipped too).
			for left := pageSize - (addr+uint64(off))&(pageSize-1); off < end && left > 0; left-- {
				off++
			}
			break
		}
	}
	return data, ok, nil
}

// MaxRead bounds one ReadMemory call.
const MaxRead = 64 << 20

// fetch reads [addr, addr+n) into the cache with the fewest requests
// (ceil(n/MemoryChunk)). It never widens a read: on a serial line every
// byte costs time, so a read of more than was asked for is never free.
// When the target refuses part of the range, the refused byte's page is
// skipped: fetch returns the address reading may go on from (0 when all
// was read).
func (t *Target) fetch(ctx context.Context, s *session, addr uint64, n int) (uint64, error) {
	s.mem.requests += (n + MemoryChunk - 1) / MemoryChunk
	b, err := s.eng.ReadVirtual(ctx, s.cpu, addr, n)
	s.mem.store(addr, b)
	if err == nil {
		return 0, nil
	}
	var st kdproto.Status
	if !errors.As(err, &st) {
		return 0, err
	}
	bad := addr + uint64(len(b))
	next := (bad | (pageSize - 1)) + 1
	if next <= bad {
		next = ^uint64(0)
	}
	return next, nil
}

// ReadRequests returns how many read requests the memory cache has sent
// on this connection.
func (t *Target) ReadRequests() int {
	s := t.session()
	if s == nil {
		return 0
	}
	return s.mem.requests
}

// WriteMemory writes data at addr on the current processor. A partial
// write reports the first address that failed.
func (t *Target) WriteMemory(ctx context.Context, addr uint64, data []byte) error {
	s, err := t.needStopped()
	if err != nil {
		return err
	}
	s.mem.clear()
	if _, err := s.eng.WriteVirtual(ctx, s.cpu, addr, data); err != nil {
		var me *kdproto.MemoryError
		var st kdproto.Status
		if errors.As(err, &me) && me.Done < len(data) && errors.As(err, &st) {
			return &AccessError{Addr: addr + uint64(me.Done)}
		}
		return err
	}
	return nil
}

// AccessError says the target refused memory at Addr.
type AccessError struct{ Addr uint64 }

func (e *AccessError) Error() string {
	return fmt.Sprintf("memory access error at '%08x`%08x'", e.Addr>>32, uint32(e.Addr))
}
