package target_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gokd/kd/internal/sim"

	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/internal/target/targettest"
)

// k at a breakpoint in simdrv's timer routine: the frames are the calls
// the machine made, and every return address is one the machine pushed.
func TestStackAgainstMachine(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{})
	inc := r.Sym("simdrv!SimDrvTimerRoutine_inc")
	if _, _, err := r.Target.AddBreakpoint(r.Ctx, inc); err != nil {
		t.Fatal(err)
	}
	st := goUntilStop(t, r)
	if st.PC != inc {
		t.Fatalf("stop %+v", st)
	}
	stack, err := r.Target.Stack(r.Ctx, target.StackFrom{}, target.DefaultFrames, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(stack.Frames) < 3 {
		t.Fatalf("%d frames: %+v", len(stack.Frames), stack)
	}
	regs := r.Regs(int(st.CPU))
	f0 := stack.Frames[0]
	if f0.IP != inc || f0.ChildSP != regs.MustGet("rsp") || !strings.HasPrefix(f0.CallSite, "simdrv!SimDrvTimerRoutine") {
		t.Fatalf("frame 0 %+v; rsp %#x", f0, regs.MustGet("rsp"))
	}
	// The return address is on the machine's stack, after KiIdleLoop's call.
	call := r.Sym("nt!KiIdleLoop_loop") + 2
	if f0.RetAddr != call+5 || stack.Frames[1].IP != call+5 || !strings.HasPrefix(stack.Frames[1].CallSite, "nt!KiIdleLoop") {
		t.Fatalf("frame 1 %+v; want KiIdleLoop after its call at %#x", stack.Frames[1], call)
	}
	if ra := r.Peek(f0.ChildSP+0x28, 8); uint64(ra[0])|uint64(ra[1])<<8 == 0 {
		t.Logf("stack bytes % x", ra)
	}
	// k = rsp rip from elsewhere, and a frame limit.
	short, err := r.Target.Stack(r.Ctx, target.StackFrom{RSP: f0.ChildSP, RIP: inc, HaveRSP: true, HaveRIP: true}, 1, false)
	if err != nil || len(short.Frames) != 1 || short.Frames[0].IP != inc {
		t.Fatalf("k = rsp rip with one frame: %+v, %v", short, err)
	}
}

func TestModuleInfosAndSymbolQueries(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{})
	infos, err := r.Target.ModuleInfos(r.Ctx, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 4 || infos[3].Name != "simdrv" || !strings.HasSuffix(infos[3].Path, `drivers\simdrv.sys`) || !infos[3].HaveImage {
		t.Fatalf("lm v: %+v", infos)
	}
	for _, m := range infos {
		if m.State == target.SymDeferred || m.State.String() == "" {
			t.Errorf("%s: symbols still %v after lm v", m.Name, m.State)
		}
	}
	n, err := r.Target.Reload(r.Ctx, false, func(m target.Module) bool { return m.Name == "hal" })
	if err != nil || n != 1 {
		t.Fatalf(".reload hal = %d, %v", n, err)
	}
	infos, err = r.Target.ModuleInfos(r.Ctx, false, func(m target.Module) bool { return m.Name == "hal" })
	if err != nil || len(infos) != 1 || infos[0].State != target.SymDeferred {
		t.Fatalf("lm m hal after .reload: %+v, %v", infos, err)
	}
	if n, err := r.Target.Reload(r.Ctx, true, nil); err != nil || n != 4 {
		t.Fatalf(".reload /f = %d, %v", n, err)
	}
	syms, err := r.Target.FindSymbols(r.Ctx, "nt", "KiIdleL??p")
	if err != nil || len(syms) != 1 || syms[0].Addr != r.Sym("nt!KiIdleLoop") || syms[0].FullName() != "nt!KiIdleLoop" {
		t.Fatalf("x nt!KiIdleL??p = %+v, %v", syms, err)
	}
	syms, err = r.Target.FindSymbols(r.Ctx, "*", "Hal*")
	if err != nil || len(syms) < 2 {
		t.Fatalf("x *!Hal* = %+v, %v", syms, err)
	}
	for _, y := range syms {
		if y.Addr != r.Sym(y.FullName()) {
			t.Errorf("x: %s at %#x, the machine has %#x", y.FullName(), y.Addr, r.Sym(y.FullName()))
		}
	}
	near, err := r.Target.NearSymbols(r.Ctx, r.Sym("nt!KiIdleLoop")+3)
	if err != nil || !near.HaveBelow || near.Below.Name != "KiIdleLoop" || !near.HaveAbove || near.Above.Addr <= r.Sym("nt!KiIdleLoop") {
		t.Fatalf("ln: %+v, %v", near, err)
	}
	near, err = r.Target.NearSymbols(r.Ctx, r.Sym("hal!HalProcessorIdle"))
	if err != nil || len(near.Exact) == 0 || near.Exact[0].Name != "HalProcessorIdle" {
		t.Fatalf("ln at a symbol: %+v, %v", near, err)
	}
	if r.Target.SymbolSearch() != nil {
		t.Error("a symbol path without one set")
	}
}

