package sim

import (
	"time"

	"github.com/gokd/kd/kdproto"
)

// dispatch serves one manipulate request (spec §6). It reports done when
// the request ended this stop (continue, step, processor switch, bug
// check); Continue, Continue2, Reboot, CauseBugCheck, SwitchProcessor and
// ClearAllInternalBreakpoints get no reply packet, only the ACK already sent.
func (m *Machine) dispatch(l *link, p kdproto.Packet) (done bool, err error) {
	req, err := kdproto.ParseManipulate(p.Payload)
	if err != nil {
		return false, nil // recv guarantees the size; keep waiting
	}
	m.served++
	defer m.afterServed()
	st := m.stop
	ev := Event{Kind: EventAPI, API: req.API.String()}
	switch req.API {
	case kdproto.APIContinue:
		m.emit(ev)
		return true, m.resume(false)
	case kdproto.APIContinue2:
		c2 := req.Continue2()
		for _, c := range m.im.cpus {
			le.PutUint64(c.special[srDr7:], c2.Dr7)
			le.PutUint64(c.special[srDr6:], 0)
		}
		m.emit(ev)
		return true, m.resume(c2.Status.Success() && c2.TraceFlag != 0)
	case kdproto.APIReboot:
		m.emit(ev)
		return true, errReboot
	case kdproto.APICauseBugCheck:
		m.emit(ev)
		m.stop = nil
		return true, m.bugCheck(l, st.cpu)
	case kdproto.APISwitchProcessor:
		m.emit(ev)
		i := int(req.Processor)
		if i >= len(m.im.cpus) {
			i = st.cpu
		}
		m.switchProcessor(i)
		return true, nil
	case kdproto.APIClearAllInternalBreakpoints:
		m.emit(ev)
		return false, nil
	}

	rep := kdproto.Manipulate{API: req.API, ProcessorLevel: req.ProcessorLevel, Processor: req.Processor,
		ReturnStatus: kdproto.StatusSuccess, U: req.U}
	resume := false
	switch req.API {
	case kdproto.APIGetVersion:
		m.getVersion(&rep)
	case kdproto.APIReadVirtualMemory, kdproto.APIReadPhysicalMemory:
		m.readMemory(&req, &rep)
		ev.Addr, ev.Bytes = req.Memory().Address, uint32(len(rep.Data))
	case kdproto.APIWriteVirtualMemory, kdproto.APIWritePhysicalMemory:
		m.writeMemory(&req, &rep)
		ev.Addr, ev.Bytes = req.Memory().Address, rep.Memory().ActualBytes
	case kdproto.APIGetContext, kdproto.APISetContext, kdproto.APIGetContextEx, kdproto.APISetContextEx:
		m.contextAPI(&req, &rep)
	case kdproto.APIWriteBreakPoint:
		m.writeBreakPoint(&req, &rep)
	case kdproto.APIRestoreBreakPoint:
		h := req.RestoreHandle()
		if h == 0 || h > maxBreakpoints || !m.bps[h-1].active {
			rep.ReturnStatus = kdproto.StatusUnsuccessful
		} else {
			bp := &m.bps[h-1]
			m.im.vmem.write(bp.addr, []byte{bp.orig})
			bp.active = false
		}
	case kdproto.APIReadControlSpace, kdproto.APIWriteControlSpace:
		m.controlSpace(&req, &rep)
	case kdproto.APIReadIoSpace, kdproto.APIWriteIoSpace, kdproto.APIReadIoSpaceExtended, kdproto.APIWriteIoSpaceExtended:
		m.ioSpace(&req, &rep)
	case kdproto.APIReadMachineSpecificRegister, kdproto.APIWriteMachineSpecificRegister:
		m.msrAPI(&req, &rep, st.cpu)
	case kdproto.APIQueryMemory:
		q := req.QueryMemory()
		if q.AddressSpace != 0 {
			rep.ReturnStatus = kdproto.StatusInvalidParameter
			break
		}
		q.AddressSpace = 0 // process
		if q.Address >= 0xFFFF800000000000 {
			q.AddressSpace = 2 // kernel
		}
		q.Flags = 7
		q.Put(&rep.U)
	case kdproto.APISearchMemory, kdproto.APIFillMemory:
		if m.cfg.NoSearchFill {
			rep.ReturnStatus = kdproto.StatusNotImplemented
			break
		}
		if req.API == kdproto.APIFillMemory {
			m.fillMemory(&req, &rep)
			break
		}
		s := req.SearchMemory()
		if s.PatternLength == 0 || int(s.PatternLength) > len(req.Data) {
			rep.ReturnStatus = kdproto.StatusInvalidParameter
			break
		}
		if a, ok := m.im.vmem.search(s.Address, s.Length, req.Data[:s.PatternLength]); ok {
			s.Address = a
			s.Put(&rep.U)
		} else {
			rep.ReturnStatus = kdproto.StatusUnsuccessful
		}
	case kdproto.APIGetBusData, kdproto.APISetBusData:
		m.busData(&req, &rep)
	case kdproto.APICheckLowMemory:
	case kdproto.APIWriteBreakPointEx:
		rep.ReturnStatus = kdproto.StatusUnsuccessful
		resume = true // ReactOS answers and then lets the target run
	default:
		rep.ReturnStatus = kdproto.StatusUnsuccessful
	}
	ev.Status = rep.ReturnStatus.String()
	m.emit(ev)
	m.repBuf = rep.Append(m.repBuf[:0])
	if _, err := m.send(l, kdproto.PacketTypeStateManipulate, m.repBuf); err != nil {
		return false, err
	}
	if resume {
		return true, m.resume(false)
	}
	return false, nil
}

