package target

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gokd/kd/internal/safetext"
)

// Process is one EPROCESS as !process shows it.
type Process struct {
	Addr        uint64
	PID         uint64
	ParentPID   uint64
	Image       string // ImageFileName, sanitised
	Session     int64  // -1: none (no session)
	SessionOK   bool   // Session was readable
	Peb         uint64
	DirBase     uint64
	ObjectTable uint64
	Handles     uint32
	HandlesOK   bool
	CreateTime  uint64 // FILETIME, 0 when unknown
	NThreads    uint32
	Threads     []Thread // filled when asked for
	// ThreadsStopped says why the thread list walk ended early.
	ThreadsStopped string
}

// Thread is one ETHREAD as !thread shows it.
type Thread struct {
	Addr         uint64
	PID, TID     uint64
	Process      uint64 // owning EPROCESS
	ProcessImage string
	Teb          uint64
	Win32Thread  uint64
	State        int // KTHREAD_STATE, -1 unknown
	WaitReason   int // KWAIT_REASON, -1 unknown
	WaitMode     int // 0 KernelMode, 1 UserMode, -1 unknown
	Alertable    bool
	Priority     int
	BasePriority int
	KernelTime   uint32 // ticks
	UserTime     uint32
	WaitTime     uint32 // tick count when the wait began
	Switches     uint32
	StartAddress uint64
	StartSymbol  string
	InitStack    uint64
	StackLimit   uint64
	StackBase    uint64
	KernelStack  uint64
	Current      bool // the current thread of the current processor
	Stack        *Stack
	StackErr     string
}

// ProcessList is !process's answer.
type ProcessList struct {
	Processes []Process
	// Stopped says why the process list walk ended early.
	Stopped string
	// Note says how the objects were read (kdsim's offsets without a PDB).
	Note string
}

// ErrNoProcess: no process on the active list has the id asked for.
var ErrNoProcess = errors.New("no such process")

// ErrNotObject: the address holds no readable kernel object of the kind
// asked for.
var ErrNotObject = errors.New("not a readable object")

// ProcessQuery selects what Processes returns.
type ProcessQuery struct {
	All     bool   // every process on PsActiveProcessHead
	Addr    uint64 // one EPROCESS (when !All and PID == 0)
	PID     uint64 // the process with this id
	ByPID   bool
	Image   string // only processes with this image name (case-insensitive)
	Threads bool   // list each process's threads
	Stacks  bool   // and walk each thread's stack
	Current bool   // the current process
}

// processHead finds PsActiveProcessHead: from KDDEBUGGER_DATA64 when the
// target offers it, else from nt's symbols.
func (t *Target) processHead(ctx context.Context, s *session) (uint64, error) {
	if a, ok := t.kdbgPointer(ctx, s, kdbgPsActiveProcessHead); ok {
		return a, nil
	}
	return t.Resolve(ctx, "nt!PsActiveProcessHead")
}

// Offsets in KDDEBUGGER_DATA64.
const (
	kdbgPsActiveProcessHead = 0x50
	kdbgKiBugcheckData      = 0x88
	kdbgMinSize             = 0x90
)

// kdbgPointer reads one pointer of the debugger data block, which the
// version's DebuggerDataList leads to (an unencoded block tagged KDBG).
func (t *Target) kdbgPointer(ctx context.Context, s *session, off uint64) (uint64, bool) {
	if !s.haveVersion || s.version.DebuggerDataList == 0 {
		return 0, false
	}
	blk, err := t.read64(ctx, s, s.version.DebuggerDataList)
	if err != nil || blk < 0xFFFF800000000000 {
		return 0, false
	}
	b, ok, err := t.readMemory(ctx, s, blk, kdbgMinSize)
	if err != nil || !allOK(ok) || string(b[0x10:0x14]) != "KDBG" || binary.LittleEndian.Uint32(b[0x14:]) < kdbgMinSize {
		return 0, false
	}
	v := binary.LittleEndian.Uint64(b[off:])
	return v, v != 0
}

func (t *Target) read64(ctx context.Context, s *session, addr uint64) (uint64, error) {
	b, ok, err := t.readMemory(ctx, s, addr, 8)
	if err != nil {
		return 0, err
	}
	if !allOK(ok) {
		return 0, fmt.Errorf("memory at %s is not readable", hexAddr(addr))
	}
	return binary.LittleEndian.Uint64(b), nil
}

