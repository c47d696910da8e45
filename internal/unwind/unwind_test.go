package unwind

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/gokd/kd/internal/pe"
)

// Hand-built images: code and unwind data at base, a stack at stackBase.
const (
	base      = 0xFFFFF80000400000
	stackBase = 0xFFFFF80000900000
)

// slot packs one UNWIND_CODE slot.
func slot(offset uint8, op Op, info uint8) uint16 {
	return uint16(offset) | uint16(op)<<8 | uint16(info)<<12
}

// info builds UNWIND_INFO bytes.
func info(version, flags, prolog, frameReg, frameOff uint8, slots []uint16, tail ...uint32) []byte {
	b := []byte{version | flags<<3, prolog, uint8(len(slots)), frameReg | frameOff<<4}
	for _, s := range slots {
		b = binary.LittleEndian.AppendUint16(b, s)
	}
	if len(slots)%2 == 1 {
		b = append(b, 0, 0)
	}
	for _, v := range tail {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}

func TestDecodeInfo(t *testing.T) {
	tests := []struct {
		name  string
		data  []byte
		codes string // Code.String of each, joined by "; "
		err   string
	}{
		{"every code", info(1, 0, 0x30, RBP, 2, []uint16{
			slot(0x30, SaveXMM128Far, 6), 0x0010, 0x0010,
			slot(0x28, SaveXMM128, 7), 0x0002,
			slot(0x20, SaveNonvolFar, R13), 0x0010, 0x0008,
			slot(0x18, SaveNonvol, RDI), 0x0020,
			slot(0x14, SetFPReg, 0),
			slot(0x10, AllocLarge, 1), 0x0000, 0x0020,
			slot(0x08, AllocLarge, 0), 0x2200,
			slot(0x04, AllocSmall, 3),
			slot(0x02, PushNonvol, RBX),
			slot(0x00, PushMachframe, 1),
		}), "0x30: SAVE_XMM128_FAR info=6 value=0x100010; 0x28: SAVE_XMM128 info=7 value=0x20; " +
			"0x20: SAVE_NONVOL_FAR info=13 value=0x80010; 0x18: SAVE_NONVOL info=7 value=0x100; " +
			"0x14: SET_FPREG info=0 value=0x0; 0x10: ALLOC_LARGE info=1 value=0x200000; " +
			"0x08: ALLOC_LARGE info=0 value=0x11000; 0x04: ALLOC_SMALL info=3 value=0x20; " +
			"0x02: PUSH_NONVOL info=3 value=0x0; 0x00: PUSH_MACHFRAME info=1 value=0x0", ""},
		{"v2 epilog", info(2, 0, 2, 0, 0, []uint16{slot(2, Epilog, 1), slot(0x10, Epilog, 0), slot(1, PushNonvol, RSI)}),
			"0x02: EPILOG info=1 value=0x102; 0x10: EPILOG info=0 value=0x10; 0x01: PUSH_NONVOL info=6 value=0x0", ""},
		{"short", []byte{1, 0}, "", "at least 4"},
		{"version 3", info(3, 0, 0, 0, 0, nil), "", "version 3"},
		{"codes cut", info(1, 0, 0, 0, 0, []uint16{slot(4, AllocSmall, 1)})[:4], "", "needs 8 bytes"},
		{"operand past count", info(1, 0, 4, 0, 0, []uint16{slot(4, SaveNonvol, RBX)}), "", "runs past"},
		{"unknown op", info(1, 0, 4, 0, 0, []uint16{slot(4, 11, 0)}), "", "unknown unwind operation 11"},
		{"epilog in v1", info(1, 0, 4, 0, 0, []uint16{slot(4, Epilog, 0)}), "", "legacy"},
		{"fpreg without register", info(1, 0, 4, 0, 0, []uint16{slot(4, SetFPReg, 0)}), "", "without a frame register"},
		{"alloc large info 2", info(1, 0, 4, 0, 0, []uint16{slot(4, AllocLarge, 2), 0, 0}), "", "op info 2"},
		{"chain cut", info(1, FlagChainInfo, 0, 0, 0, nil, 1, 2), "", "needs 16 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ui, err := DecodeInfo(tc.data)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("DecodeInfo error %v; want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range ui.Codes {
				got = append(got, c.String())
			}
			if g := strings.Join(got, "; "); g != tc.codes {
				t.Errorf("codes\n got %s\nwant %s", g, tc.codes)
			}
		})
	}
}

