package target_test

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/internal/target/targettest"
)

func TestDisassembleMatchesMachineCode(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{})
	loop := r.Sym("nt!KiIdleLoop")
	lines, err := r.Target.Disassemble(r.Ctx, loop, 8, 0)
	if err != nil {
		t.Fatal(err)
	}
	addr := func(v uint64) string { return fmt.Sprintf("%08x`%08x", v>>32, uint32(v)) }
	want := []struct{ sym, text string }{
		{"nt!KiIdleLoop", "push    rbp"},
		{"", "mov     rbp,rsp"},
		{"", "sub     rsp,20h"},
		{"nt!KiIdleLoop_loop", "xor     ecx,ecx"},
		{"", "call    simdrv!SimDrvTimerRoutine (" + addr(r.Sym("simdrv!SimDrvTimerRoutine")) + ")"},
		{"", "call    hal!HalProcessorIdle (" + addr(r.Sym("hal!HalProcessorIdle")) + ")"},
		{"", "pause"},
		{"", "jmp     nt!KiIdleLoop_loop (" + addr(r.Sym("nt!KiIdleLoop_loop")) + ")"},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d", len(lines), len(want))
	}
	next := loop
	for i, w := range want {
		l := lines[i]
		if l.Symbol != w.sym || l.Inst.Text != w.text || l.Inst.Addr != next || !l.Inst.Valid {
			t.Errorf("line %d: %q %q at %#x; want %q %q at %#x", i, l.Symbol, l.Inst.Text, l.Inst.Addr, w.sym, w.text, next)
		}
		if got := r.Peek(l.Inst.Addr, l.Inst.Len); string(got) != string(l.Inst.Bytes) {
			t.Errorf("line %d bytes % x, the machine has % x", i, l.Inst.Bytes, got)
		}
		next += uint64(l.Inst.Len)
	}
	// Compilers pad functions with int 3; the next function's first
	// line carries its name.
	lines, err = r.Target.Disassemble(r.Ctx, r.Sym("nt!DbgBreakPointWithStatus")-1, 3, 0)
	if err != nil || len(lines) != 3 || lines[0].Symbol != "nt!KiIdleLoop_loop+0x17" || lines[0].Inst.Text != "int     3" ||
		lines[1].Symbol != "nt!DbgBreakPointWithStatus" || lines[1].Inst.Text != "int     3" || lines[2].Inst.Text != "ret" {
		t.Fatalf("u over the padding: %+v, %v", lines, err)
	}
	// A range stops after its end address; an instruction in the
	// int 3 padding is still shown.
	lines, err = r.Target.Disassemble(r.Ctx, loop, 4096, loop+4)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 || lines[2].Inst.Addr != loop+4 {
		t.Fatalf("u %#x %#x gave %d lines", loop, loop+4, len(lines))
	}
	// The first line always carries its symbol, offset included.
	lines, err = r.Target.Disassemble(r.Ctx, loop+1, 1, 0)
	if err != nil || len(lines) != 1 || lines[0].Symbol != "nt!KiIdleLoop+0x1" {
		t.Fatalf("u at KiIdleLoop+1: %+v, %v", lines, err)
	}
	// Unreadable memory shows as invalid one-byte instructions.
	hole, _ := r.Gap(r.Sym("simdrv!__ImageBase"), 1<<16)
	lines, err = r.Target.Disassemble(r.Ctx, hole-1, 3, 0)
	if err != nil || len(lines) != 3 {
		t.Fatalf("u over a hole: %d lines, %v", len(lines), err)
	}
	for i, l := range lines {
		if l.Inst.Valid || l.Inst.Len != 1 || l.Inst.Addr != hole-1+uint64(i) {
			t.Errorf("line %d over the hole: %+v", i, l.Inst)
		}
	}
}

