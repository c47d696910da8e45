package sim

import (
	"math/rand/v2"
)

// The process and thread population: one EPROCESS per simulated process
// on nt!PsActiveProcessHead, each with ETHREADs whose kernel stacks hold
// real frames in nt's wait code (waitcode.go), so that a debugger walking
// KTHREAD.KernelStack with .pdata finds the wait path. The layouts are
// those of types.h (checked against the PDB by TestKernelObjectLayout);
// docs/kdsim.md lists the population.

// Offsets in kdsim's kernel object types (testdata/symbols/types.h).
const (
	kthInitialStack   = 0x028
	kthStackLimit     = 0x030
	kthStackBase      = 0x038
	kthKernelStack    = 0x058
	kthApcProcess     = 0x0B8 // ApcState.Process
	kthTeb            = 0x0F0
	kthState          = 0x100
	kthPriority       = 0x101
	kthBasePriority   = 0x102
	kthWaitReason     = 0x103
	kthWaitMode       = 0x104
	kthAlertable      = 0x106
	kthKernelTime     = 0x108
	kthUserTime       = 0x10C
	kthWaitTime       = 0x110
	kthContextSwitch  = 0x114
	kthProcess        = 0x120
	kthThreadListEnt  = 0x128
	ethCreateTime     = 0x430
	ethStartAddress   = 0x450
	ethCid            = 0x478
	ethWin32Start     = 0x4D0
	ethThreadListEnt  = 0x4E8
	ethreadSize       = 0x500
	kprDirBase        = 0x028
	kprThreadListHead = 0x030
	epPid             = 0x440
	epActiveLinks     = 0x448
	epCreateTime      = 0x468
	epParentPid       = 0x540
	epPeb             = 0x550
	epSession         = 0x558
	epObjectTable     = 0x570
	epImageFileName   = 0x5A8
	epThreadListHead  = 0x5E0
	epActiveThreads   = 0x5F0
	eprocessSize      = 0x600
	htHandleCount     = 0x030
	htPid             = 0x028
	sessSessionID     = 0x008
	switchFrameSize   = 0x40 // KSWITCH_FRAME: Rbp at +0x30, Return at +0x38
)

// Thread states and wait reasons (the public KTHREAD_STATE and
// KWAIT_REASON values).
const (
	threadRunning     = 2
	threadWaiting     = 5
	waitUserRequest   = 6
	waitDelayExec     = 4
	waitWrQueue       = 15
	waitWrUserRequest = 13
	waitKernelMode    = 0
	waitUserMode      = 1
)

// waitPath is one way a thread can be blocked: its frames from the
// outermost function to KiSwapContext, its wait reason and mode.
type waitPath struct {
	frames []string
	reason byte
	mode   byte
}

var (
	pathWorker = waitPath{[]string{"nt!KiStartSystemThread", "nt!PspSystemThreadStartup", "nt!ExpWorkerThread",
		"nt!KeRemovePriQueue", "nt!KiCommitThreadWait", "nt!KiSwapContext"}, waitWrQueue, waitKernelMode}
	pathSingle = waitPath{[]string{"nt!KiSystemServiceCopyEnd", "nt!NtWaitForSingleObject", "nt!KeWaitForSingleObject",
		"nt!KiCommitThreadWait", "nt!KiSwapContext"}, waitUserRequest, waitUserMode}
	pathMulti = waitPath{[]string{"nt!KiSystemServiceCopyEnd", "nt!NtWaitForMultipleObjects", "nt!KeWaitForMultipleObjects",
		"nt!KiCommitThreadWait", "nt!KiSwapContext"}, waitWrUserRequest, waitUserMode}
	pathDelay = waitPath{[]string{"nt!KiSystemServiceCopyEnd", "nt!NtDelayExecution", "nt!KeDelayExecutionThread",
		"nt!KiCommitThreadWait", "nt!KiSwapContext"}, waitDelayExec, waitUserMode}
	pathQueue = waitPath{[]string{"nt!KiSystemServiceCopyEnd", "nt!NtRemoveIoCompletion", "nt!KeRemoveQueueEx",
		"nt!KiCommitThreadWait", "nt!KiSwapContext"}, waitWrQueue, waitUserMode}
)

