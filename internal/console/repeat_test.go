package console

import (
	"regexp"
	"strings"
	"testing"
)

// ENTER on an empty line at the terminal repeats the last repeatable
// command, continuing where it stopped: d* goes on after the bytes it
// showed, u after the instructions, p and t step again. A command that is
// not repeatable (r) ends the repeat.
func TestEnterRepeats(t *testing.T) {
	ts := startTerminal(t)
	prompts := 1
	cmd := func(line string) {
		t.Helper()
		ts.out.waitFor(t, "0: kd> ", prompts)
		ts.send(line + "\r")
		prompts++
	}
	cmd("db fffff800`14a0ff68 L10")
	cmd("")
	cmd("")
	cmd("u nt!DbgBreakPointWithStatus L1")
	cmd("")
	cmd("r rip")
	cmd("")
	cmd("p")
	cmd("")
	cmd("q")
	ts.wait()
	screen := ts.out.String()
	for _, want := range []string{
		"fffff800`14a0ff68  ", "fffff800`14a0ff78  ", "fffff800`14a0ff88  ", // db, ENTER, ENTER
		"fffff800`10a01030 cc              int     3", "fffff800`10a01031 ", // u, ENTER: the next instruction
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q:\n%s", want, screen)
		}
	}
	if n := strings.Count(screen, "rip=fffff80010a01030\n"); n != 1 {
		t.Errorf("r rip shown %d times; ENTER after r must not repeat it:\n%s", n, screen)
	}
	// p, then ENTER: two steps, each showing the registers at a new rip.
	rips := regexp.MustCompile(`(?m)^rax=.*\n(?:.*\n)*?.*rip=([0-9a-f]+)`).FindAllStringSubmatch(screen, -1)
	if len(rips) != 2 || rips[0][1] == rips[1][1] {
		t.Errorf("p and ENTER: register displays at %v; want two at different rips:\n%s", rips, screen)
	}
}
