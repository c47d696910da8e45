package commands_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/internal/target/targettest"
)

// eval runs ? EXPR and returns its value.
func (s *session) eval(expr string) uint64 {
	s.T.Helper()
	res := s.run("? " + expr)
	v, ok := res.(commands.Evaluation)
	if !ok {
		s.T.Fatalf("? %s returned %T", expr, res)
	}
	return v.Value
}

func (s *session) qword(addr uint64) uint64 {
	s.T.Helper()
	return binary.LittleEndian.Uint64(s.Peek(addr, 8))
}

// TestExpressionsAgainstKdsim checks registers, pseudo-registers, symbols
// and the memory operators against what the simulated machine holds.
func TestExpressionsAgainstKdsim(t *testing.T) {
	s := newSession(t, targettest.Options{})
	regs := s.Regs(0)
	rsp, rip, rax := regs.MustGet("rsp"), regs.MustGet("rip"), regs.MustGet("rax")
	pcr := s.eval("$pcr")
	prcb := s.eval("@$prcb")
	kernBase := s.Machine.KernBase()
	tests := []struct {
		expr string
		want uint64
	}{
		{"rsp", rsp},
		{"@rip", rip},
		{"$ip", rip},
		{".", rip},
		{"$csp", rsp},
		{"$retreg", rax},
		{"@$retreg64", rax},
		{"$ra", s.qword(rsp)},         // stopped at the first byte of DbgBreakPointWithStatus
		{"$pcr", s.qword(pcr + 0x18)}, // the KPCR's self pointer
		{"$prcb", s.qword(pcr + 0x20)},
		{"$thread", s.qword(prcb + 0x08)}, // KPRCB.CurrentThread
		{"$ptrsize", 8},
		{"$pagesize", 0x1000},
		{"nt", kernBase},
		{"nt!DbgBreakPointWithStatus", s.Sym("nt!DbgBreakPointWithStatus")},
		{"nt!DbgBreakPointWithStatus+0n16", s.Sym("nt!DbgBreakPointWithStatus") + 16},
		{"DbgBreakPointWithStatus", s.Sym("nt!DbgBreakPointWithStatus")}, // found in every module
		{"!HalProcessorIdle+1", s.Sym("hal!HalProcessorIdle") + 1},
		{". - nt!DbgBreakPointWithStatus", rip - s.Sym("nt!DbgBreakPointWithStatus")},
		{"poi(rsp)", s.qword(rsp)},
		{"qwo(@rsp+8)", s.qword(rsp + 8)},
		{"dwo(rsp)", s.qword(rsp) & 0xffffffff},
		{"wo(rsp)", s.qword(rsp) & 0xffff},
		{"by(rsp+1)", s.qword(rsp) >> 8 & 0xff},
		{"poi(nt) and 0xffff", 0x5a4d}, // "MZ"
		{"wo(nt)==5a4d", 1},
		{"poi(@$prcb+8) == $thread", 1},
		{"hi(poi(rsp))", s.qword(rsp) >> 16 & 0xffff},
		{"low(poi(rsp))", s.qword(rsp) & 0xffff},
	}
	for _, tt := range tests {
		if got := s.eval(tt.expr); got != tt.want {
			t.Errorf("? %s = %#x; want %#x", tt.expr, got, tt.want)
		}
	}
}

// storeDir is a symbol path of one two-tier store directory.
type storeDir string

func (d storeDir) Find(_ context.Context, name, key, _ string) (string, error) {
	p := filepath.Join(string(d), name, key, name)
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	return p, nil
}

func (d storeDir) String() string { return string(d) }

// $proc is the current thread's process, found through _KTHREAD in nt's
// PDB; without the PDB it is a clear error.
func TestProcPseudoRegister(t *testing.T) {
	s := newSession(t, targettest.Options{})
	if err := s.fail("? $proc"); !strings.Contains(err.Error(), "_KTHREAD") {
		t.Errorf("? $proc without nt's PDB: %v; want a _KTHREAD error", err)
	}
	dir, err := sim.WriteSymbolStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s.Target.SetSymbolSearch(storeDir(dir))
	s.run(".reload")
	thread := s.eval("$thread")
	if got, want := s.eval("$proc"), s.qword(thread+0xb8); got != want { // _KTHREAD.Process in kdsim's types.h
		t.Errorf("? $proc = %#x; want %#x", got, want)
	}
}

func TestExpressionErrorsAgainstKdsim(t *testing.T) {
	s := newSession(t, targettest.Options{})
	hole, _ := s.Gap(s.Machine.KernBase(), 16)
	tests := []struct{ line, want string }{
		{fmt.Sprintf("? poi(%x)", hole), "memory access error"},
		{"? 1/0", "divide by zero"},
		{"? poi(-1)", "memory access error"},
		{"? dwo(-2)", "memory access error"},
		{"? @nosuch", "bad register"},
		{"? $peb", "not supported"},
		{"? $bp7", "no breakpoint 7"},
		{"? $pby(1000)", "physical"},
		{"? nt!NoSuchSymbol", "NoSuchSymbol"},
		{"? NoSuchSymbolAnywhere", "NoSuchSymbolAnywhere"},
		{"?? 1", "C++"},
		{"? @@c++(1)", "C++"},
		{".formats", "expression is needed"},
		{"n 12", "8, 10 or 16"},
		{".effmach x86", "x64"},
		{".crash", "refused"},
		{".kdfiles", "not supported"},
		{".shell ls", "refused"},
		{".if (1) { r }", "not supported"},
		{".while (1) { g }", "not supported"},
	}
	for _, tt := range tests {
		if err := s.fail(tt.line); !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v; want an error with %q", tt.line, err, tt.want)
		}
	}
}

