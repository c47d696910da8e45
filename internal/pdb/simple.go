package pdb

import "fmt"

// simpleInfo describes a built-in type kind (bits 0-7 of a simple index).
type simpleInfo struct {
	c    string // C spelling
	dt   string // KD dt spelling
	size uint64
}

var simpleKinds = map[uint32]simpleInfo{
	0x00: {"<no type>", "<no type>", 0},
	0x03: {"void", "Void", 0},
	0x08: {"HRESULT", "Int4B", 4},
	0x10: {"signed char", "Char", 1},
	0x20: {"unsigned char", "UChar", 1},
	0x70: {"char", "Char", 1},
	0x71: {"wchar_t", "Wchar", 2},
	0x7A: {"char16_t", "Wchar", 2},
	0x7B: {"char32_t", "Uint4B", 4},
	0x7C: {"char8_t", "UChar", 1},
	0x68: {"__int8", "Char", 1},
	0x69: {"unsigned __int8", "UChar", 1},
	0x11: {"short", "Int2B", 2},
	0x21: {"unsigned short", "Uint2B", 2},
	0x72: {"__int16", "Int2B", 2},
	0x73: {"unsigned __int16", "Uint2B", 2},
	0x12: {"long", "Int4B", 4},
	0x22: {"unsigned long", "Uint4B", 4},
	0x74: {"int", "Int4B", 4},
	0x75: {"unsigned int", "Uint4B", 4},
	0x13: {"__int64", "Int8B", 8},
	0x23: {"unsigned __int64", "Uint8B", 8},
	0x76: {"__int64", "Int8B", 8},
	0x77: {"unsigned __int64", "Uint8B", 8},
	0x14: {"__int128", "Int16B", 16},
	0x24: {"unsigned __int128", "Uint16B", 16},
	0x78: {"__int128", "Int16B", 16},
	0x79: {"unsigned __int128", "Uint16B", 16},
	0x30: {"bool", "Bool", 1},
	0x31: {"__bool16", "Int2B", 2},
	0x32: {"__bool32", "Int4B", 4},
	0x33: {"__bool64", "Int8B", 8},
	0x40: {"float", "Float", 4},
	0x41: {"double", "Double", 8},
	0x42: {"long double", "Float10", 10},
	0x43: {"__float128", "Float16B", 16},
	0x46: {"_Float16", "Float2B", 2},
}

// simpleType describes a type index below 0x1000: kind in bits 0-7,
// pointer mode in bits 8-11.
func simpleType(ti TypeIndex) *Type {
	kind, mode := uint32(ti)&0xFF, uint32(ti)>>8&0xF
	info, ok := simpleKinds[kind]
	if !ok {
		info = simpleInfo{fmt.Sprintf("<simple 0x%02x>", kind), fmt.Sprintf("<simple 0x%02x>", kind), 0}
	}
	base := &Type{Index: TypeIndex(kind), Kind: KindBase, Name: info.c, Size: info.size}
	if mode == 0 {
		base.Index = ti
		return base
	}
	p := &Type{Index: ti, Kind: KindPointer, Elem: TypeIndex(kind), Size: 8}
	switch mode {
	case 1:
		p.Size = 2 // 16-bit near
	case 2, 3, 4:
		p.Size = 4 // 16:16 far/huge, 32-bit near
	case 5:
		p.Size = 6 // 16:32 far
	case 6:
		p.Size = 8 // 64-bit
	default:
		p.Size = 16 // 128-bit
	}
	return p
}

// simpleDtName is KD's spelling of a built-in type.
func simpleDtName(ti TypeIndex) string {
	if info, ok := simpleKinds[uint32(ti)&0xFF]; ok {
		return info.dt
	}
	return fmt.Sprintf("<simple 0x%02x>", uint32(ti)&0xFF)
}
