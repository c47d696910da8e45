package pdb

import (
	"errors"
	"fmt"
	"slices"
)

// TypeKind classifies a Type.
type TypeKind uint8

// Type kinds.
const (
	KindBase      TypeKind = iota // built-in: int, char, void, ...
	KindPointer                   // LF_POINTER
	KindArray                     // LF_ARRAY
	KindStruct                    // LF_STRUCTURE
	KindClass                     // LF_CLASS or LF_INTERFACE
	KindUnion                     // LF_UNION
	KindEnum                      // LF_ENUM
	KindBitfield                  // LF_BITFIELD
	KindModifier                  // LF_MODIFIER (const, volatile)
	KindProcedure                 // LF_PROCEDURE or LF_MFUNCTION
	KindOther                     // a record dt does not interpret
)

var kindNames = [...]string{"base", "pointer", "array", "struct", "class", "union", "enum", "bitfield", "modifier", "procedure", "other"}

func (k TypeKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Type is one decoded type record.
type Type struct {
	Index TypeIndex
	Kind  TypeKind
	Leaf  uint16 // the record kind (LF_...), 0 for built-in types
	Name  string // UDT or enum name, or the built-in type's C name
	// UniqueName is the decorated name of a UDT, when the record has one.
	UniqueName string
	Size       uint64 // bytes; 0 for void, procedures and forward references
	// Elem is the pointee (pointer), element (array), underlying type
	// (modifier, bitfield, enum) or return type (procedure).
	Elem     TypeIndex
	Count    uint64 // array elements (Size / element size)
	BitPos   uint8  // bitfield: first bit within the storage unit
	BitLen   uint8  // bitfield: width in bits
	Const    bool   // modifier or pointer
	Volatile bool   // modifier or pointer
	// Reference is set for C++ references (lvalue or rvalue).
	Reference bool
	// Forward is set for a forward reference (a declaration without
	// members); FileTypes resolves it by name.
	Forward   bool
	Fields    []Field     // struct/class/union members, enum enumerators
	Params    []TypeIndex // procedure parameter types
	fieldList TypeIndex
}

// FieldKind classifies a Field.
type FieldKind uint8

// Field kinds.
const (
	FieldMember      FieldKind = iota // data member at Offset
	FieldBase                         // non-virtual base class at Offset
	FieldVirtualBase                  // virtual base class
	FieldStatic                       // static data member
	FieldNested                       // nested type declaration
	FieldMethod                       // member function(s)
	FieldVFuncTab                     // virtual function table pointer
	FieldEnumerate                    // enumerator with Value
)

// Field is a member of a struct, class or union, or an enumerator.
type Field struct {
	Kind   FieldKind
	Name   string
	Type   TypeIndex
	Offset uint64
	// Value is an enumerator's value; Signed says whether it was
	// stored as a signed number (Value is then sign-extended).
	Value  uint64
	Signed bool
}

// ErrNoTypes is returned by type queries on a PDB without a TPI stream.
var ErrNoTypes = errors.New("the PDB has no type information")

// maxFieldLists bounds LF_INDEX continuations followed for one type.
const maxFieldLists = 4096

// loadTypes indexes the TPI stream once.
func (f *File) loadTypes() (*tpi, error) {
	f.typOnce.Do(func() {
		if f.msf.numStreams() <= streamTPI || f.msf.sizes[streamTPI] == 0 {
			f.typErr = ErrNoTypes
			return
		}
		b, err := f.msf.stream(streamTPI, "TPI stream")
		if err != nil {
			f.typErr = err
			return
		}
		f.tpi, f.typErr = parseTPI(b)
	})
	return f.tpi, f.typErr
}

// Type decodes type ti. Forward references are returned as they are;
// use Resolve for the definition.
func (f *File) Type(ti TypeIndex) (*Type, error) {
	if err := f.rlock(); err != nil {
		return nil, err
	}
	defer f.mu.RUnlock()
	t, err := f.loadTypes()
	if err != nil {
		return nil, err
	}
	return t.decode(ti)
}

// Resolve decodes ti and, if it is a forward reference, the complete
// definition of the same name instead (unchanged when none exists).
func (f *File) Resolve(ti TypeIndex) (*Type, error) {
	if err := f.rlock(); err != nil {
		return nil, err
	}
	defer f.mu.RUnlock()
	t, err := f.loadTypes()
	if err != nil {
		return nil, err
	}
	return t.resolve(ti)
}

// TypeByName returns the complete struct, class, union or enum named
// name (exactly, or else ignoring case); a forward reference with no
// definition is returned as it is.
func (f *File) TypeByName(name string) (*Type, error) {
	if err := f.rlock(); err != nil {
		return nil, err
	}
	defer f.mu.RUnlock()
	t, err := f.loadTypes()
	if err != nil {
		return nil, err
	}
	if ti, ok := t.lookupName(name); ok {
		return t.decode(ti)
	}
	if !hasWild(name) {
		for _, m := range []map[string]TypeIndex{t.byName, t.full} {
			for n, ti := range m {
				if len(n) == len(name) && Match(name, n) {
					return t.decode(ti)
				}
			}
		}
	}
	if t.newUDTs > 0 {
		return nil, fmt.Errorf("no type named %q that kd can read (the PDB has %d LF_CLASS2-family records, which kd does not decode)", name, t.newUDTs)
	}
	return nil, fmt.Errorf("no type named %q", name)
}

// TypeNames returns the names of the complete user-defined types that
// match pattern ('*' and '?' wildcards, case ignored).
func (f *File) TypeNames(pattern string) ([]string, error) {
	if err := f.rlock(); err != nil {
		return nil, err
	}
	defer f.mu.RUnlock()
	t, err := f.loadTypes()
	if err != nil {
		return nil, err
	}
	var out []string
	for n := range t.byName {
		if Match(pattern, n) {
			out = append(out, n)
		}
	}
	for n, ti := range t.full {
		// Unique names are decorated; list the plain name instead.
		if len(t.byName) > 0 {
			if ty, err := t.head(ti); err == nil && ty.UniqueName == n {
				continue
			}
		}
		if Match(pattern, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

func hasWild(s string) bool {
	for i := range len(s) {
		if s[i] == '*' || s[i] == '?' {
			return true
		}
	}
	return false
}

// resolve follows a forward reference to its definition.
func (t *tpi) resolve(ti TypeIndex) (*Type, error) { return t.resolveOpt(ti, true) }

// resolveHead is resolve without decoding member lists.
func (t *tpi) resolveHead(ti TypeIndex) (*Type, error) { return t.resolveOpt(ti, false) }

func (t *tpi) resolveOpt(ti TypeIndex, fields bool) (*Type, error) {
	ty, err := t.decodeOpt(ti, fields)
	if err != nil || !ty.Forward {
		return ty, err
	}
	key := ty.Name
	if ty.UniqueName != "" {
		key = ty.UniqueName
	}
	if full, ok := t.full[key]; ok {
		return t.decodeOpt(full, fields)
	}
	if full, ok := t.lookupName(ty.Name); ok {
		return t.decodeOpt(full, fields)
	}
	return ty, nil
}

// decode decodes one type, built-in or recorded.
func (t *tpi) decode(ti TypeIndex) (*Type, error) { return t.decodeOpt(ti, true) }

// head decodes a type without its member list.
func (t *tpi) head(ti TypeIndex) (*Type, error) { return t.decodeOpt(ti, false) }

func (t *tpi) decodeOpt(ti TypeIndex, fields bool) (*Type, error) {
	if ti < tpiFirst {
		return simpleType(ti), nil
	}
	kind, body, ok := t.record(ti)
	if !ok {
		return nil, fmt.Errorf("type index 0x%x is outside the TPI stream (0x%x-0x%x)", uint32(ti), t.begin, t.begin+uint32(len(t.offsets)))
	}
	ty := &Type{Index: ti, Leaf: kind, Kind: KindOther}
	c := &cursor{b: body}
	var err error
	switch kind {
	case lfModifier:
		ty.Kind = KindModifier
		ty.Elem = TypeIndex(c.u32())
		attr := c.u16()
		ty.Const, ty.Volatile = attr&1 != 0, attr&2 != 0
	case lfPointer:
		ty.Kind = KindPointer
		ty.Elem = TypeIndex(c.u32())
		attr := c.u32()
		mode := attr >> 5 & 7
		ty.Reference = mode == 1 || mode == 4
		ty.Volatile, ty.Const = attr&(1<<9) != 0, attr&(1<<10) != 0
		ty.Size = uint64(attr >> 13 & 0x3F)
	case lfProcedure:
		ty.Kind = KindProcedure
		ty.Elem = TypeIndex(c.u32())
		c.skip(4) // calling convention, attributes, parameter count
		ty.Params, err = t.argList(TypeIndex(c.u32()))
	case lfMFunction:
		ty.Kind = KindProcedure
		ty.Elem = TypeIndex(c.u32())
		c.skip(4 + 4 + 4) // class, this, convention/attributes/count
		ty.Params, err = t.argList(TypeIndex(c.u32()))
	case lfArray:
		ty.Kind = KindArray
		ty.Elem = TypeIndex(c.u32())
		c.u32() // index type
		ty.Size, _, err = numeric(c)
		ty.Name = c.cstr()
		if err == nil {
			ty.Count, err = t.arrayCount(ty)
		}
	case lfBitfield:
		ty.Kind = KindBitfield
		ty.Elem = TypeIndex(c.u32())
		ty.BitLen = c.u8()
		ty.BitPos = c.u8()
	case lfClass, lfStructure, lfInterface, lfUnion:
		ty.Kind = KindStruct
		if kind == lfClass || kind == lfInterface {
			ty.Kind = KindClass
		} else if kind == lfUnion {
			ty.Kind = KindUnion
		}
		c.u16() // member count
		prop := c.u16()
		ty.fieldList = TypeIndex(c.u32())
		if kind != lfUnion {
			c.skip(8) // derived-from list, vtable shape
		}
		ty.Size, _, err = numeric(c)
		ty.Name = c.cstr()
		if prop&propUniqueName != 0 {
			ty.UniqueName = c.cstr()
		}
		ty.Forward = prop&propForward != 0
	case lfEnum:
		ty.Kind = KindEnum
		c.u16()
		prop := c.u16()
		ty.Elem = TypeIndex(c.u32())
		ty.fieldList = TypeIndex(c.u32())
		ty.Name = c.cstr()
		if prop&propUniqueName != 0 {
			ty.UniqueName = c.cstr()
		}
		ty.Forward = prop&propForward != 0
		if ty.Elem < tpiFirst {
			ty.Size = simpleType(ty.Elem).Size
		}
	}
	if err == nil && c.bad {
		err = errors.New("record is truncated")
	}
	if err == nil && fields && !ty.Forward && ty.fieldList != 0 {
		ty.Fields, err = t.fields(ty.fieldList)
	}
	if err != nil {
		return nil, fmt.Errorf("type 0x%x: %w", uint32(ti), err)
	}
	return ty, nil
}

// arrayCount is the number of elements: total size over element size.
func (t *tpi) arrayCount(ty *Type) (uint64, error) {
	es, err := t.sizeOf(ty.Elem, 0)
	if err != nil || es == 0 {
		return 0, err
	}
	return ty.Size / es, nil
}

// sizeOf is the size in bytes of ti, resolving forward references. It
// reads records directly rather than decoding them, so that a lying
// record that contains itself cannot recurse without bound.
func (t *tpi) sizeOf(ti TypeIndex, depth int) (uint64, error) {
	if depth > maxNameDepth {
		return 0, errors.New("type chain is too deep (a cycle?)")
	}
	if ti < tpiFirst {
		return simpleType(ti).Size, nil
	}
	kind, body, ok := t.record(ti)
	if !ok {
		return 0, fmt.Errorf("type index 0x%x is outside the TPI stream", uint32(ti))
	}
	c := &cursor{b: body}
	switch kind {
	case lfModifier, lfBitfield:
		return t.sizeOf(TypeIndex(c.u32()), depth+1)
	case lfEnum:
		c.skip(4)
		return t.sizeOf(TypeIndex(c.u32()), depth+1)
	case lfPointer:
		c.skip(4)
		return uint64(c.u32() >> 13 & 0x3F), nil
	case lfArray:
		c.skip(8)
		v, _, err := numeric(c)
		return v, err
	case lfClass, lfStructure, lfInterface, lfUnion:
		name, unique, prop, ok := udtNames(kind, body)
		if !ok {
			return 0, errors.New("record is truncated")
		}
		if prop&propForward != 0 {
			key := name
			if prop&propUniqueName != 0 && unique != "" {
				key = unique
			}
			full, ok := t.full[key]
			if !ok {
				if full, ok = t.lookupName(name); !ok {
					return 0, nil
				}
			}
			if kind, body, ok = t.record(full); !ok {
				return 0, nil
			}
			c = &cursor{b: body}
		}
		c.skip(8)
		if kind != lfUnion {
			c.skip(8)
		}
		v, _, err := numeric(c)
		return v, err
	}
	return 0, nil
}

// argList decodes an LF_ARGLIST.
func (t *tpi) argList(ti TypeIndex) ([]TypeIndex, error) {
	if ti == 0 {
		return nil, nil
	}
	kind, body, ok := t.record(ti)
	if !ok || kind != lfArgList {
		return nil, fmt.Errorf("argument list 0x%x is not an LF_ARGLIST", uint32(ti))
	}
	c := &cursor{b: body}
	n := c.u32()
	if int64(n) > int64(c.left()/4) {
		return nil, fmt.Errorf("argument list 0x%x claims %d arguments", uint32(ti), n)
	}
	out := make([]TypeIndex, n)
	for i := range out {
		out[i] = TypeIndex(c.u32())
	}
	return out, nil
}
