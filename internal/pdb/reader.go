package pdb

import (
	"bytes"
	"encoding/binary"
)

// cursor reads little-endian fields from a byte slice. Reading past the
// end sets bad and yields zeros, so a decoder checks once at the end.
type cursor struct {
	b   []byte
	off int
	bad bool
}

func (c *cursor) need(n int) bool {
	if c.bad || n < 0 || n > len(c.b)-c.off {
		c.bad = true
		return false
	}
	return true
}

func (c *cursor) u8() uint8 {
	if !c.need(1) {
		return 0
	}
	v := c.b[c.off]
	c.off++
	return v
}

func (c *cursor) u16() uint16 {
	if !c.need(2) {
		return 0
	}
	v := binary.LittleEndian.Uint16(c.b[c.off:])
	c.off += 2
	return v
}

func (c *cursor) u32() uint32 {
	if !c.need(4) {
		return 0
	}
	v := binary.LittleEndian.Uint32(c.b[c.off:])
	c.off += 4
	return v
}

func (c *cursor) u64() uint64 {
	if !c.need(8) {
		return 0
	}
	v := binary.LittleEndian.Uint64(c.b[c.off:])
	c.off += 8
	return v
}

// bytes returns the next n bytes, aliasing the input.
func (c *cursor) bytes(n int) []byte {
	if !c.need(n) {
		return nil
	}
	v := c.b[c.off : c.off+n : c.off+n]
	c.off += n
	return v
}

func (c *cursor) skip(n int) { c.bytes(n) }

// cstr returns the NUL-terminated string at the cursor as a copy; a
// missing terminator takes the rest of the data.
func (c *cursor) cstr() string {
	if c.bad {
		return ""
	}
	rest := c.b[c.off:]
	i := bytes.IndexByte(rest, 0)
	if i < 0 {
		c.off = len(c.b)
		return string(rest)
	}
	c.off += i + 1
	return string(rest[:i])
}

// align moves the cursor to a multiple of n from the start of the data.
func (c *cursor) align(n int) {
	if r := c.off % n; r != 0 && !c.bad {
		c.off = min(c.off+n-r, len(c.b))
	}
}

// left is the number of unread bytes.
func (c *cursor) left() int {
	if c.bad {
		return 0
	}
	return len(c.b) - c.off
}
