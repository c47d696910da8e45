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
	pathString [16]byte // the loader's FullDllName UNICODE_STRING
	loaded     bool     // exports were looked for
	exports    []export // sorted by address
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
// empty until the walk reaches it. The header's 0x200 bytes are the ones
// the export names are read from, so knowing nt this way costs no request
// of its own.
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

// peHeaderRead is how much of an image's start is read for its headers:
// the DOS header, the PE header and the optional header's data
// directories of any usual image.
const peHeaderRead = 0x200

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

// loadExports reads a module's PE export directory from memory.
func (t *Target) loadExports(ctx context.Context, s *session, m *module) error {
	if m.loaded {
		return nil
	}
	ex, err := t.readExports(ctx, s, m)
	if err != nil {
		return err // the link failed: try again next time
	}
	m.loaded = true
	prefix := strings.ToLower(m.Name) + "!"
	for name, addr := range t.cfg.Symbols {
		if strings.HasPrefix(strings.ToLower(name), prefix) && !strings.HasPrefix(name[len(prefix):], "__") &&
			addr >= m.Base && addr-m.Base < uint64(m.Size) {
			ex = append(ex, export{addr: addr, name: name[len(prefix):]})
		}
	}
	sort.Slice(ex, func(i, j int) bool {
		if ex[i].addr != ex[j].addr {
			return ex[i].addr < ex[j].addr
		}
		return ex[i].name < ex[j].name
	})
	m.exports = slices.Compact(ex) // the extra table repeats exported names
	return nil
}

// readExports reads the export names of m. Memory the target refuses, or
// a malformed directory, gives no names; only a link error is returned.
func (t *Target) readExports(ctx context.Context, s *session, m *module) ([]export, error) {
	var linkErr error
	rd := func(addr uint64, n int) []byte {
		if linkErr != nil {
			return nil
		}
		b, ok, err := t.readMemory(ctx, s, addr, n)
		if err != nil {
			linkErr = err
			return nil
		}
		i := 0
		for i < len(ok) && ok[i] {
			i++
		}
		return b[:i]
	}
	hdr := rd(m.Base, peHeaderRead) // DOS header, PE header and data directories
	if len(hdr) >= 0x40 && binary.LittleEndian.Uint32(hdr[0x3C:])+24+0x78 > peHeaderRead {
		hdr = rd(m.Base, 0x400)
	}
	if len(hdr) < 0x40 || hdr[0] != 'M' || hdr[1] != 'Z' {
		return nil, linkErr
	}
	pe := binary.LittleEndian.Uint32(hdr[0x3C:])
	if pe == 0 || uint64(pe)+24+0x78 > uint64(len(hdr)) || string(hdr[pe:pe+4]) != "PE\x00\x00" {
		return nil, nil
	}
	opt := hdr[pe+24:]
	if binary.LittleEndian.Uint16(opt) != 0x20B {
		return nil, nil // not PE32+
	}
	dirRVA := binary.LittleEndian.Uint32(opt[0x70:])
	dirSize := binary.LittleEndian.Uint32(opt[0x74:])
	if dirRVA == 0 || dirSize < 40 || dirSize > 1<<20 || uint64(dirRVA)+uint64(dirSize) > uint64(m.Size) {
		return nil, nil
	}
	dir := rd(m.Base+uint64(dirRVA), int(dirSize))
	if len(dir) < 40 {
		return nil, linkErr
	}
	nFuncs := binary.LittleEndian.Uint32(dir[0x14:])
	nNames := binary.LittleEndian.Uint32(dir[0x18:])
	funcsRVA := binary.LittleEndian.Uint32(dir[0x1C:])
	namesRVA := binary.LittleEndian.Uint32(dir[0x20:])
	ordsRVA := binary.LittleEndian.Uint32(dir[0x24:])
	if nFuncs > maxExports || nNames > maxExports {
		return nil, nil
	}
	funcs := rd(m.Base+uint64(funcsRVA), int(nFuncs)*4)
	names := rd(m.Base+uint64(namesRVA), int(nNames)*4)
	ords := rd(m.Base+uint64(ordsRVA), int(nNames)*2)
	if len(funcs) < int(nFuncs)*4 || len(names) < int(nNames)*4 || len(ords) < int(nNames)*2 {
		return nil, linkErr
	}
	// Names usually live inside the export directory: take them from dir.
	nameAt := func(rva uint32) string {
		if rva < dirRVA || rva >= dirRVA+uint32(len(dir)) {
			return cString(rd(m.Base+uint64(rva), 128))
		}
		return cString(dir[rva-dirRVA:])
	}
	var ex []export
	for i := 0; i < int(nNames); i++ {
		ord := binary.LittleEndian.Uint16(ords[2*i:])
		if uint32(ord) >= nFuncs {
			continue
		}
		frva := binary.LittleEndian.Uint32(funcs[4*int(ord):])
		if frva >= dirRVA && frva < dirRVA+dirSize {
			continue // a forwarder
		}
		name := nameAt(binary.LittleEndian.Uint32(names[4*i:]))
		if name == "" {
			continue
		}
		ex = append(ex, export{addr: m.Base + uint64(frva), name: safetext.Sanitize([]byte(name))})
	}
	return ex, linkErr
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
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
