package target

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/gokd/kd/internal/pdb"
)

// Kernel objects (processes, threads) are read by type: each field's
// offset comes from nt's PDB (_EPROCESS, _ETHREAD, _KTHREAD, ...). When nt
// has no type information, the offsets of kdsim's layout are used (the
// process fields are those of Windows 10 2004 x64; see docs/kdsim.md) and
// the answer carries a note saying so.

// objField names one field kd reads, with its fallback offset.
type objField struct {
	typ, path string
	fallback  uint64
	size      uint64 // fallback size in bytes
	optional  bool   // a build's PDB may lack it: the value is then unknown
}

// The fields of the kernel objects kd reads, by key.
var objFields = map[string]objField{
	"ep.Pid":         {"_EPROCESS", "UniqueProcessId", 0x440, 8, false},
	"ep.Links":       {"_EPROCESS", "ActiveProcessLinks", 0x448, 16, false},
	"ep.CreateTime":  {"_EPROCESS", "CreateTime", 0x468, 8, true},
	"ep.Parent":      {"_EPROCESS", "InheritedFromUniqueProcessId", 0x540, 8, false},
	"ep.Peb":         {"_EPROCESS", "Peb", 0x550, 8, false},
	"ep.Session":     {"_EPROCESS", "Session", 0x558, 8, true},
	"ep.ObjectTable": {"_EPROCESS", "ObjectTable", 0x570, 8, false},
	"ep.Image":       {"_EPROCESS", "ImageFileName", 0x5A8, 15, false},
	"ep.Threads":     {"_EPROCESS", "ThreadListHead", 0x5E0, 16, false},
	"ep.NThreads":    {"_EPROCESS", "ActiveThreads", 0x5F0, 4, true},
	"ep.DirBase":     {"_EPROCESS", "Pcb.DirectoryTableBase", 0x028, 8, false},
	"ht.Count":       {"_HANDLE_TABLE", "HandleCount", 0x030, 4, true},
	"ss.Id":          {"_MM_SESSION_SPACE", "SessionId", 0x008, 4, true},
	"et.Cid":         {"_ETHREAD", "Cid", 0x478, 16, false},
	"et.Links":       {"_ETHREAD", "ThreadListEntry", 0x4E8, 16, false},
	"et.Start":       {"_ETHREAD", "StartAddress", 0x450, 8, true},
	"et.Win32Start":  {"_ETHREAD", "Win32StartAddress", 0x4D0, 8, true},
	"et.CreateTime":  {"_ETHREAD", "CreateTime", 0x430, 8, true},
	"kt.InitStack":   {"_KTHREAD", "InitialStack", 0x028, 8, false},
	"kt.StackLimit":  {"_KTHREAD", "StackLimit", 0x030, 8, false},
	"kt.StackBase":   {"_KTHREAD", "StackBase", 0x038, 8, false},
	"kt.KStack":      {"_KTHREAD", "KernelStack", 0x058, 8, false},
	"kt.ApcProcess":  {"_KTHREAD", "ApcState.Process", 0x0B8, 8, false},
	"kt.Teb":         {"_KTHREAD", "Teb", 0x0F0, 8, true},
	"kt.State":       {"_KTHREAD", "State", 0x100, 1, true},
	"kt.Priority":    {"_KTHREAD", "Priority", 0x101, 1, true},
	"kt.BasePrio":    {"_KTHREAD", "BasePriority", 0x102, 1, true},
	"kt.WaitReason":  {"_KTHREAD", "WaitReason", 0x103, 1, true},
	"kt.WaitMode":    {"_KTHREAD", "WaitMode", 0x104, 1, true},
	"kt.Alertable":   {"_KTHREAD", "Alertable", 0x106, 1, true},
	"kt.KernelTime":  {"_KTHREAD", "KernelTime", 0x108, 4, true},
	"kt.UserTime":    {"_KTHREAD", "UserTime", 0x10C, 4, true},
	"kt.WaitTime":    {"_KTHREAD", "WaitTime", 0x110, 4, true},
	"kt.Switches":    {"_KTHREAD", "ContextSwitches", 0x114, 4, true},
	"kt.Win32Thread": {"_KTHREAD", "Win32Thread", 0x118, 8, true},
	"kt.Process":     {"_KTHREAD", "Process", 0x120, 8, true},
}

// Fallback sizes of the objects read whole (kdsim's).
const (
	fallbackEProcessSize = 0x600
	fallbackEThreadSize  = 0x500
	maxObjectSize        = 0x4000 // a PDB claiming more is not believed
)

// fieldLoc is where one field is: its offset and size; ok is false when
// the PDB has no such field.
type fieldLoc struct {
	off, size uint64
	ok        bool
}

// objLayout is the resolved layout of the kernel objects for one command.
type objLayout struct {
	fields        map[string]fieldLoc
	eprocessSize  uint64
	ethreadSize   uint64
	fromPDB       bool
	note          string // why the fallback is used
	switchRbp     uint64 // KSWITCH_FRAME.Rbp
	switchReturn  uint64 // KSWITCH_FRAME.Return
	switchSize    uint64
	prcbCurThread uint64 // KPRCB.CurrentThread
}