// afterServed triggers the desync and mute faults.
func (m *Machine) afterServed() {
	if n := m.cfg.DesyncAfter; n > 0 && m.served >= n && !m.desynced {
		m.desynced = true
		m.outOfStep = true
		m.remoteID ^= 1
		m.fault("desync", "expected id out of step until a RESET")
	}
	if n := m.cfg.MuteAfter; n > 0 && m.served >= n && !m.muteDone && m.cfg.MuteFor > 0 {
		m.muteDone = true
		m.muteUntil = time.Now().Add(m.cfg.MuteFor)
		m.fault("mute", m.cfg.MuteFor.String())
	}
}

func (m *Machine) getVersion(rep *kdproto.Manipulate) {
	v := kdproto.Version{
		MajorVersion: 0x000F, MinorVersion: m.cfg.Build, ProtocolVersion: 6,
		Flags:       kdproto.VersionFlagData | kdproto.VersionFlagPtr64,
		MachineType: kdproto.MachineAMD64, MaxPacketType: uint8(kdproto.PacketTypeMax),
		MaxStateChange: 3, MaxManipulate: uint8(kdproto.APIMaximumManipulate - kdproto.APIReadVirtualMemory),
		KernBase: m.im.kernBase, PsLoadedModuleList: m.im.modList, DebuggerDataList: m.im.dataList,
	}
	if len(m.im.cpus) > 1 {
		v.Flags |= kdproto.VersionFlagMP
	}
	v.Put(&rep.U)
}

// readMemory serves ReadVirtual and ReadPhysical: at most MaxTransfer
// bytes; a partial read is UNSUCCESSFUL with the bytes that were read.
func (m *Machine) readMemory(req, rep *kdproto.Manipulate) {
	r := req.Memory()
	mem := m.im.vmem
	if req.API == kdproto.APIReadPhysicalMemory {
		mem = m.im.pmem
	}
	n := min(r.TransferCount, kdproto.MaxTransfer)
	buf := m.readBuf[:n]
	got := mem.read(r.Address, buf)
	if uint32(got) != n {
		rep.ReturnStatus = kdproto.StatusUnsuccessful
	}
	r.ActualBytes = uint32(got)
	if m.cfg.Evil && got > 0 {
		r.ActualBytes = uint32(got) + 0x1000 // a length that lies
	}
	r.Put(&rep.U)
	rep.Data = buf[:got]
}

// writeMemory writes the request's data (not TransferCount bytes).
func (m *Machine) writeMemory(req, rep *kdproto.Manipulate) {
	w := req.Memory()
	mem := m.im.vmem
	if req.API == kdproto.APIWritePhysicalMemory {
		mem = m.im.pmem
	}
	n := mem.write(w.Address, req.Data)
	if n != len(req.Data) {
		rep.ReturnStatus = kdproto.StatusUnsuccessful
	}
	w.ActualBytes = uint32(n)
	w.Put(&rep.U)
}

