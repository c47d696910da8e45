package console

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gokd/kd/internal/llvmtest"

	"github.com/gokd/kd/internal/sim"
)

// storeSearch finds PDBs in one local symbol store (NAME/KEY/NAME), as a
// srv*DIR element of the symbol path does.
type storeSearch struct {
	dir   string
	finds map[string]int
}

func (s *storeSearch) Find(_ context.Context, name, key, _ string) (string, error) {
	s.finds[name]++
	p := filepath.Join(s.dir, name, key, name)
	if _, err := os.Stat(p); err != nil {
		return "", errors.New(name + " not found in " + s.dir)
	}
	return p, nil
}

func (s *storeSearch) String() string { return "srv*" + s.dir }

// withSimSymbols puts the simulator's PDBs on the symbol path and drops
// its symbol table, so every name comes from the PDBs.
func withSimSymbols(t testing.TB) (option, *storeSearch) {
	t.Helper()
	dir, err := sim.WriteSymbolStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ss := &storeSearch{dir: dir, finds: map[string]int{}}
	return func(c *testConfig) {
		c.SymbolSearch = ss
		c.NoSimSymbols = true
	}, ss
}

// TestScriptPDBSymbols loads the simulator's PDBs from a symbol store:
// lm shows their state and path, x, ln, k and dt take their names and
// types from them, each PDB is looked up once, and expressions resolve
// names that only the PDBs know.
func TestScriptPDBSymbols(t *testing.T) {
	opt, ss := withSimSymbols(t)
	ts := startScript(t, opt)
	ts.send("bp hal!HalProcessorIdle\ng\n")
	ts.out.waitFor(t, "Breakpoint 0 hit", 1)
	ts.send("lm\nx simdrv!*\nln nt!KiIdleLoop+4\nkn\ndt -r nt!_KPRCB\ndt nt!_KPRCB CurrentThread u.RspBase\ndt nt!_K*\n" +
		"dq nt!KiProcessorBlock L1\n")
	text := ts.out.waitFor(t, "kd> dq nt!KiProcessorBlock L1\n", 1)
	// Count the pool addresses before the dq line only: the dq's own
	// line may already have arrived with it.
	before, _, _ := strings.Cut(text, "kd> dq nt!KiProcessorBlock L1\n")
	text = ts.out.waitFor(t, "  ffffc", strings.Count(before, "  ffffc")+1) // the pool address of processor 0's KPRCB
	_, dq, _ := strings.Cut(text, "kd> dq nt!KiProcessorBlock L1\n")
	f := strings.Fields(dq)
	if len(f) < 2 {
		t.Fatalf("dq: %q", dq)
	}
	ts.send("dt nt!_KPRCB " + f[1] + "\ndt simdrv!_KPRCB\ndt nt!_NOSUCH\n? simdrv!SimDrvState\nq\n")
	if st := ts.wait(); st != ExitCommand {
		t.Fatalf("exit status %d; stderr:\n%s", st, ts.errs)
	}
	out := ts.out.String()
	for _, want := range []string{
		"   nt         (private pdb symbols)  " + ss.dir,
		"   hal        (private pdb symbols)  " + ss.dir,
		"   kdcom      (deferred)\n",
		" simdrv!DriverEntry (void)\n",
		" simdrv!SimDrvState = <enum _SIM_STATE>\n",
		")   nt!KiIdleLoop+0x4   |  (",
		"00 ", " hal!HalProcessorIdle\n",
		" nt!KiIdleLoop+0x14\n",
		"   +0x028 u                  : _KPRCB::<unnamed-tag>\n      +0x000 RspBase         : Uint8B\n",
		"   +0x022 Spare              : Pos 2, 6 Bits\n",
		"   +0x008 CurrentThread : Ptr64 _KTHREAD\n   +0x028 u             : _KPRCB::<unnamed-tag>\n      +0x000 RspBase    : Uint8B\n",
		"          nt!_KPRCB\n          nt!_KPRCB::<unnamed-tag>\n          nt!_KPROCESS\n          nt!_KTHREAD\n",
		"   +0x010 NextThread         : (null)\n",
		"   +0x022 Spare              : 0y000000\n",
		"   +0x024 Number             : 0x0\n",
		"   +0x008 CurrentThread      : 0xffff",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out, "KiIdleLoop_loop") {
		t.Errorf("a name from the export table, not the PDB:\n%s", out)
	}
	errs := ts.errs.String()
	for _, want := range []string{`'simdrv!_KPRCB' (no type named "_KPRCB")`, "nt!_NOSUCH"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	for name, n := range ss.finds {
		if n != 1 {
			t.Errorf("%s was looked for %d times, want once", name, n)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

var (
	reVA     = regexp.MustCompile(`(?m)^\s+([0-9A-F]+) virtual address$`)
	rePublic = regexp.MustCompile("S_PUB32 \\[size = \\d+\\] `([^`]+)`\\s+flags = [^,]+, addr = (\\d+):(\\d+)")
	reStruct = regexp.MustCompile("LF_STRUCTURE \\[size = \\d+\\] `([^`]+)`\\s+vtable: [^,]+, base list: [^,]+, field list: (0x[0-9A-F]+)")
	reMember = regexp.MustCompile("- LF_MEMBER \\[name = `([^`]+)`, Type = [^,]+, offset = (\\d+),")
)

// pdbutilPublics returns "RVA name" for every public of pdbPath, by
// llvm-pdbutil's dump.
func pdbutilPublics(t *testing.T, tool, pdbPath string) map[string]uint64 {
	t.Helper()
	var vas []uint64
	for _, m := range reVA.FindAllStringSubmatch(llvmtest.Run(t, tool, "dump", "--section-headers", pdbPath), -1) {
		v, _ := strconv.ParseUint(m[1], 16, 64)
		vas = append(vas, v)
	}
	out := map[string]uint64{}
	for _, m := range rePublic.FindAllStringSubmatch(llvmtest.Run(t, tool, "dump", "--publics", pdbPath), -1) {
		seg, _ := strconv.Atoi(m[2])
		off, _ := strconv.ParseUint(m[3], 10, 64)
		if seg < 1 || seg > len(vas) {
			t.Fatalf("public %s in section %d of %d", m[1], seg, len(vas))
		}
		out[m[1]] = vas[seg-1] + off
	}
	return out
}

// pdbutilMembers returns "+0xOFF Name" for the members of struct name.
func pdbutilMembers(t *testing.T, tool, pdbPath, name string) []string {
	t.Helper()
	dump := llvmtest.Run(t, tool, "dump", "--types", pdbPath)
	for _, m := range reStruct.FindAllStringSubmatch(dump, -1) {
		if m[1] != name {
			continue
		}
		// The field list record and its members follow "0xNNNN | LF_FIELDLIST".
		at := strings.Index(dump, m[2][2:]+" | LF_FIELDLIST")
		if at < 0 {
			t.Fatalf("no field list %s", m[2])
		}
		block := dump[at+len(" | LF_FIELDLIST")+4:]
		if end := strings.Index(block, " | LF_"); end > 0 {
			block = block[:end]
		}
		var out []string
		for _, mm := range reMember.FindAllStringSubmatch(block, -1) {
			off, _ := strconv.ParseUint(mm[2], 10, 64)
			out = append(out, fmt.Sprintf("+0x%03x %s", off, mm[1]))
		}
		return out
	}
	t.Fatalf("llvm-pdbutil shows no complete %s", name)
	return nil
}

// TestPDBSymbolsMatchPdbutil checks x and dt against llvm-pdbutil's view of
// the same PDB files: every public at the module base plus its RVA, and
// _KPRCB's members at their offsets.
func TestPDBSymbolsMatchPdbutil(t *testing.T) {
	tool := llvmtest.Pdbutil(t)
	opt, ss := withSimSymbols(t)
	ts := startScript(t, opt)
	ts.send("lm\nx simdrv!*\nx nt!*\ndt nt!_KPRCB\nq\n")
	if st := ts.wait(); st != ExitOK {
		t.Fatalf("exit status %d; stderr:\n%s", st, ts.errs)
	}
	out := ts.out.String()
	bases := map[string]uint64{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 4 && strings.HasPrefix(f[3], "(") && strings.Contains(f[0], "`") {
			v, _ := strconv.ParseUint(strings.ReplaceAll(f[0], "`", ""), 16, 64)
			bases[f[2]] = v
		}
	}
	for mod, file := range map[string]string{"simdrv": "simdrv.pdb", "nt": "ntkrnlmp.pdb"} {
		pubs := pdbutilPublics(t, tool, filepath.Join(ss.dir, file, keyOf(t, ss.dir, file), file))
		if len(pubs) == 0 {
			t.Fatalf("llvm-pdbutil shows no publics in %s", file)
		}
		for name, rva := range pubs {
			addr := bases[mod] + rva
			want := fmt.Sprintf("%08x`%08x %s!%s ", addr>>32, uint32(addr), mod, name)
			if !strings.Contains(out, want) {
				t.Errorf("x %s!* lacks %q (llvm-pdbutil's public)", mod, want)
			}
		}
	}
	want := pdbutilMembers(t, tool, filepath.Join(ss.dir, "ntkrnlmp.pdb", keyOf(t, ss.dir, "ntkrnlmp.pdb"), "ntkrnlmp.pdb"), "_KPRCB")
	_, dt, _ := strings.Cut(out, "kd> dt nt!_KPRCB\n")
	var got []string
	for _, l := range strings.Split(dt, "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && strings.HasPrefix(f[0], "+0x") {
			got = append(got, f[0]+" "+f[1])
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("dt nt!_KPRCB members:\n%s\nllvm-pdbutil:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// keyOf returns the one store key directory of file in dir.
func keyOf(t *testing.T, dir, file string) string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, file))
	if err != nil || len(ents) != 1 {
		t.Fatalf("store entry of %s: %v %v", file, ents, err)
	}
	return ents[0].Name()
}

// TestScriptReloadAndNoisy: .reload sends modules back to (deferred),
// .reload /f loads them at once (a second search of the path), !sym noisy
// reports the search, .reload of an unknown module says so.
func TestScriptReloadAndNoisy(t *testing.T) {
	opt, ss := withSimSymbols(t)
	ts := startScript(t, opt)
	ts.send("x simdrv!Sim*\n.reload\nlm m simdrv\n!sym noisy\n.reload /f simdrv\n!sym quiet\n.reload nosuch\n!sym loud\nq\n")
	if st := ts.wait(); st != ExitCommand {
		t.Fatalf("exit status %d; stderr:\n%s", st, ts.errs)
	}
	out := ts.out.String()
	for _, want := range []string{
		"kd> .reload\nLoading Kernel Symbols\n",
		"   simdrv     (deferred)\n",
		"noisy mode - symbol prompts on\n",
		"SYMSRV:  looking for simdrv.pdb (key ",
		"SYMSRV:  simdrv.pdb found at " + ss.dir,
		"   simdrv     (private pdb symbols)  " + ss.dir,
		"quiet mode - symbol prompts off\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if ss.finds["simdrv.pdb"] != 2 {
		t.Errorf("simdrv.pdb searched %d times, want 2 (x, then .reload /f)", ss.finds["simdrv.pdb"])
	}
	errs := ts.errs.String()
	for _, want := range []string{"no module matches 'nosuch'", "!sym takes noisy or quiet"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}
