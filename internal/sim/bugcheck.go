package sim

import (
	"fmt"

	"github.com/gokd/kd/kdproto"
)

// Bug checks. KeBugCheckEx records its code and four parameters in
// nt!KiBugCheckData, prints the "Fatal System Error" banner as a DbgPrint
// and breaks in with DBG_STATUS_BUGCHECK_FIRST; continuing from that stop
// reboots the machine (the crash dump is written). Two things bug-check
// kdsim: the host's CauseBugCheck (MANUALLY_INITIATED_CRASH, 0xE2) and
// simdrv!SimDrvCrashRequest, which makes the driver's timer routine touch
// a bad address at DISPATCH_LEVEL (DRIVER_IRQL_NOT_LESS_OR_EQUAL, 0xD1).

const (
	bugCheckManual     = 0xE2
	bugCheckDriverIrql = 0xD1

	// driverFaultAddress is the address simdrv's faulting routine reads.
	driverFaultAddress = 0x0000000000000010
	srCr8              = 0xA0 // Cr8 (the IRQL) in KSPECIAL_REGISTERS
	dispatchLevel      = 2
)

// BugCheck is the bug check a machine is stopped in, for tests.
type BugCheck struct {
	Code   uint64
	Params [4]uint64
}

// LastBugCheck returns what nt!KiBugCheckData holds (a zero Code when the
// machine has not bug-checked since boot).
func (m *Machine) LastBugCheck() BugCheck {
	var b BugCheck
	a := m.syms["nt!KiBugCheckData"]
	b.Code, _ = m.im.vmem.u64(a)
	for i := range b.Params {
		b.Params[i], _ = m.im.vmem.u64(a + 8 + 8*uint64(i))
	}
	return b
}

// raiseBugCheck makes processor i call fn (a function that ends in
// nt!KeBugCheckEx) as if from an interrupt, with KiBugCheckData and the
// banner for code and params, and stops at its break-in.
// A faulting instruction at skip (a 2-byte load the interpreter does not
// model) is stepped over, as if its page fault had led to KeBugCheckEx.
func (m *Machine) raiseBugCheck(l *link, i int, code uint64, params [4]uint64, fn string, skip uint64) error {
	a := m.syms["nt!KiBugCheckData"]
	m.im.vmem.put64(a, code)
	for k, p := range params {
		m.im.vmem.put64(a+8+8*uint64(k), p)
	}
	text := fmt.Sprintf("\n*** Fatal System Error: 0x%08x\n                       (0x%016X,0x%016X,0x%016X,0x%016X)\n\n",
		code, params[0], params[1], params[2], params[3])
	if err := m.dbgPrint(l, i, []byte(text)); err != nil {
		return err
	}
	c := m.im.cpus[i]
	c.push(m.im.vmem, c.rip())
	c.setReg(ctxRip, m.syms[fn])
	c.setReg(ctxRcx, code)
	for n := 0; n < 64 && m.stop == nil; n++ {
		if skip != 0 && c.rip() == skip {
			c.setReg(ctxRip, skip+2)
		}
		if r, rc := c.step(m.im.vmem); r == stepBreak || r == stepFault {
			m.enterStop(i, rc, c.rip())
		}
	}
	if m.stop == nil {
		m.enterStop(i, kdproto.StatusBreakpoint, c.rip())
	}
	m.stop.bugcheck = true
	return nil
}

// driverBugCheck is simdrv's fault: SimDrvFaultRoutine, called from the
// timer interrupt at DISPATCH_LEVEL, reads driverFaultAddress.
func (m *Machine) driverBugCheck(l *link, i int) error {
	c := m.im.cpus[i]
	le.PutUint64(c.special[srCr8:], dispatchLevel)
	c.setReg(ctxRax, driverFaultAddress)
	site := m.syms["simdrv!SimDrvFaultRoutine"] + 8 // mov eax,[rax], after the prologue
	return m.raiseBugCheck(l, i, bugCheckDriverIrql, [4]uint64{driverFaultAddress, dispatchLevel, 0, site},
		"simdrv!SimDrvFaultRoutine", site)
}
