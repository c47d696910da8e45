package pdb

import (
	"cmp"
	"encoding/binary"
	"slices"
	"sort"
	"strings"
)

// SymbolKind says where a symbol came from.
type SymbolKind uint8

// Symbol kinds, in order of preference when several name one address.
const (
	SymFunction SymbolKind = iota // S_GPROC32/S_LPROC32 from a module stream: has a size
	SymData                       // S_GDATA32/S_LDATA32 (globals or module statics)
	SymPublic                     // S_PUB32 from the publics
)

func (k SymbolKind) String() string {
	switch k {
	case SymFunction:
		return "function"
	case SymData:
		return "data"
	case SymPublic:
		return "public"
	}
	return "unknown"
}

// Symbol is a named address in the image.
type Symbol struct {
	Name string
	RVA  uint32
	Size uint32 // code size of a function; 0 when unknown
	// Type is the symbol's type index: an LF_PROCEDURE or LF_FUNC_ID
	// for functions, the variable's type for data, 0 for publics.
	Type TypeIndex
	Kind SymbolKind
	// Code is set for publics the linker marked as code or function.
	Code bool
	// Static is set for file-local functions and data (S_LPROC32,
	// S_LDATA32).
	Static bool
}

// symIndex holds every symbol once, by address, with functions apart.
type symIndex struct {
	syms   []Symbol // sorted by RVA then kind
	funcs  []int32  // indices of functions with a size, sorted by RVA
	byName []int32  // indices sorted by Name
}

// maxModuleStreams bounds how many module streams one index walks.
const maxModuleStreams = 1 << 16

// loadSymbols builds the symbol index once.
func (f *File) loadSymbols() (*symIndex, error) {
	f.symOnce.Do(func() {
		f.syms, f.symErr = f.buildSymbols()
	})
	return f.syms, f.symErr
}

func (f *File) buildSymbols() (*symIndex, error) {
	if err := f.loadSections(); err != nil {
		return nil, err
	}
	// Count first so that the index is allocated once, at its size.
	streams, err := f.symbolStreams()
	if err != nil {
		return nil, err
	}
	// Publics and globals come from their indexes when the PDB has
	// them, else from a linear scan of the symbol-record stream.
	offs, err := f.globalOffsets()
	if err != nil {
		return nil, err
	}
	n := len(offs)
	for i, b := range streams {
		if i == 0 {
			if offs == nil {
				n += countSymbols(b)
			}
		} else if len(b) > 4 {
			n += countSymbols(b[4:]) // after the signature
		}
	}
	if n >= 1<<30 {
		return nil, formatErr("symbol record stream", "%d symbols are more than kd indexes", n)
	}
	syms := make([]Symbol, 0, n)
	add := func(s Symbol, seg uint16, off uint32) {
		if r, ok := f.rva(seg, off); ok && s.Name != "" && len(syms) < 1<<30 {
			s.RVA = r
			syms = append(syms, s)
		}
	}
	for i, b := range streams {
		var err error
		if i == 0 && offs != nil {
			err = scanIndexed(b, offs, add)
		} else if i == 0 {
			err = scanGlobals(b, add)
		} else {
			err = scanModule(b, add)
		}
		if err != nil {
			return nil, err
		}
	}
	return newSymIndex(syms), nil
}

// symbolStreams returns the symbol-record stream (first, nil when
// absent) and the module symbol streams cut to their symbols.
func (f *File) symbolStreams() ([][]byte, error) {
	out := [][]byte{nil}
	if sr := int(f.dbi.symRecords); sr != noStream {
		b, err := f.msf.stream(sr, "symbol record stream")
		if err != nil {
			return nil, err
		}
		out[0] = b
	}
	for i, m := range f.dbi.modules {
		if i >= maxModuleStreams {
			break
		}
		if m.symStream == noStream || m.symBytes <= 4 {
			continue
		}
		b, err := f.msf.stream(int(m.symStream), "module symbol stream")
		if err != nil {
			return nil, err
		}
		if int64(m.symBytes) > int64(len(b)) {
			return nil, formatErr("module symbol stream", "module %q claims %d bytes of symbols, its stream has %d", m.Name, m.symBytes, len(b))
		}
		out = append(out, b[:m.symBytes])
	}
	return out, nil
}

// globalOffsets returns the symbol-record offsets of the publics and
// globals, or nil when the PDB lacks either index.
func (f *File) globalOffsets() ([]uint32, error) {
	if f.dbi.publics == noStream || f.dbi.globals == noStream || f.dbi.symRecords == noStream {
		return nil, nil
	}
	b, err := f.msf.stream(int(f.dbi.publics), "publics stream")
	if err != nil {
		return nil, err
	}
	pubs, err := publicOffsets(b)
	if err != nil {
		return nil, err
	}
	if b, err = f.msf.stream(int(f.dbi.globals), "globals stream"); err != nil {
		return nil, err
	}
	globs, err := gsiOffsets(b, "globals stream")
	if err != nil {
		return nil, err
	}
	return append(pubs, globs...), nil
}

