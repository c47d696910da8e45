package target

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/gokd/kd/internal/pdb"
	"github.com/gokd/kd/internal/pe"
)

// SymState is what a module's symbols are, as lm shows them.
type SymState int

// Symbol states, in lm's words.
const (
	SymDeferred   SymState = iota // not looked at yet: "(deferred)"
	SymExport                     // names from the export directory: "(export symbols)"
	SymPDB                        // a public PDB: "(pdb symbols)"
	SymPrivatePDB                 // a PDB with function extents or types: "(private pdb symbols)"
	SymNone                       // the image could not be read: "(no symbols)"
)

// String is lm's spelling of the state.
func (s SymState) String() string {
	switch s {
	case SymDeferred:
		return "(deferred)"
	case SymExport:
		return "(export symbols)"
	case SymPDB:
		return "(pdb symbols)"
	case SymPrivatePDB:
		return "(private pdb symbols)"
	}
	return "(no symbols)"
}

// Name is the state as one JSON word.
func (s SymState) Name() string {
	return [...]string{"deferred", "export", "pdb", "private_pdb", "none"}[s]
}

// SymbolMessage is a line about symbol loading: KD's "*** ERROR: Module
// load completed but symbols could not be loaded for ..." (once per
// module), and the places searched when !sym noisy is on.
type SymbolMessage struct {
	Module string
	Text   string
	Noisy  bool // a !sym noisy trace line
}

// EventName returns the event's JSON name.
func (SymbolMessage) EventName() string { return "symbols" }

// modSyms is one loaded image's symbols. It outlives the module list
// (which is read again after every module load), keyed by name, base and
// size, so a PDB is opened once per image.
type modSyms struct {
	state   SymState
	imaged  bool      // the image headers were looked at (ensureImage)
	image   *pe.Image // nil when they could not be read
	cv      pe.CodeView
	hasCV   bool
	pdb     *pdb.File
	pdbPath string
	why     string // why no PDB is loaded (lmv, the error line)
	said    bool   // the error line was shown
}

type symKey struct {
	name string
	base uint64
	size uint32
}

// maxSymCache bounds the images whose symbols are kept.
const maxSymCache = 1024

// memReader is an io.ReaderAt over a module's image in target memory,
// through the page cache.
type memReader struct {
	t    *Target
	ctx  context.Context
	s    *session
	base uint64
}

func (r memReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	n := 0
	for n < len(p) {
		c := min(len(p)-n, 0x10000)
		b, ok, err := r.t.readMemory(r.ctx, r.s, r.base+uint64(off)+uint64(n), c)
		if err != nil {
			return n, err
		}
		for i, o := range ok {
			if !o {
				copy(p[n:], b[:i])
				return n + i, fmt.Errorf("memory at %s is not readable", hexAddr(r.base+uint64(off)+uint64(n+i)))
			}
		}
		copy(p[n:], b)
		n += c
	}
	return n, nil
}

func hexAddr(v uint64) string { return fmt.Sprintf("%08x`%08x", v>>32, uint32(v)) }

// symsOf returns the symbol record of m, creating it deferred.
func (t *Target) symsOf(m *module) *modSyms {
	k := symKey{strings.ToLower(m.Name), m.Base, m.Size}
	if t.syms == nil {
		t.syms = make(map[symKey]*modSyms)
	}
	ms := t.syms[k]
	if ms == nil {
		if len(t.syms) >= maxSymCache {
			t.dropSymbols()
			t.syms = make(map[symKey]*modSyms)
		}
		ms = &modSyms{}
		t.syms[k] = ms
	}
	return ms
}

// dropSymbols forgets every module's symbols (closing the PDBs).
func (t *Target) dropSymbols() {
	for _, ms := range t.syms {
		if ms.pdb != nil {
			_ = ms.pdb.Close()
		}
	}
	t.syms = nil
}