// procSpec describes one simulated process.
type procSpec struct {
	pid, parent uint64
	name        string
	session     int // -1: none
	handles     uint32
	threads     []waitPath
}

// processTable is the simulated population, in creation order (the order
// of PsActiveProcessHead). Parents that are not listed have exited, as
// smss.exe's session instances do on Windows.
var processTable = []procSpec{
	{4, 0, "System", -1, 2875, []waitPath{pathWorker, pathWorker, pathWorker, pathWorker}},
	{0x5c, 4, "Registry", -1, 0, []waitPath{pathWorker}},
	{0x17c, 4, "smss.exe", -1, 53, []waitPath{pathSingle}},
	{0x1f0, 0x1e8, "csrss.exe", 0, 512, []waitPath{pathMulti, pathQueue}},
	{0x238, 0x1e8, "wininit.exe", 0, 164, []waitPath{pathSingle}},
	{0x244, 0x230, "csrss.exe", 1, 430, []waitPath{pathMulti, pathQueue}},
	{0x298, 0x238, "services.exe", 0, 640, []waitPath{pathMulti, pathQueue}},
	{0x2b0, 0x238, "lsass.exe", 0, 1280, []waitPath{pathQueue, pathSingle, pathDelay}},
	{0x2e4, 0x230, "winlogon.exe", 1, 270, []waitPath{pathMulti}},
	{0x360, 0x298, "svchost.exe", 0, 1024, []waitPath{pathQueue, pathDelay}},
	{0x1234, 0x11f0, "explorer.exe", 1, 2210, []waitPath{pathMulti, pathSingle, pathQueue}},
}

// User-mode start addresses of user threads: ntdll's RtlUserThreadStart
// and an image's routines (not mapped by kdsim).
const (
	userThreadStart = 0x00007FFD5A0C2650
	userImageBase   = 0x00007FF6C1A00000
)

// Where the population lives: process objects in pool, kernel stacks
// beside the processors' stacks.
const (
	procPoolOff  = 0x2400000 // from im.pool
	procStackOff = 0x1800000 // from im.stacks
	threadStack  = 2 * pageSize
)

// SimThread is one thread kdsim created, for tests.
type SimThread struct {
	Addr        uint64   // ETHREAD
	TID         uint64   // Cid.UniqueThread
	KernelStack uint64   // KTHREAD.KernelStack (a KSWITCH_FRAME)
	Win32Start  uint64   // ETHREAD.Win32StartAddress
	Frames      []string // the functions on its stack, innermost first
}

// SimProcess is one process kdsim created, for tests.
type SimProcess struct {
	Addr      uint64 // EPROCESS
	PID       uint64
	ParentPID uint64
	Name      string
	Session   int // -1: none
	Handles   uint32
	DirBase   uint64
	Threads   []SimThread
}

// Processes returns the processes on PsActiveProcessHead as kdsim built
// them, in list order.
func (m *Machine) Processes() []SimProcess {
	out := make([]SimProcess, len(m.im.procs))
	for i, p := range m.im.procs {
		out[i] = p
		out[i].Threads = append([]SimThread(nil), p.Threads...)
	}
	return out
}

