package sim

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"unicode/utf16"

	"github.com/gokd/kd/kdproto"
)

// Module layout: every image has its PE headers at RVA 0, .text at RVA
// 0x1000, then one .rdata page, then its .data pages. The .rdata page holds
// the debug directory at +0, its CodeView record at +0x40 and the export
// directory at +0x100.
const (
	rvaText = 0x1000

	rdataCodeView = 0x40  // offset of the RSDS record in .rdata
	rdataExports  = 0x100 // offset of the IMAGE_EXPORT_DIRECTORY in .rdata
	rdataUnwind   = 0xBF0 // offset of the UNWIND_INFO every framed function shares
	rdataPdata    = 0xC00 // offset of the .pdata array (RUNTIME_FUNCTIONs)
	exportDirSize = 40    // sizeof(IMAGE_EXPORT_DIRECTORY)

	// Page-table entry flags.
	pteKernelData = 0x8000000000000063 // P|RW|A|D|NX
	pteKernelCode = 0x0000000000000021 // P|A (read-only, executable)
	pteTable      = 0x63

	ldrEntrySize = 0x200 // pool bytes per KLDR_DATA_TABLE_ENTRY, its names included
	kdbgSize     = 0x368 // KDDEBUGGER_DATA64 Size field
	kpcrPrcb     = 0x180 // KPRCB offset in the KPCR
)

type module struct {
	name      string // symbol prefix: nt, hal, kdcom, simdrv
	file      string
	path      string
	pdb       string
	base      uint64
	textPages int
	dataPages int
	entry     string // entry point symbol
	timestamp uint32
	ldrEntry  uint64
}

func (md *module) rdata() uint64 { return md.base + rvaText + uint64(md.textPages)*pageSize }
func (md *module) data() uint64  { return md.rdata() + pageSize }
func (md *module) size() uint32  { return uint32(rvaText + (md.textPages+1+md.dataPages)*pageSize) }

// image is everything a fresh boot puts in memory.
type image struct {
	vmem, pmem *memory
	syms       map[string]uint64
	mods       []*module
	code       []*asm // each module's code, as mods
	cpus       []*cpu
	kernBase   uint64
	pool       uint64
	stacks     uint64
	cr3        uint64
	nextPA     uint64
	kdbg       uint64
	dataList   uint64
	modList    uint64
	procs      []SimProcess // procs.go
}

