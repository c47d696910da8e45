package sim

import (
	"fmt"
	"time"

	"github.com/gokd/kd/kdproto"
)

const (
	instrPerTick = 32       // instructions a processor may run per tick before it must halt
	tscPerTick   = 30000000 // a 3 GHz time-stamp counter over a 10 ms tick
	maxPrompt    = 512      // longest DbgPrompt answer the target accepts
)

// running is the target between stops: on every clock tick each processor
// executes until it halts, and then one byte is polled for a break-in; every
// PrintEvery a numbered DbgPrint is sent.
func (m *Machine) running(l *link) error {
	now := time.Now()
	nextTick := now.Add(m.cfg.Tick)
	if m.cfg.PrintEvery > 0 && (m.nextPrint.IsZero() || m.nextPrint.Before(now)) {
		m.nextPrint = now.Add(m.cfg.PrintEvery)
	}
	for m.stop == nil {
		due := nextTick
		if m.cfg.PrintEvery > 0 && m.nextPrint.Before(due) {
			due = m.nextPrint
		}
		if err := l.sleepUntil(due); err != nil {
			return err
		}
		now = time.Now()
		if m.cfg.PrintEvery > 0 && !now.Before(m.nextPrint) {
			m.nextPrint = m.nextPrint.Add(m.cfg.PrintEvery)
			if err := m.periodicPrint(l); err != nil {
				return err
			}
			if now := time.Now(); m.nextPrint.Before(now) {
				m.nextPrint = now.Add(m.cfg.PrintEvery)
			}
			if m.stop == nil {
				m.pollBreakIn(l)
			}
			continue
		}
		nextTick = now.Add(m.cfg.Tick)
		if err := m.tick(l); err != nil {
			return err
		}
	}
	return nil
}

func (m *Machine) tick(l *link) error {
	mem := m.im.vmem
	if m.loadPending {
		m.loadPending = false
		m.loadSymbols(0, m.im.mods[len(m.im.mods)-1])
		return nil
	}
	for i, c := range m.im.cpus {
		c.msr[0x10] += tscPerTick
		for n := 0; n < instrPerTick; n++ {
			r, code := c.stepChecked(mem)
			if r == stepHalt {
				break
			}
			if r != stepOK {
				m.enterStop(i, code, c.rip())
				return nil
			}
		}
	}
	if a := m.syms["simdrv!SimDrvCrashRequest"]; a != 0 {
		if v, _ := mem.u32(a); v != 0 {
			mem.put32(a, 0)
			return m.driverBugCheck(l, 0)
		}
	}
	if a := m.syms["simdrv!SimDrvAssertRequest"]; a != 0 {
		if v, _ := mem.u32(a); v != 0 {
			mem.put32(a, 0)
			return m.assertion(l)
		}
	}
	m.pollBreakIn(l)
	return nil
}

// pollBreakIn is KdPollBreakIn: a pending break-in, or exactly one byte
// from the line, which counts only if it is 0x62.
func (m *Machine) pollBreakIn(l *link) {
	if m.controlC {
		m.controlC = false
		m.breakIn()
		return
	}
	if b, ok := l.pollByte(); ok && b == kdproto.BreakinPacketByte {
		m.trace(kdproto.TraceRecord{Dir: kdproto.DirOut, Breakin: true})
		m.breakIn()
	}
}

func (m *Machine) breakIn() {
	m.emit(Event{Kind: EventBreakIn})
	m.callBreak(0, 1, "nt!DbgBreakPointWithStatus") // DBG_STATUS_CONTROL_C
}

// callBreak makes processor i call fn(rcx) as if from an interrupt and
// runs it up to its int 3.
func (m *Machine) callBreak(i int, rcx uint64, fn string) {
	c, mem := m.im.cpus[i], m.im.vmem
	c.push(mem, c.rip())
	c.setReg(ctxRcx, rcx)
	c.setReg(ctxRip, m.syms[fn])
	for n := 0; n < 64; n++ {
		if r, code := c.step(mem); r == stepBreak || r == stepFault {
			m.enterStop(i, code, c.rip())
			return
		}
	}
	m.enterStop(i, kdproto.StatusBreakpoint, c.rip()) // the host rewrote the code
}

