package pdb

import "encoding/binary"

// TypeIndex names a type: below 0x1000 a built-in ("simple") type, from
// 0x1000 a record in the TPI stream.
type TypeIndex uint32

const (
	tpiHeaderSize = 56
	tpiFirst      = 0x1000
	// maxTypes bounds the record count a header may claim; the count is
	// also checked against the record bytes (each record is >= 4 bytes).
	maxTypes = 1 << 24
)

// Type record kinds.
const (
	lfModifier   = 0x1001
	lfPointer    = 0x1002
	lfProcedure  = 0x1008
	lfMFunction  = 0x1009
	lfArgList    = 0x1201
	lfFieldList  = 0x1203
	lfBitfield   = 0x1205
	lfMethodList = 0x1206
	lfBClass     = 0x1400
	lfVBClass    = 0x1401
	lfIVBClass   = 0x1402
	lfIndex      = 0x1404
	lfVFuncTab   = 0x1409
	lfEnumerate  = 0x1502
	lfArray      = 0x1503
	lfClass      = 0x1504
	lfStructure  = 0x1505
	lfUnion      = 0x1506
	lfEnum       = 0x1507
	lfMember     = 0x150D
	lfSTMember   = 0x150E
	lfMethod     = 0x150F
	lfNestType   = 0x1510
	lfOneMethod  = 0x1511
	lfInterface  = 0x1519
	lfVTShape    = 0x000A
)

// Property bits of LF_CLASS/STRUCTURE/UNION/ENUM.
const (
	propForward    = 1 << 7
	propUniqueName = 1 << 9
)

// tpi is the type stream: record offsets by index, and the index of each
// complete user-defined type by name.
type tpi struct {
	data    []byte   // the records (after the header)
	begin   uint32   // first type index
	offsets []uint32 // offsets of records in data
	// full maps a UDT's unique name (or its name, when it has none) to
	// its complete definition; byName maps the plain names of the UDTs
	// that have a unique name. C types (the kernel's) have none, so one
	// map serves them.
	full   map[string]TypeIndex
	byName map[string]TypeIndex
	// newUDTs counts LF_CLASS2-family records (0x1608-0x160B, newer
	// compilers), whose layout kd does not know.
	newUDTs int
}

// parseTPI indexes the records of a TPI stream in one pass.
func parseTPI(b []byte) (*tpi, error) {
	c := &cursor{b: b}
	ver := c.u32()
	hdrSize := c.u32()
	begin := c.u32()
	end := c.u32()
	recBytes := c.u32()
	if c.bad {
		return nil, formatErr("TPI stream", "%d bytes, shorter than its header", len(b))
	}
	_ = ver
	if hdrSize < tpiHeaderSize || hdrSize > uint32(len(b)) {
		return nil, formatErr("TPI stream", "header size %d, stream is %d bytes", hdrSize, len(b))
	}
	if recBytes > uint32(len(b))-hdrSize {
		return nil, formatErr("TPI stream", "%d bytes of records claimed, %d present", recBytes, uint32(len(b))-hdrSize)
	}
	if begin != tpiFirst || end < begin || end-begin > maxTypes || (end-begin) > recBytes/4 {
		return nil, formatErr("TPI stream", "type index range 0x%x-0x%x does not fit %d bytes of records", begin, end, recBytes)
	}
	t := &tpi{
		data:    b[hdrSize : hdrSize+recBytes],
		begin:   begin,
		offsets: make([]uint32, 0, end-begin),
		full:    make(map[string]TypeIndex),
		byName:  make(map[string]TypeIndex),
	}
	off := 0
	for off+4 <= len(t.data) && len(t.offsets) < int(end-begin) {
		n := int(binary.LittleEndian.Uint16(t.data[off:]))
		if n < 2 || off+2+n > len(t.data) {
			return nil, formatErr("TPI stream", "type 0x%x: record length %d at offset %d runs past the records", begin+uint32(len(t.offsets)), n, off)
		}
		ti := TypeIndex(begin + uint32(len(t.offsets)))
		t.offsets = append(t.offsets, uint32(off))
		kind := binary.LittleEndian.Uint16(t.data[off+2:])
		if kind >= 0x1608 && kind <= 0x160B {
			t.newUDTs++
		}
		t.noteUDT(ti, kind, t.data[off+4:off+2+n])
		off += 2 + n
	}
	if len(t.offsets) != int(end-begin) {
		return nil, formatErr("TPI stream", "header promises %d types, records hold %d", end-begin, len(t.offsets))
	}
	return t, nil
}

// noteUDT records a complete struct/class/union/enum by name.
func (t *tpi) noteUDT(ti TypeIndex, kind uint16, body []byte) {
	switch kind {
	case lfClass, lfStructure, lfInterface, lfUnion, lfEnum:
		if len(body) < 4 || binary.LittleEndian.Uint16(body[2:])&propForward != 0 {
			return // forward references are resolved, not indexed
		}
	default:
		return
	}
	name, unique, prop, ok := udtNames(kind, body)
	if !ok {
		return
	}
	if prop&propUniqueName == 0 || unique == "" {
		if _, dup := t.full[name]; !dup {
			t.full[name] = ti
		}
		return
	}
	if _, dup := t.full[unique]; !dup {
		t.full[unique] = ti
	}
	if _, dup := t.byName[name]; !dup {
		t.byName[name] = ti
	}
}

// lookupName finds a complete UDT by plain name.
func (t *tpi) lookupName(name string) (TypeIndex, bool) {
	if ti, ok := t.byName[name]; ok {
		return ti, true
	}
	ti, ok := t.full[name]
	return ti, ok
}

// udtNames decodes the name, unique name and property of a UDT record.
func udtNames(kind uint16, body []byte) (name, unique string, prop uint16, ok bool) {
	c := &cursor{b: body}
	switch kind {
	case lfClass, lfStructure, lfInterface:
		c.u16()
		prop = c.u16()
		c.skip(12)
		if _, _, err := numeric(c); err != nil {
			return "", "", 0, false
		}
	case lfUnion:
		c.u16()
		prop = c.u16()
		c.skip(4)
		if _, _, err := numeric(c); err != nil {
			return "", "", 0, false
		}
	case lfEnum:
		c.u16()
		prop = c.u16()
		c.skip(8)
	default:
		return "", "", 0, false
	}
	name = c.cstr()
	if prop&propUniqueName != 0 {
		unique = c.cstr()
	}
	return name, unique, prop, !c.bad
}

// record returns the kind and body of type ti.
func (t *tpi) record(ti TypeIndex) (uint16, []byte, bool) {
	if uint32(ti) < t.begin || uint64(ti)-uint64(t.begin) >= uint64(len(t.offsets)) {
		return 0, nil, false
	}
	off := int(t.offsets[uint32(ti)-t.begin])
	n := int(binary.LittleEndian.Uint16(t.data[off:]))
	return binary.LittleEndian.Uint16(t.data[off+2:]), t.data[off+4 : off+2+n], true
}
