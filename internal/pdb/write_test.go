package pdb

import "encoding/binary"

// This file writes synthetic PDBs for tests, fuzz seeds and benchmarks:
// an MSF container around streams built with the helpers below.

// le is a little-endian byte builder.
type le []byte

func (b le) u8(v uint8) le   { return append(b, v) }
func (b le) u16(v uint16) le { return binary.LittleEndian.AppendUint16(b, v) }
func (b le) u32(v uint32) le { return binary.LittleEndian.AppendUint32(b, v) }
func (b le) u64(v uint64) le { return binary.LittleEndian.AppendUint64(b, v) }
func (b le) str(s string) le { return append(append(b, s...), 0) }
func (b le) pad4() le {
	for len(b)%4 != 0 {
		b = append(b, byte(0xF0+4-len(b)%4))
	}
	return b
}

// numLeaf appends v as a numeric leaf.
func (b le) num(v uint64) le {
	switch {
	case v < 0x8000:
		return b.u16(uint16(v))
	case v <= 0xFFFF:
		return b.u16(0x8002).u16(uint16(v))
	case v <= 0xFFFFFFFF:
		return b.u16(0x8004).u32(uint32(v))
	}
	return b.u16(0x800A).u64(v)
}

// record wraps a kind and payload as a CodeView record padded to 4.
func record(kind uint16, payload le) le {
	body := le(nil).u16(kind)
	body = append(body, payload...)
	for (len(body)+2)%4 != 0 {
		body = append(body, byte(0xF0+4-(len(body)+2)%4))
	}
	return le(nil).u16(uint16(len(body))).append(body)
}

func (b le) append(x []byte) le { return append(b, x...) }

// msfFile lays streams out in an MSF 7.00 file with the given block
// size, skipping the free-page-map blocks of every interval.
func msfFile(bs int, streams [][]byte) []byte {
	next := 3 // block 0 superblock, 1-2 free page map
	alloc := func(n int) []uint32 {
		var out []uint32
		for len(out) < n {
			if next%bs == 1 || next%bs == 2 {
				next++
				continue
			}
			out = append(out, uint32(next))
			next++
		}
		return out
	}
	blocks := make([][]uint32, len(streams))
	for i, s := range streams {
		blocks[i] = alloc((len(s) + bs - 1) / bs)
	}
	dir := le(nil).u32(uint32(len(streams)))
	for _, s := range streams {
		if s == nil {
			dir = dir.u32(nilStreamSize)
		} else {
			dir = dir.u32(uint32(len(s)))
		}
	}
	for _, bl := range blocks {
		for _, b := range bl {
			dir = dir.u32(b)
		}
	}
	dirBlocks := alloc((len(dir) + bs - 1) / bs)
	mapBlock := alloc(1)[0]
	file := make([]byte, next*bs)
	sb := le(nil).append(msfMagic).u32(uint32(bs)).u32(1).u32(uint32(next)).u32(uint32(len(dir))).u32(0).u32(mapBlock)
	copy(file, sb)
	put := func(data []byte, bl []uint32) {
		for i, b := range bl {
			copy(file[int(b)*bs:], data[i*bs:min(len(data), (i+1)*bs)])
		}
	}
	for i, s := range streams {
		put(s, blocks[i])
	}
	put(dir, dirBlocks)
	m := le(nil)
	for _, b := range dirBlocks {
		m = m.u32(b)
	}
	copy(file[int(mapBlock)*bs:], m)
	return file
}

// synth describes a synthetic PDB.
type synth struct {
	blockSize int
	guid      GUID
	age       uint32
	sections  []Section
	symRec    le   // symbol record stream
	module    le   // one module's symbols (after the signature)
	types     []le // TPI records, from index 0x1000
	omap      []omapEntry
	noSecHdr  bool // leave out the section header stream
}

// build writes the PDB: streams 0 (old directory, empty), PDB, TPI, DBI,
// IPI, section headers, symbol records, module symbols, OMAP.
func (s *synth) build() []byte {
	bs := s.blockSize
	if bs == 0 {
		bs = 4096
	}
	info := le(nil).u32(20000404).u32(0x12345678).u32(s.age).append(s.guid[:])
	names := le(nil).str("/names")
	info = info.u32(uint32(len(names))).append(names)
	info = info.u32(1).u32(1).u32(1).u32(1).u32(0).u32(0).u32(9) // one entry -> stream 9
	info = info.u32(20140508)

	tpi := s.tpiStream()
	ipi := le(nil).u32(20040203).u32(tpiHeaderSize).u32(tpiFirst).u32(tpiFirst).u32(0)
	ipi = append(ipi, make([]byte, tpiHeaderSize-len(ipi))...)

	var secs le
	for _, sec := range s.sections {
		var name [8]byte
		copy(name[:], sec.Name)
		secs = secs.append(name[:]).u32(sec.VirtualSize).u32(sec.VirtualAddress)
		secs = append(secs, make([]byte, 20)...)
		secs = secs.u32(sec.Characteristics)
	}
	mod := le(nil).u32(4).append(s.module)

	const (
		stSecHdr = 5
		stSymRec = 6
		stModule = 7
		stOMAP   = 8
	)
	modInfo := le(nil).u32(0).append(make([]byte, 28)).u16(0).u16(stModule).u32(uint32(len(mod))).
		u32(0).u32(0).u16(0).u16(0).u32(0).u32(0).u32(0).str("synth.obj").str("synth.obj").pad4()
	dbgHdr := le(nil)
	for i := range 11 {
		switch {
		case i == dbgSectionHdr && !s.noSecHdr:
			dbgHdr = dbgHdr.u16(stSecHdr)
		case i == dbgOmapFromSrc && s.omap != nil:
			dbgHdr = dbgHdr.u16(stOMAP)
		default:
			dbgHdr = dbgHdr.u16(noStream)
		}
	}
	dbi := le(nil).u32(0xFFFFFFFF).u32(19990903).u32(s.age).
		u16(noStream).u16(0x8e00).u16(noStream).u16(0).u16(stSymRec).u16(0).
		u32(uint32(len(modInfo))).u32(0).u32(0).u32(0).u32(0).u32(0).u32(uint32(len(dbgHdr))).u32(0).
		u16(0).u16(0x8664).u32(0)
	dbi = dbi.append(modInfo).append(dbgHdr)

	var omap le
	for _, e := range s.omap {
		omap = omap.u32(e.from).u32(e.to)
	}
	streams := [][]byte{{}, info, tpi, dbi, ipi, secs, s.symRec, mod, omap, le(nil).u32(0xEFFEEFFE)}
	if s.omap == nil {
		streams[stOMAP] = nil
	}
	return msfFile(bs, streams)
}

