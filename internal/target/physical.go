package target

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gokd/kd/kdproto"
)

// Physical memory and the x64 page tables. Physical reads are not cached:
// a physical address has no stop-long meaning that virtual memory's cache
// could keep consistent with device memory, and !db/!pte read little.

// ReadPhysical reads n bytes of physical memory at addr with a caching
// mode (kdproto.CacheDefault...). ok[i] says whether byte i could be
// read: a refused page does not hide the pages after it. Errors of the
// link are returned.
func (t *Target) ReadPhysical(ctx context.Context, addr uint64, n int, mode uint32) ([]byte, []bool, error) {
	s, err := t.needStopped()
	if err != nil {
		return nil, nil, err
	}
	if n < 0 || n > MaxRead {
		return nil, nil, fmt.Errorf("a read of %d bytes is too large (at most %d at once)", n, MaxRead)
	}
	data := make([]byte, n)
	ok := make([]bool, n)
	for off := 0; off < n; {
		b, err := s.eng.ReadPhysical(ctx, addr+uint64(off), n-off, mode)
		copy(data[off:], b)
		for i := off; i < off+len(b) && i < n; i++ {
			ok[i] = true
		}
		off += len(b)
		if err == nil {
			break
		}
		var st kdproto.Status
		if !errors.As(err, &st) {
			return nil, nil, err
		}
		// Skip the refused byte's page.
		bad := addr + uint64(off)
		next := (bad | (pageSize - 1)) + 1
		if next <= bad {
			break
		}
		off += int(min(next-bad, uint64(n-off)))
	}
	return data, ok, nil
}

// WritePhysical writes data to physical memory at addr with a caching
// mode (kdproto.CacheDefault...). A partial write
// reports the first address that failed. The virtual memory cache is
// emptied: the bytes may be mapped anywhere.
func (t *Target) WritePhysical(ctx context.Context, addr uint64, data []byte, mode uint32) error {
	s, err := t.needStopped()
	if err != nil {
		return err
	}
	s.mem.clear()
	if _, err := s.eng.WritePhysical(ctx, addr, data, mode); err != nil {
		var me *kdproto.MemoryError
		var st kdproto.Status
		if errors.As(err, &me) && me.Done < len(data) && errors.As(err, &st) {
			return &PhysicalAccessError{Addr: addr + uint64(me.Done)}
		}
		return err
	}
	return nil
}

// PhysicalAccessError says the target refused physical memory at Addr.
type PhysicalAccessError struct{ Addr uint64 }

func (e *PhysicalAccessError) Error() string {
	return fmt.Sprintf("physical memory access error at #%x", e.Addr)
}

// NonCanonicalError says an address is not a canonical x64 address.
type NonCanonicalError struct{ Addr uint64 }

func (e *NonCanonicalError) Error() string {
	return fmt.Sprintf("%08x`%08x is not a canonical x64 address", e.Addr>>32, uint32(e.Addr))
}

// Bits of an x64 page-table entry.
const (
	PTEValid    = 1 << 0
	PTEWrite    = 1 << 1
	PTEUser     = 1 << 2
	PTEWriteThr = 1 << 3
	PTENoCache  = 1 << 4
	PTEAccessed = 1 << 5
	PTEDirty    = 1 << 6
	PTELarge    = 1 << 7
	PTEGlobal   = 1 << 8
	PTECopyOnWr = 1 << 9 // a software bit Windows uses for copy-on-write
	PTENoExec   = 1 << 63
	// PTEFrameMask selects the physical frame address of an entry.
	PTEFrameMask = 0x000FFFFFFFFFF000
)

// PageLevel names the four levels of x64 paging in KD's words.
var PageLevel = [4]string{"PXE", "PPE", "PDE", "PTE"}

// PageEntry is one entry read during a page walk.
type PageEntry struct {
	Level int    // 0 PXE (PML4E), 1 PPE (PDPTE), 2 PDE, 3 PTE
	Addr  uint64 // physical address of the entry
	Value uint64
	Read  bool // false when the target refused the entry's memory
}

