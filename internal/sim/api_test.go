package sim

import (
	"bytes"
	"testing"
	"time"
)

// Manipulate APIs, served by a stopped target (spec §5, §6).

const (
	apiReadVirtual   = 0x3130
	apiWriteVirtual  = 0x3131
	apiGetContext    = 0x3132
	apiSetContext    = 0x3133
	apiWriteBP       = 0x3134
	apiRestoreBP     = 0x3135
	apiContinue      = 0x3136
	apiReadControl   = 0x3137
	apiReadIo        = 0x3139
	apiWriteIo       = 0x313A
	apiReboot        = 0x313B
	apiContinue2     = 0x313C
	apiReadPhysical  = 0x313D
	apiGetVersion    = 0x3146
	apiCauseBugCheck = 0x3149
	apiSwitchProc    = 0x3150
	apiReadMSR       = 0x3152
	apiWriteMSR      = 0x3153
	apiSearchMemory  = 0x3156
	apiGetBusData    = 0x3157
	apiFillMemory    = 0x315B
	apiQueryMemory   = 0x315C
	apiGetContextEx  = 0x315F
	apiSetContextEx  = 0x3160

	statusSuccess      = 0
	statusUnsuccessful = 0xC0000001
	statusNoSuchDevice = 0xC000000E
)

// stoppedRig starts a target at its initial breakpoint and acknowledges it.
func stoppedTest(t *testing.T, cfg Config, f func(t *testing.T, r *rig)) {
	t.Helper()
	cfg.Stopped = true
	simTest(t, cfg, func(t *testing.T, r *rig) {
		r.p.stateChange(idInitial | idSync)
		f(t, r)
	})
}

func readVirtual(p *probe, addr uint64, n uint32) rawPkt {
	p.t.Helper()
	return p.request(apiReadVirtual, 0, union(addr, n), nil)
}

func TestGetVersion(t *testing.T) {
	stoppedTest(t, Config{Build: 22621, Procs: 4}, func(t *testing.T, r *rig) {
		v := r.p.request(apiGetVersion, 0, nil, nil)
		if v.status() != statusSuccess {
			t.Fatalf("status %#x", v.status())
		}
		checks := []struct {
			name      string
			got, want uint64
		}{
			{"MajorVersion", uint64(v.u16(0x10)), 0xF},
			{"MinorVersion", uint64(v.u16(0x12)), 22621},
			{"ProtocolVersion", uint64(v.payload[0x14]), 6},
			{"Flags", uint64(v.u16(0x16)), 0x7},
			{"MachineType", uint64(v.u16(0x18)), 0x8664},
			{"MaxPacketType", uint64(v.payload[0x1A]), 12},
			{"MaxStateChange", uint64(v.payload[0x1B]), 3},
			{"MaxManipulate", uint64(v.payload[0x1C]), 0x31},
			{"KernBase", v.u64(0x20), r.m.KernBase()},
			{"PsLoadedModuleList", v.u64(0x28), r.m.Symbol("nt!PsLoadedModuleList")},
			{"DebuggerDataList", v.u64(0x30), r.m.Symbol("nt!KdpDebuggerDataListHead")},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s = %#x; want %#x", c.name, c.got, c.want)
			}
		}
		if kb := r.m.KernBase(); kb>>47 != 0x1FFFF || kb&0x1FFFFF != 0 {
			t.Errorf("KernBase %#x is not a canonical, 2 MiB aligned kernel address", kb)
		}
		// The debugger data list leads to the KDBG block.
		kdbg := readVirtual(r.p, v.u64(0x30), 8).data()
		blk := readVirtual(r.p, le32.Uint64(kdbg), 0x20).data()
		if string(blk[0x10:0x14]) != "KDBG" || le32.Uint64(blk[0x18:]) != r.m.KernBase() {
			t.Errorf("KDBG block header % x", blk)
		}
	})
}