// scanIndexed reads the publics and globals at the given offsets of the
// symbol-record stream.
func scanIndexed(b []byte, offs []uint32, add addFunc) error {
	for _, off := range offs {
		kind, body, ok := recordAt(b, off)
		if !ok {
			return formatErr("symbol record stream", "an index points at offset %d, which holds no whole record (stream is %d bytes)", off, len(b))
		}
		addRecord(kind, body, add)
	}
	return nil
}

// countSymbols counts the records that may become symbols, reading only
// record headers.
func countSymbols(b []byte) int {
	n := 0
	for off := 0; off+4 <= len(b); {
		l := int(binary.LittleEndian.Uint16(b[off:]))
		if l < 2 {
			break
		}
		switch binary.LittleEndian.Uint16(b[off+2:]) {
		case sPub32, sGData32, sLData32, sGProc32, sLProc32, sGProc32ID, sLProc32ID:
			n++
		}
		off += 2 + l
	}
	return n
}

// addFunc receives a symbol and its section:offset.
type addFunc func(s Symbol, seg uint16, off uint32)

// scanGlobals reads publics and global data from the symbol-record
// stream.
func scanGlobals(b []byte, add addFunc) error {
	return walkRecords(b, 0, "symbol record stream", func(_ int, kind uint16, body []byte) bool {
		addRecord(kind, body, add)
		return true
	})
}

// addRecord adds a public or a global data symbol; other kinds (S_UDT,
// S_CONSTANT, S_PROCREF, ...) are not addresses of their own.
func addRecord(kind uint16, body []byte, add addFunc) {
	switch kind {
	case sPub32:
		if d, ok := decodeData(body); ok {
			add(Symbol{Name: d.name, Kind: SymPublic, Code: d.typ&3 != 0}, d.segment, d.offset)
		}
	case sGData32, sLData32:
		if d, ok := decodeData(body); ok {
			add(Symbol{Name: d.name, Kind: SymData, Type: TypeIndex(d.typ), Static: kind == sLData32}, d.segment, d.offset)
		}
	}
}

// scanModule reads functions and file-scope data from a module stream
// (b starts with the 4-byte signature).
func scanModule(b []byte, add addFunc) error {
	depth := 0
	return walkRecords(b, 4, "module symbol stream", func(_ int, kind uint16, body []byte) bool {
		switch kind {
		case sGProc32, sLProc32, sGProc32ID, sLProc32ID:
			if p, ok := decodeProc(body); ok {
				add(Symbol{Name: p.name, Size: p.codeSize, Kind: SymFunction, Type: TypeIndex(p.typ),
					Static: kind == sLProc32 || kind == sLProc32ID}, p.segment, p.offset)
			}
			depth++
		case sBlock32, sThunk32, sWith32, sSepCode, sInlineSite, sInlineSit2:
			depth++
		case sEnd, sProcIDEnd, sInlineEnd:
			depth = max(depth-1, 0)
		case sGData32, sLData32:
			if depth > 0 {
				break // a function's static: not a module-level name
			}
			if d, ok := decodeData(body); ok {
				add(Symbol{Name: d.name, Kind: SymData, Type: TypeIndex(d.typ), Static: kind == sLData32}, d.segment, d.offset)
			}
		}
		return true
	})
}

// newSymIndex sorts and de-duplicates: one entry per (name, RVA), the
// most informative kind winning (a function's size over a public). It
// sorts packed (RVA, kind, position) keys rather than the symbols, which
// is several times faster on kernel-sized lists.
func newSymIndex(syms []Symbol) *symIndex {
	keys := make([]uint64, len(syms))
	for i, s := range syms {
		keys[i] = uint64(s.RVA)<<32 | uint64(s.Kind)<<30 | uint64(i)
	}
	slices.Sort(keys)
	out := make([]Symbol, 0, len(syms))
	group := 0 // start of the current RVA's entries in out
	for _, k := range keys {
		s := syms[k&(1<<30-1)]
		if len(out) > 0 && out[len(out)-1].RVA != s.RVA {
			group = len(out)
		}
		dup := false
		for j := group; j < len(out); j++ {
			if out[j].Name == s.Name {
				dup = true
				out[j].Code = out[j].Code || s.Code
				break
			}
		}
		if !dup {
			out = append(out, s)
		}
	}
	if cap(out)-len(out) > len(out)/4 {
		out = slices.Clone(out) // duplicates merged: do not keep the slack
	}
	ix := &symIndex{syms: out}
	ix.byName = make([]int32, len(out))
	for i := range out {
		ix.byName[i] = int32(i)
		if out[i].Kind == SymFunction && out[i].Size > 0 {
			ix.funcs = append(ix.funcs, int32(i))
		}
	}
	slices.SortFunc(ix.byName, func(a, b int32) int {
		return cmp.Or(strings.Compare(out[a].Name, out[b].Name), cmp.Compare(a, b))
	})
	return ix
}