// enterStop begins a stop on processor i with an exception state change.
func (m *Machine) enterStop(i int, code kdproto.Status, pc uint64) {
	c := m.im.cpus[i]
	sc := m.stateHeader(i, kdproto.StateException, pc)
	sc.Exception = kdproto.Exception{Code: code, Address: pc, FirstChance: 1}
	switch code {
	case kdproto.StatusBreakpoint:
		sc.Exception.NumberParameters = 1 // BREAKPOINT_BREAK
	case kdproto.StatusAccessViolation:
		sc.Exception.NumberParameters = 2
		sc.Exception.Information[1] = c.reg(ctxRsp)
	}
	if m.cfg.Evil {
		sc.Exception.NumberParameters = 0xFFFFFFFF
	}
	m.setStop(&stopState{cpu: i, kind: kdproto.StateException, code: code, pc: pc, payload: sc.Append(nil)})
}

func (m *Machine) setStop(st *stopState) {
	m.stop = st
	m.contextSent = false
	m.controlC = false
	m.emit(Event{Kind: EventState, Type: st.kind.String(), Status: st.code.String(),
		Detail: fmt.Sprintf("cpu=%d pc=%#x", st.cpu, st.pc)})
}

// stateHeader fills the common part of a state change: processor, thread,
// pc and the AMD64 control report with the code bytes at pc (debugger
// breakpoints removed), and the 4 bytes of trace data ReactOS appends.
func (m *Machine) stateHeader(i int, kind kdproto.StateKind, pc uint64) kdproto.StateChange {
	c := m.im.cpus[i]
	sc := kdproto.StateChange{NewState: kind, ProcessorLevel: 6, Processor: uint16(i),
		NumberProcessors: uint32(len(m.im.cpus)), Thread: c.thread, PC: pc, Extra: []byte{1, 0, 0, 0}}
	r := kdproto.AMD64Report{
		Dr6: le.Uint64(c.special[srDr6:]), Dr7: le.Uint64(c.special[srDr7:]),
		EFlags: le.Uint32(c.ctx[ctxEFl:]), ReportFlags: kdproto.ReportIncludesSegs,
		SegCs: le.Uint16(c.ctx[ctxCs:]), SegDs: le.Uint16(c.ctx[ctxDs:]),
		SegEs: le.Uint16(c.ctx[ctxEs:]), SegFs: le.Uint16(c.ctx[ctxFs:]),
	}
	if r.SegCs == kdproto.AMD64KernelCS {
		r.ReportFlags |= kdproto.ReportStandardCS
	}
	n := m.im.vmem.read(pc, r.Instructions[:])
	for _, bp := range m.bps {
		if bp.active && bp.addr >= pc && bp.addr < pc+uint64(n) {
			r.Instructions[bp.addr-pc] = bp.orig
		}
	}
	r.InstructionCount = uint16(n)
	if m.cfg.Evil {
		sc.NumberProcessors = 0xFFFFFFFF
		r.InstructionCount = 0xFFFF
	}
	sc.SetAMD64Report(r)
	return sc
}

// stopped is KdpSendWaitContinue: send the state change until it is
// acknowledged, then serve manipulate requests until one resumes the
// target. RESEND, RESET and a quiet break-in byte re-send the state change;
// timeouts are ignored.
func (m *Machine) stopped(l *link) error {
	st := m.stop
	resend := !st.sent
	for {
		if resend {
			if _, err := m.send(l, kdproto.PacketTypeStateChange64, st.payload); err != nil {
				return err
			}
			st.sent, resend = true, false
		}
		res, p, err := m.recv(l, kdproto.PacketTypeStateManipulate)
		if err != nil {
			return err
		}
		switch res {
		case recvTimeout:
			continue
		case recvResend:
			resend = true
			continue
		}
		done, err := m.dispatch(l, p)
		if err != nil || done {
			return err
		}
	}
}