// PageWalk is the translation of one virtual address through the page
// tables rooted at DirBase.
type PageWalk struct {
	VA      uint64
	DirBase uint64 // the PML4's physical address (CR3 without flags)
	Entries []PageEntry
	// Valid: every entry on the way was present; Phys is then the
	// physical address of VA and PageSize the size of its page.
	Valid    bool
	Phys     uint64
	PageSize uint64
}

// Canonical reports whether va is a canonical 48-bit x64 address.
func Canonical(va uint64) bool {
	top := va >> 47
	return top == 0 || top == 0x1FFFF
}

// WalkPageTables translates va through the 4-level page tables whose
// PML4 is at dirBase (a CR3 value; its low 12 bits are ignored), reading
// each entry from physical memory. A not-present entry ends the walk; a
// large page (PS in a PPE or PDE) maps 1 GiB or 2 MiB.
func (t *Target) WalkPageTables(ctx context.Context, dirBase, va uint64) (PageWalk, error) {
	w := PageWalk{VA: va, DirBase: dirBase & PTEFrameMask}
	if !Canonical(va) {
		return w, &NonCanonicalError{Addr: va}
	}
	table := w.DirBase
	for level := 0; level < 4; level++ {
		shift := 39 - 9*uint(level)
		at := table + ((va>>shift)&0x1FF)*8
		b, ok, err := t.ReadPhysical(ctx, at, 8, kdproto.CacheDefault)
		if err != nil {
			return w, err
		}
		e := PageEntry{Level: level, Addr: at, Read: ok[0] && ok[7]}
		if e.Read {
			e.Value = binary.LittleEndian.Uint64(b)
		}
		w.Entries = append(w.Entries, e)
		if !e.Read || e.Value&PTEValid == 0 {
			return w, nil
		}
		if level == 3 || (level >= 1 && e.Value&PTELarge != 0) {
			w.PageSize = 1 << shift
			w.Phys = e.Value&PTEFrameMask&^(w.PageSize-1) | va&(w.PageSize-1)
			w.Valid = true
			return w, nil
		}
		table = e.Value & PTEFrameMask
	}
	return w, nil
}

// SelfMapIndex finds the PML4 entry that maps the page tables themselves
// (the entry that points back at the PML4), which places the PXE, PPE,
// PDE and PTE of every address in virtual memory. ok is false when the
// PML4 has none.
func (t *Target) SelfMapIndex(ctx context.Context, dirBase uint64) (idx uint64, ok bool, err error) {
	base := dirBase & PTEFrameMask
	b, good, err := t.ReadPhysical(ctx, base, pageSize, kdproto.CacheDefault)
	if err != nil {
		return 0, false, err
	}
	for i := 0; i < 512; i++ {
		if !good[i*8] || !good[i*8+7] {
			continue
		}
		e := binary.LittleEndian.Uint64(b[i*8:])
		if e&PTEValid != 0 && e&PTEFrameMask == base {
			return uint64(i), true, nil
		}
	}
	return 0, false, nil
}

// SelfMapAddr returns the virtual address of va's level entry (0 PXE ...
// 3 PTE) when the page tables map themselves at PML4 index self.
func SelfMapAddr(self uint64, level int, va uint64) uint64 {
	sign := func(v uint64) uint64 {
		if v&(1<<47) != 0 {
			return v | 0xFFFF000000000000
		}
		return v
	}
	// The PTE base is self<<39; each level up applies the mapping again.
	vpn := (va & 0x0000FFFFFFFFFFFF) >> 12 // 36 bits of page number
	addr := sign(self<<39) + vpn*8
	for l := 3; l > level; l-- {
		vpn = ((addr & 0x0000FFFFFFFFFFFF) >> 12)
		addr = sign(self<<39) + vpn*8
	}
	return addr
}

// SelfMapTarget returns the virtual address whose PTE lies at pte when the
// page tables map themselves at PML4 index self; ok is false when pte is
// not inside the page-table region.
func SelfMapTarget(self, pte uint64) (va uint64, ok bool) {
	if (pte>>39)&0x1FF != self || !Canonical(pte) {
		return 0, false
	}
	va = ((pte & 0x7FFFFFFFF8) >> 3) << 12 // 36 bits of page number
	if va&(1<<47) != 0 {
		va |= 0xFFFF000000000000
	}
	return va, true
}
