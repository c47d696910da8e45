package sim

import "github.com/gokd/kd/kdproto"

// fillMemory serves DbgKdFillMemoryApi: flags 1 fills virtual memory, 2
// physical; a fill that reaches an unmapped page is UNSUCCESSFUL with the
// bytes done in Length.
func (m *Machine) fillMemory(req, rep *kdproto.Manipulate) {
	f := req.FillMemory()
	mem := m.im.vmem
	if f.Flags == 2 {
		mem = m.im.pmem
	}
	if (f.Flags != 1 && f.Flags != 2) || f.PatternLength == 0 || int(f.PatternLength) > len(req.Data) {
		rep.ReturnStatus = kdproto.StatusInvalidParameter
		return
	}
	n := mem.fill(f.Address, f.Length, req.Data[:f.PatternLength])
	if n != f.Length {
		rep.ReturnStatus = kdproto.StatusUnsuccessful
	}
	f.Length = n
	f.Put(&rep.U)
}
