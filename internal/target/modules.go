package target

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf16"

	"github.com/gokd/kd/internal/safetext"
)

// Offsets in the x64 KLDR_DATA_TABLE_ENTRY.
const (
	ldrDllBase     = 0x30
	ldrSizeOfImage = 0x40
	ldrBaseDllName = 0x58 // UNICODE_STRING: Length (16), MaximumLength (16), pad, Buffer (64)
	ldrEntryRead   = 0x68
	maxModules     = 512
	maxExports     = 8192
)

// Module is one loaded kernel module.
type Module struct {
	Name string // KD's name: nt, hal, kdcom, ...
	File string // base file name as the loader list has it (sanitised)
	Base uint64
	Size uint32
}

// ldrFullDllName is the KLDR_DATA_TABLE_ENTRY's full path (UNICODE_STRING).
const ldrFullDllName = 0x48

// module is a Module with its export names, read when first needed.
type module struct {
	Module
	pathString [16]byte     // the loader's FullDllName UNICODE_STRING
	indexed    bool         // the export tables were looked for
	idx        *exportIndex // nil when the image has no export directory
	loaded     bool         // all export names were looked for
	exports    []export     // sorted by address, then name
	extra      []export     // the extra symbol table's names in the module
	extraDone  bool
}

type export struct {
	addr uint64
	name string
}

// modules is the loader list read from PsLoadedModuleList, walked only
// as far as a question needs. The kernel is known before the walk: its
// base comes with GetVersion and its size from its PE header, so the stop
// location at connection (nearly always in nt) needs no loader entry at
// all; the walk's first entry then completes that same module.
type modules struct {
	list    []*module
	head    uint64 // PsLoadedModuleList
	next    uint64 // the next entry to read
	started bool   // the list head was read
	done    bool   // the walk reached the end (or a bad entry)

	kernel      *module // nt from KernBase, before the walk reached it
	kernelTried bool    // its header was looked at
	kernBase    uint64
}

// moduleName turns a loader-list file name into KD's module name.
func moduleName(file string, first bool) string {
	lf := strings.ToLower(file)
	if first || strings.HasPrefix(lf, "ntoskrnl") || strings.HasPrefix(lf, "ntkrnl") {
		return "nt"
	}
	if i := strings.LastIndexByte(file, '.'); i > 0 {
		return file[:i]
	}
	return file
}

// Modules returns the loaded modules.
func (t *Target) Modules(ctx context.Context) ([]Module, error) {
	s, err := t.needStopped()
	if err != nil {
		return nil, err
	}
	y, err := t.loadModules(ctx, s)
	if err != nil {
		return nil, err
	}
	for !y.done {
		if _, err := t.walk(ctx, s, y); err != nil {
			return nil, err
		}
	}
	out := make([]Module, len(y.list))
	for i, m := range y.list {
		out[i] = m.Module
	}
	return out, nil
}

// loadModules starts the loader list once per module list that did not
// change. It reads nothing: the list head is read when the walk first
// needs it.
func (t *Target) loadModules(_ context.Context, s *session) (*modules, error) {
	if s.mods != nil {
		return s.mods, nil
	}
	y := &modules{done: true}
	if !s.haveVersion || s.version.PsLoadedModuleList == 0 {
		return y, nil
	}
	y.head, y.done, y.kernBase = s.version.PsLoadedModuleList, false, s.version.KernBase
	s.mods = y
	return y, nil
}

// start reads the list head. A head that could not be read because of the
// link is not kept: the next use tries again.
func (t *Target) start(ctx context.Context, s *session, y *modules) error {
	if y.started {
		return nil
	}
	b, ok, err := t.readMemory(ctx, s, y.head, 8)
	if err != nil {
		return err
	}
	y.started = true
	if !allOK(ok) {
		y.done = true
		return nil
	}
	y.next = binary.LittleEndian.Uint64(b)
	y.done = y.next == y.head || y.next == 0
	return nil
}

// walk reads the next loader entry and returns its module (nil at the end).
func (t *Target) walk(ctx context.Context, s *session, y *modules) (*module, error) {
	if err := t.start(ctx, s, y); err != nil {
		return nil, err
	}
	if y.done {
		return nil, nil
	}
	if len(y.list) >= maxModules {
		y.done = true
		return nil, nil
	}
	e, ok, err := t.readMemory(ctx, s, y.next, ldrEntryRead)
	if err != nil {
		return nil, err
	}
	if !allOK(ok) {
		y.done = true
		return nil, nil
	}
	m := &module{Module: Module{
		Base: binary.LittleEndian.Uint64(e[ldrDllBase:]),
		Size: binary.LittleEndian.Uint32(e[ldrSizeOfImage:]),
	}}
	if m.File, err = t.readUnicode(ctx, s, e[ldrBaseDllName:]); err != nil {
		return nil, err
	}
	copy(m.pathString[:], e[ldrFullDllName:]) // read when lm v needs it
	if m.File == "" {
		m.File = fmt.Sprintf("module_%08x`%08x", m.Base>>32, uint32(m.Base))
	}
	m.Name = moduleName(m.File, len(y.list) == 0)
	if k := y.kernel; k != nil && len(y.list) == 0 {
		// The kernel met before the walk: keep that module (and what was
		// read for it), now with the loader's name and size.
		y.kernel = nil
		if k.Base == m.Base {
			k.Module, k.pathString = m.Module, m.pathString
			m = k
		}
	}
	y.list = append(y.list, m)
	y.next = binary.LittleEndian.Uint64(e[0:])
	y.done = y.next == y.head || y.next == 0
	return m, nil
}

