package pdb

import "encoding/binary"

// CodeView symbol record kinds kd reads.
const (
	sEnd        = 0x0006
	sBlock32    = 0x1103
	sThunk32    = 0x1102
	sWith32     = 0x1104
	sUDT        = 0x1108
	sConstant   = 0x1107
	sLData32    = 0x110C
	sGData32    = 0x110D
	sPub32      = 0x110E
	sLProc32    = 0x110F
	sGProc32    = 0x1110
	sLThread32  = 0x1112
	sGThread32  = 0x1113
	sProcRef    = 0x1125
	sDataRef    = 0x1126
	sLProcRef   = 0x1127
	sLProc32ID  = 0x1146
	sGProc32ID  = 0x1147
	sSepCode    = 0x1132
	sInlineSite = 0x114D
	sInlineEnd  = 0x114E
	sProcIDEnd  = 0x114F
	sInlineSit2 = 0x115D
)

// walkRecords calls fn for each symbol record in b from offset start
// (offsets are from the start of b). It stops when fn returns false and
// reports a record whose length runs past the data.
func walkRecords(b []byte, start int, what string, fn func(off int, kind uint16, body []byte) bool) error {
	off := start
	for off+4 <= len(b) {
		n := int(binary.LittleEndian.Uint16(b[off:]))
		if n < 2 {
			if n == 0 && allZero(b[off:]) {
				return nil // trailing padding
			}
			return formatErr(what, "symbol record at offset %d has length %d", off, n)
		}
		if off+2+n > len(b) {
			return formatErr(what, "symbol record at offset %d (%d bytes) runs past the end of the stream (%d bytes)", off, n+2, len(b))
		}
		kind := binary.LittleEndian.Uint16(b[off+2:])
		if !fn(off, kind, b[off+4:off+2+n]) {
			return nil
		}
		off += 2 + n
	}
	return nil
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// procSym is the common part of S_GPROC32, S_LPROC32 and their _ID forms.
type procSym struct {
	end      uint32
	codeSize uint32
	typ      uint32
	offset   uint32
	segment  uint16
	name     string
}

func decodeProc(body []byte) (procSym, bool) {
	c := &cursor{b: body}
	var p procSym
	c.u32() // parent
	p.end = c.u32()
	c.u32() // next
	p.codeSize = c.u32()
	c.u32() // debug start
	c.u32() // debug end
	p.typ = c.u32()
	p.offset = c.u32()
	p.segment = c.u16()
	c.u8() // flags
	p.name = c.cstr()
	return p, !c.bad
}

// dataSym is S_PUB32 (typ holds the flags), S_GDATA32, S_LDATA32 and the
// thread-local forms: a section:offset and a name.
type dataSym struct {
	typ     uint32
	offset  uint32
	segment uint16
	name    string
}

func decodeData(body []byte) (dataSym, bool) {
	c := &cursor{b: body}
	var d dataSym
	d.typ = c.u32()
	d.offset = c.u32()
	d.segment = c.u16()
	d.name = c.cstr()
	return d, !c.bad
}
