package commands

import (
	"strings"
	"testing"
)

// FuzzKobjArgs: the !process, !thread and !error argument parsers never
// panic on any line, and what they keep comes from the line.
func FuzzKobjArgs(f *testing.F) {
	for _, s := range []string{"", "0 0", "0 0 lsass.exe", "ffffc000`12400000 7", "2b0 7", "-1", "-1 2", "/s 1 0 0",
		"0 0 a b", "(1+2) 7 x.exe", "0 0 " + strings.Repeat("a", 300), "-p", "c0000005 1", "0y1 0t7", "poi(1) 2"} {
		f.Add(s)
	}
	eval := func(s string) (uint64, string, error) { return evalPrefix(s, fakeEnv{}) }
	f.Fuzz(func(t *testing.T, args string) {
		if a, err := parseProcessArgs("!process "+args, args, eval); err == nil {
			if a.Image != "" && !strings.Contains(args, a.Image) || len(a.Image) > maxImageName {
				t.Fatalf("!process %q kept image %q", args, a.Image)
			}
			if a.All && (a.Current || a.ByPID) || a.ByPID && a.PID >= 0x10000 {
				t.Fatalf("!process %q: inconsistent %+v", args, a)
			}
		}
		if a, err := parseThreadArgs("!thread "+args, args, eval); err == nil && a.Current && a.Addr != 0 {
			t.Fatalf("!thread %q: current with an address %+v", args, a)
		}
		_, _, _ = parseErrorArgs("!error "+args, args, eval)
		if v, err := evalExpr(args, fakeEnv{}); err == nil {
			c := LookupError(v, false)
			if c.Line() == "" {
				t.Fatalf("!error %#x has no line", v)
			}
		}
	})
}
