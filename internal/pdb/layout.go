package pdb

import (
	"fmt"
	"strings"
)

// Member is one line of a dt layout: a data member, base class or
// virtual table pointer, with the members of an embedded struct or union
// below it when the requested depth allows.
type Member struct {
	Name   string
	Offset uint64 // from the start of the containing type
	Size   uint64
	// Type is the member's type, with forward references resolved.
	Type     TypeIndex
	Kind     TypeKind // of Type, after modifiers are stripped
	Bitfield bool
	BitPos   uint8
	BitLen   uint8
	Base     bool // a base class (Name is "__BaseClass")
	// Text is KD's spelling of the type: "Uint4B", "Ptr64 _LIST_ENTRY",
	// "[15] Char", "Pos 0, 3 Bits", "_KDT_HEADER".
	Text    string
	Members []Member
}

const (
	maxLayoutDepth   = 32
	maxLayoutMembers = 1 << 16
	maxNameDepth     = 24
)

// Layout returns the members of struct, class or union ti (forward
// references resolved), expanding embedded structs and unions depth
// levels down (0: none), as dt and dt -r show them.
func (f *File) Layout(ti TypeIndex, depth int) ([]Member, error) {
	if err := f.rlock(); err != nil {
		return nil, err
	}
	defer f.mu.RUnlock()
	t, err := f.loadTypes()
	if err != nil {
		return nil, err
	}
	return t.newLayout(ti, depth)
}

// layoutBudget bounds the work of one Layout: members listed and type
// records read to spell their types (names past it print as "...").
type layoutBudget struct {
	members int
	names   namer
}

func (t *tpi) newLayout(ti TypeIndex, depth int) ([]Member, error) {
	b := &layoutBudget{members: maxLayoutMembers, names: namer{t: t, budget: layoutNameBudget}}
	return t.layout(ti, min(depth, maxLayoutDepth), b)
}