// buildProcesses creates the population and links it into
// PsActiveProcessHead; it also gives the processors' idle threads their
// scheduling fields and links them to the idle process.
func (im *image) buildProcesses(seed int64, retSites map[string]uint64) {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x70726f6373))
	v := im.vmem
	head := im.syms["nt!PsActiveProcessHead"]
	base := im.pool + procPoolOff
	stacks := im.stacks + procStackOff
	bootTime := uint64(0x01DC5A0000000000) + rng.Uint64N(0x100000000) // a FILETIME in late 2025
	sessions := base
	im.mapNew(sessions, pteKernelData)
	for s := 0; s < 2; s++ {
		sa := sessions + uint64(s)*0x100
		v.put32(sa, 1)
		v.put32(sa+sessSessionID, uint32(s))
	}
	next := base + pageSize
	alloc := func() uint64 {
		a := next
		im.mapNew(a, pteKernelData)
		next += pageSize
		return a
	}
	stackN := uint64(0)
	// The idle process (nt!KiInitialProcess) and the processors' idle threads.
	idle := im.syms["nt!KiInitialProcess"]
	initList(v, idle+kprThreadListHead)
	initList(v, idle+epThreadListHead)
	v.put64(idle+kprDirBase, im.cr3)
	for _, c := range im.cpus {
		th := c.thread
		v.write(th+kthState, []byte{threadRunning})
		v.put64(th+kthProcess, idle)
		insertTail(v, idle+kprThreadListHead, th+kthThreadListEnt)
		insertTail(v, idle+epThreadListHead, th+ethThreadListEnt)
		v.put64(th+ethCid+8, 0)
		v.put32(th+kthKernelTime, 100000+uint32(rng.Uint32N(50000)))
	}
	v.put32(idle+epActiveThreads, uint32(len(im.cpus)))

	initList(v, head)
	prev := uint64(0)
	tid := uint64(8)
	for i, spec := range processTable {
		ep := alloc()
		sp := SimProcess{Addr: ep, PID: spec.pid, ParentPID: spec.parent, Name: spec.name, Session: spec.session, Handles: spec.handles}
		if spec.pid == 4 {
			sp.DirBase = im.cr3
		} else {
			sp.DirBase = im.newAddressSpace()
		}
		v.put64(ep+kprDirBase, sp.DirBase)
		initList(v, ep+kprThreadListHead)
		initList(v, ep+epThreadListHead)
		v.put64(ep+epPid, spec.pid)
		v.put64(ep+epParentPid, spec.parent)
		created := bootTime + uint64(i)*10_000_000*uint64(1+rng.UintN(3))
		v.put64(ep+epCreateTime, created)
		if spec.session >= 0 {
			v.put64(ep+epSession, sessions+uint64(spec.session)*0x100)
		}
		if spec.pid > 0x100 {
			v.put64(ep+epPeb, 0x0000000000200000+rng.Uint64N(0x7FF00)*pageSize)
		}
		ht := ep + 0x800 // the handle table shares the process's page
		v.put64(ep+epObjectTable, ht)
		v.put32(ht+htPid, uint32(spec.pid))
		v.put32(ht+htHandleCount, spec.handles)
		name := []byte(spec.name)
		v.write(ep+epImageFileName, name[:min(len(name), 15)])
		insertTail(v, head, ep+epActiveLinks)
		if prev == 0 {
			v.put64(im.syms["nt!PsInitialSystemProcess"], ep)
		}
		prev = ep
		for _, path := range spec.threads {
			th := alloc()
			top := stacks + 0x10000*(stackN+1)
			stackN++
			for a := top - threadStack; a < top; a += pageSize {
				im.mapNew(a, pteKernelData)
			}
			st := SimThread{Addr: th, TID: tid}
			tid += 4
			for j := len(path.frames) - 1; j >= 0; j-- {
				st.Frames = append(st.Frames, path.frames[j])
			}
			st.KernelStack = im.plantStack(top, path, retSites)
			st.Win32Start = im.initThread(th, ep, top, st.KernelStack, path, spec, st.TID, created, rng)
			insertTail(v, ep+kprThreadListHead, th+kthThreadListEnt)
			insertTail(v, ep+epThreadListHead, th+ethThreadListEnt)
			sp.Threads = append(sp.Threads, st)
		}
		v.put32(ep+epActiveThreads, uint32(len(spec.threads)))
		im.procs = append(im.procs, sp)
	}
	kernel := im.pmem.page(im.cr3)
	for _, p := range im.procs {
		if p.DirBase != im.cr3 {
			copy(im.pmem.page(p.DirBase)[0x800:], kernel[0x800:])
		}
	}
}