func TestSymbols(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{})
	for _, tc := range []struct {
		addr uint64
		want string
	}{
		{r.Sym("nt!KiIdleLoop"), "nt!KiIdleLoop"},
		{r.Sym("nt!KiIdleLoop") + 5, "nt!KiIdleLoop+0x5"},
		{r.Sym("hal!HalProcessorIdle"), "hal!HalProcessorIdle"},
		{r.Sym("nt!__ImageBase"), "nt"},
		{r.Sym("nt!__ImageBase") + 0x10, "nt+0x10"},
		{r.Sym("simdrv!SimDrvTickCount"), "simdrv!SimDrvTickCount"},
		{r.Sym("nt!__ImageBase") - 1, ""},
	} {
		if got := r.Target.Symbolize(r.Ctx, tc.addr); got != tc.want {
			t.Errorf("Symbolize(%#x) = %q, want %q", tc.addr, got, tc.want)
		}
	}
	for name, sym := range map[string]string{"nt!KiIdleLoop": "nt!KiIdleLoop", "NT!kiidleloop": "nt!KiIdleLoop",
		"hal!HalProcessorIdle": "hal!HalProcessorIdle", "simdrv!SimDrvAssertRequest": "simdrv!SimDrvAssertRequest"} {
		want := r.Sym(sym)
		if got, err := r.Target.Resolve(r.Ctx, name); err != nil || got != want {
			t.Errorf("Resolve(%q) = %#x, %v; want %#x", name, got, err, want)
		}
	}
	for name, mod := range map[string]string{"nt": "nt", "hal.dll": "hal", "SIMDRV": "simdrv"} {
		if got, err := r.Target.Resolve(r.Ctx, name); err != nil || got != r.Sym(mod+"!__ImageBase") {
			t.Errorf("Resolve(%q) = %#x, %v", name, got, err)
		}
	}
	for _, name := range []string{"nosuch", "nt!NoSuchName", "nosuch!Foo"} {
		_, err := r.Target.Resolve(r.Ctx, name)
		if err == nil {
			t.Errorf("Resolve(%q) succeeded", name)
		} else if name != "nosuch!Foo" && !errors.Is(err, target.ErrNoSymbol) {
			t.Errorf("Resolve(%q) = %v; want ErrNoSymbol", name, err)
		}
	}
	loc, err := r.Target.Location(r.Ctx, r.Sym("hal!HalProcessorIdle"))
	if err != nil || loc.Symbol != "hal!HalProcessorIdle" || loc.Inst.Text != "push    rbp" {
		t.Fatalf("Location = %+v, %v", loc, err)
	}
}

// Event names are the JSON "event" values: each kind has its own,
// lower-case with underscores.
func TestEventNames(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range []target.Event{
		target.TransportEvent{}, target.Opened{}, target.Waiting{}, target.Established{}, target.Connected{},
		target.Stopped{}, target.Running{}, target.Print{}, target.Prompt{}, target.ResyncStarted{},
		target.ResyncDone{}, target.Where{}, target.ResetUnanswered{}, target.ResetAnswered{},
		target.ModuleLoad{}, target.LinkLost{}, target.Rebooting{}, target.Restarting{},
		target.TargetReset{}, target.Warning{}, target.Failure{},
	} {
		n := e.EventName()
		if !regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`).MatchString(n) || seen[n] {
			t.Errorf("%T: event name %q is not unique lower_snake_case", e, n)
		}
		seen[n] = true
	}
}

func TestErrorTexts(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&target.NoBreakpointError{ID: 10}, "breakpoint 10 does not exist"},
		{&target.AccessError{Addr: 0xfffff80312345678}, "memory access error at 'fffff803`12345678'"},
		{&target.UnreadableError{Addr: 0x1000}, "Unable to read memory at 00000000`00001000"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%T: %q, want %q", tc.err, got, tc.want)
		}
		if strings.HasSuffix(tc.err.Error(), ".") {
			t.Errorf("%T ends in a period", tc.err)
		}
	}
}
