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
