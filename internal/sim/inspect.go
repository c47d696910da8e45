package sim

// Inspection: what the machine holds, for tests and tools that check what
// a host did (a register it set, bytes it wrote) against the machine's own
// state rather than against the host's view of it.
//
// The machine's state belongs to the goroutine that serves the host. Call
// these only while no Serve runs, or while the target is stopped and the
// host has no request in flight (a reply or a state change received orders
// the machine's last change before the call); never while it runs.

// PeekVirtual returns n bytes of virtual memory at addr and, for each,
// whether it is mapped (an unmapped byte reads as 0). Host breakpoints
// show as the 0xCC the machine wrote. n is capped at 16 MiB.
func (m *Machine) PeekVirtual(addr uint64, n int) ([]byte, []bool) {
	n = max(0, min(n, 16<<20))
	data, ok := make([]byte, n), make([]bool, n)
	for off := 0; off < n; {
		a := addr + uint64(off)
		if a < addr {
			break // the end of the address space
		}
		chunk := min(n-off, int(pageSize-a&(pageSize-1)))
		got := m.im.vmem.read(a, data[off:off+chunk])
		for i := off; i < off+got; i++ {
			ok[i] = true
		}
		off += chunk
	}
	return data, ok
}

// Processors returns the number of processors.
func (m *Machine) Processors() int { return len(m.im.cpus) }

// Context returns a copy of processor i's AMD64 CONTEXT record (decode it
// with kdproto.AMD64Regs), or nil when there is no processor i.
func (m *Machine) Context(i int) []byte {
	if i < 0 || i >= len(m.im.cpus) {
		return nil
	}
	return append([]byte(nil), m.im.cpus[i].ctx...)
}

// Stop returns the processor and the address of the stop the target is
// in; ok is false while it runs.
func (m *Machine) Stop() (cpu int, pc uint64, ok bool) {
	if m.stop == nil {
		return 0, 0, false
	}
	return m.stop.cpu, m.stop.pc, true
}

// Special returns a copy of processor i's KSPECIAL_REGISTERS block (what
// ReadControlSpace address 2 returns), or nil when there is no processor i.
func (m *Machine) Special(i int) []byte {
	if i < 0 || i >= len(m.im.cpus) {
		return nil
	}
	return append([]byte(nil), m.im.cpus[i].special[:]...)
}
