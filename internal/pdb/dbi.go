package pdb

import (
	"bytes"
	"encoding/binary"
)

const (
	dbiHeaderSize  = 64
	modInfoFixed   = 64
	sectionHdrSize = 40
	noStream       = 0xFFFF
	// Indices into the optional debug header's stream list.
	dbgOmapFromSrc   = 4
	dbgSectionHdr    = 5
	dbgSectionHdrOrg = 10
)

// Module is one object file or library member that contributed to the
// image, with the stream holding its symbols.
type Module struct {
	Name      string // object path, or "* Linker *"
	ObjFile   string // library path for library members, else Name
	symStream uint16 // 0xFFFF when the module has no symbols
	symBytes  uint32 // bytes of symbols in the stream (incl. the signature)
}

// Section is a section header copied into the PDB by the linker.
type Section struct {
	Name            string
	VirtualSize     uint32
	VirtualAddress  uint32
	Characteristics uint32
}

// dbi is the decoded DBI stream.
type dbi struct {
	age        uint32
	machine    uint16
	globals    uint16
	publics    uint16
	symRecords uint16
	modules    []Module
	dbgStreams []uint16 // optional debug header: FPO, exception, ... section headers
}

// dbgStream returns the optional debug header's stream number at index i,
// or -1 when absent.
func (d *dbi) dbgStream(i int) int {
	if i >= len(d.dbgStreams) || d.dbgStreams[i] == noStream {
		return -1
	}
	return int(d.dbgStreams[i])
}

// parseDBI decodes the header, module list and optional debug header.
func parseDBI(b []byte) (*dbi, error) {
	c := &cursor{b: b}
	sig := int32(c.u32())
	ver := c.u32()
	d := &dbi{}
	d.age = c.u32()
	d.globals = c.u16()
	c.u16() // build number
	d.publics = c.u16()
	c.u16() // PDB DLL version
	d.symRecords = c.u16()
	c.u16()            // PDB DLL rebuild
	var sizes [7]int32 // ModInfo, SectionContribution, SectionMap, SourceInfo, TypeServerMap, MFC index (unused here), OptionalDbgHeader
	sizes[0] = int32(c.u32())
	sizes[1] = int32(c.u32())
	sizes[2] = int32(c.u32())
	sizes[3] = int32(c.u32())
	sizes[4] = int32(c.u32())
	c.u32() // MFC type server index
	sizes[6] = int32(c.u32())
	ecSize := int32(c.u32())
	c.u16() // flags
	d.machine = c.u16()
	c.u32()
	if c.bad {
		return nil, formatErr("DBI stream", "%d bytes, shorter than its header", len(b))
	}
	if sig != -1 {
		return nil, formatErr("DBI stream", "version signature %d, want -1 (only the new DBI format is supported)", sig)
	}
	_ = ver
	// Substreams follow the header in this order.
	order := []int32{sizes[0], sizes[1], sizes[2], sizes[3], sizes[4], ecSize, sizes[6]}
	names := []string{"module info", "section contributions", "section map", "source info", "type server map", "EC substream", "optional debug header"}
	var sub [7][]byte
	for i, n := range order {
		if n < 0 || int(n) > c.left() {
			return nil, formatErr("DBI stream", "%s substream size %d exceeds the %d bytes left", names[i], n, c.left())
		}
		sub[i] = c.bytes(int(n))
	}
	mods, err := parseModules(sub[0])
	if err != nil {
		return nil, err
	}
	d.modules = mods
	dh := sub[6]
	d.dbgStreams = make([]uint16, len(dh)/2)
	for i := range d.dbgStreams {
		d.dbgStreams[i] = binary.LittleEndian.Uint16(dh[2*i:])
	}
	return d, nil
}

// parseModules decodes the module info substream.
func parseModules(b []byte) ([]Module, error) {
	c := &cursor{b: b}
	var mods []Module
	for c.left() > 0 {
		if c.left() < modInfoFixed {
			return nil, formatErr("DBI stream", "module %d: %d bytes left, record needs %d", len(mods), c.left(), modInfoFixed)
		}
		c.skip(4 + 28 + 2) // unused, section contribution, flags
		var m Module
		m.symStream = c.u16()
		m.symBytes = c.u32()
		c.skip(4 + 4 + 2 + 2 + 4 + 4 + 4) // C11, C13 sizes, file count, pad, unused, name indices
		m.Name = c.cstr()
		m.ObjFile = c.cstr()
		c.align(4)
		if c.bad {
			return nil, formatErr("DBI stream", "module %d record is truncated", len(mods))
		}
		mods = append(mods, m)
	}
	return mods, nil
}

// parseSections decodes IMAGE_SECTION_HEADER records.
func parseSections(b []byte) ([]Section, error) {
	if len(b)%sectionHdrSize != 0 {
		return nil, formatErr("section header stream", "%d bytes is not a whole number of %d-byte headers", len(b), sectionHdrSize)
	}
	secs := make([]Section, len(b)/sectionHdrSize)
	for i := range secs {
		h := b[i*sectionHdrSize:]
		name := h[:8]
		if j := bytes.IndexByte(name, 0); j >= 0 {
			name = name[:j]
		}
		secs[i] = Section{
			Name:            string(name),
			VirtualSize:     binary.LittleEndian.Uint32(h[8:]),
			VirtualAddress:  binary.LittleEndian.Uint32(h[12:]),
			Characteristics: binary.LittleEndian.Uint32(h[36:]),
		}
	}
	return secs, nil
}

// omapEntry maps a pre-optimization RVA to a final one.
type omapEntry struct{ from, to uint32 }

// parseOMAP decodes an OMAP stream (pairs sorted by from).
func parseOMAP(b []byte) []omapEntry {
	o := make([]omapEntry, len(b)/8)
	for i := range o {
		o[i] = omapEntry{binary.LittleEndian.Uint32(b[8*i:]), binary.LittleEndian.Uint32(b[8*i+4:])}
	}
	return o
}