// buildImage lays out a Windows 10 x64 machine, deterministically from seed.
func buildImage(cfg Config) *image {
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6b6473696d))
	im := &image{vmem: newMemory(), pmem: newMemory(), syms: make(map[string]uint64)}
	im.kernBase = 0xFFFFF80000000000 + (0x40+rng.Uint64N(0x3C0))*0x200000
	im.pool = 0xFFFFC00000000000 + (0x10+rng.Uint64N(0x3FF0))<<28
	im.stacks = im.kernBase + 0x4000000
	im.nextPA = 0x200000 + rng.Uint64N(0x100)*0x10000
	im.cr3 = im.allocPA()
	im.pmem.mapPage(im.cr3, new(page))
	im.pmem.mapPage(0, new(page)) // the real-mode IVT page

	ts := uint32(0x5F000000 + rng.Uint32N(0x1000000))
	im.mods = []*module{
		{name: "nt", file: "ntoskrnl.exe", path: `\SystemRoot\system32\ntoskrnl.exe`, pdb: "ntkrnlmp.pdb",
			base: im.kernBase, textPages: 2, dataPages: 2, entry: "KiSystemStartup"},
		{name: "hal", file: "hal.dll", path: `\SystemRoot\system32\hal.dll`, pdb: "hal.pdb",
			base: im.kernBase + 0x800000, textPages: 1, dataPages: 1, entry: "HalInitSystem"},
		{name: "kdcom", file: "kdcom.dll", path: `\SystemRoot\system32\kdcom.dll`, pdb: "kdcom.pdb",
			base: im.kernBase + 0x880000, textPages: 1, dataPages: 1, entry: "KdDebuggerInitialize0"},
		{name: "simdrv", file: "simdrv.sys", path: `\SystemRoot\System32\drivers\simdrv.sys`, pdb: "simdrv.pdb",
			base: im.kernBase + 0x1000000, textPages: 1, dataPages: 1, entry: "DriverEntry"},
	}
	for i, md := range im.mods {
		md.timestamp = ts + uint32(i)*0x1234
	}
	nt, hal, kdcom, drv := im.mods[0], im.mods[1], im.mods[2], im.mods[3]

	// Data symbols first: code refers to them.
	d := nt.data()
	for name, off := range map[string]uint64{
		"PsLoadedModuleList": 0x0, "PsActiveProcessHead": 0x10, "KdpDebuggerDataListHead": 0x20,
		"KeNumberProcessors": 0x30, "NtBuildNumber": 0x34, "CmNtCSDVersion": 0x38, "KiBugCheckData": 0x40,
		"PsInitialSystemProcess": 0x70, "KdDebuggerDataBlock": 0x100, "KiProcessorBlock": 0x800, "KiInitialProcess": 0x1000,
	} {
		im.syms["nt!"+name] = d + off
	}
	im.syms["simdrv!SimDrvTickCount"] = drv.data()
	im.syms["simdrv!SimDrvAssertRequest"] = drv.data() + 4
	im.syms["simdrv!SimDrvState"] = drv.data() + 8
	im.syms["simdrv!SimDrvCrashRequest"] = drv.data() + 12

	code := map[*module]*asm{}
	for _, md := range im.mods {
		code[md] = newAsm(md.base+rvaText, im.syms)
	}
	assembleNT(code[nt])
	retSites := assembleWaits(code[nt])
	assembleHAL(code[hal])
	assembleKdcom(code[kdcom])
	assembleDriver(code[drv])
	assembleDriverFault(code[drv])
	for _, md := range im.mods {
		im.syms[md.name+"!__ImageBase"] = md.base
	}
	for _, md := range im.mods {
		a := code[md]
		if err := a.link(); err != nil {
			panic(err) // the layout above is static; this cannot happen
		}
		im.mapModule(md, a, rng)
		im.code = append(im.code, a)
	}
	im.modList = im.syms["nt!PsLoadedModuleList"]
	im.dataList = im.syms["nt!KdpDebuggerDataListHead"]
	im.kdbg = im.syms["nt!KdDebuggerDataBlock"]
	im.buildLoaderList()
	im.buildNTData(cfg)
	im.mapBulkPool(cfg.Seed)
	im.mapPaging(cfg.Seed)
	for i := 0; i < cfg.Procs; i++ {
		im.cpus = append(im.cpus, im.buildCPU(i, rng))
	}
	im.buildProcesses(cfg.Seed, retSites)
	im.buildSharedData(cfg)
	return im
}

func (im *image) allocPA() uint64 {
	pa := im.nextPA
	im.nextPA += pageSize
	return pa
}

// mapNew backs the virtual page at va with a new physical page and enters
// it in the page tables rooted at cr3.
func (im *image) mapNew(va uint64, flags uint64) *page {
	p := new(page)
	pa := im.allocPA()
	im.pmem.mapPage(pa, p)
	im.vmem.mapPage(va, p)
	le.PutUint64(im.tableFor(va, 3)[((va>>12)&0x1FF)*8:], pa|flags)
	return p
}

// tableFor walks depth levels of the page tables rooted at cr3 towards va,
// creating missing tables, and returns the table reached: depth 3 is the
// page table that maps va, depth 2 its page directory.
func (im *image) tableFor(va uint64, depth int) *page {
	t := im.cr3
	for level := 3; level > 3-depth; level-- {
		tp := im.pmem.page(t)
		idx := (va >> (12 + 9*level)) & 0x1FF
		e := le.Uint64(tp[idx*8:])
		if e&1 == 0 {
			np := im.allocPA()
			im.pmem.mapPage(np, new(page))
			e = np | pteTable
			le.PutUint64(tp[idx*8:], e)
		}
		t = e & 0x000FFFFFFFFFF000
	}
	return im.pmem.page(t)
}

