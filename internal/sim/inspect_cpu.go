package sim

// Inspection of the processors' model-specific registers and the I/O
// ports, under the same rules as inspect.go: only while the target is
// stopped with no request in flight, or while no Serve runs.

// MSR returns processor i's model-specific register msr and whether the
// processor has it.
func (m *Machine) MSR(i int, msr uint32) (uint64, bool) {
	if i < 0 || i >= len(m.im.cpus) {
		return 0, false
	}
	v, ok := m.im.cpus[i].msr[msr]
	return v, ok
}

// PeekPort returns what a byte read of I/O port port would return now,
// without the side effects of a read (the timer's counters stay put).
func (m *Machine) PeekPort(port uint16) byte { return m.ports.read8(port, true) }

// ProcessorBlocks returns processor i's KPCR, KPRCB and current thread
// addresses (what control space 0, 1 and 3 return).
func (m *Machine) ProcessorBlocks(i int) (kpcr, kprcb, thread uint64, ok bool) {
	if i < 0 || i >= len(m.im.cpus) {
		return 0, 0, 0, false
	}
	c := m.im.cpus[i]
	return c.kpcr, c.kprcb, c.thread, true
}
