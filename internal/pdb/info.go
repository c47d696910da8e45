package pdb

import (
	"fmt"
	"strings"
)

// Stream numbers fixed by the format.
const (
	streamPDB = 1
	streamTPI = 2
	streamDBI = 3
	streamIPI = 4
)

// GUID is a PDB's identity as stored in the file and in an image's RSDS
// record: Data1 (u32), Data2 and Data3 (u16), little-endian, then 8 bytes.
type GUID [16]byte

// String formats g the way debuggers print it:
// {9E696797-35E3-CCB7-4C4C-44205044422E}.
func (g GUID) String() string {
	return fmt.Sprintf("{%08X-%04X-%04X-%X-%X}", g.data1(), g.data2(), g.data3(), g[8:10], g[10:])
}

func (g GUID) data1() uint32 {
	return uint32(g[0]) | uint32(g[1])<<8 | uint32(g[2])<<16 | uint32(g[3])<<24
}
func (g GUID) data2() uint16 { return uint16(g[4]) | uint16(g[5])<<8 }
func (g GUID) data3() uint16 { return uint16(g[6]) | uint16(g[7])<<8 }

// StoreKey is the symbol-store directory name for a PDB with this GUID
// and age: 32 upper-case hex digits then the age in hex.
func (g GUID) StoreKey(age uint32) string {
	return fmt.Sprintf("%08X%04X%04X%X%X", g.data1(), g.data2(), g.data3(), g[8:10], g[10:]) +
		strings.ToUpper(fmt.Sprintf("%x", age))
}

// Info is the PDB info stream: the identity an image's RSDS record names.
type Info struct {
	Version   uint32 // 20000404 (VC70) in current files
	Signature uint32 // a time stamp, or a hash for reproducible builds
	Age       uint32 // bumped on each incremental link
	GUID      GUID
	// Streams maps names ("/names", "/LinkInfo", ...) to stream numbers.
	Streams map[string]uint32
}

const maxNamedStreams = 4096

// parseInfo decodes the PDB info stream.
func parseInfo(b []byte) (Info, error) {
	c := &cursor{b: b}
	var in Info
	in.Version = c.u32()
	in.Signature = c.u32()
	in.Age = c.u32()
	copy(in.GUID[:], c.bytes(16))
	if c.bad {
		return in, formatErr("PDB info stream", "%d bytes, too short", len(b))
	}
	if in.Version < 20000404 {
		return in, formatErr("PDB info stream", "version %d is older than VC70 (20000404) and has no GUID", in.Version)
	}
	// Named stream map: a string buffer, then a serialized hash table of
	// (offset in buffer, stream number) pairs.
	strLen := c.u32()
	strs := c.bytes(int(min(strLen, uint32(c.left()+1))))
	size := c.u32()
	_ = c.u32() // capacity
	present := readBitVector(c)
	readBitVector(c) // deleted
	if c.bad {
		return in, formatErr("PDB info stream", "named stream map is truncated")
	}
	if size > maxNamedStreams || int(size) > c.left()/8 || int(size) > present {
		return in, formatErr("PDB info stream", "named stream map claims %d entries", size)
	}
	in.Streams = make(map[string]uint32, size)
	for range size {
		k, v := c.u32(), c.u32()
		if k >= uint32(len(strs)) {
			return in, formatErr("PDB info stream", "stream name offset %d is outside the %d-byte name buffer", k, len(strs))
		}
		nc := &cursor{b: strs, off: int(k)}
		in.Streams[nc.cstr()] = v
	}
	return in, nil
}

// readBitVector skips a serialized bit vector and returns how many bits
// are set.
func readBitVector(c *cursor) int {
	words := c.u32()
	if int64(words) > int64(c.left()/4) {
		c.bad = true
		return 0
	}
	n := 0
	for range words {
		w := c.u32()
		for ; w != 0; w &= w - 1 {
			n++
		}
	}
	return n
}