func TestMemoryReadWrite(t *testing.T) {
	stoppedTest(t, Config{}, func(t *testing.T, r *rig) {
		p, kb := r.p, r.m.KernBase()
		hdr := readVirtual(p, kb, 0x200)
		d := hdr.data()
		if hdr.status() != statusSuccess || string(d[:2]) != "MZ" {
			t.Fatalf("header: status %#x % x", hdr.status(), d[:4])
		}
		pe := le32.Uint32(d[0x3C:])
		if string(d[pe:pe+4]) != "PE\x00\x00" || le32.Uint16(d[pe+4:]) != 0x8664 {
			t.Errorf("no PE signature / machine at %#x", pe)
		}
		if got := hdr.u32(0x1C); got != 0x200 {
			t.Errorf("ActualBytesRead = %#x", got)
		}
		// Write then read back.
		a := r.m.Symbol("simdrv!SimDrvState")
		w := p.request(apiWriteVirtual, 0, union(a, uint32(4)), []byte{1, 2, 3, 4})
		if w.status() != statusSuccess || w.u32(0x1C) != 4 {
			t.Fatalf("write: status %#x written %d", w.status(), w.u32(0x1C))
		}
		if got := readVirtual(p, a, 4).data(); !bytes.Equal(got, []byte{1, 2, 3, 4}) {
			t.Errorf("read back % x", got)
		}
		// A read running into an unmapped page is partial and UNSUCCESSFUL.
		end := kb + uint64(le32.Uint32(d[pe+24+0x38:])) // SizeOfImage
		part := readVirtual(p, end-0x10, 0x100)
		if part.status() != statusUnsuccessful || part.u32(0x1C) != 0x10 || len(part.data()) != 0x10 {
			t.Errorf("partial read: status %#x actual %#x data %d", part.status(), part.u32(0x1C), len(part.data()))
		}
		// Unmapped: nothing at all. Oversized: clamped to 3944 bytes.
		if un := readVirtual(p, 0x1000, 8); un.status() != statusUnsuccessful || len(un.data()) != 0 {
			t.Errorf("unmapped read returned %d bytes", len(un.data()))
		}
		if big := readVirtual(p, kb, 0x10000); len(big.data()) != 3944 || big.status() != statusSuccess {
			t.Errorf("big read: %d bytes status %#x; want 3944, success", len(big.data()), big.status())
		}
		// Physical memory: page 0 exists, far addresses do not.
		if ph := p.request(apiReadPhysical, 0, union(uint64(0), uint32(16)), nil); ph.status() != statusSuccess {
			t.Errorf("physical page 0: status %#x", ph.status())
		}
		if ph := p.request(apiReadPhysical, 0, union(uint64(1)<<40, uint32(16)), nil); ph.status() != statusUnsuccessful {
			t.Errorf("unmapped physical: status %#x", ph.status())
		}
	})
}

func TestContext(t *testing.T) {
	stoppedTest(t, Config{}, func(t *testing.T, r *rig) {
		p := r.p
		ctx := make([]byte, 0x4D0)
		if s := p.request(apiSetContext, 0, nil, ctx); s.status() != statusUnsuccessful {
			t.Fatalf("SetContext before GetContext: status %#x; want UNSUCCESSFUL", s.status())
		}
		g := p.request(apiGetContext, 0, nil, nil)
		ctx = bytes.Clone(g.data())
		if len(ctx) != 0x4D0 {
			t.Fatalf("context is %#x bytes", len(ctx))
		}
		if rip := le32.Uint64(ctx[0xF8:]); rip != r.m.Symbol("nt!DbgBreakPointWithStatus") {
			t.Errorf("rip %#x", rip)
		}
		if cs := le32.Uint16(ctx[0x38:]); cs != 0x10 {
			t.Errorf("cs %#x", cs)
		}
		le32.PutUint64(ctx[0x78:], 0x1234) // rax
		if s := p.request(apiSetContext, 0, union(uint32(0x10001F)), ctx); s.status() != statusSuccess {
			t.Fatalf("SetContext: status %#x", s.status())
		}
		ex := p.request(apiGetContextEx, 0, union(uint32(0x78), uint32(8)), nil)
		if ex.u32(0x18) != 8 || le32.Uint64(ex.data()) != 0x1234 {
			t.Errorf("GetContextEx rax: copied %d value % x", ex.u32(0x18), ex.data())
		}
		if s := p.request(apiSetContextEx, 0, union(uint32(0x78), uint32(8)), le32.AppendUint64(nil, 7)); s.status() != statusSuccess {
			t.Errorf("SetContextEx: status %#x", s.status())
		}
		if bad := p.request(apiGetContextEx, 0, union(uint32(0x4C0), uint32(0x20)), nil); bad.status() != statusUnsuccessful {
			t.Errorf("GetContextEx past the end: status %#x", bad.status())
		}
		if bad := p.request(apiGetContext, 9, nil, nil); bad.status() != statusUnsuccessful {
			t.Errorf("GetContext of CPU 9: status %#x", bad.status())
		}
		// Processor 1 has its own registers: halted in hal!HalProcessorIdle.
		c1 := p.request(apiGetContext, 1, nil, nil).data()
		hal := r.m.Symbol("hal!HalProcessorIdle")
		if rip := le32.Uint64(c1[0xF8:]); rip < hal || rip > hal+0x20 {
			t.Errorf("cpu 1 rip %#x; want inside hal!HalProcessorIdle %#x", rip, hal)
		}
	})
}