// resume leaves the current stop. A hard-coded int 3 (one the host did not
// write) at an unchanged pc is stepped over, as the kernel does for
// DbgBreakPoint. With trace set one instruction runs and a single-step
// exception is reported.
func (m *Machine) resume(trace bool) error {
	st := m.stop
	c, mem := m.im.cpus[st.cpu], m.im.vmem
	skipped := false
	if st.kind == kdproto.StateException && st.code == kdproto.StatusBreakpoint && c.rip() == st.pc && !m.hostBreakpoint(st.pc) {
		if b, ok := mem.u8(st.pc); ok && b == 0xCC {
			c.setReg(ctxRip, st.pc+1)
			skipped = true
		}
	}
	m.stop = nil
	c.rf = true // as iretq after a debug exception: no execution breakpoint at rip
	if trace {
		m.emit(Event{Kind: EventRun, Detail: "step"})
		code := kdproto.StatusSingleStep
		if !skipped {
			if r, rc := c.stepChecked(mem); r == stepBreak || r == stepFault {
				code = rc
			}
		}
		if code == kdproto.StatusSingleStep {
			c.setDr6(dr6BS)
		}
		m.enterStop(st.cpu, code, c.rip())
		m.stop.bugcheck = st.bugcheck
		return nil
	}
	m.emit(Event{Kind: EventRun, Detail: "go"})
	if st.bugcheck {
		return errReboot // the crash dump is written and the machine restarts
	}
	if m.cfg.Evil && !m.evilLoaded {
		m.evilLoaded = true
		m.evilLoadSymbols(st.cpu)
	}
	return nil
}

func (m *Machine) hostBreakpoint(addr uint64) bool {
	for _, bp := range m.bps {
		if bp.active && bp.addr == addr {
			return true
		}
	}
	return false
}

// loadSymbols stops processor i with the LoadSymbols state change of
// module md (DbgLoadImageSymbols): its path, NUL-terminated, follows the
// state change.
func (m *Machine) loadSymbols(i int, md *module) {
	c := m.im.cpus[i]
	sc := m.stateHeader(i, kdproto.StateLoadSymbols, c.rip())
	path := append([]byte(md.path), 0)
	sc.LoadSymbols = kdproto.LoadSymbols{PathNameLength: uint32(len(path)), BaseOfDll: md.base,
		CheckSum: md.timestamp, SizeOfImage: md.size()}
	sc.Extra = path
	m.setStop(&stopState{cpu: i, kind: kdproto.StateLoadSymbols, pc: c.rip(), payload: sc.Append(nil)})
}

// evilLoadSymbols stops with a LoadSymbols state change whose
// PathNameLength claims far more bytes than the packet carries and whose
// path holds escape sequences and invalid UTF-8.
func (m *Machine) evilLoadSymbols(i int) {
	c := m.im.cpus[i]
	sc := m.stateHeader(i, kdproto.StateLoadSymbols, c.rip())
	sc.LoadSymbols = kdproto.LoadSymbols{PathNameLength: 0xFFFF, BaseOfDll: m.syms["simdrv!__ImageBase"] + 0x100000,
		CheckSum: 0xDEAD, SizeOfImage: 0xFFFFFFFF}
	sc.Extra = []byte("\\SystemRoot\\System32\\drivers\\\x1b[2J\x1b]0;evil\x07\xff\xfe\xc0\xaf.sys\x00")
	m.setStop(&stopState{cpu: i, kind: kdproto.StateLoadSymbols, pc: c.rip(), payload: sc.Append(nil)})
}

