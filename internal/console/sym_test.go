package console

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// simSymbols returns the simulator's names of module mod ("nt", ...) that
// its images export, as "address name" lines in x's order.
func simSymbols(syms map[string]uint64, mod, prefix string) []string {
	var out []string
	for name, addr := range syms {
		m, n, _ := strings.Cut(name, "!")
		if m == mod && strings.HasPrefix(strings.ToLower(n), strings.ToLower(prefix)) && !strings.HasPrefix(n, "__") {
			out = append(out, fmt.Sprintf("%08x`%08x %s!%s", addr>>32, uint32(addr), m, n))
		}
	}
	sort.Strings(out)
	return out
}

// TestScriptModulesAndSymbols runs lm, x and ln against the simulator:
// the modules are its loader list, x lists exactly its exported names
// (no PDB on the path: export symbols), ln brackets an address.
func TestScriptModulesAndSymbols(t *testing.T) {
	ts := startScript(t)
	ts.send("lm\nx nt!Ke*\nx simdrv!SimDrv*\nln nt!KeBugCheckEx+3\nln nt!KeBugCheckEx\nlm m s*\nlmv m hal\nx nt\nx nosuch!x\nq\n")
	if st := ts.wait(); st != ExitCommand {
		t.Fatalf("exit status %d; stderr:\n%s", st, ts.errs)
	}
	out := ts.out.String()
	syms := ts.c.cfg.Symbols
	section := func(cmd string) []string {
		_, after, ok := strings.Cut(out, "kd> "+cmd+"\n")
		if !ok {
			t.Fatalf("no %q in the output:\n%s", cmd, out)
		}
		body, _, _ := strings.Cut(after, "kd> ")
		lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
		if len(lines) > 0 {
			lines = lines[:len(lines)-1] // the next prompt's processor number
		}
		return lines
	}
	lm := section("lm")
	if len(lm) != 5 || lm[0] != "start             end                 module name" {
		t.Fatalf("lm:\n%s", strings.Join(lm, "\n"))
	}
	for i, mod := range []string{"nt", "hal", "kdcom", "simdrv"} {
		base := syms[mod+"!__ImageBase"]
		want := fmt.Sprintf("%08x`%08x ", base>>32, uint32(base))
		if !strings.HasPrefix(lm[i+1], want) || strings.Fields(lm[i+1])[2] != mod {
			t.Errorf("lm row %d = %q, want %s at %s", i, lm[i+1], mod, want)
		}
	}
	if !strings.Contains(lm[1], "(export symbols)       ntoskrnl.exe") || !strings.HasSuffix(lm[2], "(deferred)") {
		t.Errorf("lm states: %q %q", lm[1], lm[2])
	}
	for _, c := range []struct{ cmd, mod, prefix string }{{"x nt!Ke*", "nt", "Ke"}, {"x simdrv!SimDrv*", "simdrv", "SimDrv"}} {
		got := section(c.cmd)
		want := simSymbols(syms, c.mod, c.prefix)
		for i := range got {
			got[i] = strings.TrimSuffix(got[i], " (<no parameter info>)")
		}
		sort.Strings(got)
		if strings.Join(got, "\n") != strings.Join(want, "\n") || len(want) == 0 {
			t.Errorf("%s:\n%s\nwant:\n%s", c.cmd, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	kbc := syms["nt!KeBugCheckEx"]
	if got := section("ln nt!KeBugCheckEx+3"); len(got) != 1 || !strings.HasPrefix(got[0], fmt.Sprintf("(%08x`%08x)   nt!KeBugCheckEx+0x3   |  (", kbc>>32, uint32(kbc))) {
		t.Errorf("ln +3: %q", got)
	}
	if got := section("ln nt!KeBugCheckEx"); len(got) != 3 || got[1] != "Exact matches:" || got[2] != "    nt!KeBugCheckEx (<no parameter info>)" {
		t.Errorf("ln exact: %q", got)
	}
	if got := section("lm m s*"); len(got) != 2 || !strings.Contains(got[1], "simdrv") {
		t.Errorf("lm m s*: %q", got)
	}
	lmv := strings.Join(section("lmv m hal"), "\n")
	for _, want := range []string{"(export symbols)       hal.dll", `Image path: \SystemRoot\system32\hal.dll`, "PDB:              hal.pdb (key ", "ImageSize:        00004000"} {
		if !strings.Contains(lmv, want) {
			t.Errorf("lmv m hal lacks %q:\n%s", want, lmv)
		}
	}
	errs := ts.errs.String()
	for _, want := range []string{"x needs Module!Pattern", `no module "nosuch" is loaded`} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}