func TestBreakpointHitAfterGo(t *testing.T) {
	stoppedTest(t, Config{}, func(t *testing.T, r *rig) {
		p := r.p
		bpAddr := r.m.Symbol("simdrv!SimDrvTimerRoutine_inc")
		orig := readVirtual(p, bpAddr, 1).data()[0]
		w := p.request(apiWriteBP, 0, union(bpAddr), nil)
		h := w.u32(0x18)
		if w.status() != statusSuccess || h == 0 {
			t.Fatalf("WriteBreakPoint: status %#x handle %d", w.status(), h)
		}
		if b := readVirtual(p, bpAddr, 1).data()[0]; b != 0xCC {
			t.Fatalf("memory at breakpoint = %#x; want 0xCC", b)
		}
		p.send(apiContinue2, 0, union(uint32(0x10002)), nil) // go
		sc := p.stateChange(anyID)
		if sc.u32(0x20) != 0x80000003 || sc.u64(0x18) != bpAddr {
			t.Fatalf("stop code %#x pc %#x; want breakpoint at %#x", sc.u32(0x20), sc.u64(0x18), bpAddr)
		}
		if sc.payload[0xD8] != orig {
			t.Errorf("instruction stream shows %#x; want the original byte %#x", sc.payload[0xD8], orig)
		}
		// The stack holds a frame-pointer chain back through nt.
		ctx := p.request(apiGetContext, sc.u16(6), nil, nil).data()
		rbp := le32.Uint64(ctx[0xA0:])
		ret := le32.Uint64(readVirtual(p, rbp+8, 8).data())
		if idle := r.m.Symbol("nt!KiIdleLoop"); ret < idle || ret > idle+0x30 {
			t.Errorf("return address %#x; want inside nt!KiIdleLoop", ret)
		}
		if rs := p.request(apiRestoreBP, 0, union(h), nil); rs.status() != statusSuccess {
			t.Errorf("RestoreBreakPoint: status %#x", rs.status())
		}
		if b := readVirtual(p, bpAddr, 1).data()[0]; b != orig {
			t.Errorf("restored byte %#x; want %#x", b, orig)
		}
		if rs := p.request(apiRestoreBP, 0, union(h), nil); rs.status() != statusUnsuccessful {
			t.Errorf("second restore: status %#x", rs.status())
		}
		// Continue is ACK-only; the target runs and a tick later the
		// counter the driver increments has moved.
		cnt := le32.Uint32(readVirtual(p, r.m.Symbol("simdrv!SimDrvTickCount"), 4).data())
		p.send(apiContinue, 0, union(uint32(0x10001)), nil)
		p.quiet(time.Second)
		p.breakIn()
		if now := le32.Uint32(readVirtual(p, r.m.Symbol("simdrv!SimDrvTickCount"), 4).data()); now <= cnt {
			t.Errorf("tick count %d -> %d; want it to grow while running", cnt, now)
		}
	})
}

func TestSingleStep(t *testing.T) {
	stoppedTest(t, Config{}, func(t *testing.T, r *rig) {
		p := r.p
		step := func() rawPkt {
			p.send(apiContinue2, 0, union(uint32(0x10002), uint32(1)), nil)
			sc := p.stateChange(anyID)
			if sc.u32(0x20) != 0x80000004 {
				t.Fatalf("step: code %#x; want STATUS_SINGLE_STEP", sc.u32(0x20))
			}
			return sc
		}
		dbg := r.m.Symbol("nt!DbgBreakPointWithStatus")
		if pc := step().u64(0x18); pc != dbg+1 {
			t.Errorf("step over int 3: pc %#x; want %#x (the ret)", pc, dbg+1)
		}
		pc := step().u64(0x18) // the ret returns into hal
		hal := r.m.Symbol("hal!HalProcessorIdle")
		if pc < hal || pc > hal+0x20 {
			t.Errorf("after ret pc %#x; want inside hal!HalProcessorIdle", pc)
		}
		if next := step().u64(0x18); next != pc+4 { // add rsp,20h is 4 bytes
			t.Errorf("pc %#x -> %#x; want +4", pc, next)
		}
	})
}