// handImage is one function at base+0x1000 with the given code bytes and
// unwind info at base+0x2000, as a Lookup and Memory.
type handImage struct {
	mem pagedMemory
	ft  pe.FunctionTable
}

func newHand(code []byte, ui []byte, size uint32) *handImage {
	h := &handImage{mem: pagedMemory{}}
	h.mem.write(base+0x1000, code)
	h.mem.write(base+0x2000, ui)
	h.ft = pe.FunctionTable{{Begin: 0x1000, End: 0x1000 + size, UnwindData: 0x2000}}
	return h
}

func (h *handImage) LookupFunction(pc uint64) (Function, error) {
	if pc < base || pc >= base+0x10000 {
		return Function{}, ErrNoModule
	}
	rf, ok := h.ft.Lookup(uint32(pc - base))
	return Function{ImageBase: base, Entry: rf, HasEntry: ok}, nil
}

func TestVersion2Epilog(t *testing.T) {
	// push rsi; sub rsp,0x20 | body: nop x4 | epilog: add rsp,0x20; pop rsi; ret
	code := []byte{0x56, 0x48, 0x83, 0xEC, 0x20, 0x90, 0x90, 0x90, 0x90, 0x48, 0x83, 0xC4, 0x20, 0x5E, 0xC3}
	ui := info(2, 0, 5, 0, 0, []uint16{slot(6, Epilog, 1), slot(5, AllocSmall, 3), slot(1, PushNonvol, RSI)})
	h := newHand(code, ui, uint32(len(code)))
	sp := uint64(stackBase)
	h.mem.put64(sp+0x20, 0x5151) // saved rsi
	h.mem.put64(sp+0x28, 0xCAFE) // return address
	tests := []struct {
		name string
		rip  uint64
		sp   uint64
		how  How
	}{
		{"body", base + 0x1005, sp, FromUnwindInfo},
		{"add rsp", base + 0x1009, sp, FromEpilog},
		{"pop", base + 0x100D, sp + 0x20, FromEpilog},
		{"ret", base + 0x100E, sp + 0x28, FromEpilog},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c Context
			c.RIP, c.GPR[RSP] = tc.rip, tc.sp
			if tc.how != FromEpilog || tc.sp != sp+0x28 {
				c.GPR[RSI] = 0x7777
			}
			fn, _ := h.LookupFunction(tc.rip)
			got, how, err := Step(h.mem, fn, c)
			if err != nil {
				t.Fatal(err)
			}
			if got.RIP != 0xCAFE || got.SP() != sp+0x30 || how != tc.how {
				t.Errorf("Step = rip %#x sp %#x %v; want 0xcafe sp %#x %v", got.RIP, got.SP(), how, sp+0x30, tc.how)
			}
			if tc.sp != sp+0x28 && got.GPR[RSI] != 0x5151 {
				t.Errorf("rsi %#x; want 0x5151", got.GPR[RSI])
			}
		})
	}
}

func TestIndirectEntryAndChainLimit(t *testing.T) {
	// An entry whose UnwindData has bit 0 set names another entry.
	code := []byte{0x56, 0x90, 0xC3}
	h := newHand(code, info(1, 0, 1, 0, 0, []uint16{slot(1, PushNonvol, RSI)}), 3)
	var rf [12]byte
	binary.LittleEndian.PutUint32(rf[0:], 0x1000)
	binary.LittleEndian.PutUint32(rf[4:], 0x1003)
	binary.LittleEndian.PutUint32(rf[8:], 0x2000)
	h.mem.write(base+0x3000, rf[:])
	h.mem.put64(stackBase, 0x5151)
	h.mem.put64(stackBase+8, 0xCAFE)
	var c Context
	c.RIP, c.GPR[RSP] = base+0x1001, stackBase
	fn := Function{ImageBase: base, Entry: pe.RuntimeFunction{Begin: 0x1000, End: 0x1003, UnwindData: 0x3001}, HasEntry: true}
	got, _, err := Step(h.mem, fn, c)
	if err != nil || got.RIP != 0xCAFE || got.GPR[RSI] != 0x5151 {
		t.Errorf("indirect entry: rip %#x rsi %#x err %v", got.RIP, got.GPR[RSI], err)
	}
	// An entry chained to itself must stop at the limit.
	loop := info(1, FlagChainInfo, 0, 0, 0, nil, 0x1000, 0x1003, 0x4000)
	h.mem.write(base+0x4000, loop)
	fn.Entry.UnwindData = 0x4000
	if _, _, err := Step(h.mem, fn, c); err == nil || !strings.Contains(err.Error(), "chained") {
		t.Errorf("chain loop: %v; want a chained-entry limit error", err)
	}
}