// ensureSymbols loads m's symbols if they are deferred: with a symbol
// path, the image headers and RSDS record from memory, then the PDB, else
// the exports; without one, only the export directory's tables (the
// headers beyond are read when something needs them, see ensureImage).
// Export names are read one at a time as addresses are named, and all of
// them by ensureNames. Only a link error (or a cancelled context) is
// returned; the module is then left deferred for the next try.
func (t *Target) ensureSymbols(ctx context.Context, s *session, m *module) (*modSyms, error) {
	ms := t.symsOf(m)
	if ms.state != SymDeferred {
		if ms.state == SymExport {
			return ms, t.loadIndex(ctx, s, m)
		}
		return ms, nil
	}
	if !t.symPathSet() {
		if err := t.loadIndex(ctx, s, m); err != nil {
			return ms, err
		}
		if t.hasExports(m) {
			ms.state, ms.why = SymExport, noSymbolPath
			return ms, nil
		}
		// No names: say why from the image's headers.
	}
	if err := t.ensureImage(ctx, s, m, ms); err != nil {
		return ms, err
	}
	if ms.image == nil {
		ms.state = SymNone
		return ms, t.sayOnce(ctx, s, m, ms)
	}
	if ms.hasCV {
		if err := t.loadPDB(ctx, m, ms); err != nil {
			return ms, err
		}
	}
	if ms.pdb == nil {
		if err := t.loadIndex(ctx, s, m); err != nil {
			return ms, err
		}
		ms.state = SymExport
		return ms, t.sayOnce(ctx, s, m, ms)
	}
	return ms, nil
}

// ensureNames is ensureSymbols for the questions that need every export
// name (x, ln, lm v, module!name, .reload /f): a module named by its
// exports gets the whole list.
func (t *Target) ensureNames(ctx context.Context, s *session, m *module) (*modSyms, error) {
	ms, err := t.ensureSymbols(ctx, s, m)
	if err != nil || ms.state != SymExport {
		return ms, err
	}
	return ms, t.loadExports(ctx, s, m)
}

// noSymbolPath is why no PDB is loaded when there is no symbol path.
const noSymbolPath = "no symbol path (set one with -y, _NT_SYMBOL_PATH, .sympath or .symfix)"

// ensureImage reads m's image headers and its RSDS record into ms, once:
// lm v, the stack walk's .pdata and the PDB search need them. An image
// whose headers cannot be read leaves ms.image nil and says why in ms.why;
// only a link error is returned.
func (t *Target) ensureImage(ctx context.Context, s *session, m *module, ms *modSyms) error {
	if ms.imaged {
		return nil
	}
	if err := t.prefetchHeaders(ctx, s, m); err != nil {
		return err
	}
	r := memReader{t: t, ctx: ctx, s: s, base: m.Base}
	im, err := pe.Open(r, int64(m.Size), pe.Memory)
	if err != nil {
		if ctx.Err() != nil || isLinkErr(err) {
			return err
		}
		ms.imaged, ms.why = true, "image headers: "+err.Error()
		return nil
	}
	cv, err := im.CodeView()
	if err != nil && (ctx.Err() != nil || isLinkErr(err)) {
		return err
	}
	ms.imaged, ms.image = true, im
	switch {
	case err == nil:
		ms.cv, ms.hasCV = cv, true
		if !t.symPathSet() {
			ms.why = noSymbolPath
		}
	default:
		ms.why = err.Error()
	}
	return nil
}

// prefetchHeaders reads the image's headers up to the end of its section
// table in at most two requests, so that the PE reader's small reads hit
// the cache. Only a link error is returned.
func (t *Target) prefetchHeaders(ctx context.Context, s *session, m *module) error {
	b, ok, err := t.readMemory(ctx, s, m.Base, min(peHeaderRead, int(m.Size)))
	if err != nil || len(b) < 0x40 || !allOK(ok[:0x40]) {
		return err
	}
	lfanew := uint64(binary.LittleEndian.Uint32(b[0x3C:]))
	if lfanew+24 > uint64(len(b)) || !allOK(ok[lfanew:lfanew+24]) {
		return nil
	}
	nsec := uint64(binary.LittleEndian.Uint16(b[lfanew+6:]))
	opt := uint64(binary.LittleEndian.Uint16(b[lfanew+20:]))
	end := min(lfanew+24+opt+40*min(nsec, pe.MaxSections), uint64(m.Size), pe.MaxHeaderSize)
	if end > uint64(len(b)) {
		_, _, err = t.readMemory(ctx, s, m.Base+uint64(len(b)), int(end)-len(b))
	}
	return err
}

// isLinkErr reports whether err came from the link rather than the image.
func isLinkErr(err error) bool {
	return errors.Is(err, ErrNotStopped) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.ErrClosedPipe) || strings.Contains(err.Error(), "link")
}