// TestRadixAndLastExpression: n changes how numbers are read, for ? and
// for every command's expressions; $exp is the last ? value.
func TestRadixAndLastExpression(t *testing.T) {
	s := newSession(t, targettest.Options{})
	if r := as[commands.Radix](t, "n", s.run("n")); r.Base != 16 || r.Set {
		t.Fatalf("n = %+v; want base 16", r)
	}
	steps := []struct {
		line string
		want uint64
	}{
		{"? 10", 0x10},
		{"n 10", 0},
		{"? 10", 10},
		{"? 0x10", 0x10},
		{"? 10h", 0x10},
		{"? $exp+1", 0x11},
		{"n 8", 0},
		{"? 17", 15},
		{"n 16", 0},
		{"? 10", 0x10},
	}
	for _, st := range steps {
		res := s.run(st.line)
		if strings.HasPrefix(st.line, "n ") {
			if r := as[commands.Radix](t, st.line, res); !r.Set {
				t.Errorf("%s = %+v; want Set", st.line, r)
			}
			continue
		}
		if v := as[commands.Evaluation](t, st.line, res).Value; v != st.want {
			t.Errorf("%s = %#x; want %#x", st.line, v, st.want)
		}
	}
	s.run("n 10")
	d := as[commands.MemoryDump](t, "db rsp L16", s.run("db rsp L16"))
	if len(d.Data) != 16 {
		t.Errorf("db rsp L16 in base 10 read %d bytes; want 16", len(d.Data))
	}
}

func TestSessionResults(t *testing.T) {
	s := newSession(t, targettest.Options{})
	if f := as[commands.Formats](t, ".formats", s.run(".formats 1c407e62")); f.Value != 0x1c407e62 {
		t.Errorf(".formats value %#x", f.Value)
	}
	if m := as[commands.EffectiveMachine](t, ".effmach", s.run(".effmach")); m.Name != "x64" || m.Long != "AMD64" {
		t.Errorf(".effmach = %+v", m)
	}
	ev := as[commands.LastEvent](t, ".lastevent", s.run(".lastevent"))
	if !ev.Have || ev.Stop.PC != s.Sym("nt!DbgBreakPointWithStatus") || ev.Stop.Breakpoint != -1 {
		t.Errorf(".lastevent = %+v; want the initial break at DbgBreakPointWithStatus", ev)
	}
	tm := as[commands.SessionTime](t, ".time", s.run(".time"))
	if tm.Time.IsZero() || !tm.HaveUptime || tm.Uptime != sim.SimUptime {
		t.Errorf(".time = %+v; want the session time and kdsim's uptime %v", tm, sim.SimUptime)
	}
	if _, ok := s.run(".cls").(commands.ClearScreen); !ok {
		t.Errorf(".cls is not ClearScreen")
	}
	s.run(".logopen x.log")
	if l := as[commands.LogStatus](t, ".logfile", s.run(".logfile")); l.Path != "x.log" {
		t.Errorf(".logfile = %+v; want x.log", l)
	}
}

// r sets the user pseudo-registers and shows any pseudo-register.
func TestRegisterPseudo(t *testing.T) {
	s := newSession(t, targettest.Options{})
	rax := s.Regs(0).MustGet("rax")
	s.run("r $t0 = rax + 1")
	s.run("r @$t19=0n19, $t1=$t0*2")
	for _, tt := range []struct {
		expr string
		want uint64
	}{{"$t0", rax + 1}, {"@$t1", 2 * (rax + 1)}, {"$t19", 19}, {"$t2", 0}} {
		if got := s.eval(tt.expr); got != tt.want {
			t.Errorf("? %s = %#x; want %#x", tt.expr, got, tt.want)
		}
	}
	vals := as[commands.RegisterValues](t, "r $t0, $ip", s.run("r $t0, $ip"))
	if len(vals.Values) != 2 || vals.Values[0].Value != rax+1 || vals.Values[1].Value != s.Regs(0).MustGet("rip") {
		t.Errorf("r $t0, $ip = %+v", vals)
	}
	if got := s.Regs(0).MustGet("rax"); got != rax {
		t.Errorf("setting $t0 changed rax: %#x -> %#x", rax, got)
	}
}

// $bpN is breakpoint N's address; .lastevent names the breakpoint hit.
func TestBreakpointPseudoAndLastEvent(t *testing.T) {
	s := newSession(t, targettest.Options{})
	idle := s.Sym("hal!HalProcessorIdle")
	s.run("bp hal!HalProcessorIdle")
	if got := s.eval("$bp0"); got != idle {
		t.Errorf("? $bp0 = %#x; want %#x", got, idle)
	}
	if got := s.eval("@$bp0 - hal!HalProcessorIdle"); got != 0 {
		t.Errorf("? @$bp0 - hal!HalProcessorIdle = %#x", got)
	}
	s.run("g")
	s.Pump("the breakpoint hit", func() bool { return s.Target.Stopped() })
	ev := as[commands.LastEvent](t, ".lastevent", s.run(".lastevent"))
	if !ev.Have || ev.Stop.Breakpoint != 0 || ev.Stop.PC != idle {
		t.Errorf(".lastevent after g = %+v; want breakpoint 0 at %#x", ev, idle)
	}
}