func (s *synth) tpiStream() le {
	var recs le
	for _, r := range s.types {
		recs = recs.append(r)
	}
	h := le(nil).u32(20040203).u32(tpiHeaderSize).u32(tpiFirst).u32(tpiFirst + uint32(len(s.types))).u32(uint32(len(recs)))
	h = h.u16(noStream).u16(noStream).u32(4).u32(0x3FFFF).u32(0).u32(0).u32(0).u32(0).u32(0).u32(0)
	return h.append(recs)
}

// Record builders.

func pub32(name string, seg uint16, off uint32, code bool) le {
	flags := uint32(0)
	if code {
		flags = 2
	}
	return record(sPub32, le(nil).u32(flags).u32(off).u16(seg).str(name))
}

func data32(kind uint16, name string, typ uint32, seg uint16, off uint32) le {
	return record(kind, le(nil).u32(typ).u32(off).u16(seg).str(name))
}

// proc32 writes a procedure and its S_END; end is filled with the
// offset the S_END will have when base is the record's stream offset.
func proc32(kind uint16, name string, seg uint16, off, size, typ uint32, base int) le {
	p := func(end uint32) le {
		return record(kind, le(nil).u32(0).u32(end).u32(0).u32(size).u32(0).u32(0).u32(typ).u32(off).u16(seg).u8(0).str(name))
	}
	first := p(0)
	rec := p(uint32(base + len(first)))
	return rec.append(record(sEnd, nil))
}

func mkStruct(kind uint16, name string, fieldList uint32, size uint64, forward bool) le {
	prop := uint16(0)
	if forward {
		prop = propForward
	}
	b := le(nil).u16(0).u16(prop).u32(fieldList)
	if kind != lfUnion {
		b = b.u32(0).u32(0)
	}
	return record(kind, b.num(size).str(name))
}

type member struct {
	name string
	typ  uint32
	off  uint64
}

func mkFieldList(ms ...member) le {
	b := le(nil)
	for _, m := range ms {
		b = b.u16(lfMember).u16(3).u32(m.typ).num(m.off).str(m.name).pad4()
	}
	return record(lfFieldList, b)
}

func mkPointer(to uint32) le { return record(lfPointer, le(nil).u32(to).u32(0x0C|8<<13)) }

func mkArray(elem uint32, size uint64) le {
	return record(lfArray, le(nil).u32(elem).u32(0x23).num(size).str(""))
}

func mkBitfield(typ uint32, pos, n uint8) le {
	return record(lfBitfield, le(nil).u32(typ).u8(n).u8(pos))
}

// smallSynth is a compact PDB with one of everything, for seeds and
// targeted corruption.
func smallSynth() *synth {
	s := &synth{
		blockSize: 512,
		guid:      GUID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		age:       3,
		sections: []Section{
			{Name: ".text", VirtualSize: 0x1000, VirtualAddress: 0x1000, Characteristics: 0x60000020},
			{Name: ".data", VirtualSize: 0x800, VirtualAddress: 0x3000, Characteristics: 0xC0000040},
		},
	}
	s.symRec = s.symRec.append(pub32("Alpha", 1, 0x10, true)).append(pub32("Beta", 1, 0x40, true)).
		append(data32(sGData32, "Gamma", 0x1003, 2, 0x8))
	s.module = s.module.append(proc32(sGProc32, "Alpha", 1, 0x10, 0x20, 0, 4))
	s.module = s.module.append(proc32(sLProc32, "Hidden", 1, 0x80, 0x08, 0, 4+len(s.module)))
	s.types = []le{
		mkStruct(lfStructure, "_NODE", 0, 0, true), // 0x1000 forward
		mkPointer(0x1000),                          // 0x1001
		mkFieldList(member{"Next", 0x1001, 0}, member{"Value", 0x75, 8}, member{"Bits", 0x1004, 12}, member{"Raw", 0x1005, 16}),
		mkStruct(lfStructure, "_NODE", 0x1002, 32, false), // 0x1003
		mkBitfield(0x75, 4, 3), // 0x1004
		mkArray(0x20, 16),      // 0x1005
	}
	return s
}
