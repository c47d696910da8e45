package commands_test

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/target/targettest"
)

func TestSymbolCommands(t *testing.T) {
	s := newSession(t, targettest.Options{})
	lm := as[commands.ModuleList](t, "lm", s.run("lm"))
	if len(lm.Modules) != 4 || lm.Verbose || lm.Modules[1].Name != "hal" || lm.Modules[1].Base != s.Sym("hal!__ImageBase") {
		t.Fatalf("lm: %+v", lm)
	}
	lm = as[commands.ModuleList](t, "lm m s*", s.run("lm m s*"))
	if len(lm.Modules) != 1 || lm.Modules[0].Name != "simdrv" {
		t.Fatalf("lm m s*: %+v", lm.Modules)
	}
	lm = as[commands.ModuleList](t, "lmv m hal", s.run("lmv m hal"))
	if len(lm.Modules) != 1 || !lm.Verbose || !strings.HasSuffix(lm.Modules[0].Path, `system32\hal.dll`) {
		t.Fatalf("lmv m hal: %+v", lm.Modules)
	}
	x := as[commands.SymbolList](t, "x", s.run("x hal!Hal*"))
	if len(x.Symbols) < 2 {
		t.Fatalf("x hal!Hal*: %+v", x.Symbols)
	}
	for _, y := range x.Symbols {
		if !strings.HasPrefix(y.Name, "Hal") || y.Addr != s.Sym(y.FullName()) {
			t.Errorf("x: %s at %#x, the machine has %#x", y.FullName(), y.Addr, s.Sym(y.FullName()))
		}
	}
	ln := as[commands.NearSymbols](t, "ln", s.run("ln nt!KiIdleLoop+3"))
	if !ln.HaveBelow || ln.Below.FullName() != "nt!KiIdleLoop" {
		t.Fatalf("ln: %+v", ln)
	}
	for _, line := range []string{"x", "x nosuch", "ln", "ln nosuch!x", "lm q"} {
		if err := s.fail(line); err == nil {
			t.Errorf("%s succeeded", line)
		}
	}
}

func TestStackCommands(t *testing.T) {
	s := newSession(t, targettest.Options{})
	s.run("bp simdrv!SimDrvTimerRoutine_inc")
	s.run("g")
	st := s.Stop()
	rsp := s.Regs(int(st.CPU)).MustGet("rsp")
	k := as[commands.StackTrace](t, "k", s.run("k"))
	if len(k.Frames) < 3 || k.Frames[0].ChildSP != rsp || k.Args || k.Numbers {
		t.Fatalf("k: %+v", k)
	}
	if k.Frames[1].IP != s.Sym("nt!KiIdleLoop_loop")+7 {
		t.Fatalf("k frame 1 at %#x; want after KiIdleLoop's call", k.Frames[1].IP)
	}
	for _, tc := range []struct {
		line                           string
		args, verbose, params, numbers bool
		frames                         int
	}{
		{"kb", true, false, false, false, 0},
		{"kv", true, true, false, false, 0},
		{"kp", false, false, true, false, 0},
		{"kn 2", false, false, false, true, 2},
		{"k bn 1", true, false, false, true, 1},
		{fmt.Sprintf("k = %x %x 2", rsp, st.PC), false, false, false, false, 2},
	} {
		r := as[commands.StackTrace](t, tc.line, s.run(tc.line))
		if r.Args != tc.args || r.Verbose != tc.verbose || r.Params != tc.params || r.Numbers != tc.numbers ||
			tc.frames > 0 && len(r.Frames) != tc.frames || r.Frames[0].ChildSP != rsp {
			t.Errorf("%s: flags %v %v %v %v, %d frames", tc.line, r.Args, r.Verbose, r.Params, r.Numbers, len(r.Frames))
		}
	}
	var se *commands.SyntaxError
	for _, line := range []string{"k 0", "k 10000", "k =", "k 1 2", "k = nosuch!x"} {
		if err := s.fail(line); !errors.As(err, &se) {
			t.Errorf("%s = %v; want a syntax error", line, err)
		}
	}
}

// Result names are the JSON "result" values: each kind has its own.
func TestResultNames(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range []commands.Result{
		commands.RegisterDisplay{}, commands.RegisterValues{}, commands.MemoryDump{}, commands.Disassembly{},
		commands.BreakpointList{}, commands.BreakpointRedefined{}, commands.BreakpointSet{}, commands.Evaluation{},
		commands.TargetInfo{}, commands.VersionInfo{}, commands.Help{}, commands.Echo{}, commands.LogOpened{},
		commands.LogClosed{}, commands.Quit{}, commands.FileTransfer{}, commands.ModuleList{}, commands.SymbolList{},
		commands.NearSymbols{}, commands.StackTrace{},
	} {
		n := r.ResultName()
		if !regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`).MatchString(n) || seen[n] {
			t.Errorf("%T: result name %q is not unique lower_snake_case", r, n)
		}
		seen[n] = true
	}
	if len(commands.Default().Names()) < len(commands.Default().List()) {
		t.Error("fewer spellings than commands")
	}
	for _, e := range []error{&commands.SyntaxError{Line: "x"}, &commands.Error{Msg: "m"}} {
		if e.Error() == "" {
			t.Errorf("%T has no text", e)
		}
	}
}