func TestMSRControlSpaceAndPorts(t *testing.T) {
	stoppedTest(t, Config{}, func(t *testing.T, r *rig) {
		p := r.p
		ls := p.request(apiReadMSR, 0, union(uint32(0xC0000082)), nil)
		if v := uint64(ls.u32(0x14)) | uint64(ls.u32(0x18))<<32; v != r.m.Symbol("nt!KiSystemCall64") {
			t.Errorf("LSTAR = %#x", v)
		}
		if u := p.request(apiReadMSR, 0, union(uint32(0x12345)), nil); u.status() != statusNoSuchDevice {
			t.Errorf("unknown MSR: status %#x; want STATUS_NO_SUCH_DEVICE", u.status())
		}
		if w := p.request(apiWriteMSR, 0, union(uint32(0xC0000102), uint32(5), uint32(0)), nil); w.status() != statusSuccess {
			t.Errorf("write MSR: status %#x", w.status())
		}
		pcr := p.request(apiReadControl, 0, union(uint64(0), uint32(8)), nil)
		gs := p.request(apiReadMSR, 0, union(uint32(0xC0000101)), nil)
		if len(pcr.data()) != 8 || le32.Uint64(pcr.data()) != uint64(gs.u32(0x14))|uint64(gs.u32(0x18))<<32 {
			t.Errorf("KPCR % x differs from GS base", pcr.data())
		}
		sr := p.request(apiReadControl, 0, union(uint64(2), uint32(0x1000)), nil)
		if len(sr.data()) != 0xE0 || le32.Uint64(sr.data()[0xC0:]) != r.m.Symbol("nt!KiSystemCall64") {
			t.Errorf("special registers: %d bytes", len(sr.data()))
		}
		lsr := p.request(apiReadIo, 0, union(uint64(0x3FD), uint32(1)), nil)
		if lsr.status() != statusSuccess || lsr.u32(0x1C) != 0x60 {
			t.Errorf("COM1 LSR: status %#x value %#x", lsr.status(), lsr.u32(0x1C))
		}
		if mis := p.request(apiReadIo, 0, union(uint64(0x3F9), uint32(2)), nil); mis.status() != 0x80000002 {
			t.Errorf("misaligned port: status %#x", mis.status())
		}
		if bad := p.request(apiReadIo, 0, union(uint64(0x80), uint32(3)), nil); bad.status() != 0xC000000D {
			t.Errorf("size 3: status %#x", bad.status())
		}
		// PCI mechanism #1: the host bridge's vendor and device ids.
		p.request(apiWriteIo, 0, union(uint64(0xCF8), uint32(4), uint32(0x80000000)), nil)
		if id := p.request(apiReadIo, 0, union(uint64(0xCFC), uint32(4)), nil).u32(0x1C); id != 0x12378086 {
			t.Errorf("PCI 0:0.0 id %#x", id)
		}
		bus := p.request(apiGetBusData, 0, union(uint32(4), uint32(0), uint32(2), uint32(0), uint32(4)), nil)
		if bus.status() != statusSuccess || le32.Uint32(bus.data()) != 0x11111234 {
			t.Errorf("GetBusData slot 2: status %#x % x", bus.status(), bus.data())
		}
	})
}

func TestQuerySearchFillAndUnsupported(t *testing.T) {
	stoppedTest(t, Config{}, func(t *testing.T, r *rig) {
		p, kb := r.p, r.m.KernBase()
		q := p.request(apiQueryMemory, 0, union(kb, uint64(0), uint32(0), uint32(0)), nil)
		if q.status() != statusSuccess || q.u32(0x20) != 2 || q.u32(0x24) != 7 {
			t.Errorf("QueryMemory: status %#x space %d flags %d", q.status(), q.u32(0x20), q.u32(0x24))
		}
		if q := p.request(apiQueryMemory, 0, union(kb, uint64(0), uint32(1), uint32(0)), nil); q.status() != 0xC000000D {
			t.Errorf("QueryMemory space 1: status %#x", q.status())
		}
		s := p.request(apiSearchMemory, 0, union(kb, uint64(0x10000000), uint32(4)), []byte("KDBG"))
		if s.status() != statusSuccess || s.u64(0x10) != r.m.Symbol("nt!KdDebuggerDataBlock")+0x10 {
			t.Errorf("SearchMemory: status %#x found %#x", s.status(), s.u64(0x10))
		}
		a := r.m.Symbol("simdrv!SimDrvState")
		f := p.request(apiFillMemory, 0, union(a, uint32(8), uint16(1), uint16(2)), []byte{0xAB, 0xCD})
		if f.status() != statusSuccess || !bytes.Equal(readVirtual(p, a, 8).data(), bytes.Repeat([]byte{0xAB, 0xCD}, 4)) {
			t.Errorf("FillMemory: status %#x", f.status())
		}
		for _, api := range []uint32{0x3142, 0x3151, 0x315D, 0x315E, 0x3148, 0x3199} {
			u := p.request(api, 0, union(uint64(0x1122334455667788)), nil)
			if u.status() != statusUnsuccessful || u.u64(0x10) != 0x1122334455667788 || len(u.payload) != 0x38 {
				t.Errorf("API %#x: status %#x; want UNSUCCESSFUL with the header echoed", api, u.status())
			}
		}
		// ClearAllInternalBreakpoints is ACK-only.
		p.send(0x315A, 0, nil, nil)
		p.quiet(time.Second)
	})
}

