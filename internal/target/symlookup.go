package target

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gokd/kd/internal/pdb"
)

// SymbolSearch finds symbol files along the symbol path. The console
// sets it from -y, _NT_SYMBOL_PATH and _NT_ALT_SYMBOL_PATH, and .sympath
// and .symfix change it.
type SymbolSearch interface {
	// Find returns the local path of the PDB called name whose store key
	// (GUID and age) is key, for an image with extension ext (sys, dll,
	// exe), downloading it into a cache when the path says so.
	Find(ctx context.Context, name, key, ext string) (string, error)
	// String is the path as typed; "" when there is none.
	String() string
}

// SetSymbolSearch sets the symbol path. Modules whose symbols are loaded
// keep them until Reload.
func (t *Target) SetSymbolSearch(s SymbolSearch) { t.symSearch = s }

// SymbolSearch returns the symbol path (nil when none was set).
func (t *Target) SymbolSearch() SymbolSearch { return t.symSearch }

func (t *Target) symPathSet() bool { return t.symSearch != nil && t.symSearch.String() != "" }

func (t *Target) findPDB(ctx context.Context, name, key, ext string) (string, error) {
	if t.symNoisy {
		t.emit(SymbolMessage{Noisy: true, Text: fmt.Sprintf("SYMSRV:  looking for %s (key %s) along %s", name, key, t.symSearch.String())})
	}
	p, err := t.symSearch.Find(ctx, name, key, ext)
	if t.symNoisy {
		if err != nil {
			t.emit(SymbolMessage{Noisy: true, Text: "SYMSRV:  " + name + " not found: " + err.Error()})
		} else {
			t.emit(SymbolMessage{Noisy: true, Text: "SYMSRV:  " + name + " found at " + p})
		}
	}
	return p, err
}

// SetSymbolNoisy turns !sym noisy (true) or quiet (false) on: with noisy,
// every PDB search and its outcome is reported as a SymbolMessage.
func (t *Target) SetSymbolNoisy(on bool) { t.symNoisy = on }

// ModuleInfo is one module with its symbol state (lm).
type ModuleInfo struct {
	Module
	Path  string   // the loader's full path (read for lm v)
	State SymState // (deferred) until the symbols were needed
	// From the image headers, once the symbols were looked at.
	HaveImage bool
	Timestamp uint32
	CheckSum  uint32
	ImageSize uint32
	PDBName   string // the PDB the image names (RSDS)
	PDBKey    string // its store key (GUID and age)
	PDBPath   string // the PDB file loaded
	Why       string // why no PDB is loaded
}

// ModuleInfos returns the modules match selects (all when nil) with their
// symbol state. With load (lm v) their symbols are loaded first and the
// loader's full path is read.
func (t *Target) ModuleInfos(ctx context.Context, load bool, match func(Module) bool) ([]ModuleInfo, error) {
	s, err := t.needStopped()
	if err != nil {
		return nil, err
	}
	if _, err := t.Modules(ctx); err != nil {
		return nil, err
	}
	var out []ModuleInfo
	for _, m := range s.mods.list {
		if match != nil && !match(m.Module) {
			continue
		}
		ms := t.symsOf(m)
		if load {
			if ms, err = t.ensureNames(ctx, s, m); err != nil {
				return nil, err
			}
			if err = t.ensureImage(ctx, s, m, ms); err != nil {
				return nil, err
			}
		}
		mi := ModuleInfo{Module: m.Module, State: ms.state, PDBPath: ms.pdbPath, Why: ms.why}
		if load {
			if mi.Path, err = t.readUnicode(ctx, s, m.pathString[:]); err != nil {
				return nil, err
			}
		}
		if ms.image != nil {
			mi.HaveImage = true
			mi.Timestamp, mi.CheckSum, mi.ImageSize = ms.image.TimeDateStamp, ms.image.CheckSum, ms.image.SizeOfImage
		}
		if ms.hasCV {
			mi.PDBName, mi.PDBKey = ms.cv.PDBName(), ms.cv.Key()
		}
		out = append(out, mi)
	}
	return out, nil
}