// dbgPrint sends a DbgPrint string (KdpPrintString). While the target
// believes no host is present the string is dropped unsent.
func (m *Machine) dbgPrint(l *link, cpuIdx int, text []byte) error {
	if len(text) > kdproto.MaxPacketSize-kdproto.DebugIOSize {
		text = text[:kdproto.MaxPacketSize-kdproto.DebugIOSize]
	}
	ev := Event{Kind: EventPrint, Detail: string(text)}
	if !m.hostPresent {
		ev.Status = "skipped"
		m.emit(ev)
		return nil
	}
	d := kdproto.DebugIO{API: kdproto.APIPrintString, ProcessorLevel: 6, Processor: uint16(cpuIdx),
		Length: uint32(len(text)), Data: text}
	if m.cfg.Evil {
		d.Length = 0x7FFFFFFF
	}
	ok, err := m.send(l, kdproto.PacketTypeDebugIO, d.Append(nil))
	if err != nil {
		return err
	}
	ev.Status = "acked"
	if !ok {
		ev.Status = "abandoned"
	}
	m.emit(ev)
	return nil
}

func (m *Machine) periodicPrint(l *link) error {
	m.printN++
	text := fmt.Sprintf("simdrv: timer tick %d\n", m.printN)
	if m.cfg.Evil {
		text = fmt.Sprintf("simdrv: \x1b[2J\x1b]0;pwned\x07tick %d \xff\xfe\xc3\x28\x1b[31m\r\n", m.printN)
	}
	return m.dbgPrint(l, 0, []byte(text))
}

// prompt is KdpPrompt: send a GetString request and wait for the host's
// DEBUG_IO answer, re-sending the prompt whenever a receive asks for it.
func (m *Machine) prompt(l *link, cpuIdx int, text string) (string, error) {
	d := kdproto.DebugIO{API: kdproto.APIGetString, ProcessorLevel: 6, Processor: uint16(cpuIdx),
		Length: uint32(len(text)), LengthRead: maxPrompt, Data: []byte(text)}
	payload := d.Append(nil)
	for {
		if _, err := m.send(l, kdproto.PacketTypeDebugIO, payload); err != nil {
			return "", err
		}
		for {
			res, p, err := m.recv(l, kdproto.PacketTypeDebugIO)
			if err != nil {
				return "", err
			}
			if res == recvTimeout {
				continue
			}
			if res == recvResend {
				break
			}
			ans := p.Payload[kdproto.DebugIOSize:]
			if len(ans) > maxPrompt {
				ans = ans[:maxPrompt]
			}
			m.emit(Event{Kind: EventPrompt, Detail: string(ans)})
			return string(ans), nil
		}
	}
}

// assertion is the DbgPrompt hook: when simdrv!SimDrvAssertRequest is
// non-zero the driver fails an assertion, prints it and asks the host what
// to do, like RtlAssert. "i", "p" or "t" continue; anything else breaks in.
func (m *Machine) assertion(l *link) error {
	if !m.hostPresent {
		return nil
	}
	text := "\n*** Assertion failed: SimDrvState == SIMDRV_READY\n***   Source File: simdrv.c, line 131\n\n"
	if err := m.dbgPrint(l, 0, []byte(text)); err != nil {
		return err
	}
	ans, err := m.prompt(l, 0, "Break repeatedly, break Once, Ignore, terminate Process, or terminate Thread (boipt)? ")
	if err != nil {
		return err
	}
	if len(ans) > 0 && (ans[0]|0x20 == 'i' || ans[0]|0x20 == 'p' || ans[0]|0x20 == 't') {
		return nil
	}
	m.callBreak(0, 0, "nt!RtlAssert")
	return nil
}

// bugCheck is KeBugCheckEx(MANUALLY_INITIATED_CRASH), from the host's
// CauseBugCheck (bugcheck.go).
func (m *Machine) bugCheck(l *link, i int) error {
	return m.raiseBugCheck(l, i, bugCheckManual, [4]uint64{}, "nt!KeBugCheckEx", 0)
}

// switchProcessor makes processor i report a state change of its own.
func (m *Machine) switchProcessor(i int) {
	m.enterStop(i, kdproto.StatusWakeSystemDebugger, m.im.cpus[i].rip())
}