// Lookup returns the symbols named exactly name (case-sensitive), the
// preferred kind first.
func (f *File) Lookup(name string) ([]Symbol, error) {
	if err := f.rlock(); err != nil {
		return nil, err
	}
	defer f.mu.RUnlock()
	ix, err := f.loadSymbols()
	if err != nil {
		return nil, err
	}
	i := sort.Search(len(ix.byName), func(i int) bool { return ix.syms[ix.byName[i]].Name >= name })
	var out []Symbol
	for ; i < len(ix.byName) && ix.syms[ix.byName[i]].Name == name; i++ {
		out = append(out, ix.syms[ix.byName[i]])
	}
	slices.SortStableFunc(out, func(a, b Symbol) int { return cmp.Compare(a.Kind, b.Kind) })
	return out, nil
}

// Find calls fn, in address order, for every symbol whose name matches
// pattern, where '*' matches any run of characters and '?' any one
// character, ignoring case (as KD's x does). Returning false stops.
func (f *File) Find(pattern string, fn func(Symbol) bool) error {
	if err := f.rlock(); err != nil {
		return err
	}
	defer f.mu.RUnlock()
	ix, err := f.loadSymbols()
	if err != nil {
		return err
	}
	for _, s := range ix.syms {
		if Match(pattern, s.Name) && !fn(s) {
			break
		}
	}
	return nil
}

// Nearest returns the preferred symbol at the greatest address <= rva
// (ok false if none) and the one at the least address > rva (ok false if
// none), the pair KD's ln prints.
func (f *File) Nearest(rva uint32) (below Symbol, okBelow bool, above Symbol, okAbove bool, err error) {
	if err = f.rlock(); err != nil {
		return
	}
	defer f.mu.RUnlock()
	ix, err := f.loadSymbols()
	if err != nil {
		return
	}
	i := sort.Search(len(ix.syms), func(i int) bool { return ix.syms[i].RVA > rva })
	if i < len(ix.syms) {
		above, okAbove = ix.syms[i], true
	}
	if i > 0 {
		// The first entry at that address is the preferred one.
		j := i - 1
		for j > 0 && ix.syms[j-1].RVA == ix.syms[i-1].RVA {
			j--
		}
		below, okBelow = ix.syms[j], true
	}
	return
}

// At returns every symbol at exactly rva (KD's "Exact matches"),
// preferred first.
func (f *File) At(rva uint32) ([]Symbol, error) {
	if err := f.rlock(); err != nil {
		return nil, err
	}
	defer f.mu.RUnlock()
	ix, err := f.loadSymbols()
	if err != nil {
		return nil, err
	}
	i := sort.Search(len(ix.syms), func(i int) bool { return ix.syms[i].RVA >= rva })
	var out []Symbol
	for ; i < len(ix.syms) && ix.syms[i].RVA == rva; i++ {
		out = append(out, ix.syms[i])
	}
	return out, nil
}

// FunctionAt returns the function whose [RVA, RVA+Size) holds rva, from
// the module streams; ok is false when no known function does (a
// public-only PDB, or code between functions).
func (f *File) FunctionAt(rva uint32) (fn Symbol, ok bool, err error) {
	if err = f.rlock(); err != nil {
		return
	}
	defer f.mu.RUnlock()
	ix, err := f.loadSymbols()
	if err != nil {
		return
	}
	i := sort.Search(len(ix.funcs), func(i int) bool { return ix.syms[ix.funcs[i]].RVA > rva })
	for j := i - 1; j >= 0; j-- {
		s := ix.syms[ix.funcs[j]]
		if rva-s.RVA < s.Size {
			return s, true, nil
		}
		if j < i-1 || rva-s.RVA >= 1<<24 {
			break // look back past at most one overlapping neighbour
		}
	}
	return Symbol{}, false, nil
}

// Functions returns every function with a known extent, by address.
func (f *File) Functions() ([]Symbol, error) {
	if err := f.rlock(); err != nil {
		return nil, err
	}
	defer f.mu.RUnlock()
	ix, err := f.loadSymbols()
	if err != nil {
		return nil, err
	}
	out := make([]Symbol, len(ix.funcs))
	for i, j := range ix.funcs {
		out[i] = ix.syms[j]
	}
	return out, nil
}

// Symbols returns every symbol, by address.
func (f *File) Symbols() ([]Symbol, error) {
	if err := f.rlock(); err != nil {
		return nil, err
	}
	defer f.mu.RUnlock()
	ix, err := f.loadSymbols()
	if err != nil {
		return nil, err
	}
	return slices.Clone(ix.syms), nil
}
