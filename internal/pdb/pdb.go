package pdb

import (
	"errors"
	"fmt"
	"sync"
)

// ErrClosed is returned by queries on a closed File.
var ErrClosed = errors.New("pdb file is closed")

// MismatchError says a PDB is not the one an image was linked with.
type MismatchError struct {
	Want, Have       GUID
	WantAge, HaveAge uint32
}

func (e *MismatchError) Error() string {
	if e.Want != e.Have {
		return fmt.Sprintf("pdb GUID %s does not match the image's %s", e.Have, e.Want)
	}
	return fmt.Sprintf("pdb age %d does not match the image's age %d", e.HaveAge, e.WantAge)
}

// File is an open PDB. Its methods are safe for concurrent use; results
// are copies that stay valid after Close.
type File struct {
	mu     sync.RWMutex // held for reading by queries, for writing by Close
	closed bool
	path   string
	src    *source
	msf    *msf
	info   Info
	dbi    *dbi

	secOnce  sync.Once
	secs     []Section
	omap     []omapEntry
	secErr   error
	imageSec []Section // from the image, when the PDB has no section headers

	symOnce sync.Once
	syms    *symIndex
	symErr  error

	typOnce sync.Once
	tpi     *tpi
	typErr  error
}

// Open opens the PDB at path and reads its identity and DBI stream.
// Symbols and types are read on first use.
func Open(path string) (*File, error) {
	src, err := openSource(path)
	if err != nil {
		return nil, err
	}
	f, err := newFile(src)
	if err != nil {
		src.close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.path = path
	return f, nil
}

func newFile(src *source) (*File, error) {
	m, err := readMSF(src)
	if err != nil {
		return nil, err
	}
	f := &File{src: src, msf: m}
	b, err := m.stream(streamPDB, "PDB info stream")
	if err != nil {
		return nil, err
	}
	if f.info, err = parseInfo(b); err != nil {
		return nil, err
	}
	if m.numStreams() <= streamDBI || m.sizes[streamDBI] == 0 {
		return nil, formatErr("DBI stream", "the file has no DBI stream (a type-only PDB?)")
	}
	b, err = m.stream(streamDBI, "DBI stream")
	if err != nil {
		return nil, err
	}
	if f.dbi, err = parseDBI(b); err != nil {
		return nil, err
	}
	return f, nil
}

// Close unmaps and closes the file. Later queries return ErrClosed.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	return f.src.close()
}

// Path is the file name Open was given.
func (f *File) Path() string { return f.path }

// Info returns the PDB info stream: version, signature, age, GUID and the
// named streams.
func (f *File) Info() Info { return f.info }

// Age is the DBI stream's age, which matchers compare when it differs
// from the PDB info stream's.
func (f *File) Age() uint32 { return f.dbi.age }

// Machine is the DBI stream's machine type (0x8664 for x64).
func (f *File) Machine() uint16 { return f.dbi.machine }

// Modules lists the DBI modules (object files) in order.
func (f *File) Modules() []Module { return append([]Module(nil), f.dbi.modules...) }

// Match reports whether this PDB belongs to an image whose RSDS record
// holds guid and age: the GUIDs must be equal and the age must equal the
// PDB info stream's age or, failing that, the DBI stream's.
func (f *File) Match(guid GUID, age uint32) error {
	if guid != f.info.GUID || (age != f.info.Age && age != f.dbi.age) {
		return &MismatchError{Want: guid, Have: f.info.GUID, WantAge: age, HaveAge: f.info.Age}
	}
	return nil
}

// UseImageSections supplies the image's section table for a PDB that has
// no section header stream. It must be called before the first symbol
// query and is ignored when the PDB has its own headers.
func (f *File) UseImageSections(secs []Section) {
	f.mu.Lock()
	f.imageSec = append([]Section(nil), secs...)
	f.mu.Unlock()
}

// Sections returns the section headers symbols are placed with.
func (f *File) Sections() ([]Section, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.closed {
		return nil, ErrClosed
	}
	if err := f.loadSections(); err != nil {
		return nil, err
	}
	return append([]Section(nil), f.secs...), nil
}

// loadSections reads the section headers and the OMAP once.
func (f *File) loadSections() error {
	f.secOnce.Do(func() {
		// With an OMAP, symbols refer to the original sections.
		hdr := f.dbi.dbgStream(dbgSectionHdr)
		if om := f.dbi.dbgStream(dbgOmapFromSrc); om >= 0 {
			b, err := f.msf.stream(om, "OMAP stream")
			if err != nil {
				f.secErr = err
				return
			}
			f.omap = parseOMAP(b)
			if orig := f.dbi.dbgStream(dbgSectionHdrOrg); orig >= 0 {
				hdr = orig
			}
		}
		if hdr < 0 {
			if f.imageSec == nil {
				f.secErr = formatErr("DBI stream", "no section header stream, and no image sections were supplied")
			}
			f.secs = f.imageSec
			return
		}
		b, err := f.msf.stream(hdr, "section header stream")
		if err != nil {
			f.secErr = err
			return
		}
		f.secs, f.secErr = parseSections(b)
	})
	return f.secErr
}

// rva converts a 1-based section number and offset to an image RVA.
func (f *File) rva(seg uint16, off uint32) (uint32, bool) {
	if seg == 0 || int(seg) > len(f.secs) {
		return 0, false
	}
	r := f.secs[seg-1].VirtualAddress + off
	if f.omap != nil {
		return translateOMAP(f.omap, r)
	}
	return r, true
}

// translateOMAP maps r through an OMAP table; ok is false for code the
// optimizer dropped.
func translateOMAP(o []omapEntry, r uint32) (uint32, bool) {
	lo, hi := 0, len(o)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if o[m].from <= r {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 || o[lo-1].to == 0 {
		return 0, false
	}
	return o[lo-1].to + (r - o[lo-1].from), true
}

// rlock takes the read lock for a query; on a closed file it returns
// ErrClosed without holding the lock.
func (f *File) rlock() error {
	f.mu.RLock()
	if f.closed {
		f.mu.RUnlock()
		return ErrClosed
	}
	return nil
}

// openBytes opens a PDB held in memory (tests and fuzzing).
func openBytes(b []byte) (*File, error) { return newFile(bytesSource(b)) }
