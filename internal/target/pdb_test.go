package target_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/internal/target/targettest"
)

// store is a symbol path over a directory in symbol-store layout.
type store struct{ dir string }

func (s store) Find(_ context.Context, name, key, _ string) (string, error) {
	p := filepath.Join(s.dir, name, key, name)
	if _, err := os.Stat(p); err != nil {
		return "", errors.New(name + " not found")
	}
	return p, nil
}

func (s store) String() string { return s.dir }

// With kdsim's PDBs on the symbol path, kd's symbols, stack parameters
// and types come from them and agree with the machine.
func TestPDBSymbols(t *testing.T) {
	dir, err := sim.WriteSymbolStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r, _ := targettest.Stopped(t, targettest.Options{})
	r.Target.SetSymbolSearch(store{dir})
	r.Target.SetSymbolNoisy(true)
	if _, err := r.Target.Reload(r.Ctx, true, nil); err != nil {
		t.Fatal(err)
	}
	infos, err := r.Target.ModuleInfos(r.Ctx, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range infos {
		if m.State != target.SymPDB && m.State != target.SymPrivatePDB || m.PDBPath == "" {
			t.Errorf("%s: %v from %q (%s)", m.Name, m.State, m.PDBPath, m.Why)
		}
	}
	syms, err := r.Target.FindSymbols(r.Ctx, "nt", "KiIdleLoop")
	if err != nil || len(syms) != 1 || syms[0].Addr != r.Sym("nt!KiIdleLoop") || syms[0].Kind == "export" {
		t.Fatalf("x nt!KiIdleLoop from the PDB: %+v, %v", syms, err)
	}
	near, err := r.Target.NearSymbols(r.Ctx, r.Sym("nt!KiIdleLoop")+3)
	if err != nil || near.Below.Name != "KiIdleLoop" {
		t.Fatalf("ln: %+v, %v", near, err)
	}
	if sym := r.Target.Symbolize(r.Ctx, r.Sym("hal!HalProcessorIdle")+1); sym != "hal!HalProcessorIdle+0x1" {
		t.Fatalf("symbol %q", sym)
	}
	names, err := r.Target.TypeNames(r.Ctx, "nt", "_K*")
	if err != nil || len(names) == 0 {
		t.Fatalf("dt nt!_K*: %v, %v", names, err)
	}
	lay, err := r.Target.DescribeType(r.Ctx, "nt", "_KPRCB", 1, 0, false, nil)
	if err != nil || len(lay.Fields) == 0 || lay.Name != "_KPRCB" {
		t.Fatalf("dt nt!_KPRCB: %+v, %v", lay, err)
	}
	if _, err := r.Target.DescribeType(r.Ctx, "nt", "_NOSUCH", 0, 0, false, nil); !errors.Is(err, target.ErrNoSymbol) {
		t.Fatalf("dt nt!_NOSUCH = %v", err)
	}
	if _, _, err := r.Target.AddBreakpoint(r.Ctx, r.Sym("simdrv!SimDrvTimerRoutine_inc")); err != nil {
		t.Fatal(err)
	}
	goUntilStop(t, r)
	st, err := r.Target.Stack(r.Ctx, target.StackFrom{}, 0, true)
	if err != nil || len(st.Frames) < 2 || st.Frames[1].IP != r.Sym("nt!KiIdleLoop_loop")+7 {
		t.Fatalf("kp: %+v, %v", st, err)
	}
}
