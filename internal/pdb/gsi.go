package pdb

import "encoding/binary"

// The publics and globals streams index the symbol-record stream: the
// globals stream is a GSI hash table whose records hold (offset+1) of
// each global; the publics stream is a header, the same kind of hash,
// then an address map of offsets of the S_PUB32 records sorted by
// section and offset.

const (
	gsiHeaderSize = 16
	gsiSignature  = 0xFFFFFFFF
	gsiVersion    = 0xEFFE0000 + 19990810
	psgsiHdrSize  = 28
)

// gsiOffsets returns the symbol-record offsets a GSI hash references.
func gsiOffsets(b []byte, what string) ([]uint32, error) {
	c := &cursor{b: b}
	sig, ver, hrSize := c.u32(), c.u32(), c.u32()
	c.u32() // bucket bytes
	if c.bad {
		return nil, formatErr(what, "%d bytes, shorter than the hash header", len(b))
	}
	if sig != gsiSignature || ver != gsiVersion {
		return nil, formatErr(what, "hash header %#x/%#x is not the GSI V7.0 signature", sig, ver)
	}
	if hrSize%8 != 0 || int64(hrSize) > int64(c.left()) {
		return nil, formatErr(what, "%d bytes of hash records do not fit the %d bytes left", hrSize, c.left())
	}
	out := make([]uint32, hrSize/8)
	for i := range out {
		off := c.u32()
		c.u32() // reference count
		if off == 0 {
			return nil, formatErr(what, "hash record %d has symbol offset 0", i)
		}
		out[i] = off - 1
	}
	return out, nil
}

// publicOffsets returns the publics stream's address map.
func publicOffsets(b []byte) ([]uint32, error) {
	const what = "publics stream"
	c := &cursor{b: b}
	symHash, addrMap := c.u32(), c.u32()
	if c.bad || len(b) < psgsiHdrSize {
		return nil, formatErr(what, "%d bytes, shorter than its header", len(b))
	}
	if int64(symHash) > int64(len(b)-psgsiHdrSize) || int64(addrMap) > int64(len(b)-psgsiHdrSize)-int64(symHash) || addrMap%4 != 0 {
		return nil, formatErr(what, "hash (%d bytes) and address map (%d bytes) do not fit %d bytes", symHash, addrMap, len(b))
	}
	m := b[psgsiHdrSize+int(symHash):][:addrMap]
	out := make([]uint32, len(m)/4)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(m[4*i:])
	}
	return out, nil
}

// recordAt returns the kind and body of the symbol record at off.
func recordAt(b []byte, off uint32) (uint16, []byte, bool) {
	if uint64(off)+4 > uint64(len(b)) {
		return 0, nil, false
	}
	n := int(binary.LittleEndian.Uint16(b[off:]))
	if n < 2 || int(off)+2+n > len(b) {
		return 0, nil, false
	}
	return binary.LittleEndian.Uint16(b[off+2:]), b[int(off)+4 : int(off)+2+n], true
}