func TestSwitchProcessor(t *testing.T) {
	stoppedTest(t, Config{Procs: 3}, func(t *testing.T, r *rig) {
		p := r.p
		p.send(apiSwitchProc, 2, nil, nil)
		sc := p.stateChange(anyID)
		if sc.u16(6) != 2 || sc.u32(0x20) != 0x80000007 {
			t.Fatalf("switch: cpu %d code %#x; want cpu 2 STATUS_WAKE_SYSTEM_DEBUGGER", sc.u16(6), sc.u32(0x20))
		}
		thr := p.request(apiReadControl, 2, union(uint64(3), uint32(8)), nil)
		if sc.u64(0x10) != le32.Uint64(thr.data()) {
			t.Errorf("state change thread %#x; KTHREAD of cpu 2 %#x", sc.u64(0x10), le32.Uint64(thr.data()))
		}
		p.send(apiSwitchProc, 7, nil, nil) // no such processor: the current one reports again
		if sc := p.stateChange(anyID); sc.u16(6) != 2 {
			t.Errorf("invalid switch reported cpu %d", sc.u16(6))
		}
	})
}

func TestCauseBugCheckAndReboot(t *testing.T) {
	stoppedTest(t, Config{}, func(t *testing.T, r *rig) {
		p := r.p
		p.send(apiCauseBugCheck, 0, nil, nil)
		pr := p.expect(tDebugIO, anyID)
		p.ack(pr.id)
		if !bytes.Contains(pr.payload[0x10:], []byte("*** Fatal System Error: 0x000000e2")) {
			t.Errorf("bug-check banner %q", pr.payload[0x10:])
		}
		sc := p.stateChange(anyID)
		if sc.u32(0x20) != 0x80000003 || sc.u64(0x18) != r.m.Symbol("nt!DbgBreakPointWithStatus") {
			t.Fatalf("bug-check stop code %#x pc %#x", sc.u32(0x20), sc.u64(0x18))
		}
		if rcx := le32.Uint64(p.request(apiGetContext, 0, nil, nil).data()[0x80:]); rcx != 3 {
			t.Errorf("rcx = %d; want DBG_STATUS_BUGCHECK_FIRST", rcx)
		}
		// Going on after the bug check restarts the machine: the link drops.
		p.send(apiContinue, 0, union(uint32(0x10001)), nil)
		p.closed()
		if err := <-r.done; err != ErrRebooted {
			t.Fatalf("Serve = %v; want ErrRebooted", err)
		}
		r.connect(t)
		r.p.stateChange(idInitial | idSync) // fresh boot, stopped again
		r.p.request(apiGetVersion, 0, nil, nil)
	})
}

func TestRebootComesBackFresh(t *testing.T) {
	simTest(t, Config{}, func(t *testing.T, r *rig) {
		p := r.p
		p.breakIn()
		p.request(apiWriteVirtual, 0, union(r.m.Symbol("simdrv!SimDrvState"), uint32(1)), []byte{7})
		p.send(apiReboot, 0, nil, nil)
		p.closed()
		if err := <-r.done; err != ErrRebooted {
			t.Fatalf("Serve = %v; want ErrRebooted", err)
		}
		r.connect(t)
		r.p.write([]byte{0x62})
		r.p.stateChange(idInitial | idSync)
		if b := readVirtual(r.p, r.m.Symbol("simdrv!SimDrvState"), 1).data()[0]; b != 0 {
			t.Errorf("memory survived the reboot: %#x", b)
		}
	})
}
