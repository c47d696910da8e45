package target

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gokd/kd/internal/pdb"
	"github.com/gokd/kd/internal/pe"
	"github.com/gokd/kd/internal/unwind"
)

// StackFrame is one row of k.
type StackFrame struct {
	Num      int
	ChildSP  uint64 // RSP while the frame's function runs
	RetAddr  uint64 // where it returns (0 for the last frame)
	IP       uint64 // where it executes
	CallSite string // module!function+0xoff, or the address
	// Args are the four home-space quadwords above the return address
	// (kb's "Args to Child"); HaveArgs is false when they were unreadable.
	Args     [4]uint64
	HaveArgs bool
	// Params are the parameter types of the function from its PDB (kp).
	Params []string
	How    string // how the frame was found
	Guess  bool   // found by following RBP: may be wrong
}

// Stack is k's answer.
type Stack struct {
	Frames []StackFrame
	// Stopped says why the walk ended early ("" when it reached the end
	// or the frame limit).
	Stopped string
}

// DefaultFrames is k's default depth (KD's .kframes default).
const DefaultFrames = 256

// StackFrom is where k starts: the current registers, or "k = rsp rip".
type StackFrom struct {
	RSP, RIP         uint64
	HaveRSP, HaveRIP bool
	// RBP starts the frame-pointer fallback (a saved thread's frame).
	RBP     uint64
	HaveRBP bool
}

// Stack walks the current processor's stack through the .pdata and
// UNWIND_INFO of the loaded images, read from target memory; code whose
// unwind data is missing or unreadable is walked by the frame pointer,
// and such frames are marked as guesses.
func (t *Target) Stack(ctx context.Context, from StackFrom, maxFrames int, params bool) (Stack, error) {
	s, err := t.needStopped()
	if err != nil {
		return Stack{}, err
	}
	regs, err := t.registers(ctx, s)
	if err != nil {
		return Stack{}, err
	}
	var start unwind.Context
	for i, n := range []string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"} {
		start.GPR[i], _ = regs.Get(n)
	}
	start.RIP, _ = regs.Get("rip")
	if from.HaveRSP {
		start.GPR[unwind.RSP] = from.RSP
	}
	if from.HaveRIP {
		start.RIP = from.RIP
	}
	if from.HaveRBP {
		start.GPR[unwind.RBP] = from.RBP
	}
	if maxFrames <= 0 {
		maxFrames = DefaultFrames
	}
	var linkErr error
	mem := unwind.MemoryFunc(func(addr uint64, p []byte) error {
		b, ok, err := t.readMemory(ctx, s, addr, len(p))
		if err != nil {
			linkErr = err
			return err
		}
		if !allOK(ok) {
			return fmt.Errorf("memory at %s is not readable", hexAddr(addr))
		}
		copy(p, b)
		return nil
	})
	lk := unwind.LookupFunc(func(pc uint64) (unwind.Function, error) { return t.lookupFunction(ctx, s, mem, pc) })
	frames, werr := unwind.Walk(ctx, mem, lk, start, unwind.Options{MaxFrames: maxFrames + 1, FramePointerFallback: true}) // one more for the args
	if linkErr != nil {
		return Stack{}, linkErr
	}
	if err := ctx.Err(); err != nil {
		return Stack{}, err
	}
	var out Stack
	if werr != nil {
		out.Stopped = werr.Error()
	}
	for i, f := range frames {
		if i == maxFrames {
			break
		}
		sf := StackFrame{Num: i, ChildSP: f.ChildSP, RetAddr: f.RetAddr, IP: f.IP, How: f.How.String(), Guess: f.How.Guess()}
		sf.CallSite = t.symbolizeFrame(ctx, s, f.IP, i > 0 && f.How != unwind.FromMachineFrame)
		if i+1 < len(frames) {
			var b [32]byte
			if mem.ReadMemory(frames[i+1].ChildSP, b[:]) == nil {
				for k := range sf.Args {
					sf.Args[k] = binary.LittleEndian.Uint64(b[8*k:])
				}
				sf.HaveArgs = true
			}
		}
		if params {
			sf.Params = t.frameParams(ctx, s, f.IP)
		}
		out.Frames = append(out.Frames, sf)
	}
	if linkErr != nil {
		return Stack{}, linkErr
	}
	if len(frames) > maxFrames {
		out.Stopped = "" // the frame limit, not a failure
	}
	return out, nil
}

