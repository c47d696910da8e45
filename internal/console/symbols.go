package console

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf16"

	"github.com/gokd/kd/kdproto"
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

// module is one loaded kernel module.
type module struct {
	name    string // KD's name: nt, hal, kdcom, ...
	file    string // base file name as the loader list has it
	base    uint64
	size    uint32
	loaded  bool     // exports were looked for
	exports []export // sorted by address
}

type export struct {
	addr uint64
	name string
}

// symbols is what kd knows about the target's modules: the loader list
// read from PsLoadedModuleList, and each module's PE export table, read
// from memory when first needed.
type symbols struct {
	mods []*module
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

// loadSymbols reads the loader list once per session.
func (c *Console) loadSymbols(ctx context.Context, s *session) *symbols {
	if s.syms != nil {
		return s.syms
	}
	syms := &symbols{}
	s.syms = syms
	if !s.haveVersion || s.version.PsLoadedModuleList == 0 {
		return syms
	}
	head := s.version.PsLoadedModuleList
	b, err := s.eng.ReadVirtual(ctx, s.cpu, head, 8)
	if err != nil {
		var st kdproto.Status
		if !errors.As(err, &st) {
			s.syms = nil
		}
		if c.verbose.Load() {
			c.out.Warnf("cannot read PsLoadedModuleList: %s", errText(err))
		}
		return syms
	}
	next := binary.LittleEndian.Uint64(b)
	for i := 0; next != head && next != 0 && i < maxModules; i++ {
		e, err := s.eng.ReadVirtual(ctx, s.cpu, next, ldrEntryRead)
		if err != nil {
			var st kdproto.Status
			if !errors.As(err, &st) {
				// The link failed, not the memory: try again next time.
				s.syms = nil
			}
			break
		}
		m := &module{
			base: binary.LittleEndian.Uint64(e[ldrDllBase:]),
			size: binary.LittleEndian.Uint32(e[ldrSizeOfImage:]),
		}
		nlen := int(binary.LittleEndian.Uint16(e[ldrBaseDllName:]))
		buf := binary.LittleEndian.Uint64(e[ldrBaseDllName+8:])
		if nlen > 0 && nlen <= 512 && buf != 0 {
			if nb, err := s.eng.ReadVirtual(ctx, s.cpu, buf, nlen); err == nil {
				u := make([]uint16, len(nb)/2)
				for j := range u {
					u[j] = binary.LittleEndian.Uint16(nb[2*j:])
				}
				m.file = Sanitize([]byte(string(utf16.Decode(u))))
			}
		}
		if m.file == "" {
			m.file = fmt.Sprintf("module_%s", fmtAddr(m.base))
		}
		m.name = moduleName(m.file, i == 0)
		syms.mods = append(syms.mods, m)
		next = binary.LittleEndian.Uint64(e[0:])
	}
	return syms
}

// moduleAt returns the module holding addr.
func (y *symbols) moduleAt(addr uint64) *module {
	for _, m := range y.mods {
		if addr >= m.base && addr-m.base < uint64(m.size) {
			return m
		}
	}
	return nil
}

// moduleNamed returns the module with KD name (or file name) n.
func (y *symbols) moduleNamed(n string) *module {
	for _, m := range y.mods {
		if strings.EqualFold(m.name, n) || strings.EqualFold(m.file, n) {
			return m
		}
	}
	return nil
}

// loadExports reads a module's PE export directory from memory.
func (c *Console) loadExports(ctx context.Context, s *session, m *module) {
	if m.loaded {
		return
	}
	m.loaded = true
	defer func() {
		prefix := strings.ToLower(m.name) + "!"
		for name, addr := range c.symbolTable {
			if strings.HasPrefix(strings.ToLower(name), prefix) && !strings.HasPrefix(name[len(prefix):], "__") &&
				addr >= m.base && addr-m.base < uint64(m.size) {
				m.exports = append(m.exports, export{addr: addr, name: name[len(prefix):]})
			}
		}
		sort.Slice(m.exports, func(i, j int) bool {
			if m.exports[i].addr != m.exports[j].addr {
				return m.exports[i].addr < m.exports[j].addr
			}
			return m.exports[i].name < m.exports[j].name
		})
	}()
	rd := func(addr uint64, n int) []byte {
		b, err := s.eng.ReadVirtual(ctx, s.cpu, addr, n)
		if err != nil {
			return nil
		}
		return b
	}
	hdr := rd(m.base, 0x400)
	if len(hdr) < 0x40 || hdr[0] != 'M' || hdr[1] != 'Z' {
		return
	}
	pe := binary.LittleEndian.Uint32(hdr[0x3C:])
	if pe == 0 || uint64(pe)+24+0x78 > uint64(len(hdr)) || string(hdr[pe:pe+4]) != "PE\x00\x00" {
		return
	}
	opt := hdr[pe+24:]
	if binary.LittleEndian.Uint16(opt) != 0x20B {
		return // not PE32+
	}
	dirRVA := binary.LittleEndian.Uint32(opt[0x70:])
	dirSize := binary.LittleEndian.Uint32(opt[0x74:])
	if dirRVA == 0 || dirSize < 40 || dirSize > 1<<20 || uint64(dirRVA)+uint64(dirSize) > uint64(m.size) {
		return
	}
	dir := rd(m.base+uint64(dirRVA), int(dirSize))
	if len(dir) < 40 {
		return
	}
	nFuncs := binary.LittleEndian.Uint32(dir[0x14:])
	nNames := binary.LittleEndian.Uint32(dir[0x18:])
	funcsRVA := binary.LittleEndian.Uint32(dir[0x1C:])
	namesRVA := binary.LittleEndian.Uint32(dir[0x20:])
	ordsRVA := binary.LittleEndian.Uint32(dir[0x24:])
	if nFuncs > maxExports || nNames > maxExports {
		return
	}
	funcs := rd(m.base+uint64(funcsRVA), int(nFuncs)*4)
	names := rd(m.base+uint64(namesRVA), int(nNames)*4)
	ords := rd(m.base+uint64(ordsRVA), int(nNames)*2)
	if len(funcs) < int(nFuncs)*4 || len(names) < int(nNames)*4 || len(ords) < int(nNames)*2 {
		return
	}
	// Names usually live inside the export directory: take them from dir.
	nameAt := func(rva uint32) string {
		if rva < dirRVA || rva >= dirRVA+uint32(len(dir)) {
			b := rd(m.base+uint64(rva), 128)
			return cString(b)
		}
		return cString(dir[rva-dirRVA:])
	}
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
		m.exports = append(m.exports, export{addr: m.base + uint64(frva), name: Sanitize([]byte(name))})
	}
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// symbolize names addr as module!symbol+0xoff, or module+0xoff when the
// module exports nothing nearer, or "" when no module holds it.
func (c *Console) symbolize(ctx context.Context, s *session, addr uint64) string {
	if s == nil {
		return ""
	}
	y := c.loadSymbols(ctx, s)
	m := y.moduleAt(addr)
	if m == nil {
		return ""
	}
	c.loadExports(ctx, s, m)
	i := sort.Search(len(m.exports), func(i int) bool { return m.exports[i].addr > addr }) - 1
	if i >= 0 {
		e := m.exports[i]
		if off := addr - e.addr; off == 0 {
			return m.name + "!" + e.name
		} else if off < 0x10000 {
			return fmt.Sprintf("%s!%s+0x%x", m.name, e.name, off)
		}
	}
	if addr == m.base {
		return m.name
	}
	return fmt.Sprintf("%s+0x%x", m.name, addr-m.base)
}

// resolveSymbol resolves "module!name" or a module name.
func (c *Console) resolveSymbol(ctx context.Context, s *session, name string) (uint64, error) {
	y := c.loadSymbols(ctx, s)
	mod, sym, hasBang := strings.Cut(name, "!")
	if !hasBang {
		if m := y.moduleNamed(name); m != nil {
			return m.base, nil
		}
		return 0, fmt.Errorf("couldn't resolve error at '%s'", name)
	}
	m := y.moduleNamed(mod)
	if m == nil {
		return 0, fmt.Errorf("no module %q is loaded", mod)
	}
	c.loadExports(ctx, s, m)
	for _, e := range m.exports {
		if strings.EqualFold(e.name, sym) {
			return e.addr, nil
		}
	}
	return 0, fmt.Errorf("couldn't resolve error at '%s' (%s exports no such name)", name, m.name)
}

// contextRegs returns the register context of the current processor,
// fetched once per stop.
func (c *Console) contextRegs(ctx context.Context, s *session) (kdproto.Context, error) {
	if cx, ok := s.contexts[s.cpu]; ok {
		return cx, nil
	}
	b, err := s.eng.GetContext(ctx, s.cpu)
	if err != nil {
		return kdproto.Context{}, err
	}
	if len(b) < kdproto.AMD64ContextSize {
		return kdproto.Context{}, fmt.Errorf("the target sent a %d-byte CONTEXT, want %d", len(b), kdproto.AMD64ContextSize)
	}
	cx := kdproto.Context{Regs: kdproto.AMD64Regs, Raw: b}
	if s.contexts == nil {
		s.contexts = make(map[uint16]kdproto.Context)
	}
	s.contexts[s.cpu] = cx
	return cx, nil
}

// env is the expression environment of a command.
type env struct {
	c   *Console
	s   *session
	ctx context.Context
}

func (e env) register(name string) (uint64, bool, error) {
	name = strings.ToLower(name)
	if _, ok := kdproto.NewAMD64Context().Lookup(name); !ok && name != "$ip" {
		return 0, false, nil
	}
	if name == "$ip" {
		name = "rip"
	}
	cx, err := e.c.contextRegs(e.ctx, e.s)
	if err != nil {
		return 0, true, err
	}
	v, _ := cx.Get(name)
	return v, true, nil
}

func (e env) symbol(name string) (uint64, error) {
	return e.c.resolveSymbol(e.ctx, e.s, name)
}