// Reload forgets the symbols of the modules match selects (all when nil),
// so they are loaded again when needed, or at once with now (.reload /f).
// It returns how many modules matched.
func (t *Target) Reload(ctx context.Context, now bool, match func(Module) bool) (int, error) {
	s, err := t.needStopped()
	if err != nil {
		return 0, err
	}
	if _, err := t.Modules(ctx); err != nil {
		return 0, err
	}
	n := 0
	for _, m := range s.mods.list {
		if match != nil && !match(m.Module) {
			continue
		}
		n++
		k := symKey{strings.ToLower(m.Name), m.Base, m.Size}
		if ms := t.syms[k]; ms != nil {
			if ms.pdb != nil {
				_ = ms.pdb.Close()
			}
			delete(t.syms, k)
		}
		m.loaded, m.exports, m.indexed, m.idx = false, nil, false, nil
		if now {
			if _, err := t.ensureNames(ctx, s, m); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// symbolModule finds the module named mod and loads its symbols.
func (t *Target) symbolModule(ctx context.Context, mod string) (*session, *module, *modSyms, error) {
	s, err := t.needStopped()
	if err != nil {
		return nil, nil, nil, err
	}
	y, err := t.loadModules(ctx, s)
	if err != nil {
		return nil, nil, nil, err
	}
	m, err := t.moduleNamed(ctx, s, y, mod)
	if err != nil {
		return nil, nil, nil, err
	}
	if m == nil {
		return nil, nil, nil, fmt.Errorf("no module %q is loaded", mod)
	}
	ms, err := t.ensureNames(ctx, s, m)
	return s, m, ms, err
}

// maxFound bounds what one x returns.
const maxFound = 100000

// FindSymbols returns the symbols of module mod whose names match pattern
// ('*' and '?', case ignored), by address (x mod!pattern). Modules may be
// a pattern too.
func (t *Target) FindSymbols(ctx context.Context, mod, pattern string) ([]Sym, error) {
	s, err := t.needStopped()
	if err != nil {
		return nil, err
	}
	var mods []*module
	if strings.ContainsAny(mod, "*?") {
		if _, err := t.Modules(ctx); err != nil {
			return nil, err
		}
		for _, m := range s.mods.list {
			if pdb.Match(mod, m.Name) {
				mods = append(mods, m)
			}
		}
	} else {
		_, m, _, err := t.symbolModule(ctx, mod)
		if err != nil {
			return nil, err
		}
		mods = []*module{m}
	}
	var out []Sym
	for _, m := range mods {
		ms, err := t.ensureNames(ctx, s, m)
		if err != nil {
			return out, err
		}
		if ms.pdb != nil {
			err := ms.pdb.Find(pattern, func(y pdb.Symbol) bool {
				out = append(out, pdbSym(m, ms.pdb, y))
				return len(out) < maxFound
			})
			if err != nil {
				return out, fmt.Errorf("%s: %w", ms.pdbPath, err)
			}
			continue
		}
		for _, e := range m.exports {
			if pdb.Match(pattern, e.name) && len(out) < maxFound {
				out = append(out, Sym{Module: m.Name, Name: e.name, Addr: e.addr, Kind: "export"})
			}
		}
	}
	return out, ctx.Err()
}

// Near is ln's answer: the symbols around an address.
type Near struct {
	Addr         uint64
	Below, Above Sym
	HaveBelow    bool
	HaveAbove    bool
	Exact        []Sym // symbols at exactly Addr
	Module       string
}

// NearSymbols returns the symbols nearest addr (ln).
func (t *Target) NearSymbols(ctx context.Context, addr uint64) (Near, error) {
	out := Near{Addr: addr}
	s, err := t.needStopped()
	if err != nil {
		return out, err
	}
	y, err := t.loadModules(ctx, s)
	if err != nil {
		return out, err
	}
	m := t.moduleAt(ctx, s, y, addr)
	if m == nil {
		return out, ctx.Err()
	}
	out.Module = m.Name
	ms, err := t.ensureNames(ctx, s, m)
	if err != nil {
		return out, err
	}
	out.Below, out.Above, out.HaveBelow, out.HaveAbove = t.nearest(ms, m, addr)
	if ms.pdb != nil {
		if at, err := ms.pdb.At(uint32(addr - m.Base)); err == nil {
			for _, y := range at {
				out.Exact = append(out.Exact, pdbSym(m, ms.pdb, y))
			}
		}
	} else {
		for _, e := range m.exports {
			if e.addr == addr {
				out.Exact = append(out.Exact, Sym{Module: m.Name, Name: e.name, Addr: e.addr, Kind: "export"})
			}
		}
	}
	return out, nil
}

// symbolize names addr: module!symbol+0xoff from the PDB or the exports,
// module+0xoff beyond a function's known end or when nothing is near. A
// module named by its exports reads only the one name it needs.
func (t *Target) symbolize(ctx context.Context, s *session, addr uint64) string {
	y, _ := t.loadModules(ctx, s)
	m := t.moduleAt(ctx, s, y, addr)
	if m == nil {
		return ""
	}
	ms, _ := t.ensureSymbols(ctx, s, m)
	var b Sym
	var ok bool
	switch {
	case ms.pdb != nil:
		b, _, ok, _ = t.nearest(ms, m, addr)
	case ms.state == SymExport:
		var e export
		if e, ok = t.exportBelow(ctx, s, m, addr); ok {
			b = Sym{Module: m.Name, Name: e.name, Addr: e.addr, Kind: "export"}
		}
	}
	if ok {
		off := addr - b.Addr
		inside := off < 0x10000
		if b.Kind == "function" && b.Size > 0 {
			inside = off < uint64(b.Size)
		}
		if inside {
			if off == 0 {
				return b.FullName()
			}
			return fmt.Sprintf("%s+0x%x", b.FullName(), off)
		}
	}
	if addr == m.Base {
		return m.Name
	}
	return fmt.Sprintf("%s+0x%x", m.Name, addr-m.Base)
}

// ErrNoSymbol is wrapped by the errors of Resolve for names it cannot find.
var ErrNoSymbol = errors.New("couldn't resolve")

// Resolve resolves "module!name" or a module name to an address.
func (t *Target) Resolve(ctx context.Context, name string) (uint64, error) {
	s, err := t.needStopped()
	if err != nil {
		return 0, err
	}
	y, err := t.loadModules(ctx, s)
	if err != nil {
		return 0, err
	}
	mod, sym, hasBang := strings.Cut(name, "!")
	if !hasBang {
		m, err := t.moduleNamed(ctx, s, y, name)
		if err != nil {
			return 0, err
		}
		if m != nil {
			return m.Base, nil
		}
		return 0, fmt.Errorf("%w error at '%s'", ErrNoSymbol, name)
	}
	_, m, ms, err := t.symbolModule(ctx, mod)
	if err != nil {
		return 0, err
	}
	if ms.pdb != nil {
		found, err := ms.pdb.Lookup(sym)
		if err == nil && len(found) > 0 {
			return m.Base + uint64(found[0].RVA), nil
		}
		var hit *pdb.Symbol
		_ = ms.pdb.Find(sym, func(y pdb.Symbol) bool {
			if strings.EqualFold(y.Name, sym) {
				hit = &y
				return false
			}
			return true
		})
		if hit != nil {
			return m.Base + uint64(hit.RVA), nil
		}
		return 0, fmt.Errorf("%w error at '%s' (%s's symbols have no such name)", ErrNoSymbol, name, m.Name)
	}
	for _, e := range m.exports {
		if strings.EqualFold(e.name, sym) {
			return e.addr, nil
		}
	}
	return 0, fmt.Errorf("%w error at '%s' (%s exports no such name)", ErrNoSymbol, name, m.Name)
}