// symbolizeFrame names a frame's address; a return address (caller) is
// looked up at the call instruction before it, so that a call ending a
// no-return function is not named after the next function.
func (t *Target) symbolizeFrame(ctx context.Context, s *session, addr uint64, caller bool) string {
	if !caller || addr == 0 {
		if n := t.symbolize(ctx, s, addr); n != "" {
			return n
		}
		return hexAddr(addr)
	}
	n := t.symbolize(ctx, s, addr-1)
	if n == "" {
		return hexAddr(addr)
	}
	// Add the byte back to the displacement.
	var base string
	var off uint64
	if i := lastPlus(n); i >= 0 {
		if _, err := fmt.Sscanf(n[i+1:], "0x%x", &off); err == nil {
			base = n[:i]
		}
	}
	if base == "" {
		base = n
	}
	return fmt.Sprintf("%s+0x%x", base, off+1)
}

func lastPlus(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '+' {
			return i
		}
	}
	return -1
}

// frameParams returns the parameter types of the PDB function holding
// addr (nil when the module has no PDB or the function no type).
func (t *Target) frameParams(ctx context.Context, s *session, addr uint64) []string {
	y, _ := t.loadModules(ctx, s)
	m := t.moduleAt(ctx, s, y, addr)
	if m == nil {
		return nil
	}
	ms, _ := t.ensureSymbols(ctx, s, m)
	if ms == nil || ms.pdb == nil || addr-m.Base > 0xFFFFFFFF {
		return nil
	}
	fn, ok, err := ms.pdb.FunctionAt(uint32(addr - m.Base))
	if err != nil || !ok || fn.Type == 0 {
		return nil
	}
	ty, err := ms.pdb.Resolve(fn.Type)
	if err != nil || ty.Kind != pdb.KindProcedure {
		return nil
	}
	out := []string{}
	for _, p := range ty.Params {
		n, err := ms.pdb.TypeName(p)
		if err != nil {
			n = "?"
		}
		out = append(out, n)
	}
	return out
}

// errNoPdata says an image has no exception directory: its code is walked
// by the frame pointer (a guess), not taken for leaf functions.
var errNoPdata = errors.New("the image has no .pdata")

// maxPdataProbe bounds the binary search of one .pdata.
const maxPdataProbe = 40

// lookupFunction finds the module holding pc and its RUNTIME_FUNCTION by
// a binary search of the .pdata in target memory (a dozen or so 12-byte
// reads for ntoskrnl's tens of thousands of entries, each cached).
func (t *Target) lookupFunction(ctx context.Context, s *session, mem unwind.Memory, pc uint64) (unwind.Function, error) {
	y, err := t.loadModules(ctx, s)
	if err != nil {
		return unwind.Function{}, err
	}
	m := t.moduleAt(ctx, s, y, pc)
	if m == nil {
		return unwind.Function{}, fmt.Errorf("%s: %w", hexAddr(pc), unwind.ErrNoModule)
	}
	ms, err := t.ensureSymbols(ctx, s, m)
	if err == nil {
		err = t.ensureImage(ctx, s, m, ms)
	}
	if err != nil {
		return unwind.Function{}, err
	}
	if ms.image == nil {
		return unwind.Function{}, fmt.Errorf("%s: image headers unreadable", m.Name)
	}
	dir := ms.image.Directory(pe.DirException)
	if dir.RVA == 0 || dir.Size < 12 {
		return unwind.Function{}, fmt.Errorf("%s: %w", m.Name, errNoPdata)
	}
	if uint64(dir.RVA)+uint64(dir.Size) > uint64(m.Size) {
		return unwind.Function{}, fmt.Errorf("%s: .pdata lies outside the image", m.Name)
	}
	rva := uint32(pc - m.Base)
	n := int(dir.Size / 12)
	lo, hi := 0, n-1
	var b [12]byte
	for probes := 0; lo <= hi && probes < maxPdataProbe; probes++ {
		mid := int(uint(lo+hi) / 2)
		if err := mem.ReadMemory(m.Base+uint64(dir.RVA)+uint64(mid)*12, b[:]); err != nil {
			return unwind.Function{}, fmt.Errorf("%s: .pdata: %w", m.Name, err)
		}
		rf := pe.DecodeRuntimeFunction(b[:])
		switch {
		case rva < rf.Begin:
			hi = mid - 1
		case rva >= rf.End:
			lo = mid + 1
		default:
			return unwind.Function{Module: m.Name, ImageBase: m.Base, Entry: rf, HasEntry: true}, nil
		}
	}
	return unwind.Function{Module: m.Name, ImageBase: m.Base}, nil // a leaf
}