// mapModule maps the headers, code, .rdata and .data pages of md.
func (im *image) mapModule(md *module, a *asm, rng *rand.Rand) {
	text := a.buf
	hdr := im.mapNew(md.base, pteKernelData)
	for i := 0; i < md.textPages; i++ {
		p := im.mapNew(md.base+rvaText+uint64(i)*pageSize, pteKernelCode)
		for j := range p {
			p[j] = 0xCC
		}
		if off := i * pageSize; off < len(text) {
			copy(p[:], text[off:])
		}
	}
	rd := im.mapNew(md.rdata(), pteKernelData)
	for i := 0; i < md.dataPages; i++ {
		im.mapNew(md.data()+uint64(i)*pageSize, pteKernelData)
	}

	// .rdata: an IMAGE_DEBUG_DIRECTORY (CodeView) and its RSDS record.
	rdRVA := uint32(md.rdata() - md.base)
	rsds := []byte("RSDS")
	var guid [16]byte
	for i := range guid {
		guid[i] = byte(rng.UintN(256))
	}
	age := uint32(1)
	if id, ok := symbolIDs[md.name]; ok {
		guid, age = id.guid, id.age // the PDB shipped in testdata/symbols
	}
	rsds = append(rsds, guid[:]...)
	rsds = le.AppendUint32(rsds, age)
	rsds = append(append(rsds, md.pdb...), 0)
	dd := rd[0:28]
	le.PutUint32(dd[4:], md.timestamp)
	le.PutUint32(dd[12:], 2) // IMAGE_DEBUG_TYPE_CODEVIEW
	le.PutUint32(dd[16:], uint32(len(rsds)))
	le.PutUint32(dd[20:], rdRVA+rdataCodeView)
	le.PutUint32(dd[24:], rdRVA+rdataCodeView)
	copy(rd[rdataCodeView:], rsds)

	exp := exportDirectory(md, im.syms, rdRVA+rdataExports)
	if rdataExports+len(exp) > rdataUnwind {
		// The symbol table is static; this cannot happen.
		panic(fmt.Sprintf("sim: %s's export directory (%#x bytes) does not fit in .rdata", md.name, len(exp)))
	}
	copy(rd[rdataExports:], exp)

	pdata := unwindData(rd[:], a, rdRVA)
	writePE(hdr, md, rdRVA, im.syms[md.name+"!"+md.entry]-md.base, uint32(len(exp)), pdata)
}

// exports returns the symbols md exports: every name the simulator knows
// in md except linker-defined ones (__ImageBase), in export address table
// order (by address, then name).
func exports(md *module, syms map[string]uint64) []export {
	prefix := md.name + "!"
	var out []export
	for name, addr := range syms {
		n, ok := strings.CutPrefix(name, prefix)
		if !ok || n == "" || strings.HasPrefix(n, "__") || addr < md.base || addr-md.base >= uint64(md.size()) {
			continue
		}
		out = append(out, export{name: n, rva: uint32(addr - md.base)})
	}
	slices.SortFunc(out, func(a, b export) int {
		return cmp.Or(cmp.Compare(a.rva, b.rva), strings.Compare(a.name, b.name))
	})
	return out
}

type export struct {
	name string
	rva  uint32
}

// exportDirectory builds md's export data as it sits at rva: the
// IMAGE_EXPORT_DIRECTORY, the export address table (one RVA per ordinal,
// Base 1, in address order), the name pointer table (sorted by byte value,
// for binary search), the ordinal table (indexes into the address table),
// the DLL name and the exported names.
func exportDirectory(md *module, syms map[string]uint64, rva uint32) []byte {
	funcs := exports(md, syms)
	n := uint32(len(funcs))
	byName := make([]int, n) // name order -> index in funcs
	for i := range byName {
		byName[i] = i
	}
	slices.SortFunc(byName, func(a, b int) int { return strings.Compare(funcs[a].name, funcs[b].name) })

	eat := rva + exportDirSize
	npt := eat + 4*n
	ot := npt + 4*n
	strs := (ot + 2*n + 3) &^ 3 // the strings, 4-byte aligned

	b := make([]byte, strs-rva, int(strs-rva)+len(md.file)+1+int(n)*32)
	// Characteristics 0, MajorVersion 0, MinorVersion 0.
	le.PutUint32(b[0x04:], md.timestamp) // TimeDateStamp
	le.PutUint32(b[0x0C:], strs)         // Name: the DLL name comes first
	le.PutUint32(b[0x10:], 1)            // Base
	le.PutUint32(b[0x14:], n)            // NumberOfFunctions
	le.PutUint32(b[0x18:], n)            // NumberOfNames
	le.PutUint32(b[0x1C:], eat)          // AddressOfFunctions
	le.PutUint32(b[0x20:], npt)          // AddressOfNames
	le.PutUint32(b[0x24:], ot)           // AddressOfNameOrdinals
	b = append(append(b, md.file...), 0)
	for i, f := range funcs {
		le.PutUint32(b[eat-rva+4*uint32(i):], f.rva)
	}
	for i, fi := range byName {
		le.PutUint32(b[npt-rva+4*uint32(i):], rva+uint32(len(b)))
		le.PutUint16(b[ot-rva+2*uint32(i):], uint16(fi))
		b = append(append(b, funcs[fi].name...), 0)
	}
	return b
}

