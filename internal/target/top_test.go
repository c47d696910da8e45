package target_test

import (
	"testing"

	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/kdproto"

	"github.com/gokd/kd/internal/target/targettest"
)

// TestReadAtTopOfAddressSpace reads the last bytes of the address space,
// where the end of the page wraps to 0: the read must end (it looped
// forever, asking the target again and again) and report the bytes as
// unreadable, with one request each.
func TestReadAtTopOfAddressSpace(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{})
	for _, c := range []struct {
		addr uint64
		n    int
	}{{0xffffffffffffffff, 1}, {0xfffffffffffffff0, 16}, {0xffffffffffffe000, 0x2000}} {
		before := r.Reads()
		data, ok, err := r.Target.ReadMemory(r.Ctx, c.addr, c.n)
		if err != nil {
			t.Fatalf("read %#x L%x: %v", c.addr, c.n, err)
		}
		if len(data) != c.n || len(ok) != c.n {
			t.Fatalf("read %#x L%x: %d bytes, %d flags", c.addr, c.n, len(data), len(ok))
		}
		for i, good := range ok {
			if good {
				t.Fatalf("read %#x L%x: byte %d readable; kdsim maps nothing there", c.addr, c.n, i)
			}
		}
		r.WaitSim(sim.EventAPI, kdproto.APIReadVirtualMemory.String(), before)
		if got := r.Reads() - before; got > 2 {
			t.Errorf("read %#x L%x: %d requests, want at most one per page", c.addr, c.n, got)
		}
	}
}