// kernelModule returns nt as GetVersion's KernBase and its PE header's
// SizeOfImage describe it, before the loader list has been walked (nil
// once the walk started, or when the header is unreadable). Its File is
// empty until the walk reaches it. The header bytes read are the ones
// the export directory is found from, so knowing nt this way costs no
// request of its own.
func (t *Target) kernelModule(ctx context.Context, s *session, y *modules) *module {
	if y.kernel != nil || y.kernelTried || y.started || y.kernBase == 0 {
		return y.kernel
	}
	b, ok, err := t.readMemory(ctx, s, y.kernBase, peHeaderRead)
	if err != nil {
		return nil // the link: try again next time
	}
	y.kernelTried = true
	size := imageSize(b, ok)
	if size == 0 {
		return nil
	}
	y.kernel = &module{Module: Module{Name: "nt", Base: y.kernBase, Size: size}}
	return y.kernel
}

// imageSize returns the SizeOfImage of the PE32+ headers in b (0 when b
// holds none).
func imageSize(b []byte, ok []bool) uint32 {
	if len(b) < 0x40 || !allOK(ok[:0x40]) || b[0] != 'M' || b[1] != 'Z' {
		return 0
	}
	pe := uint64(binary.LittleEndian.Uint32(b[0x3C:]))
	if pe+24+0x3C > uint64(len(b)) || !allOK(ok[pe:pe+24+0x3C]) || string(b[pe:pe+4]) != "PE\x00\x00" ||
		binary.LittleEndian.Uint16(b[pe+24:]) != 0x20B {
		return 0
	}
	return binary.LittleEndian.Uint32(b[pe+24+0x38:])
}

// readUnicode reads the text of a UNICODE_STRING (up to 512 bytes); ""
// when it cannot be read. Only a link error is returned.
func (t *Target) readUnicode(ctx context.Context, s *session, us []byte) (string, error) {
	nlen := int(binary.LittleEndian.Uint16(us))
	buf := binary.LittleEndian.Uint64(us[8:])
	if nlen <= 0 || nlen > 512 || buf == 0 {
		return "", nil
	}
	nb, ok, err := t.readMemory(ctx, s, buf, nlen&^1)
	if err != nil || !allOK(ok) {
		return "", err
	}
	u := make([]uint16, len(nb)/2)
	for j := range u {
		u[j] = binary.LittleEndian.Uint16(nb[2*j:])
	}
	return safetext.Sanitize([]byte(string(utf16.Decode(u)))), nil
}

// readable returns the prefix of b that the target could read.
func readable(b []byte, ok []bool) []byte {
	i := 0
	for i < len(ok) && ok[i] {
		i++
	}
	return b[:i]
}

func allOK(ok []bool) bool {
	for _, o := range ok {
		if !o {
			return false
		}
	}
	return true
}

// moduleAt returns the module holding addr, walking the list as far as
// needed; an address in the kernel needs no walk.
func (t *Target) moduleAt(ctx context.Context, s *session, y *modules, addr uint64) *module {
	match := func(m *module) bool { return addr >= m.Base && addr-m.Base < uint64(m.Size) }
	for _, m := range y.list {
		if match(m) {
			return m
		}
	}
	if k := t.kernelModule(ctx, s, y); k != nil && match(k) {
		return k
	}
	for !y.done {
		m, err := t.walk(ctx, s, y)
		if err != nil || m == nil {
			return nil
		}
		if match(m) {
			return m
		}
	}
	return nil
}

// moduleNamed returns the module with KD name (or file name) n.
func (t *Target) moduleNamed(ctx context.Context, s *session, y *modules, n string) (*module, error) {
	match := func(m *module) bool { return strings.EqualFold(m.Name, n) || strings.EqualFold(m.File, n) }
	for _, m := range y.list {
		if match(m) {
			return m, nil
		}
	}
	for !y.done {
		m, err := t.walk(ctx, s, y)
		if err != nil {
			return nil, err
		}
		if m != nil && match(m) {
			return m, nil
		}
	}
	return nil, nil
}