type section struct {
	name  string
	rva   uint32
	size  uint32
	flags uint32
}

// writePE writes a PE32+ header: DOS header, "PE\0\0", the COFF file
// header, the optional header with export and debug directories, and three
// sections.
func writePE(p *page, md *module, rdRVA uint32, entryRVA uint64, expSize, pdataSize uint32) {
	copy(p[:], "MZ")
	le.PutUint16(p[0x02:], 0x90)
	le.PutUint16(p[0x04:], 3)
	le.PutUint16(p[0x08:], 4)
	le.PutUint16(p[0x0C:], 0xFFFF)
	le.PutUint16(p[0x10:], 0xB8)
	le.PutUint16(p[0x18:], 0x40)
	le.PutUint32(p[0x3C:], peOffset)
	copy(p[0x4E:], "This program cannot be run in DOS mode.\r\r\n$")

	secs := []section{
		{".text", rvaText, uint32(md.textPages * pageSize), 0x60000020},
		{".rdata", rdRVA, pageSize, 0x40000040},
		{".data", rdRVA + pageSize, uint32(md.dataPages * pageSize), 0xC8000040},
	}
	f := p[peOffset:]
	copy(f, "PE\x00\x00")
	le.PutUint16(f[4:], kdproto.MachineAMD64)
	le.PutUint16(f[6:], uint16(len(secs)))
	le.PutUint32(f[8:], md.timestamp)
	le.PutUint16(f[20:], 0xF0)
	ch := uint16(0x0022) // EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE
	if md.name == "hal" || md.name == "kdcom" {
		ch |= 0x2000 // DLL
	}
	le.PutUint16(f[22:], ch)

	o := f[24:]
	le.PutUint16(o[0x00:], 0x20B)
	o[0x02], o[0x03] = 14, 20
	le.PutUint32(o[0x04:], secs[0].size)
	le.PutUint32(o[0x08:], secs[1].size+secs[2].size)
	le.PutUint32(o[0x10:], uint32(entryRVA))
	le.PutUint32(o[0x14:], rvaText)
	le.PutUint64(o[0x18:], md.base)
	le.PutUint32(o[0x20:], pageSize)
	le.PutUint32(o[0x24:], 0x200)
	for _, off := range []int{0x28, 0x2C, 0x30} {
		le.PutUint16(o[off:], 10)
	}
	le.PutUint32(o[0x38:], md.size())
	le.PutUint32(o[0x3C:], 0x400)
	le.PutUint32(o[0x40:], md.timestamp^0x5A5A5)
	le.PutUint16(o[0x44:], 1)      // IMAGE_SUBSYSTEM_NATIVE
	le.PutUint16(o[0x46:], 0x4160) // high-entropy VA, dynamic base, NX, CFG
	le.PutUint64(o[0x48:], 0x40000)
	le.PutUint64(o[0x50:], 0x1000)
	le.PutUint64(o[0x58:], 0x100000)
	le.PutUint64(o[0x60:], 0x1000)
	le.PutUint32(o[0x6C:], 16)
	le.PutUint32(o[0x70:], rdRVA+rdataExports) // IMAGE_DIRECTORY_ENTRY_EXPORT
	le.PutUint32(o[0x74:], expSize)
	if pdataSize > 0 {
		le.PutUint32(o[0x70+3*8:], rdRVA+rdataPdata) // IMAGE_DIRECTORY_ENTRY_EXCEPTION
		le.PutUint32(o[0x70+3*8+4:], pdataSize)
	}
	le.PutUint32(o[0x70+6*8:], rdRVA) // IMAGE_DIRECTORY_ENTRY_DEBUG
	le.PutUint32(o[0x70+6*8+4:], 28)

	s := o[0xF0:]
	for i, sec := range secs {
		h := s[i*40:]
		copy(h, sec.name)
		le.PutUint32(h[8:], sec.size)
		le.PutUint32(h[12:], sec.rva)
		le.PutUint32(h[16:], sec.size)
		le.PutUint32(h[20:], sec.rva)
		le.PutUint32(h[36:], sec.flags)
	}
}

