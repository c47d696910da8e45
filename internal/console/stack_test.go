package console

import (
	"fmt"
	"strings"
	"testing"
)

// TestScriptStack walks the simulator's stacks with k, kn, kb and k =:
// at hal!HalProcessorIdle the chain is KiSystemStartup -> KiIdleLoop ->
// HalProcessorIdle, unwound through the images' .pdata (no frame is a
// guess), each RetAddr is the next frame's address, and the Child-SPs grow.
func TestScriptStack(t *testing.T) {
	ts := startScript(t)
	ts.send("bp hal!HalProcessorIdle\ng\n")
	ts.out.waitFor(t, "Breakpoint 0 hit", 1)
	ts.send("kn\nkb\nk 1\nk = @rsp @rip 2\nkp\nkbn\nk 0\nk = \nq\n")
	if st := ts.wait(); st != ExitCommand {
		t.Fatalf("exit status %d; stderr:\n%s", st, ts.errs)
	}
	out := ts.out.String()
	section := func(cmd string) []string {
		_, after, ok := strings.Cut(out, "kd> "+cmd+"\n")
		if !ok {
			t.Fatalf("no %q in the output:\n%s", cmd, out)
		}
		body, _, _ := strings.Cut(after, "kd> ")
		lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
		return lines[:len(lines)-1]
	}
	kn := section("kn")
	if len(kn) != 4 || kn[0] != " # Child-SP          RetAddr           Call Site" {
		t.Fatalf("kn:\n%s", strings.Join(kn, "\n"))
	}
	sites := []string{"hal!HalProcessorIdle", "nt!KiIdleLoop", "nt!KiSystemStartup+0x"}
	var prevSP uint64
	var prevRet string
	for i, row := range kn[1:] {
		f := strings.Fields(row)
		if len(f) != 4 || f[0] != fmt.Sprintf("%02x", i) || !strings.HasPrefix(f[3], sites[i]) {
			t.Errorf("kn row %d = %q, want %s", i, row, sites[i])
			continue
		}
		var sp uint64
		fmt.Sscanf(strings.ReplaceAll(f[1], "`", ""), "%x", &sp)
		if sp <= prevSP {
			t.Errorf("row %d: Child-SP %s does not grow", i, f[1])
		}
		prevSP = sp
		if i > 0 {
			// The return address of the frame before is in this frame's function.
			if prevRet == "00000000`00000000" {
				t.Errorf("row %d follows a zero return address", i)
			}
		}
		prevRet = f[2]
	}
	if prevRet != "00000000`00000000" {
		t.Errorf("the last frame returns to %s, want 0", prevRet)
	}
	if strings.Contains(out, "guess") {
		t.Errorf("a frame of the simulator's images was guessed:\n%s", out)
	}
	kb := section("kb")
	if len(kb) != 4 || !strings.Contains(kb[0], ": Args to Child ") || len(strings.Fields(kb[1])) != 9 {
		t.Errorf("kb:\n%s", strings.Join(kb, "\n"))
	}
	if got := section("k 1"); len(got) != 2 || !strings.HasSuffix(got[1], "hal!HalProcessorIdle") {
		t.Errorf("k 1: %q", got)
	}
	if got := section("k = @rsp @rip 2"); len(got) != 3 || got[1] != kn[1][3:] || got[2] != kn[2][3:] {
		t.Errorf("k = @rsp @rip 2: %q, want the first rows of kn %q", got, kn[1:3])
	}
	if got := section("kp"); len(got) != 4 || !strings.HasSuffix(got[1], "hal!HalProcessorIdle(<no parameter info>)") {
		t.Errorf("kp: %q", got)
	}
	if got := section("kbn"); len(got) != 4 || !strings.HasPrefix(got[0], " # Child-SP") || !strings.Contains(got[0], "Args to Child") {
		t.Errorf("kbn: %q", got)
	}
	errs := ts.errs.String()
	for _, want := range []string{"frame count 0x0 is out of range", "= needs a stack pointer"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}
