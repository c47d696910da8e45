package pdb

import "fmt"

// numeric reads a CodeView numeric leaf: a u16 below 0x8000 is the value
// itself, otherwise it names the encoding that follows. Signed values are
// returned sign-extended in v with signed set.
func numeric(c *cursor) (v uint64, signed bool, err error) {
	t := c.u16()
	if c.bad {
		return 0, false, errNumeric
	}
	if t < 0x8000 {
		return uint64(t), false, nil
	}
	switch t {
	case 0x8000: // LF_CHAR
		return uint64(int64(int8(c.u8()))), true, c.check()
	case 0x8001: // LF_SHORT
		return uint64(int64(int16(c.u16()))), true, c.check()
	case 0x8002: // LF_USHORT
		return uint64(c.u16()), false, c.check()
	case 0x8003: // LF_LONG
		return uint64(int64(int32(c.u32()))), true, c.check()
	case 0x8004: // LF_ULONG
		return uint64(c.u32()), false, c.check()
	case 0x8009: // LF_QUADWORD
		return c.u64(), true, c.check()
	case 0x800A: // LF_UQUADWORD
		return c.u64(), false, c.check()
	}
	// Other encodings (reals, complex, 128-bit, strings) have known
	// lengths; skip them so the record stays parseable, value 0.
	if n, ok := numericSkip[t]; ok {
		c.skip(n)
		return 0, false, c.check()
	}
	switch t {
	case 0x8010: // LF_VARSTRING
		c.skip(int(c.u16()))
		return 0, false, c.check()
	case 0x801B: // LF_UTF8STRING
		c.cstr()
		return 0, false, c.check()
	}
	return 0, false, fmt.Errorf("unknown numeric leaf 0x%04x", t)
}

var errNumeric = fmt.Errorf("numeric leaf is truncated")

// numericSkip gives the payload size of fixed-size numeric leaves that
// kd does not interpret.
var numericSkip = map[uint16]int{
	0x8005: 4, 0x8006: 8, 0x8007: 10, 0x8008: 16, 0x800B: 6, // reals
	0x800C: 8, 0x800D: 16, 0x800E: 20, 0x800F: 32, // complex
	0x8017: 16, 0x8018: 16, 0x8019: 16, 0x801A: 8, 0x801C: 2, // octwords, decimal, date, real16
}

func (c *cursor) check() error {
	if c.bad {
		return errNumeric
	}
	return nil
}