const peOffset = 0x100

func utf16le(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = le.AppendUint16(b, u)
	}
	return b
}

// buildLoaderList links one KLDR_DATA_TABLE_ENTRY per module, in load
// order, into nt!PsLoadedModuleList (see docs/kdsim.md for the layout).
func (im *image) buildLoaderList() {
	im.mapNew(im.pool, pteKernelData)
	head := im.modList
	n := len(im.mods)
	link := func(i int) uint64 {
		if i < 0 || i >= n {
			return head
		}
		return im.pool + uint64(i)*ldrEntrySize
	}
	im.vmem.put64(head, link(0))
	im.vmem.put64(head+8, link(n-1))
	for i, md := range im.mods {
		e := link(i)
		md.ldrEntry = e
		im.vmem.put64(e, link(i+1))
		im.vmem.put64(e+8, link(i-1))
		im.vmem.put64(e+0x30, md.base)
		im.vmem.put64(e+0x38, im.syms[md.name+"!"+md.entry])
		im.vmem.put32(e+0x40, md.size())
		im.putUnicode(e+0x48, e+0xA0, utf16le(md.path))
		im.putUnicode(e+0x58, e+0x160, utf16le(md.file))
		im.vmem.put32(e+0x68, 0x49104000) // Flags
		im.vmem.write(e+0x6C, []byte{1, 0})
		im.vmem.put32(e+0x78, md.timestamp^0x5A5A5)
	}
}

// putUnicode writes a UNICODE_STRING at at whose buffer is buf.
func (im *image) putUnicode(at, buf uint64, s []byte) {
	var u [16]byte
	le.PutUint16(u[0:], uint16(len(s)))
	le.PutUint16(u[2:], uint16(len(s)+2))
	le.PutUint64(u[8:], buf)
	im.vmem.write(at, u[:])
	im.vmem.write(buf, append(s, 0, 0))
}

// buildNTData fills nt's globals: the debugger data list and the
// KDDEBUGGER_DATA64 block, the process list head, the build number.
func (im *image) buildNTData(cfg Config) {
	v := im.vmem
	s := im.syms
	v.put64(im.dataList, im.kdbg)
	v.put64(im.dataList+8, im.kdbg)
	v.put64(im.kdbg, im.dataList)
	v.put64(im.kdbg+8, im.dataList)
	v.write(im.kdbg+0x10, []byte("KDBG"))
	v.put32(im.kdbg+0x14, kdbgSize)
	v.put64(im.kdbg+0x18, im.kernBase)
	v.put64(im.kdbg+0x20, s["nt!DbgBreakPointWithStatus"])
	v.write(im.kdbg+0x36, []byte{1}) // PaeEnabled
	v.put64(im.kdbg+0x48, im.modList)
	v.put64(im.kdbg+0x50, s["nt!PsActiveProcessHead"])
	v.put64(im.kdbg+0x88, s["nt!KiBugCheckData"])
	v.put64(im.kdbg+0x138, pageSize) // MmPageSize
	v.put64(im.kdbg+0x268, s["nt!CmNtCSDVersion"])
	v.write(im.kdbg+0x2A0, []byte{0xB8, 0}) // OffsetKThreadApcProcess

	// An empty active process list; the idle process object only holds a name.
	head := s["nt!PsActiveProcessHead"]
	v.put64(head, head)
	v.put64(head+8, head)
	v.write(s["nt!KiInitialProcess"]+0x5A8, []byte("Idle\x00"))
	v.put32(s["nt!KeNumberProcessors"], uint32(cfg.Procs))
	v.put32(s["nt!NtBuildNumber"], 0xF0000000|uint32(cfg.Build))
}

