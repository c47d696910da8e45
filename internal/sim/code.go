package sim

// The machine code of the simulated modules. Every processor boots in
// nt!KiSystemStartup, which calls nt!KiIdleLoop; the idle loop calls the
// driver's timer routine and then hal!HalProcessorIdle, which halts until
// the next clock tick. cpu.step executes these very bytes, so a software
// breakpoint (0xCC) written anywhere on that path is really hit.

func assembleNT(a *asm) {
	a.fn("nt!KiSystemStartup")
	a.prologue()
	a.call("nt!KiIdleLoop")
	a.jmpSelf()

	a.fn("nt!KiIdleLoop")
	a.prologue()
	a.label("nt!KiIdleLoop_loop")
	a.xorEcx()
	a.call("simdrv!SimDrvTimerRoutine")
	a.call("hal!HalProcessorIdle")
	a.pause()
	a.jmpBack("nt!KiIdleLoop_loop")

	a.fn("nt!DbgBreakPointWithStatus")
	a.int3()
	a.ret()

	a.fn("nt!DbgBreakPoint")
	a.int3()
	a.ret()

	a.fn("nt!DbgPrint")
	a.prologue()
	a.xorEax()
	a.epilogue()

	a.fn("nt!DbgPrompt")
	a.prologue()
	a.xorEax()
	a.epilogue()

	// KeBugCheckEx prints its banner (modelled natively) and breaks into
	// the debugger with DBG_STATUS_BUGCHECK_FIRST.
	a.fn("nt!KeBugCheckEx")
	a.prologue()
	a.movEcx(3)
	a.call("nt!DbgBreakPointWithStatus")
	a.jmpSelf()

	a.fn("nt!RtlAssert")
	a.prologue()
	a.call("nt!DbgBreakPoint")
	a.epilogue()

	// The system-call entry: never executed here, but real code for
	// disassemblers (swapgs; mov gs:[10h],rsp; mov rsp,gs:[1A8h]).
	a.fn("nt!KiSystemCall64")
	a.b(0x0F, 0x01, 0xF8)
	a.b(0x65, 0x48, 0x89, 0x24, 0x25, 0x10, 0x00, 0x00, 0x00)
	a.b(0x65, 0x48, 0x8B, 0x24, 0x25, 0xA8, 0x01, 0x00, 0x00)
	a.jmpSelf()

	assembleTraps(a, "nt") // the IDT's handlers (cpustate.go)
}

func assembleHAL(a *asm) {
	a.fn("hal!HalInitSystem")
	a.prologue()
	a.xorEax()
	a.epilogue()

	a.fn("hal!HalProcessorIdle")
	a.prologue()
	a.sti()
	a.hlt()
	a.epilogue()

	a.fn("hal!HalReturnToFirmware")
	a.cli()
	a.hlt()
	a.jmpSelf()

	assembleTraps(a, "hal")
}

func assembleKdcom(a *asm) {
	for _, name := range []string{"KdDebuggerInitialize0", "KdSendPacket", "KdReceivePacket"} {
		a.fn("kdcom!" + name)
		a.prologue()
		a.xorEax()
		a.epilogue()
	}
}

func assembleDriver(a *asm) {
	a.fn("simdrv!DriverEntry")
	a.prologue()
	a.xorEax()
	a.epilogue()

	// The timer routine counts the ticks of every processor in memory:
	// "dd simdrv!SimDrvTickCount" changes while the target runs.
	a.fn("simdrv!SimDrvTimerRoutine")
	a.prologue()
	a.label("simdrv!SimDrvTimerRoutine_inc")
	a.incRip("simdrv!SimDrvTickCount")
	a.epilogue()
}
