package commands

import (
	"strings"
	"testing"
)

// FuzzRegisterArgs: r's argument parser never panics, returns at most
// maxRegisterArgs items, and every name it accepts is a register or a
// pseudo-register spelled as written.
func FuzzRegisterArgs(f *testing.F) {
	for _, s := range []string{"rax", "rax, rbx", "@rax=1", "eax=0n100, zf=1", "r8d = @rsp+8", "cr3", "$t0=5", "rax=",
		"=1", ",", "rax,,rbx", "iopl=3", "xmm0", "RAX=(1+2)*3", "$=1", "@@rax", "rax=1=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, args string) {
		items, err := ParseRegisterArgs(args)
		if err != nil {
			return
		}
		if len(items) == 0 || len(items) > maxRegisterArgs {
			t.Fatalf("%q gave %d items", args, len(items))
		}
		for _, it := range items {
			if !strings.Contains(strings.ToLower(args), it.Name) {
				t.Fatalf("%q: name %q is not from the line", args, it.Name)
			}
			if it.Assign && it.Value == "" {
				t.Fatalf("%q: an assignment without a value", args)
			}
		}
	})
}

// FuzzHardwareArgs: the argument parsers of rdmsr, wrmsr, ib/iw/id and
// ob/ow/od never panic, and succeed only when the whole line was used.
func FuzzHardwareArgs(f *testing.F) {
	for _, s := range []string{"c0000082", "c0000102 fffff800`12345678", "70 a", "cf8 80000000", "3fd", "", " ", "1 2 3",
		"(1", "rax rsp", "nt!Foo+4 0n10", "0y101 0t7", "70 (1+1)*2"} {
		f.Add(s)
	}
	eval := func(s string) (uint64, string, error) { return evalPrefix(s, fakeEnv{}) }
	f.Fuzz(func(t *testing.T, args string) {
		if _, err := parseOne("ib "+args, args, eval); err == nil && strings.TrimSpace(args) == "" {
			t.Fatalf("ib with no port succeeded")
		}
		if _, _, err := parseTwo("ob "+args, args, eval); err == nil && len(strings.Fields(args)) < 2 {
			t.Fatalf("ob %q succeeded with fewer than two words", args)
		}
	})
}