func (t *tpi) layout(ti TypeIndex, depth int, budget *layoutBudget) ([]Member, error) {
	ty, err := t.resolve(ti)
	if err != nil {
		return nil, err
	}
	switch ty.Kind {
	case KindStruct, KindClass, KindUnion:
	default:
		return nil, fmt.Errorf("%s is a %s, not a structure, class or union", t.cName(ti), ty.Kind)
	}
	if ty.Forward {
		return nil, fmt.Errorf("%s is declared but never defined in this PDB", ty.Name)
	}
	var out []Member
	for _, fl := range ty.Fields {
		var m Member
		switch fl.Kind {
		case FieldMember:
			m.Name = fl.Name
		case FieldBase:
			m.Name, m.Base = "__BaseClass", true
		case FieldVFuncTab:
			m.Name = "__VFN_table"
		default:
			continue
		}
		if budget.members--; budget.members < 0 {
			return nil, fmt.Errorf("layout of %s has more than %d members", ty.Name, maxLayoutMembers)
		}
		m.Offset = fl.Offset
		if err := t.describe(&m, fl.Type, &budget.names); err != nil {
			return nil, fmt.Errorf("%s.%s: %w", ty.Name, fl.Name, err)
		}
		if depth > 0 && (m.Kind == KindStruct || m.Kind == KindClass || m.Kind == KindUnion) && !m.Bitfield {
			if m.Members, err = t.layout(m.Type, depth-1, budget); err != nil {
				return nil, err
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// describe fills a member's type, size, kind and dt text.
func (t *tpi) describe(m *Member, ti TypeIndex, n *namer) error {
	ty, err := t.resolveHead(ti)
	if err != nil {
		return err
	}
	if ty.Kind == KindBitfield {
		m.Bitfield, m.BitPos, m.BitLen = true, ty.BitPos, ty.BitLen
		m.Size, err = t.sizeOf(ty.Elem, 0)
		m.Type, m.Kind = ty.Elem, KindBase
		unit := "Bits"
		if ty.BitLen == 1 {
			unit = "Bit"
		}
		m.Text = fmt.Sprintf("Pos %d, %d %s", ty.BitPos, ty.BitLen, unit)
		return err
	}
	for range maxNameDepth {
		if ty.Kind != KindModifier {
			break
		}
		if ty, err = t.resolveHead(ty.Elem); err != nil {
			return err
		}
	}
	m.Type, m.Kind = ty.Index, ty.Kind
	m.Size, err = t.sizeOf(ty.Index, 0)
	m.Text = n.dt(ty.Index)
	return err
}

// namer spells types within a budget of records, so that a lying
// type graph (a procedure whose parameters are itself) stays cheap.
type namer struct {
	t      *tpi
	budget int
	depth  int
}

const (
	nameBudget       = 256     // records read to spell one type
	layoutNameBudget = 1 << 16 // records read to spell one layout's types
)

// dtName spells ti as KD's dt does.
func (t *tpi) dtName(ti TypeIndex) string { return (&namer{t: t, budget: nameBudget}).dt(ti) }

// cName spells ti in C.
func (t *tpi) cName(ti TypeIndex) string { return (&namer{t: t, budget: nameBudget}).c(ti) }

func (n *namer) dt(ti TypeIndex) string {
	if n.budget--; n.budget < 0 || n.depth >= maxNameDepth {
		return "..."
	}
	n.depth++
	defer func() { n.depth-- }()
	t := n.t
	if ti < tpiFirst {
		if uint32(ti)>>8&0xF != 0 {
			return ptrWord(simpleType(ti).Size) + " " + simpleDtName(ti&0xFF)
		}
		return simpleDtName(ti)
	}
	ty, err := t.head(ti)
	if err != nil {
		return fmt.Sprintf("<type 0x%x>", uint32(ti))
	}
	switch ty.Kind {
	case KindPointer:
		word := ptrWord(ty.Size)
		if ref, err := t.head(ty.Elem); err == nil && ref.Kind == KindProcedure {
			return word + "     " + n.c(ref.Elem) + " "
		}
		return strings.TrimSuffix(word+" "+n.dt(ty.Elem), " ")
	case KindArray:
		return fmt.Sprintf("[%d] %s", ty.Count, n.dt(ty.Elem))
	case KindModifier:
		return n.dt(ty.Elem)
	case KindBitfield:
		return n.dt(ty.Elem)
	case KindProcedure:
		return n.c(ty.Elem) + " ()"
	case KindOther:
		if ty.Leaf == lfVTShape {
			return "" // dt shows a vtable pointer as a bare "Ptr64"
		}
		return fmt.Sprintf("<leaf 0x%04x>", ty.Leaf)
	}
	return ty.Name
}

func ptrWord(size uint64) string {
	if size == 4 {
		return "Ptr32"
	}
	return "Ptr64"
}

// TypeName spells ti in C: "struct _KDT_OBJECT *", "char[15]",
// "const unsigned long", "int (void *, unsigned int)".
func (f *File) TypeName(ti TypeIndex) (string, error) {
	if err := f.rlock(); err != nil {
		return "", err
	}
	defer f.mu.RUnlock()
	t, err := f.loadTypes()
	if err != nil {
		return "", err
	}
	return t.cName(ti), nil
}

func (n *namer) c(ti TypeIndex) string {
	if n.budget--; n.budget < 0 || n.depth >= maxNameDepth {
		return "..."
	}
	n.depth++
	defer func() { n.depth-- }()
	t := n.t
	if ti < tpiFirst {
		st := simpleType(ti)
		if st.Kind == KindPointer {
			return simpleType(st.Elem).Name + " *"
		}
		return st.Name
	}
	ty, err := t.head(ti)
	if err != nil {
		return fmt.Sprintf("<type 0x%x>", uint32(ti))
	}
	switch ty.Kind {
	case KindPointer:
		if ty.Reference {
			return n.c(ty.Elem) + " &"
		}
		return n.c(ty.Elem) + " *"
	case KindArray:
		// int a[3][4] is an array of 3 arrays of 4: print outer first.
		dims := fmt.Sprintf("[%d]", ty.Count)
		elem := ty.Elem
		for range maxNameDepth {
			e, err := t.head(elem)
			if err != nil || e.Kind != KindArray {
				break
			}
			dims += fmt.Sprintf("[%d]", e.Count)
			elem = e.Elem
		}
		return n.c(elem) + dims
	case KindModifier:
		var q []string
		if ty.Const {
			q = append(q, "const")
		}
		if ty.Volatile {
			q = append(q, "volatile")
		}
		return strings.Join(append(q, n.c(ty.Elem)), " ")
	case KindBitfield:
		return fmt.Sprintf("%s : %d", n.c(ty.Elem), ty.BitLen)
	case KindProcedure:
		ps := make([]string, len(ty.Params))
		for i, p := range ty.Params {
			ps[i] = n.c(p)
		}
		return fmt.Sprintf("%s (%s)", n.c(ty.Elem), strings.Join(ps, ", "))
	case KindStruct:
		return "struct " + ty.Name
	case KindClass:
		return "class " + ty.Name
	case KindUnion:
		return "union " + ty.Name
	case KindEnum:
		return "enum " + ty.Name
	}
	return fmt.Sprintf("<leaf 0x%04x>", ty.Leaf)
}
