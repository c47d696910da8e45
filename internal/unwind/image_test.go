package unwind

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/gokd/kd/internal/pe"
)

// testImage is ../pe/testdata/unw.sys (made by that directory's gen.sh with
// clang and lld-link) loaded at its preferred base.
type testImage struct {
	base    uint64
	mem     pagedMemory
	ft      pe.FunctionTable
	exports map[string]uint64 // name -> address
	size    uint64
}

func loadTestImage(t testing.TB) *testImage {
	t.Helper()
	file, err := os.ReadFile("../pe/testdata/unw.sys")
	if err != nil {
		t.Fatal(err)
	}
	im, err := pe.Open(bytes.NewReader(file), int64(len(file)), pe.File)
	if err != nil {
		t.Fatal(err)
	}
	ti := &testImage{base: im.ImageBase, mem: pagedMemory{}, exports: map[string]uint64{}, size: uint64(im.SizeOfImage)}
	ti.mem.write(ti.base, file[:im.SizeOfHeaders])
	for _, s := range im.Sections {
		data := make([]byte, s.VirtualSize)
		copy(data, file[s.RawOffset:s.RawOffset+min(s.RawSize, s.VirtualSize)])
		ti.mem.write(ti.base+uint64(s.VirtualAddress), data)
	}
	if ti.ft, err = im.RuntimeFunctions(); err != nil {
		t.Fatal(err)
	}
	ex, err := im.Exports()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ex.List {
		if e.Name != "" && e.RVA != 0 {
			ti.exports[e.Name] = ti.base + uint64(e.RVA)
		}
	}
	return ti
}

// LookupFunction finds pc's .pdata entry in the test image.
func (ti *testImage) LookupFunction(pc uint64) (Function, error) {
	if pc < ti.base || pc-ti.base >= ti.size {
		return Function{}, ErrNoModule
	}
	rf, ok := ti.ft.Lookup(uint32(pc - ti.base))
	return Function{Module: "unw", ImageBase: ti.base, Entry: rf, HasEntry: ok}, nil
}

// nonvolatile lists the registers the x64 calling convention preserves.
var nonvolatile = []int{RBX, RBP, RSI, RDI, R12, R13, R14, R15}

// TestImageEveryInstruction runs Root in the emulator and, before every
// instruction, unwinds the whole stack and compares each frame with the
// emulator's record of its callers: instruction pointer, stack pointer and
// every non-volatile register. This covers the prologs, bodies and epilogs
// clang and the assembler produced, chained entries, machine frames, a tail
// call and leaf functions without .pdata.
func TestImageEveryInstruction(t *testing.T) {
	ti := loadTestImage(t)
	e := &emulator{mem: ti.mem, trap: ti.exports["TrapStub"], trapErr: ti.exports["TrapStubErr"]}
	const stackTop = 0xFFFFF80010000000
	e.c.GPR[RSP] = stackTop
	for i, r := range nonvolatile {
		e.c.GPR[r] = 0xA0A0A0A000000000 | uint64(i)
	}
	for x := 6; x < 16; x++ {
		e.c.XMM[x] = [2]uint64{uint64(x), 0x5A5A0000 + uint64(x)}
	}
	// Enter Root as if called with return address 0.
	e.enter(0, stackTop)
	e.push(0)
	e.c.RIP = ti.exports["Root"]
	// The trap handlers end in iretq, which no unwinder recognises as an
	// epilog (as for Windows' own trap handlers): skip those instructions.
	skip := func(pc uint64) bool {
		for _, name := range []string{"TrapStub", "TrapStubErr"} {
			rf, _ := ti.ft.Lookup(uint32(ti.exports[name] - ti.base))
			if pc >= ti.exports[name+"_epi"] && pc < ti.base+uint64(rf.End) {
				return true
			}
		}
		return false
	}
	seen := map[How]int{}
	steps := 0
	for !e.returned {
		if steps++; steps > 10000 {
			t.Fatal("root did not return within 10000 instructions")
		}
		if !skip(e.c.RIP) {
			checkWalk(t, ti, e, seen)
		}
		if _, err := e.step(); err != nil {
			t.Fatalf("step %d: %v", steps, err)
		}
	}
	for _, h := range []How{FromUnwindInfo, FromEpilog, FromLeaf, FromMachineFrame} {
		if seen[h] == 0 {
			t.Errorf("no frame was found by %v", h)
		}
	}
	t.Logf("%d instructions, frames by kind %v", steps, seen)
}

// checkWalk unwinds the emulator's current state and compares.
func checkWalk(t *testing.T, ti *testImage, e *emulator, seen map[How]int) {
	t.Helper()
	frames, err := Walk(context.Background(), ti.mem, ti, e.c, Options{})
	where := fmt.Sprintf("at %#x (rva %#x)", e.c.RIP, e.c.RIP-ti.base)
	if err != nil {
		t.Fatalf("%s: Walk: %v (frames %v)", where, err, frameList(frames))
	}
	if len(frames) != len(e.shadow) {
		t.Fatalf("%s: %d frames; want %d: %v", where, len(frames), len(e.shadow), frameList(frames))
	}
	for k := 1; k < len(frames); k++ {
		want := e.shadow[len(e.shadow)-k].ctx
		got := frames[k]
		seen[got.How]++
		if got.IP != want.RIP || got.ChildSP != want.SP() {
			t.Fatalf("%s: frame %d is %#x sp %#x (%v); want %#x sp %#x", where, k, got.IP, got.ChildSP, got.How, want.RIP, want.SP())
		}
		if frames[k-1].RetAddr != got.IP {
			t.Fatalf("%s: frame %d RetAddr %#x; want %#x", where, k-1, frames[k-1].RetAddr, got.IP)
		}
		for _, r := range nonvolatile {
			if got.Context.GPR[r] != want.GPR[r] {
				t.Fatalf("%s: frame %d register %d is %#x; want %#x", where, k, r, got.Context.GPR[r], want.GPR[r])
			}
		}
		for x := 6; x < 16; x++ {
			if got.Context.XMM[x] != want.XMM[x] {
				t.Fatalf("%s: frame %d xmm%d is %x; want %x", where, k, x, got.Context.XMM[x], want.XMM[x])
			}
		}
	}
	if last := frames[len(frames)-1]; last.RetAddr != 0 {
		t.Fatalf("%s: last frame returns to %#x; want 0", where, last.RetAddr)
	}
}

func frameList(fs []Frame) string {
	var b bytes.Buffer
	for _, f := range fs {
		fmt.Fprintf(&b, "[%#x sp %#x %v] ", f.IP, f.ChildSP, f.How)
	}
	return b.String()
}
