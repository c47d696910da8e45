package unwind

import (
	"context"
	"testing"
)

// FuzzDecodeInfo: any bytes decode to an Info or an error, never a panic,
// and every decoded code fits the slots it was read from.
func FuzzDecodeInfo(f *testing.F) {
	f.Add(info(1, 0, 5, 0, 0, []uint16{slot(5, AllocSmall, 3), slot(1, PushNonvol, RSI)}))
	f.Add(info(2, 0, 5, 0, 0, []uint16{slot(6, Epilog, 1), slot(5, AllocSmall, 3), slot(1, PushNonvol, RSI)}))
	f.Add(info(1, FlagChainInfo, 1, 0, 0, []uint16{slot(1, PushNonvol, RDI)}, 0x1000, 0x1010, 0x2000))
	f.Fuzz(func(t *testing.T, b []byte) {
		ui, err := DecodeInfo(b)
		if err != nil {
			return
		}
		if len(ui.Codes) > 255 {
			t.Fatalf("%d codes from at most 255 slots", len(ui.Codes))
		}
	})
}

// FuzzWalk: the input is unwind info (64 bytes), code (32 bytes) and stack;
// walking from the function's start, body and end must end with frames or
// an error, never a panic or a hang.
func FuzzWalk(f *testing.F) {
	f.Add(append(pad(info(1, 0, 5, 0, 0, []uint16{slot(5, AllocSmall, 3), slot(1, PushNonvol, RSI)}), 64),
		pad([]byte{0x56, 0x48, 0x83, 0xEC, 0x20, 0x90, 0x48, 0x83, 0xC4, 0x20, 0x5E, 0xC3}, 32)...))
	f.Add(append(pad(info(1, 0, 8, RBP, 2, []uint16{slot(8, SetFPReg, 0), slot(4, AllocSmall, 3), slot(1, PushNonvol, RBP)}), 64),
		pad([]byte{0x55, 0x48, 0x83, 0xEC, 0x20, 0x48, 0x8D, 0x6C, 0x24, 0x20, 0x48, 0x8D, 0x65, 0xE0, 0x5D, 0xC3}, 32)...))
	f.Add(append(pad(info(1, 0, 0, 0, 0, []uint16{slot(0, PushMachframe, 1)}), 64), pad([]byte{0xCF}, 32)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 96 {
			return
		}
		h := newHand(b[64:96], b[:64], 32)
		stack := b[96:]
		h.mem.write(stackBase, stack)
		for _, off := range []uint64{0, 5, 31} {
			var c Context
			c.RIP, c.GPR[RSP], c.GPR[RBP] = base+0x1000+off, stackBase, stackBase+16
			frames, _ := Walk(context.Background(), h.mem, h, c, Options{MaxFrames: 16, FramePointerFallback: true})
			if len(frames) > 16 {
				t.Fatalf("%d frames over the limit of 16", len(frames))
			}
		}
	})
}

func pad(b []byte, n int) []byte {
	return append(b, make([]byte, n-len(b))...)
}