// buildCPU creates processor i: its KPCR, KPRCB, idle KTHREAD and stack,
// its registers and MSRs, and runs it from nt!KiSystemStartup up to its
// first hlt, which leaves a real frame-pointer chain on its stack.
func (im *image) buildCPU(i int, rng *rand.Rand) *cpu {
	c := &cpu{index: i, ctx: make([]byte, kdproto.AMD64ContextSize), msr: make(map[uint32]uint64)}
	base := im.pool + 0x10000*uint64(i+1)
	c.kpcr, c.kprcb, c.thread = base, base+kpcrPrcb, base+0x8000
	im.mapNew(base, pteKernelData)
	im.mapNew(base+pageSize, pteKernelData)
	im.mapNew(c.thread, pteKernelData)
	top := im.stacks + 0x10000*uint64(i+1)
	for a := top - 0x4000; a < top; a += pageSize {
		im.mapNew(a, pteKernelData)
	}
	v := im.vmem
	v.put64(c.kpcr+0x18, c.kpcr)
	v.put64(c.kpcr+0x20, c.kprcb)
	v.put64(c.kprcb+0x08, c.thread)
	v.put64(c.kprcb+0x18, c.thread)
	v.put32(c.kprcb+0x24, uint32(i))
	v.put64(c.thread+0x28, top)
	v.put64(c.thread+0x30, top-0x6000)
	v.put64(c.thread+0x38, top)
	v.put64(c.thread+0xB8, im.syms["nt!KiInitialProcess"])
	v.put64(im.syms["nt!KiProcessorBlock"]+8*uint64(i), c.kprcb)

	ctx := kdproto.Context{Regs: kdproto.AMD64Regs, Raw: c.ctx}
	le.PutUint32(c.ctx[ctxFlags:], kdproto.ContextAMD64All)
	le.PutUint32(c.ctx[ctxMxCsr:], 0x1F80)
	le.PutUint32(c.ctx[ctxFxMx:], 0x1F80)
	le.PutUint16(c.ctx[ctxFpCw:], 0x27F)
	ctx.Set("cs", kdproto.AMD64KernelCS)
	ctx.Set("ss", 0x18)
	ctx.Set("ds", 0x2B)
	ctx.Set("es", 0x2B)
	ctx.Set("fs", 0x53)
	ctx.Set("gs", 0x2B)
	ctx.Set("efl", 0x246)
	for _, r := range []string{"rax", "rbx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"} {
		ctx.Set(r, (im.pool+rng.Uint64N(0x1000000))&^7)
	}
	ctx.Set("rsp", top-8)
	ctx.Set("rbp", 0)
	ctx.Set("rip", im.syms["nt!KiSystemStartup"])
	v.put64(top-8, 0)
	for n := 0; n < 64; n++ {
		if r, _ := c.step(v); r != stepOK {
			break
		}
	}

	sr := c.special[:]
	le.PutUint64(sr[srCr0:], 0x80050033)
	le.PutUint64(sr[srCr3:], im.cr3)
	le.PutUint64(sr[srCr4:], 0x3506F8)
	le.PutUint16(sr[srGdtr+6:], 0x57)
	le.PutUint64(sr[srGdtr+8:], base+0x2000)
	le.PutUint16(sr[srIdtr+6:], 0xFFF)
	le.PutUint64(sr[srIdtr+8:], base+0x3000)
	le.PutUint16(sr[srTr:], 0x40)
	le.PutUint32(sr[srMxCsr:], 0x1F80)
	le.PutUint64(sr[srGsBase:], c.kpcr)
	le.PutUint64(sr[srStar:], 0x0023001000000000)
	le.PutUint64(sr[srLStar:], im.syms["nt!KiSystemCall64"])
	le.PutUint64(sr[srSfMask:], 0x4700)
	le.PutUint64(sr[srXcr0:], 0x1F)
	im.buildTables(c, base) // GDT, IDT, TSS, KPCR and KPRCB fields (cpustate.go)

	apic := uint64(0xFEE00900)
	if i != 0 {
		apic = 0xFEE00800
	}
	for k, val := range map[uint32]uint64{
		0x10: 0x1000000 * uint64(i+1), 0x1B: apic, 0x174: 0, 0x175: 0, 0x176: 0, 0x277: 0x0007040600070406,
		0xC0000080: 0xD01, 0xC0000081: 0x0023001000000000, 0xC0000082: im.syms["nt!KiSystemCall64"],
		0xC0000083: 0, 0xC0000084: 0x4700, 0xC0000100: 0, 0xC0000101: c.kpcr, 0xC0000102: 0x000000C5A1B2C000,
		0xC0000103: uint64(i),
	} {
		c.msr[k] = val
	}
	return c
}
