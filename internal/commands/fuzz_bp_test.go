package commands

import (
	"strings"
	"testing"
)

// FuzzBreakpointArgs: the bp/bu/bm/ba, bc/bd/be/bl and g/p/t argument
// parsers never panic, their results come from the line, and an id list
// stays bounded.
func FuzzBreakpointArgs(f *testing.F) {
	for _, s := range []string{`/1 nt!Foo 3 "r rip; k"`, `w4 simdrv!SimDrvTickCount`, `e 1 fffff800'11201010`,
		`~1 nt!Foo`, `/p 1 nt`, `nt!Foo "unterminated`, `x "a \"quoted\" b\\" tail`, `1-3, 5 *`, `65535-0`,
		`= nt!KiIdleLoop 5`, `=`, `r8`, "\"\"", strings.Repeat("1,", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, args string) {
		for _, hw := range []bool{false, true} {
			b, err := parseBreakArgs("bp", args, hw)
			if err != nil {
				continue
			}
			norm := func(s string) string { return strings.Join(strings.Fields(s), " ") }
			if b.addr == "" || !strings.Contains(norm(args), norm(b.addr)) || b.passes != "" && !strings.Contains(norm(args), norm(b.passes)) {
				t.Fatalf("parseBreakArgs(%q) = %+v: address or passes not from the line", args, b)
			}
			if len(b.action) > maxAction || len(b.action) > len(args) {
				t.Fatalf("action of %d bytes from a %d-byte line", len(b.action), len(args))
			}
			if hw && (b.size != 1 && b.size != 2 && b.size != 4 && b.size != 8 || !strings.ContainsRune("erwi", rune(b.access))) {
				t.Fatalf("ba %q gave access %q size %d", args, b.access, b.size)
			}
		}
		if set, err := parseIDs("bc", args, false); err == nil {
			if len(set.ids)+len(set.ranges) > maxIDTerms {
				t.Fatalf("%d id terms", len(set.ids)+len(set.ranges))
			}
			for _, r := range set.ranges {
				if r[0] > r[1] {
					t.Fatalf("range %v", r)
				}
			}
			ids, _ := set.resolve([]int{0, 1, 2, 3, 0xFFFF})
			if len(ids) > len(set.ids)+5 {
				t.Fatalf("resolve gave %d ids", len(ids))
			}
		}
		if x, err := parseExecArgs("g", args); err == nil {
			if len(x.rest) > maxExecWords || x.start != "" && !strings.Contains(args, x.start) {
				t.Fatalf("parseExecArgs(%q) = %+v", args, x)
			}
		}
	})
}