// sayOnce shows KD's error line for a module whose PDB was not loaded,
// once, and only when there is a symbol path to have found it on. The
// kernel known before the loader walk gets its file name from the walk's
// first entry. Only a link error is returned.
func (t *Target) sayOnce(ctx context.Context, s *session, m *module, ms *modSyms) error {
	if ms.said || !t.symPathSet() {
		return nil
	}
	if m.File == "" && s.mods != nil {
		if _, err := t.walk(ctx, s, s.mods); err != nil {
			return err
		}
	}
	file := m.File
	if file == "" {
		file = m.Name
	}
	ms.said = true
	t.emit(SymbolMessage{Module: m.Name, Text: "*** ERROR: Module load completed but symbols could not be loaded for " + file})
	return nil
}

// loadPDB finds and opens the PDB named by ms.cv along the symbol path.
// A PDB that cannot be found or opened leaves ms.pdb nil and says why in
// ms.why; only a cancelled context is returned.
func (t *Target) loadPDB(ctx context.Context, m *module, ms *modSyms) error {
	if !t.symPathSet() {
		ms.why = noSymbolPath
		return nil
	}
	ext := strings.TrimPrefix(path.Ext(strings.ToLower(m.File)), ".")
	p, err := t.findPDB(ctx, ms.cv.PDBName(), ms.cv.Key(), ext)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		ms.why = err.Error()
		return nil
	}
	f, err := openMatching(p, ms.cv)
	if err != nil {
		ms.why = err.Error()
		return nil
	}
	if secs := ms.image.Sections; len(secs) > 0 {
		ps := make([]pdb.Section, len(secs))
		for i, sc := range secs {
			ps[i] = pdb.Section{Name: sc.Name, VirtualSize: sc.VirtualSize, VirtualAddress: sc.VirtualAddress, Characteristics: sc.Characteristics}
		}
		f.UseImageSections(ps)
	}
	ms.pdb, ms.pdbPath, ms.why = f, p, ""
	ms.state = SymPDB
	if fns, err := f.Functions(); err == nil && len(fns) > 0 {
		ms.state = SymPrivatePDB
	}
	return nil
}

// openMatching opens the PDB at p and checks it belongs to the image.
func openMatching(p string, cv pe.CodeView) (*pdb.File, error) {
	f, err := pdb.Open(p)
	if err != nil {
		return nil, err
	}
	if err := f.Match(pdb.GUID(cv.GUID), cv.Age); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

// Sym is a named address.
type Sym struct {
	Module string
	Name   string
	Addr   uint64
	Size   uint32 // a function's code size; 0 when unknown
	Kind   string // "function", "data", "public" or "export"
	Type   string // C type of a PDB function or data symbol ("" unknown)
}

// FullName is module!name.
func (y Sym) FullName() string { return y.Module + "!" + y.Name }

func pdbSym(m *module, f *pdb.File, s pdb.Symbol) Sym {
	out := Sym{Module: m.Name, Name: s.Name, Addr: m.Base + uint64(s.RVA), Size: s.Size, Kind: "public"}
	switch s.Kind {
	case pdb.SymFunction:
		out.Kind = "function"
	case pdb.SymData:
		out.Kind = "data"
	}
	if s.Type != 0 {
		if n, err := f.TypeName(s.Type); err == nil {
			out.Type = n
		}
	}
	return out
}

// nearest returns the symbols of m at or below addr and above it.
func (t *Target) nearest(ms *modSyms, m *module, addr uint64) (below, above Sym, okB, okA bool) {
	if ms.pdb != nil {
		rva := addr - m.Base
		if rva > 0xFFFFFFFF {
			return
		}
		b, ob, a, oa, err := ms.pdb.Nearest(uint32(rva))
		if err != nil {
			return
		}
		if ob {
			below, okB = pdbSym(m, ms.pdb, b), true
		}
		if oa {
			above, okA = pdbSym(m, ms.pdb, a), true
		}
		return
	}
	for _, e := range m.exports {
		if e.addr <= addr {
			below, okB = Sym{Module: m.Name, Name: e.name, Addr: e.addr, Kind: "export"}, true
			continue
		}
		above, okA = Sym{Module: m.Name, Name: e.name, Addr: e.addr, Kind: "export"}, true
		break
	}
	return
}
