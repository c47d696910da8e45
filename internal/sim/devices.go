package sim

import "github.com/gokd/kd/kdproto"

// ports is the ISA I/O space: a COM1 16550 UART, the keyboard controller,
// the CMOS clock, the interval timer (pit.go), POST code port, and the PCI
// configuration mechanism #1 (0xCF8/0xCFC). Unclaimed ports float high
// (0xFF).
type ports struct {
	pit     pit
	regs    map[uint16]byte
	cmos    [128]byte
	cmosIdx byte
	pciAddr uint32
	pci     map[uint32]*[256]byte // by bus<<8 | slot<<3 | function
}

func newPorts() ports {
	p := ports{regs: map[uint16]byte{
		0x3F9: 0x00, 0x3FA: 0xC1, 0x3FB: 0x03, 0x3FC: 0x0B, 0x3FD: 0x60, 0x3FE: 0xB0, 0x3FF: 0x00,
		0x60: 0x00, 0x64: 0x1C, 0x80: 0x00, 0x21: 0xB8, 0xA1: 0x8E,
	}, pci: map[uint32]*[256]byte{}, pit: newPIT()}
	// CMOS: 12:34:56 on 2020-05-27 (BCD), status registers A-D.
	copy(p.cmos[:], []byte{0x56, 0, 0x34, 0, 0x12, 0, 0x04, 0x27, 0x05, 0x20})
	p.cmos[0x0A], p.cmos[0x0B], p.cmos[0x0D], p.cmos[0x32] = 0x26, 0x02, 0x80, 0x20
	// Bus 0: host bridge, ISA bridge, VGA (vendor, device, class).
	for _, d := range []struct {
		slot           uint32
		vendor, device uint16
		class          uint32
	}{{0, 0x8086, 0x1237, 0x060000}, {1, 0x8086, 0x7000, 0x060100}, {2, 0x1234, 0x1111, 0x030000}} {
		cfg := new([256]byte)
		le.PutUint16(cfg[0:], d.vendor)
		le.PutUint16(cfg[2:], d.device)
		le.PutUint16(cfg[4:], 0x0007)
		le.PutUint16(cfg[6:], 0x0200)
		le.PutUint32(cfg[8:], d.class<<8|0x02)
		le.PutUint16(cfg[0x2C:], 0x1AF4)
		le.PutUint16(cfg[0x2E:], 0x1100)
		p.pci[d.slot<<3] = cfg
	}
	return p
}

func (p *ports) in8(port uint16) byte { return p.read8(port, false) }

// read8 reads one port; peek reads it without the side effects a read has
// on a device (the timer's counters).
func (p *ports) read8(port uint16, peek bool) byte {
	switch {
	case port >= 0x40 && port <= 0x42:
		return p.pit.read(int(port-0x40), peek)
	case port == 0x43:
		return 0xFF // write-only
	case port == 0x71:
		return p.cmos[p.cmosIdx&0x7F]
	case port >= 0xCF8 && port <= 0xCFB:
		return byte(p.pciAddr >> (8 * (port - 0xCF8)))
	case port >= 0xCFC && port <= 0xCFF:
		if p.pciAddr&0x80000000 == 0 {
			return 0xFF
		}
		cfg := p.pci[p.pciAddr>>8&0xFFFF]
		if cfg == nil {
			return 0xFF
		}
		return cfg[byte(p.pciAddr)&0xFC+byte(port-0xCFC)]
	}
	if v, ok := p.regs[port]; ok {
		return v
	}
	return 0xFF
}

func (p *ports) out8(port uint16, v byte) {
	switch {
	case port >= 0x40 && port <= 0x42:
		p.pit.write(int(port-0x40), v)
	case port == 0x43:
		p.pit.control(v)
	case port == 0x70:
		p.cmosIdx = v
	case port == 0x71:
		p.cmos[p.cmosIdx&0x7F] = v
	case port >= 0xCF8 && port <= 0xCFB:
		sh := 8 * (port - 0xCF8)
		p.pciAddr = p.pciAddr&^(0xFF<<sh) | uint32(v)<<sh
	case port >= 0xCFC && port <= 0xCFF:
	default:
		p.regs[port] = v
	}
}

// ioSpace serves Read/WriteIoSpace(Extended): sizes 1, 2 and 4, naturally
// aligned, ISA bus 0 I/O space only.
func (m *Machine) ioSpace(req, rep *kdproto.Manipulate) {
	var addr uint64
	var size, value uint32
	ext := req.API == kdproto.APIReadIoSpaceExtended || req.API == kdproto.APIWriteIoSpaceExtended
	if ext {
		x := req.IOExtended()
		addr, size, value = x.Address, x.DataSize, x.Value
		if x.InterfaceType != 1 || x.BusNumber != 0 || x.AddressSpace != 1 {
			rep.ReturnStatus = kdproto.StatusUnsuccessful
			return
		}
	} else {
		x := req.IO()
		addr, size, value = x.Address, x.DataSize, x.Value
	}
	switch {
	case size != 1 && size != 2 && size != 4:
		rep.ReturnStatus = kdproto.StatusInvalidParameter
		return
	case addr%uint64(size) != 0:
		rep.ReturnStatus = kdproto.StatusDatatypeMisalignment
		return
	case addr+uint64(size) > 0x10000:
		rep.ReturnStatus = kdproto.StatusUnsuccessful
		return
	}
	write := req.API == kdproto.APIWriteIoSpace || req.API == kdproto.APIWriteIoSpaceExtended
	if write {
		for i := uint32(0); i < size; i++ {
			m.ports.out8(uint16(addr)+uint16(i), byte(value>>(8*i)))
		}
		return
	}
	value = 0
	for i := uint32(0); i < size; i++ {
		value |= uint32(m.ports.in8(uint16(addr)+uint16(i))) << (8 * i)
	}
	if ext {
		x := req.IOExtended()
		x.Value = value
		x.Put(&rep.U)
	} else {
		x := req.IO()
		x.Value = value
		x.Put(&rep.U)
	}
}

// busData serves Get/SetBusData for PCI configuration space (type 4) on
// bus 0; an empty slot fails.
func (m *Machine) busData(req, rep *kdproto.Manipulate) {
	b := req.BusData()
	slot := b.SlotNumber & 0xFF // PCI_SLOT_NUMBER: device in bits 0-4, function in 5-7
	key := (b.BusNumber&0xFF)<<8 | (slot&0x1F)<<3 | slot>>5&7
	cfg := m.ports.pci[key]
	if b.BusDataType != 4 || b.BusNumber != 0 || cfg == nil || b.Offset >= 256 {
		rep.ReturnStatus = kdproto.StatusUnsuccessful
		b.Length = 0
		b.Put(&rep.U)
		return
	}
	n := min(b.Length, 256-b.Offset, kdproto.MaxTransfer)
	if req.API == kdproto.APIGetBusData {
		rep.Data = append([]byte(nil), cfg[b.Offset:b.Offset+n]...)
	} else {
		n = uint32(copy(cfg[b.Offset:b.Offset+n], req.Data))
	}
	b.Length = n
	b.Put(&rep.U)
}