func (m *Machine) contextAPI(req, rep *kdproto.Manipulate) {
	if int(req.Processor) >= len(m.im.cpus) {
		rep.ReturnStatus = kdproto.StatusUnsuccessful
		return
	}
	ctx := m.im.cpus[req.Processor].ctx
	switch req.API {
	case kdproto.APIGetContext:
		rep.Data = append([]byte(nil), ctx...)
		m.contextSent = true
	case kdproto.APISetContext:
		if !m.contextSent || len(req.Data) < len(ctx) {
			rep.ReturnStatus = kdproto.StatusUnsuccessful
			return
		}
		copy(ctx, req.Data)
	case kdproto.APIGetContextEx, kdproto.APISetContextEx:
		x := req.ContextEx()
		if uint64(x.Offset)+uint64(x.ByteCount) > uint64(len(ctx)) {
			rep.ReturnStatus = kdproto.StatusUnsuccessful
			return
		}
		part := ctx[x.Offset : x.Offset+x.ByteCount]
		if req.API == kdproto.APIGetContextEx {
			rep.Data = append([]byte(nil), part...)
			m.contextSent = true
		} else {
			if !m.contextSent || len(req.Data) < len(part) {
				rep.ReturnStatus = kdproto.StatusUnsuccessful
				return
			}
			copy(part, req.Data)
		}
		x.BytesCopied = x.ByteCount
		x.Put(&rep.U)
	}
}

func (m *Machine) writeBreakPoint(req, rep *kdproto.Manipulate) {
	bp := req.BreakPoint()
	bp.Handle = 0
	for i := range m.bps {
		if m.bps[i].active && m.bps[i].addr == bp.Address {
			bp.Handle = uint32(i + 1)
		}
	}
	if bp.Handle == 0 {
		orig, ok := m.im.vmem.u8(bp.Address)
		for i := range m.bps {
			if ok && !m.bps[i].active {
				m.bps[i] = breakpoint{addr: bp.Address, orig: orig, active: true}
				m.im.vmem.write(bp.Address, []byte{0xCC})
				bp.Handle = uint32(i + 1)
				break
			}
		}
	}
	if bp.Handle == 0 {
		rep.ReturnStatus = kdproto.StatusUnsuccessful
	}
	bp.Put(&rep.U)
}

// controlSpace serves the AMD64 control space: 0 KPCR, 1 KPRCB and
// 3 KTHREAD are 8-byte pointers, 2 is KSPECIAL_REGISTERS (writable).
func (m *Machine) controlSpace(req, rep *kdproto.Manipulate) {
	r := req.Memory()
	r.ActualBytes = 0
	defer func() { r.Put(&rep.U) }()
	if int(req.Processor) >= len(m.im.cpus) {
		rep.ReturnStatus = kdproto.StatusUnsuccessful
		return
	}
	c := m.im.cpus[req.Processor]
	if req.API == kdproto.APIWriteControlSpace {
		if r.Address != 2 {
			rep.ReturnStatus = kdproto.StatusUnsuccessful
			return
		}
		r.ActualBytes = uint32(copy(c.special[:], req.Data))
		return
	}
	var src []byte
	switch r.Address {
	case 0, 1, 3:
		ptr := map[uint64]uint64{0: c.kpcr, 1: c.kprcb, 3: c.thread}[r.Address]
		if r.TransferCount < 8 {
			rep.ReturnStatus = kdproto.StatusUnsuccessful
			return
		}
		src = le.AppendUint64(nil, ptr)
	case 2:
		src = c.special[:min(int(r.TransferCount), specialSize)]
	default:
		rep.ReturnStatus = kdproto.StatusUnsuccessful
		return
	}
	rep.Data = append([]byte(nil), src...)
	r.ActualBytes = uint32(len(src))
}

func (m *Machine) msrAPI(req, rep *kdproto.Manipulate, cpuIdx int) {
	if int(req.Processor) < len(m.im.cpus) {
		cpuIdx = int(req.Processor)
	}
	c := m.im.cpus[cpuIdx]
	x := req.MSR()
	v, ok := c.msr[x.MSR]
	if !ok {
		rep.ReturnStatus = kdproto.StatusNoSuchDevice
		return
	}
	if req.API == kdproto.APIWriteMachineSpecificRegister {
		c.msr[x.MSR] = x.Value
		return
	}
	x.Value = v
	x.Put(&rep.U)
}