// imageReader returns the reader of m's image through the page cache.
// Its reads stay inside the image (SizeOfImage) and give the readable
// prefix; a link error is kept for the caller.
func (t *Target) imageReader(ctx context.Context, s *session, m *module) imageReader {
	return func(rva uint32, n int) ([]byte, error) {
		if n <= 0 || uint64(rva) >= uint64(m.Size) {
			return nil, nil
		}
		n = int(min(uint64(n), uint64(m.Size)-uint64(rva)))
		b, ok, err := t.readMemory(ctx, s, m.Base+uint64(rva), n)
		if err != nil {
			return nil, err
		}
		return readable(b, ok), nil
	}
}

// loadIndex reads m's export directory and tables, once (see
// exportIndex). A region small enough to read whole is read whole, and
// its names taken at once. Only a link error is returned.
func (t *Target) loadIndex(ctx context.Context, s *session, m *module) error {
	if m.indexed || m.loaded {
		return nil
	}
	x, err := readExportIndex(t.imageReader(ctx, s, m), m.Size)
	if err != nil {
		return err // the link failed: try again next time
	}
	m.idx, m.indexed = x, true
	if x != nil && x.whole {
		return t.loadExports(ctx, s, m) // the strings are in the cache
	}
	return nil
}

// hasExports reports whether m has names: exported ones or the extra
// table's. Before the list is read, a named export is one the tables have.
func (t *Target) hasExports(m *module) bool {
	if m.loaded {
		return len(m.exports) > 0
	}
	return m.idx != nil && len(m.idx.byAddr) > 0 || len(t.extraFor(m)) > 0
}

// extraFor returns the extra symbol table's names in m (Config.Symbols,
// less linker-defined __ names), sorted like m.exports; computed once.
func (t *Target) extraFor(m *module) []export {
	if m.extraDone {
		return m.extra
	}
	prefix := strings.ToLower(m.Name) + "!"
	for name, addr := range t.cfg.Symbols {
		if strings.HasPrefix(strings.ToLower(name), prefix) && !strings.HasPrefix(name[len(prefix):], "__") &&
			addr >= m.Base && addr-m.Base < uint64(m.Size) {
			m.extra = append(m.extra, export{addr: addr, name: name[len(prefix):]})
		}
	}
	sortExports(m.extra)
	m.extraDone = true
	return m.extra
}

func sortExports(ex []export) {
	sort.Slice(ex, func(i, j int) bool {
		if ex[i].addr != ex[j].addr {
			return ex[i].addr < ex[j].addr
		}
		return ex[i].name < ex[j].name
	})
}

// loadExports reads all of a module's export names (x, ln, lm v,
// module!name need them all), from the tables loadIndex read: only the
// strings not read yet go on the wire.
func (t *Target) loadExports(ctx context.Context, s *session, m *module) error {
	if m.loaded {
		return nil
	}
	if err := t.loadIndex(ctx, s, m); err != nil || m.loaded {
		return err
	}
	var ex []export
	if x := m.idx; x != nil {
		rel, err := x.all(t.imageReader(ctx, s, m))
		if err != nil {
			return err // the link failed: try again next time
		}
		for _, e := range rel {
			ex = append(ex, export{addr: m.Base + e.addr, name: e.name})
		}
	}
	m.loaded = true
	ex = append(ex, t.extraFor(m)...)
	sortExports(ex)
	m.exports = slices.Compact(ex) // the extra table repeats exported names
	return nil
}

// exportBelow returns m's export (or extra symbol) nearest at or below
// addr. Before the full list is read it reads only what that needs: the
// name of the export found in the tables (none when the extra table has a
// nearer symbol). ok is false when there is none or the link failed.
func (t *Target) exportBelow(ctx context.Context, s *session, m *module, addr uint64) (export, bool) {
	if !m.loaded && m.idx != nil && addr >= m.Base && addr-m.Base <= 0xFFFFFFFF {
		extra := t.extraFor(m)
		j := sort.Search(len(extra), func(k int) bool { return extra[k].addr > addr }) - 1
		e, ok, full, err := m.idx.below(t.imageReader(ctx, s, m), uint32(addr-m.Base))
		switch {
		case err != nil:
			return export{}, false
		case !full:
			e.addr += m.Base
			if j >= 0 && (!ok || extra[j].addr > e.addr || extra[j].addr == e.addr && extra[j].name > e.name) {
				return extra[j], true
			}
			return e, ok
		}
		// An empty name or many aliases: the list decides.
	}
	if !m.loaded {
		if err := t.loadExports(ctx, s, m); err != nil {
			return export{}, false
		}
	}
	j := sort.Search(len(m.exports), func(k int) bool { return m.exports[k].addr > addr }) - 1
	if j < 0 {
		return export{}, false
	}
	return m.exports[j], true
}

// Symbolize names addr as module!symbol+0xoff, or module+0xoff when the
// module exports nothing nearer, or "" when no module holds it (or the
// target is not stopped).
func (t *Target) Symbolize(ctx context.Context, addr uint64) string {
	s, err := t.needStopped()
	if err != nil {
		return ""
	}
	return t.symbolize(ctx, s, addr)
}
