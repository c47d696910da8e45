package unwind

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gokd/kd/internal/llvmtest"
)

var regNames = [...]string{"RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI", "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15"}

// readobjCode prints a code as llvm-readobj --unwind does.
func readobjCode(c Code, ui Info) string {
	var s string
	switch c.Op {
	case PushNonvol:
		s = "PUSH_NONVOL reg=" + regNames[c.Info]
	case AllocSmall, AllocLarge:
		s = fmt.Sprintf("%v size=%d", c.Op, c.Value)
	case SetFPReg:
		s = fmt.Sprintf("SET_FPREG reg=%s, offset=%#x", regNames[ui.FrameRegister], 16*uint32(ui.FrameOffset))
	case SaveNonvol, SaveNonvolFar:
		s = fmt.Sprintf("%v reg=%s, offset=%#x", c.Op, regNames[c.Info], c.Value)
	case SaveXMM128, SaveXMM128Far:
		s = fmt.Sprintf("%v reg=XMM%d, offset=%#x", c.Op, c.Info, c.Value)
	case PushMachframe:
		s = "PUSH_MACHFRAME errcode=" + map[bool]string{false: "no", true: "yes"}[c.Info != 0]
	default:
		s = c.Op.String()
	}
	return fmt.Sprintf("0x%02X: %s", c.Offset, s)
}

// TestMatchesReadobj decodes every .pdata entry of the test image and
// compares it with llvm-readobj --unwind. Without the tool the test is
// skipped, unless KD_REQUIRE_LLVM is set (CI sets it and installs llvm).
func TestMatchesReadobj(t *testing.T) {
	out := llvmtest.Run(t, llvmtest.Readobj(t), "--unwind", "../pe/testdata/unw.sys")
	ti := loadTestImage(t)
	blocks := strings.Split(out, "  RuntimeFunction {")[1:]
	if len(blocks) != len(ti.ft) {
		t.Fatalf("readobj lists %d functions; the reader %d", len(blocks), len(ti.ft))
	}
	addr := func(block, key string) uint64 {
		m := regexp.MustCompile(key + `: .*\(0x([0-9A-F]+)\)`).FindStringSubmatch(block)
		if m == nil {
			t.Fatalf("no %s in %s", key, block)
		}
		v, _ := strconv.ParseUint(m[1], 16, 64)
		return v
	}
	for i, b := range blocks {
		rf := ti.ft[i]
		if addr(b, "StartAddress") != ti.base+uint64(rf.Begin) || addr(b, "EndAddress") != ti.base+uint64(rf.End) ||
			addr(b, "UnwindInfoAddress") != ti.base+uint64(rf.UnwindData) {
			t.Errorf("entry %d: %+v; readobj\n%s", i, rf, b)
			continue
		}
		ui, err := ReadInfo(ti.mem, ti.base+uint64(rf.UnwindData))
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		var codes []string
		for _, c := range ui.Codes {
			codes = append(codes, readobjCode(c, ui))
		}
		m := regexp.MustCompile(`(?s)UnwindCodes \[\n(.*?)\n\s*\]`).FindStringSubmatch(b)
		var want []string
		if m != nil {
			for _, l := range strings.Split(m[1], "\n") {
				want = append(want, strings.TrimSpace(l))
			}
		}
		if strings.Join(codes, "\n") != strings.Join(want, "\n") {
			t.Errorf("entry %d codes\n%s\nreadobj\n%s", i, strings.Join(codes, "\n"), strings.Join(want, "\n"))
		}
		if pm := regexp.MustCompile(`PrologSize: (\d+)`).FindStringSubmatch(b); pm == nil || pm[1] != strconv.Itoa(int(ui.SizeOfProlog)) {
			t.Errorf("entry %d prolog size %d; readobj %v", i, ui.SizeOfProlog, pm)
		}
		if ui.Flags&FlagChainInfo != 0 {
			chain := b[strings.Index(b, "Chained {"):]
			if addr(chain, "StartAddress") != ti.base+uint64(ui.Chained.Begin) {
				t.Errorf("entry %d chained to %+v; readobj\n%s", i, ui.Chained, chain)
			}
		}
	}
}