// symPath is a symbol path that finds a file for nt only (not a PDB).
type symPath struct {
	file string
	mu   sync.Mutex
	asks []string
}

func (p *symPath) Find(_ context.Context, name, key, ext string) (string, error) {
	p.mu.Lock()
	p.asks = append(p.asks, name+" "+key+" "+ext)
	p.mu.Unlock()
	if name == "ntkrnlmp.pdb" {
		return p.file, nil
	}
	return "", errors.New(name + " not found")
}

func (p *symPath) String() string { return "srv*test" }

// With a symbol path, kd asks it for each image's PDB by name and store
// key, and says why none was loaded.
func TestSymbolPath(t *testing.T) {
	r, _ := targettest.Stopped(t, targettest.Options{})
	junk := filepath.Join(t.TempDir(), "ntkrnlmp.pdb")
	if err := os.WriteFile(junk, []byte("not a PDB"), 0o644); err != nil {
		t.Fatal(err)
	}
	sp := &symPath{file: junk}
	r.Target.SetSymbolSearch(sp)
	if r.Target.SymbolSearch() != sp {
		t.Fatal("SymbolSearch does not return the path set")
	}
	// nt's names were read at the stop, before the path was set.
	if _, err := r.Target.Reload(r.Ctx, false, nil); err != nil {
		t.Fatal(err)
	}
	infos, err := r.Target.ModuleInfos(r.Ctx, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range infos {
		if m.State != target.SymExport || m.Why == "" || m.PDBName == "" || m.PDBKey == "" {
			t.Errorf("%s: state %v, why %q, pdb %q %q; want export symbols and a reason", m.Name, m.State, m.Why, m.PDBName, m.PDBKey)
		}
	}
	if !strings.Contains(infos[3].Why, "simdrv.pdb not found") {
		t.Errorf("simdrv: why %q", infos[3].Why)
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if len(sp.asks) != 4 || !strings.HasSuffix(sp.asks[0], " exe") || !strings.HasSuffix(sp.asks[3], " sys") {
		t.Fatalf("the symbol path was asked %q", sp.asks)
	}
}

// A running target that prints before kd ever saw it stop: the
// connection is established by the print; CTRL+C then stops it.
func TestConnectToRunningTarget(t *testing.T) {
	r := targettest.New(t, targettest.Options{Sim: sim.Config{PrintEvery: 20 * time.Millisecond}})
	if e := targettest.Next[target.Established](r, nil); e.InitialBreak {
		t.Fatalf("established %+v", e)
	}
	if p := targettest.Next[target.Print](r, nil); string(p.Text) != "simdrv: timer tick 1\n" {
		t.Fatalf("print %q", p.Text)
	}
	if r.Target.Ready() {
		t.Fatal("ready before the target stopped")
	}
	if !r.Target.Interrupt() {
		t.Fatal("Interrupt reported false")
	}
	if c := targettest.Next[target.Connected](r, nil); c.Announce {
		t.Errorf("connected %+v: the connection was announced already", c)
	}
	if st := r.Stop(); !st.BreakIn {
		t.Fatalf("stop %+v", st)
	}
}
