package pdb

import "fmt"

// fields decodes a field list, following LF_INDEX continuations.
func (t *tpi) fields(ti TypeIndex) ([]Field, error) {
	var out []Field
	seen := map[TypeIndex]bool{}
	for ti != 0 {
		if seen[ti] || len(seen) >= maxFieldLists {
			return nil, fmt.Errorf("field list 0x%x: LF_INDEX continuations loop or exceed %d lists", uint32(ti), maxFieldLists)
		}
		seen[ti] = true
		kind, body, ok := t.record(ti)
		if !ok || kind != lfFieldList {
			return nil, fmt.Errorf("field list 0x%x is not an LF_FIELDLIST", uint32(ti))
		}
		next, err := decodeFieldList(body, &out)
		if err != nil {
			return nil, fmt.Errorf("field list 0x%x: %w", uint32(ti), err)
		}
		ti = next
	}
	return out, nil
}

// decodeFieldList appends the members of one LF_FIELDLIST record and
// returns the LF_INDEX continuation, if any.
func decodeFieldList(body []byte, out *[]Field) (TypeIndex, error) {
	c := &cursor{b: body}
	var next TypeIndex
	for c.left() > 0 {
		if c.b[c.off] >= 0xF0 { // LF_PADn
			c.skip(1)
			continue
		}
		kind := c.u16()
		var fl Field
		var err error
		switch kind {
		case lfMember:
			c.u16()
			fl.Type = TypeIndex(c.u32())
			fl.Offset, _, err = numeric(c)
			fl.Name = c.cstr()
		case lfBClass:
			fl.Kind = FieldBase
			c.u16()
			fl.Type = TypeIndex(c.u32())
			fl.Offset, _, err = numeric(c)
		case lfVBClass, lfIVBClass:
			fl.Kind = FieldVirtualBase
			c.u16()
			fl.Type = TypeIndex(c.u32())
			c.u32() // virtual base pointer type
			if _, _, err = numeric(c); err == nil {
				_, _, err = numeric(c)
			}
		case lfIndex:
			c.u16()
			next = TypeIndex(c.u32())
			continue
		case lfVFuncTab:
			fl.Kind = FieldVFuncTab
			c.u16()
			fl.Type = TypeIndex(c.u32())
		case lfEnumerate:
			fl.Kind = FieldEnumerate
			c.u16()
			fl.Value, fl.Signed, err = numeric(c)
			fl.Name = c.cstr()
		case lfSTMember:
			fl.Kind = FieldStatic
			c.u16()
			fl.Type = TypeIndex(c.u32())
			fl.Name = c.cstr()
		case lfMethod:
			fl.Kind = FieldMethod
			c.u16()
			fl.Type = TypeIndex(c.u32())
			fl.Name = c.cstr()
		case lfNestType:
			fl.Kind = FieldNested
			c.u16()
			fl.Type = TypeIndex(c.u32())
			fl.Name = c.cstr()
		case lfOneMethod:
			fl.Kind = FieldMethod
			attr := c.u16()
			fl.Type = TypeIndex(c.u32())
			if mprop := attr >> 2 & 7; mprop == 4 || mprop == 6 {
				c.u32() // vtable offset of an introducing virtual
			}
			fl.Name = c.cstr()
		default:
			return 0, fmt.Errorf("unknown member record 0x%04x at offset %d", kind, c.off-2)
		}
		if err != nil {
			return 0, err
		}
		if c.bad {
			return 0, fmt.Errorf("member record 0x%04x is truncated", kind)
		}
		*out = append(*out, fl)
	}
	return next, nil
}