// initThread fills one ETHREAD of process ep whose stack tops at top and
// returns its Win32StartAddress.
func (im *image) initThread(th, ep, top, kstack uint64, path waitPath, spec procSpec, tid, created uint64, rng *rand.Rand) uint64 {
	v := im.vmem
	v.put64(th+kthInitialStack, top-0x30)
	v.put64(th+kthStackLimit, top-threadStack)
	v.put64(th+kthStackBase, top)
	v.put64(th+kthKernelStack, kstack)
	v.put64(th+kthApcProcess, ep)
	v.put64(th+kthProcess, ep)
	prio := byte(8)
	if path.mode == waitKernelMode {
		prio = 13
	} else {
		v.put64(th+kthTeb, 0x0000000000300000+rng.Uint64N(0x7FF00)*pageSize)
	}
	v.write(th+kthState, []byte{threadWaiting, prio + byte(rng.UintN(3)), prio, path.reason, path.mode})
	if path.mode == waitUserMode {
		v.write(th+kthAlertable, []byte{1})
	}
	v.put32(th+kthKernelTime, rng.Uint32N(400))
	v.put32(th+kthUserTime, rng.Uint32N(200))
	v.put32(th+kthWaitTime, 1000+rng.Uint32N(9000))
	v.put32(th+kthContextSwitch, 10+rng.Uint32N(5000))
	v.put64(th+ethCreateTime, created+uint64(rng.UintN(1000))*10_000)
	// A system thread starts in nt; a user thread in ntdll's thread start
	// (user mode, which kdsim does not map) and its image's routine.
	start, win32 := im.syms[path.frames[2]], im.syms[path.frames[2]]
	if path.mode == waitUserMode {
		start = userThreadStart
		win32 = userImageBase + uint64(rng.UintN(0x4000))*0x10
	}
	v.put64(th+ethStartAddress, start)
	v.put64(th+ethWin32Start, win32)
	v.put64(th+ethCid, spec.pid)
	v.put64(th+ethCid+8, tid)
	return win32
}

// plantStack writes the frames of path on the stack whose top is top, as
// each function's prologue and call would have left them (a return
// address, the caller's rbp, 0x20 bytes of home space), the innermost
// being KiSwapContext's call to SwapContext, and returns the
// KTHREAD.KernelStack value: the KSWITCH_FRAME below that return address.
func (im *image) plantStack(top uint64, path waitPath, retSites map[string]uint64) uint64 {
	v := im.vmem
	sp := top - 0x30 // InitialStack: room for the start context
	push := func(x uint64) { sp -= 8; v.put64(sp, x) }
	ret, rbp := uint64(0), uint64(0)
	for _, fn := range path.frames {
		push(ret)
		push(rbp)
		rbp = sp
		sp -= 0x20
		ret = retSites[fn]
	}
	push(ret) // KiSwapContext's call to SwapContext
	ks := sp + 8 - switchFrameSize
	v.put64(ks+0x30, rbp)
	return ks
}

// newAddressSpace returns the physical address of a new PML4; its kernel
// half is copied from the boot one once the population is built.
func (im *image) newAddressSpace() uint64 {
	pa := im.allocPA()
	im.pmem.mapPage(pa, new(page))
	return pa
}

func initList(v *memory, head uint64) {
	v.put64(head, head)
	v.put64(head+8, head)
}

// insertTail links entry at the tail of the list at head.
func insertTail(v *memory, head, entry uint64) {
	last, _ := v.u64(head + 8)
	v.put64(entry, head)
	v.put64(entry+8, last)
	v.put64(last, entry)
	v.put64(head+8, entry)
}
