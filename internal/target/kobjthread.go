package target

import (
	"bytes"
	"context"
	"fmt"

	"github.com/gokd/kd/internal/safetext"
)

// Thread states (KTHREAD_STATE).
const (
	ThreadRunning = 2
	ThreadWaiting = 5
)

// stackFrames bounds the frames !process 7 and !thread walk per thread.
const stackFrames = 64

// readThreads fills p.Threads from its ThreadListHead.
func (t *Target) readThreads(ctx context.Context, s *session, l *objLayout, p *Process, stacks bool) {
	cur, _ := t.ControlPointer(ctx, ControlKThread)
	head := p.Addr + l.fields["ep.Threads"].off
	links, werr := WalkList(head, MaxListEntries, func(a uint64) (uint64, error) { return t.read64(ctx, s, a) })
	if werr != nil {
		p.ThreadsStopped = werr.Error()
	}
	for _, e := range links {
		if ctx.Err() != nil {
			return
		}
		th, err := t.readThread(ctx, s, l, e-l.fields["et.Links"].off, cur)
		if err != nil {
			p.ThreadsStopped = err.Error()
			return
		}
		th.ProcessImage = p.Image
		if stacks {
			t.threadStack(ctx, s, l, &th)
		}
		p.Threads = append(p.Threads, th)
	}
}

// readThread reads one ETHREAD; cur is the current processor's thread.
func (t *Target) readThread(ctx context.Context, s *session, l *objLayout, addr, cur uint64) (Thread, error) {
	o, err := t.readObject(ctx, s, addr, l.ethreadSize)
	if err != nil {
		return Thread{}, err
	}
	th := Thread{Addr: addr, State: -1, WaitReason: -1, WaitMode: -1, Current: addr == cur}
	cid := o.bytes(l, "et.Cid")
	if len(cid) < 16 {
		return th, fmt.Errorf("%w: thread %s is not readable", ErrNotObject, hexAddr(addr))
	}
	th.PID, th.TID = le64(cid), le64(cid[8:])
	get := func(k string) uint64 { v, _ := o.field(l, k); return v }
	byteField := func(k string) int {
		if v, ok := o.field(l, k); ok {
			return int(v)
		}
		return -1
	}
	th.Teb, th.Win32Thread = get("kt.Teb"), get("kt.Win32Thread")
	th.State, th.WaitReason, th.WaitMode = byteField("kt.State"), byteField("kt.WaitReason"), byteField("kt.WaitMode")
	th.Alertable = get("kt.Alertable") != 0
	th.Priority, th.BasePriority = int(int8(get("kt.Priority"))), int(int8(get("kt.BasePrio")))
	th.KernelTime, th.UserTime = uint32(get("kt.KernelTime")), uint32(get("kt.UserTime"))
	th.WaitTime, th.Switches = uint32(get("kt.WaitTime")), uint32(get("kt.Switches"))
	th.StartAddress = get("et.Win32Start")
	if th.StartAddress == 0 {
		th.StartAddress = get("et.Start")
	}
	if th.StartAddress != 0 {
		th.StartSymbol = t.symbolize(ctx, s, th.StartAddress)
	}
	th.InitStack, th.StackLimit, th.StackBase = get("kt.InitStack"), get("kt.StackLimit"), get("kt.StackBase")
	th.KernelStack = get("kt.KStack")
	th.Process = get("kt.Process")
	if th.Process == 0 {
		th.Process = get("kt.ApcProcess")
	}
	return th, nil
}

