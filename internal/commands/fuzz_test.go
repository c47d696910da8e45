package commands

import (
	"strings"
	"testing"
)

// FuzzCommandLine: splitting, tokenizing and evaluating any command line
// never panics, and tokens come from the line.
func FuzzCommandLine(f *testing.F) {
	for _, s := range []string{"db@rsp", "dd rsp L4; r rax", "r @rax=1", "~1s", ".logopen c:\\x.log", "? (1+2)*3/0",
		"db nt!Foo+0x10 L0n16", "u fffff803`78806e40", "((((((1))))))", "-(-(-1))", "g;;;", "0y102", "1fh*ffffffff"} {
		f.Add(s)
	}
	names := Default().names
	f.Fuzz(func(t *testing.T, line string) {
		for _, part := range Split(line) {
			name, args, ok := tokenize(part, names)
			if ok && !strings.Contains(strings.ToLower(part), strings.TrimSpace(strings.ToLower(args))) {
				t.Fatalf("tokenize(%q) args %q are not from the line", part, args)
			}
			_ = name
			_, _ = evalExpr(args, fakeEnv{})
			_, _ = parseRange(args, fakeEnv{})
		}
	})
}

func TestDeepExpressionIsAnErrorNotACrash(t *testing.T) {
	for _, s := range []string{strings.Repeat("(", 1<<20) + "1", strings.Repeat("-", 1<<20) + "1"} {
		if _, err := evalExpr(s, fakeEnv{}); err == nil {
			t.Fatalf("evalExpr of a %d-deep expression succeeded; want a nesting error", len(s))
		}
	}
	if v, err := evalExpr(strings.Repeat("(", 100)+"1"+strings.Repeat(")", 100), fakeEnv{}); err != nil || v != 1 {
		t.Fatalf("100-deep expression = %v, %v; want 1", v, err)
	}
}

// FuzzExpr: parsing and evaluating any expression, in any radix, never
// panics or hangs, and an expression that evaluates also evaluates the
// same when wrapped in parentheses.
func FuzzExpr(f *testing.F) {
	for _, s := range []string{"1+2*3", "poi(1000)", "by(poi(@$t1))+wo(1002)", "-10>>>4", "0y101 xor 0t17", "1 or 2 and 3 xor 4",
		"not 0 == 1", "hi(12345678) << 0n16 | low(87654321)", "nt!Foo+0x10", "@@masm(1+2)", "@@c++(1)", "3!=3", "4/0", "4 mod 0",
		"fffff803`78806e40", "(((1)))", "$pby(1000)", ". - nt!Foo", "1`0000000000000000", "0x", "10h", "poi"} {
		f.Add(s, uint8(16))
	}
	f.Fuzz(func(t *testing.T, s string, radix uint8) {
		env := fakeEnv{base: []int{16, 10, 8}[int(radix)%3]}
		v, err := evalExpr(s, env)
		if err != nil || len(s) > maxExprLen-2 {
			return
		}
		w, err := evalExpr("("+s+")", env)
		if err != nil && strings.Contains(err.Error(), "nested more than") {
			return // one level more than the limit
		}
		if err != nil || w != v {
			t.Fatalf("(%s) = %#x, %v; %s alone = %#x", s, w, err, s, v)
		}
	})
}
