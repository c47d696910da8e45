package main

import (
	"strings"
	"testing"
)

// FuzzArgsAfterDashes: whatever the kernel command line holds, kdsim gets
// at most maxArgs words, each free of whitespace, all from after a "--".
func FuzzArgsAfterDashes(f *testing.F) {
	f.Add("console=ttyS1 quiet -- --print-every 1s --settle 300ms\n")
	f.Add("--")
	f.Add("a\t--\n-- b")
	f.Fuzz(func(t *testing.T, cmdline string) {
		args := argsAfterDashes(cmdline)
		if len(args) > maxArgs {
			t.Fatalf("%d args", len(args))
		}
		if args != nil && !strings.Contains(cmdline, "--") {
			t.Fatalf("args %q without a --", args)
		}
		for _, a := range args {
			if a == "" || strings.ContainsAny(a, " \t\n\r\v\f") {
				t.Fatalf("word %q", a)
			}
		}
	})
}