func TestWalkStops(t *testing.T) {
	code := []byte{0x90, 0xC3}
	h := newHand(code, info(1, 0, 0, 0, 0, nil), 2)
	tests := []struct {
		name  string
		stack []uint64 // quadwords at stackBase
		rip   uint64
		opt   Options
		want  int
		err   error
		msg   string
	}{
		{"zero return", []uint64{0}, base + 0x1000, Options{}, 1, nil, ""},
		{"unmapped stack", nil, base + 0x1000, Options{}, 1, nil, "not mapped"},
		{"no module", nil, 0xFFFFF80012345678, Options{}, 1, ErrNoModule, ""},
		{"limit", []uint64{base + 0x1001, base + 0x1001, base + 0x1001, 0}, base + 0x1000, Options{MaxFrames: 2}, 2, nil, ""},
		{"not canonical", []uint64{0x0000900000000000}, base + 0x1000, Options{}, 1, nil, "not canonical"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := pagedMemory{}
			for k, v := range h.mem {
				mem[k] = v
			}
			for i, v := range tc.stack {
				mem.put64(stackBase+8*uint64(i), v)
			}
			var c Context
			c.RIP, c.GPR[RSP] = tc.rip, stackBase
			frames, err := Walk(context.Background(), mem, h, c, tc.opt)
			if len(frames) != tc.want {
				t.Errorf("%d frames; want %d", len(frames), tc.want)
			}
			switch {
			case tc.err != nil && !errors.Is(err, tc.err):
				t.Errorf("error %v; want %v", err, tc.err)
			case tc.msg != "" && (err == nil || !strings.Contains(err.Error(), tc.msg)):
				t.Errorf("error %v; want %q", err, tc.msg)
			case tc.err == nil && tc.msg == "" && err != nil:
				t.Errorf("error %v; want none", err)
			}
		})
	}
}

func TestFramePointerGuess(t *testing.T) {
	h := newHand([]byte{0xC3}, info(1, 0, 0, 0, 0, nil), 1)
	mem := h.mem
	// Code at 0xFFFFF80020000000 is in no module; RBP chains two frames.
	fp1, fp2 := uint64(stackBase+0x40), uint64(stackBase+0x80)
	mem.put64(fp1, fp2)
	mem.put64(fp1+8, 0xFFFFF80020000100) // unknown code again
	mem.put64(fp2, 0)
	mem.put64(fp2+8, base+0x1000) // back in the module: a leaf (ret)
	mem.put64(fp2+16, 0)          // its return address
	var c Context
	c.RIP, c.GPR[RSP], c.GPR[RBP] = 0xFFFFF80020000000, stackBase, fp1
	frames, err := Walk(context.Background(), mem, h, c, Options{FramePointerFallback: true})
	if err != nil {
		t.Fatal(err)
	}
	hows := []How{FromContext, FromFramePointer, FromFramePointer}
	if len(frames) != len(hows) {
		t.Fatalf("frames %v", frameList(frames))
	}
	for i, f := range frames {
		if f.How != hows[i] {
			t.Errorf("frame %d found by %v; want %v", i, f.How, hows[i])
		}
	}
	if !frames[1].How.Guess() || frames[2].IP != base+0x1000 || frames[2].ChildSP != fp2+16 {
		t.Errorf("frames %v", frameList(frames))
	}
	// Without the fallback the walk stops at the unknown address.
	frames, err = Walk(context.Background(), mem, h, c, Options{})
	if !errors.Is(err, ErrNoModule) || len(frames) != 1 {
		t.Errorf("without fallback: %v, %v", frameList(frames), err)
	}
}

func TestWalkCancelled(t *testing.T) {
	h := newHand([]byte{0xC3}, info(1, 0, 0, 0, 0, nil), 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var c Context
	c.RIP, c.GPR[RSP] = base+0x1000, stackBase
	if _, err := Walk(ctx, h.mem, h, c, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Walk with a cancelled context: %v", err)
	}
}
