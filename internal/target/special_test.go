package target_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/internal/target/targettest"
)

// TestSpecialRegistersMatchMachine reads processor 0's special registers
// and control-space pointers and checks them against the machine.
func TestSpecialRegistersMatchMachine(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{})
	sr, err := r.Target.SpecialRegisters(r.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	raw := r.Machine.Special(0)
	if !bytes.Equal(sr.Raw, raw[:target.SpecialRegistersSize]) {
		t.Fatalf("special registers differ from the machine's")
	}
	q := func(off int) uint64 { return binary.LittleEndian.Uint64(raw[off:]) }
	if sr.Cr3 != q(0x10) || sr.Cr3 == 0 || sr.Cr0 != q(0) || sr.Idtr.Base != q(0x68) || sr.KernelDr7 != q(0x48) || sr.MsrLStar != q(0xC0) {
		t.Errorf("decoded %+v from %x", sr, raw)
	}
	thread, err := r.Target.ControlPointer(r.Ctx, target.ControlKThread)
	if err != nil || thread == 0 {
		t.Fatalf("current thread = %#x, %v", thread, err)
	}
	if _, err := target.ParseSpecialRegisters(raw[:10]); err == nil {
		t.Errorf("a short block parsed")
	}
}