// kernelLayout resolves objFields from nt's PDB, or falls back to kdsim's
// offsets with a note.
func (t *Target) kernelLayout(ctx context.Context) (*objLayout, error) {
	_, m, ms, err := t.symbolModule(ctx, "nt")
	if err != nil {
		return nil, err
	}
	l := &objLayout{fields: map[string]fieldLoc{}, eprocessSize: fallbackEProcessSize, ethreadSize: fallbackEThreadSize,
		switchRbp: 0x30, switchReturn: 0x38, switchSize: 0x40, prcbCurThread: 0x08}
	if ms.pdb == nil {
		why := ms.why
		if why == "" {
			why = "its symbols are " + ms.state.String()
		}
		l.note = fmt.Sprintf("no type information for %s (%s): kernel objects are read at kdsim's offsets (Windows 10 2004 x64 for _EPROCESS)", m.Name, why)
		for k, f := range objFields {
			l.fields[k] = fieldLoc{off: f.fallback, size: f.size, ok: true}
		}
		return l, nil
	}
	l.fromPDB = true
	layouts := map[string][]pdb.Member{}
	sizes := map[string]uint64{}
	for k, f := range objFields {
		ms2, ok := layouts[f.typ]
		if !ok {
			ty, err := ms.pdb.TypeByName(f.typ)
			if err == nil && !ty.Forward {
				ms2, err = ms.pdb.Layout(ty.Index, 2)
				sizes[f.typ] = ty.Size
			}
			if err != nil {
				ms2 = nil
			}
			layouts[f.typ] = ms2
		}
		loc, found := memberAt(ms2, strings.Split(f.path, "."))
		if !found && !f.optional {
			return nil, fmt.Errorf("%s's PDB has no %s.%s: kd cannot read %s objects", m.Name, f.typ, f.path, f.typ)
		}
		l.fields[k] = loc
	}
	if n := sizes["_EPROCESS"]; n > 0 && n <= maxObjectSize {
		l.eprocessSize = n
	}
	if n := sizes["_ETHREAD"]; n > 0 && n <= maxObjectSize {
		l.ethreadSize = n
	}
	if ty, err := ms.pdb.TypeByName("_KSWITCH_FRAME"); err == nil && !ty.Forward {
		if sf, err := ms.pdb.Layout(ty.Index, 0); err == nil {
			r, ok1 := memberAt(sf, []string{"Rbp"})
			ret, ok2 := memberAt(sf, []string{"Return"})
			if ok1 && ok2 && ty.Size <= 0x1000 {
				l.switchRbp, l.switchReturn, l.switchSize = r.off, ret.off, ty.Size
			}
		}
	}
	if ty, err := ms.pdb.TypeByName("_KPRCB"); err == nil && !ty.Forward {
		if pm, err := ms.pdb.Layout(ty.Index, 0); err == nil {
			if c, ok := memberAt(pm, []string{"CurrentThread"}); ok {
				l.prcbCurThread = c.off
			}
		}
	}
	return l, nil
}

// memberAt finds a field path in a layout.
func memberAt(ms []pdb.Member, path []string) (fieldLoc, bool) {
	for _, m := range ms {
		if m.Name != path[0] {
			continue
		}
		if len(path) == 1 {
			if m.Bitfield || m.Size == 0 {
				return fieldLoc{}, false
			}
			return fieldLoc{off: m.Offset, size: m.Size, ok: true}, true
		}
		in, ok := memberAt(m.Members, path[1:])
		in.off += m.Offset
		return in, ok
	}
	return fieldLoc{}, false
}

// object is a kernel object read whole: data and which bytes were read.
type object struct {
	addr uint64
	data []byte
	ok   []bool
}

// field returns a field's value (little-endian, at most 8 bytes) and
// whether it was known and readable.
func (o object) field(l *objLayout, key string) (uint64, bool) {
	f := l.fields[key]
	if !f.ok || f.off+min(f.size, 8) > uint64(len(o.data)) {
		return 0, false
	}
	n := min(f.size, 8)
	for i := f.off; i < f.off+n; i++ {
		if !o.ok[i] {
			return 0, false
		}
	}
	var b [8]byte
	copy(b[:], o.data[f.off:f.off+n])
	return binary.LittleEndian.Uint64(b[:]), true
}

// bytes returns a field's raw bytes (nil when unknown or unreadable).
func (o object) bytes(l *objLayout, key string) []byte {
	f := l.fields[key]
	if !f.ok || f.off+f.size > uint64(len(o.data)) {
		return nil
	}
	for i := f.off; i < f.off+f.size; i++ {
		if !o.ok[i] {
			return nil
		}
	}
	return o.data[f.off : f.off+f.size]
}

// errListLoop and friends say why a list walk stopped.
var (
	errListLoop  = errors.New("the list loops back on itself")
	errListLong  = errors.New("the list is longer than kd walks")
	errListEntry = errors.New("a list entry is not a kernel address")
)

// MaxListEntries bounds every kernel list kd walks.
const MaxListEntries = 4096

// WalkList follows the Flink chain of the LIST_ENTRY at head through
// memory read by read8 and returns the entries (not the head), at most
// max of them. It stops with an error at an unreadable or non-canonical
// kernel pointer, a loop that does not come back to the head, or max.
// Every pointer is the target's and is not trusted.
func WalkList(head uint64, max int, read8 func(addr uint64) (uint64, error)) ([]uint64, error) {
	var out []uint64
	seen := map[uint64]bool{head: true}
	e, err := read8(head)
	if err != nil {
		return nil, err
	}
	for e != head {
		if e&7 != 0 || e < 0xFFFF800000000000 {
			return out, fmt.Errorf("%w: %s", errListEntry, hexAddr(e))
		}
		if seen[e] {
			return out, errListLoop
		}
		if len(out) >= max {
			return out, errListLong
		}
		next, err := read8(e)
		if err != nil {
			return out, err
		}
		seen[e] = true
		out = append(out, e)
		e = next
	}
	return out, nil
}
