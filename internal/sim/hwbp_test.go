package sim

import (
	"testing"

	"github.com/gokd/kd/kdproto"
)

// runUntilDebug steps processor 0 until a debug register matches, at
// most limit instructions; hlt is stepped over as the next tick would.
func runUntilDebug(t *testing.T, m *Machine, limit int) *cpu {
	t.Helper()
	c := m.im.cpus[0]
	for n := 0; n < limit; n++ {
		r, code := c.stepChecked(m.im.vmem)
		switch r {
		case stepDebug:
			if code != kdproto.StatusSingleStep {
				t.Fatalf("debug stop with %v, want STATUS_SINGLE_STEP", code)
			}
			return c
		case stepBreak, stepFault:
			t.Fatalf("stopped with %v at %#x before the debug register hit", code, c.rip())
		}
	}
	t.Fatalf("no debug register hit in %d instructions", limit)
	return nil
}

func TestDebugRegisters(t *testing.T) {
	tick := func(m *Machine) uint64 { return m.syms["simdrv!SimDrvTickCount"] }
	idle := func(m *Machine) uint64 { return m.syms["hal!HalProcessorIdle"] }
	inc := func(m *Machine) uint64 { return m.syms["simdrv!SimDrvTimerRoutine_inc"] }
	tests := []struct {
		name    string
		slot    int
		addr    func(*Machine) uint64
		rwLen   uint64 // RW | LEN<<2
		wantRip func(*Machine) uint64
		count   bool // the tick count was incremented by then
	}{
		{"write 4 fires after the inc", 0, tick, dr7RWWrite | 3<<2, func(m *Machine) uint64 { return inc(m) + 6 }, true},
		{"read 1 on the second byte", 2, func(m *Machine) uint64 { return tick(m) + 1 }, dr7RWRead, func(m *Machine) uint64 { return inc(m) + 6 }, true},
		{"write 8 covering it", 3, tick, dr7RWWrite | 2<<2, func(m *Machine) uint64 { return inc(m) + 6 }, true},
		{"execute faults before (the timer routine ran first)", 1, idle, dr7RWExec, idle, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := New(Config{})
			c := m.im.cpus[0]
			before, _ := m.im.vmem.u32(tick(m))
			le.PutUint64(c.special[srDr0+8*tc.slot:], tc.addr(m))
			le.PutUint64(c.special[srDr7:], 1<<(2*tc.slot)|tc.rwLen<<(16+4*tc.slot))
			runUntilDebug(t, m, 200)
			if got, want := c.rip(), tc.wantRip(m); got != want {
				t.Errorf("rip = %#x, want %#x", got, want)
			}
			if dr6 := le.Uint64(c.special[srDr6:]); dr6 != 1<<tc.slot {
				t.Errorf("Dr6 = %#x, want %#x", dr6, 1<<tc.slot)
			}
			after, _ := m.im.vmem.u32(tick(m))
			if (after == before+1) != tc.count || (after != before && after != before+1) {
				t.Errorf("tick count %d -> %d (incremented: want %v)", before, after, tc.count)
			}
		})
	}
}

func TestDebugRegistersResumeFlagAndDisabled(t *testing.T) {
	m := New(Config{})
	c := m.im.cpus[0]
	idle := m.syms["hal!HalProcessorIdle"]
	le.PutUint64(c.special[srDr0:], idle)
	le.PutUint64(c.special[srDr7:], 1)
	runUntilDebug(t, m, 200)
	c.rf = true
	if r, _ := c.stepChecked(m.im.vmem); r != stepOK || c.rip() != idle+1 {
		t.Fatalf("with the resume flag: %v, rip %#x; want the push executed", r, c.rip())
	}
	// Disabled (L0 and G0 clear): the breakpoint never fires.
	le.PutUint64(c.special[srDr7:], 0)
	for n := 0; n < 500; n++ {
		if r, code := c.stepChecked(m.im.vmem); r == stepDebug || r == stepFault {
			t.Fatalf("step %d: %v %v with Dr7 clear", n, r, code)
		}
	}
}