// processImage reads the image name of the EPROCESS at addr ("" when
// unreadable).
func (t *Target) processImage(ctx context.Context, s *session, l *objLayout, addr uint64) string {
	f := l.fields["ep.Image"]
	if addr == 0 || !f.ok {
		return ""
	}
	b, ok, err := t.readMemory(ctx, s, addr+f.off, int(f.size))
	if err != nil || !allOK(ok) {
		return ""
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return safetext.Sanitize(b)
}

// threadStack walks th's stack: from the registers when it is the current
// thread, else from the KSWITCH_FRAME its KernelStack points at.
func (t *Target) threadStack(ctx context.Context, s *session, l *objLayout, th *Thread) {
	from, err := t.savedFrom(ctx, s, l, th)
	if err != nil {
		th.StackErr = err.Error()
		return
	}
	t.prefetchStack(ctx, s, th)
	st, err := t.Stack(ctx, from, stackFrames, false)
	if err != nil {
		th.StackErr = err.Error()
		return
	}
	th.Stack = &st
}

// maxStackPrefetch bounds the used part of a waiting thread's stack read
// in one go before its walk: up to a page, one request costs less than the
// walk's separate small reads even on a serial line; beyond it the walk
// reads only what it needs.
const maxStackPrefetch = 0x1000

// prefetchStack reads the used part of a waiting thread's kernel stack
// (KernelStack up to InitialStack) at once, so that the walk's many
// 8-byte reads come from the memory cache instead of one request each.
func (t *Target) prefetchStack(ctx context.Context, s *session, th *Thread) {
	if th.Current || th.InitStack <= th.KernelStack || th.InitStack-th.KernelStack > maxStackPrefetch {
		return
	}
	_, _, _ = t.readMemory(ctx, s, th.KernelStack, int(th.InitStack-th.KernelStack))
}

// savedFrom is where th's stack walk starts: the current registers for
// the current thread, else the rip, rsp and rbp its KSWITCH_FRAME saved.
func (t *Target) savedFrom(ctx context.Context, s *session, l *objLayout, th *Thread) (StackFrom, error) {
	switch {
	case th.Current:
		return StackFrom{}, nil
	case th.State == ThreadRunning:
		return StackFrom{}, fmt.Errorf("thread %s is running on another processor: switch to it with ~Ns to see its stack", hexAddr(th.Addr))
	case th.KernelStack < th.StackLimit || th.KernelStack >= th.StackBase || th.KernelStack&7 != 0:
		return StackFrom{}, fmt.Errorf("thread %s: its KernelStack %s is outside its stack (%s to %s)", hexAddr(th.Addr),
			hexAddr(th.KernelStack), hexAddr(th.StackLimit), hexAddr(th.StackBase))
	}
	rip, err := t.read64(ctx, s, th.KernelStack+l.switchReturn)
	if err != nil {
		return StackFrom{}, fmt.Errorf("thread %s: the switch frame at %s is not readable", hexAddr(th.Addr), hexAddr(th.KernelStack))
	}
	rbp, err := t.read64(ctx, s, th.KernelStack+l.switchRbp)
	if err != nil {
		return StackFrom{}, fmt.Errorf("thread %s: the switch frame at %s is not readable", hexAddr(th.Addr), hexAddr(th.KernelStack))
	}
	return StackFrom{RSP: th.KernelStack + l.switchSize, RIP: rip, RBP: rbp, HaveRSP: true, HaveRIP: true, HaveRBP: true}, nil
}

// ThreadQuery selects what ThreadInfo returns.
type ThreadQuery struct {
	Addr    uint64 // the ETHREAD (when !Current)
	Current bool   // the current processor's thread
	Stack   bool
}

// ThreadDetail is !thread's answer.
type ThreadDetail struct {
	Thread Thread
	Note   string
}

// ThreadInfo answers !thread: one thread with its owning process and,
// when asked, its stack.
func (t *Target) ThreadInfo(ctx context.Context, q ThreadQuery) (ThreadDetail, error) {
	s, err := t.needStopped()
	if err != nil {
		return ThreadDetail{}, err
	}
	l, err := t.kernelLayout(ctx)
	if err != nil {
		return ThreadDetail{}, err
	}
	cur, err := t.ControlPointer(ctx, ControlKThread)
	if err != nil {
		return ThreadDetail{}, fmt.Errorf("reading the current thread: %w", err)
	}
	addr := q.Addr
	if q.Current {
		addr = cur
	}
	th, err := t.readThread(ctx, s, l, addr, cur)
	if err != nil {
		return ThreadDetail{}, err
	}
	th.ProcessImage = t.processImage(ctx, s, l, th.Process)
	if q.Stack {
		t.threadStack(ctx, s, l, &th)
	}
	return ThreadDetail{Thread: th, Note: l.note}, ctx.Err()
}

// ThreadStackFrom returns where k starts for thread addr (.thread): the
// registers its KSWITCH_FRAME saved, or the current registers when it is
// the current thread.
func (t *Target) ThreadStackFrom(ctx context.Context, addr uint64) (StackFrom, Thread, error) {
	s, err := t.needStopped()
	if err != nil {
		return StackFrom{}, Thread{}, err
	}
	l, err := t.kernelLayout(ctx)
	if err != nil {
		return StackFrom{}, Thread{}, err
	}
	cur, err := t.ControlPointer(ctx, ControlKThread)
	if err != nil {
		return StackFrom{}, Thread{}, fmt.Errorf("reading the current thread: %w", err)
	}
	th, err := t.readThread(ctx, s, l, addr, cur)
	if err != nil {
		return StackFrom{}, th, err
	}
	th.ProcessImage = t.processImage(ctx, s, l, th.Process)
	from, err := t.savedFrom(ctx, s, l, &th)
	return from, th, err
}

func le64(b []byte) uint64 {
	var x [8]byte
	copy(x[:], b)
	return uint64(x[0]) | uint64(x[1])<<8 | uint64(x[2])<<16 | uint64(x[3])<<24 |
		uint64(x[4])<<32 | uint64(x[5])<<40 | uint64(x[6])<<48 | uint64(x[7])<<56
}

// StopID identifies the current stop: it changes whenever the target
// stops again or reconnects, so that state tied to one stop (.thread's
// implicit thread) can tell it is stale. It is 0 while the target runs.
func (t *Target) StopID() uint64 {
	s, err := t.needStopped()
	if err != nil {
		return 0
	}
	return uint64(s.gen)<<40 | s.stops
}
