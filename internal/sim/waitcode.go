package sim

// assembleWaits adds nt's wait path to a (nt's code): the functions a
// blocked thread's kernel stack runs through, from the system-call and
// system-thread entries down to KiSwapContext. The threads of procs.go
// never run; their stacks are planted as these very instructions would
// have left them, so a debugger unwinds them with nt's .pdata and `u`
// shows the calls. It returns each function's return site: the address
// after its call to the next function down.
func assembleWaits(a *asm) map[string]uint64 {
	ret := map[string]uint64{}
	direct := func(name, callee string) {
		a.fn(name)
		a.prologue()
		a.call(callee)
		ret[name] = a.pc()
		a.epilogue()
	}
	a.fn("nt!KiStartSystemThread")
	a.prologue()
	a.call("nt!PspSystemThreadStartup")
	ret["nt!KiStartSystemThread"] = a.pc()
	a.jmpSelf()

	a.fn("nt!PspSystemThreadStartup") // calls the thread's start routine
	a.prologue()
	a.b(0xFF, 0xD0) // call rax
	ret["nt!PspSystemThreadStartup"] = a.pc()
	a.epilogue()

	a.fn("nt!KiSystemServiceCopyEnd") // calls the system service
	a.prologue()
	a.b(0x41, 0xFF, 0xD2) // call r10
	ret["nt!KiSystemServiceCopyEnd"] = a.pc()
	a.epilogue()

	direct("nt!ExpWorkerThread", "nt!KeRemovePriQueue")
	direct("nt!KeRemovePriQueue", "nt!KiCommitThreadWait")
	direct("nt!NtWaitForSingleObject", "nt!KeWaitForSingleObject")
	direct("nt!KeWaitForSingleObject", "nt!KiCommitThreadWait")
	direct("nt!NtWaitForMultipleObjects", "nt!KeWaitForMultipleObjects")
	direct("nt!KeWaitForMultipleObjects", "nt!KiCommitThreadWait")
	direct("nt!NtDelayExecution", "nt!KeDelayExecutionThread")
	direct("nt!KeDelayExecutionThread", "nt!KiCommitThreadWait")
	direct("nt!NtRemoveIoCompletion", "nt!KeRemoveQueueEx")
	direct("nt!KeRemoveQueueEx", "nt!KiCommitThreadWait")
	direct("nt!KiCommitThreadWait", "nt!KiSwapContext")
	direct("nt!KiSwapContext", "nt!SwapContext")

	// SwapContext saves the outgoing thread's KSWITCH_FRAME and loads the
	// next thread's; a leaf here.
	a.fn("nt!SwapContext")
	a.xorEax()
	a.ret()
	return ret
}

// assembleDriverFault adds simdrv's faulting routine: what the timer
// routine runs when simdrv!SimDrvCrashRequest is set (bugcheck.go). Its
// load through rax (mov eax,[rax], rax = 10h) is the faulting access.
func assembleDriverFault(a *asm) {
	a.fn("simdrv!SimDrvFaultRoutine")
	a.prologue()
	a.b(0x8B, 0x00) // mov eax,dword ptr [rax]
	a.movEcx(bugCheckDriverIrql)
	a.call("nt!KeBugCheckEx")
	a.jmpSelf()
}
