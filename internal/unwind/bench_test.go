package unwind

import (
	"context"
	"testing"
)

// BenchmarkWalk unwinds the deepest stack the test image reaches (Root ->
// SmallSaves -> MedFrame -> LeafNoPdata) from its innermost instruction.
func BenchmarkWalk(b *testing.B) {
	ti := loadTestImage(b)
	e := &emulator{mem: ti.mem, trap: ti.exports["TrapStub"], trapErr: ti.exports["TrapStubErr"]}
	const stackTop = 0xFFFFF80010000000
	e.c.GPR[RSP] = stackTop
	e.enter(0, stackTop)
	e.push(0)
	e.c.RIP = ti.exports["Root"]
	var deepest Context
	depth := 0
	for !e.returned {
		if len(e.shadow) > depth {
			depth, deepest = len(e.shadow), e.c
		}
		if _, err := e.step(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		frames, err := Walk(context.Background(), ti.mem, ti, deepest, Options{})
		if err != nil || len(frames) != depth {
			b.Fatalf("%d frames, %v; want %d", len(frames), err, depth)
		}
	}
}