func (t *Target) readObject(ctx context.Context, s *session, addr, size uint64) (object, error) {
	b, ok, err := t.readMemory(ctx, s, addr, int(size))
	if err != nil {
		return object{}, err
	}
	return object{addr: addr, data: b, ok: ok}, nil
}

// Processes answers !process: the processes q selects, walking
// PsActiveProcessHead through ActiveProcessLinks (bounded, loop-checked).
func (t *Target) Processes(ctx context.Context, q ProcessQuery) (ProcessList, error) {
	s, err := t.needStopped()
	if err != nil {
		return ProcessList{}, err
	}
	l, err := t.kernelLayout(ctx)
	if err != nil {
		return ProcessList{}, err
	}
	out := ProcessList{Note: l.note}
	var addrs []uint64
	switch {
	case q.Current:
		th, err := t.ControlPointer(ctx, ControlKThread)
		if err != nil {
			return out, fmt.Errorf("reading the current thread: %w", err)
		}
		p, err := t.read64(ctx, s, th+l.fields["kt.ApcProcess"].off)
		if err != nil {
			return out, fmt.Errorf("reading the current thread's process: %w", err)
		}
		addrs = []uint64{p}
	case q.All || q.ByPID:
		head, err := t.processHead(ctx, s)
		if err != nil {
			return out, err
		}
		links, werr := WalkList(head, MaxListEntries, func(a uint64) (uint64, error) { return t.read64(ctx, s, a) })
		if werr != nil {
			if err := ctx.Err(); err != nil {
				return out, err
			}
			out.Stopped = werr.Error()
		}
		for _, e := range links {
			addrs = append(addrs, e-l.fields["ep.Links"].off)
		}
	default:
		addrs = []uint64{q.Addr}
	}
	for _, a := range addrs {
		p, err := t.readProcess(ctx, s, l, a)
		if err != nil {
			if q.All || q.ByPID {
				if ctx.Err() != nil {
					return out, ctx.Err()
				}
				out.Stopped = err.Error()
				break
			}
			return out, err
		}
		if q.ByPID && p.PID != q.PID {
			continue
		}
		if q.Image != "" && !equalFoldASCII(p.Image, q.Image) {
			continue
		}
		if q.Threads || q.Stacks {
			t.readThreads(ctx, s, l, &p, q.Stacks)
		}
		out.Processes = append(out.Processes, p)
	}
	if q.ByPID && len(out.Processes) == 0 && out.Stopped == "" {
		return out, fmt.Errorf("%w: no process has id %#x (Cid %04x)", ErrNoProcess, q.PID, q.PID)
	}
	return out, ctx.Err()
}

func equalFoldASCII(a, b string) bool { return bytes.EqualFold([]byte(a), []byte(b)) }

// readProcess reads one EPROCESS and what it points at for !process.
func (t *Target) readProcess(ctx context.Context, s *session, l *objLayout, addr uint64) (Process, error) {
	o, err := t.readObject(ctx, s, addr, l.eprocessSize)
	if err != nil {
		return Process{}, err
	}
	p := Process{Addr: addr, Session: -1}
	var ok bool
	if p.PID, ok = o.field(l, "ep.Pid"); !ok {
		return p, fmt.Errorf("%w: process %s is not readable", ErrNotObject, hexAddr(addr))
	}
	p.ParentPID, _ = o.field(l, "ep.Parent")
	p.Peb, _ = o.field(l, "ep.Peb")
	p.DirBase, _ = o.field(l, "ep.DirBase")
	p.ObjectTable, _ = o.field(l, "ep.ObjectTable")
	p.CreateTime, _ = o.field(l, "ep.CreateTime")
	n, _ := o.field(l, "ep.NThreads")
	p.NThreads = uint32(n)
	if name := o.bytes(l, "ep.Image"); name != nil {
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		p.Image = safetext.Sanitize(name)
	}
	if sess, ok := o.field(l, "ep.Session"); ok {
		p.SessionOK = true
		if sess != 0 {
			p.Session = -2 // unreadable until read
			if f := l.fields["ss.Id"]; f.ok {
				if b, okb, err := t.readMemory(ctx, s, sess+f.off, 4); err == nil && allOK(okb) {
					p.Session = int64(binary.LittleEndian.Uint32(b))
				}
			}
		}
	}
	if f := l.fields["ht.Count"]; f.ok && p.ObjectTable != 0 {
		if b, okb, err := t.readMemory(ctx, s, p.ObjectTable+f.off, 4); err == nil && allOK(okb) {
			p.Handles, p.HandlesOK = binary.LittleEndian.Uint32(b), true
		}
	}
	return p, nil
}
