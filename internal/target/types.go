package target

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/gokd/kd/internal/pdb"
)

// TypeField is one line of dt: a member at an offset with KD's type text
// and, when dt was given an address, its value.
type TypeField struct {
	Depth    int // nesting under -r
	Offset   uint64
	Name     string
	Text     string // KD's spelling: "Uint4B", "Ptr64 _KTHREAD", "Pos 0, 1 Bit"
	Value    string // "" without an address
	HasValue bool
}

// TypeLayout is dt's answer.
type TypeLayout struct {
	Module string
	Name   string
	Size   uint64
	Addr   uint64
	HasAdr bool
	Fields []TypeField
}

// maxTypeDepth bounds dt -r.
const maxTypeDepth = 8

// DescribeType lays out type mod!name (dt), down depth levels of embedded
// structures, with values read at addr when hasAddr. A field path
// ("u.RspBase", "CurrentThread") keeps only the fields it names.
func (t *Target) DescribeType(ctx context.Context, mod, name string, depth int, addr uint64, hasAddr bool, fields []string) (TypeLayout, error) {
	s, m, ms, err := t.symbolModule(ctx, mod)
	if err != nil {
		return TypeLayout{}, err
	}
	if ms.pdb == nil {
		why := ms.why
		if why == "" {
			why = "its symbols are " + ms.state.String()
		}
		return TypeLayout{}, fmt.Errorf("no type information for %s: %s", m.Name, why)
	}
	ty, err := ms.pdb.TypeByName(name)
	if err != nil {
		return TypeLayout{}, fmt.Errorf("%w error at '%s!%s' (%v)", ErrNoSymbol, m.Name, name, err)
	}
	if ty.Forward || (ty.Kind != pdb.KindStruct && ty.Kind != pdb.KindUnion && ty.Kind != pdb.KindClass) {
		return TypeLayout{}, fmt.Errorf("%w error at '%s!%s' (%s's PDB has no definition of it)", ErrNoSymbol, m.Name, name, m.Name)
	}
	for _, f := range fields {
		depth = max(depth, strings.Count(f, ".")) // a path reaches into embedded members
	}
	depth = min(max(depth, 0), maxTypeDepth)
	members, err := ms.pdb.Layout(ty.Index, depth)
	if err != nil {
		return TypeLayout{}, fmt.Errorf("%s!%s: %w", m.Name, name, err)
	}
	out := TypeLayout{Module: m.Name, Name: ty.Name, Size: ty.Size, Addr: addr, HasAdr: hasAddr}
	var data []byte
	var ok []bool
	if hasAddr && ty.Size > 0 {
		n := int(min(ty.Size, 1<<20))
		if data, ok, err = t.readMemory(ctx, s, addr, n); err != nil {
			return TypeLayout{}, err
		}
	}
	var walk func(ms []pdb.Member, d int, base uint64, path string)
	walk = func(list []pdb.Member, d int, base uint64, path string) {
		for _, mb := range list {
			full := mb.Name
			if path != "" {
				full = path + "." + mb.Name
			}
			if len(fields) > 0 && !fieldWanted(fields, full) {
				continue
			}
			f := TypeField{Depth: d, Offset: mb.Offset, Name: mb.Name, Text: mb.Text}
			if hasAddr {
				f.Value, f.HasValue = fieldValue(data, ok, base+mb.Offset, mb, addr)
			}
			out.Fields = append(out.Fields, f)
			walk(mb.Members, d+1, base+mb.Offset, full)
		}
	}
	walk(members, 0, 0, "")
	if len(fields) > 0 && len(out.Fields) == 0 {
		return TypeLayout{}, fmt.Errorf("%s!%s has no field %s", m.Name, ty.Name, strings.Join(fields, ", "))
	}
	return out, nil
}

// fieldWanted reports whether the field path full is named by one of the
// requested paths, or leads to or lies under one.
func fieldWanted(want []string, full string) bool {
	for _, w := range want {
		if strings.EqualFold(w, full) || strings.HasPrefix(strings.ToLower(full), strings.ToLower(w)+".") ||
			strings.HasPrefix(strings.ToLower(w), strings.ToLower(full)+".") {
			return true
		}
	}
	return false
}

// fieldValue formats a member's value as dt does: numbers in hex with
// 0n for decimal ints, pointers as addresses, bitfields shifted out.
func fieldValue(data []byte, ok []bool, off uint64, mb pdb.Member, base uint64) (string, bool) {
	if mb.Kind == pdb.KindStruct || mb.Kind == pdb.KindUnion || mb.Kind == pdb.KindClass || mb.Kind == pdb.KindArray {
		return "", false // KD shows nested aggregates by their fields (with -r)
	}
	size := mb.Size
	if size == 0 || size > 8 || off+size > uint64(len(data)) {
		return "", false
	}
	for i := off; i < off+size; i++ {
		if !ok[i] {
			return "????", true
		}
	}
	var buf [8]byte
	copy(buf[:], data[off:off+size])
	v := binary.LittleEndian.Uint64(buf[:])
	if mb.Bitfield {
		v = v >> mb.BitPos & (1<<mb.BitLen - 1)
		return fmt.Sprintf("0y%0*b", int(mb.BitLen), v), true
	}
	switch {
	case mb.Kind == pdb.KindPointer:
		if v == 0 {
			return "(null)", true
		}
		return fmt.Sprintf("0x%08x`%08x", v>>32, uint32(v)), true
	case strings.HasPrefix(mb.Text, "Int"):
		shift := 64 - 8*size
		return fmt.Sprintf("0n%d", int64(v<<shift)>>shift), true
	case strings.HasPrefix(mb.Text, "Char") || strings.HasPrefix(mb.Text, "UChar"):
		return fmt.Sprintf("0x%x", v), true
	}
	return fmt.Sprintf("0x%x", v), true
}

// TypeNames lists the types of module mod matching pattern (dt mod!Pat*).
func (t *Target) TypeNames(ctx context.Context, mod, pattern string) ([]string, error) {
	_, m, ms, err := t.symbolModule(ctx, mod)
	if err != nil {
		return nil, err
	}
	if ms.pdb == nil {
		return nil, fmt.Errorf("no type information for %s: %s", m.Name, ms.why)
	}
	return ms.pdb.TypeNames(pattern)
}
