package console

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzSanitize: whatever a target sends, what reaches the terminal is valid
// UTF-8 with no control byte other than newline and tab, and no C1 control.
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"hello\n", "\x1b[2J\x1b]0;pwned\x07", "a\r\nb\rc", "\xff\xfe\xc3", "\u009b31m", "tab\there\u2028"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out := Sanitize(b)
		if !utf8.ValidString(out) {
			t.Fatalf("Sanitize(%q) = %q: not valid UTF-8", b, out)
		}
		for _, r := range out {
			if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
				t.Fatalf("Sanitize(%q) = %q: control %U passed through", b, out, r)
			}
		}
		col := 0
		for _, line := range strings.Split(boundLines(out, &col), "\n") {
			if len(line) > MaxLineLen+utf8.UTFMax {
				t.Fatalf("boundLines left a %d-byte line", len(line))
			}
		}
	})
}

// FuzzCommandLine: splitting, tokenizing and evaluating any command line
// never panics, and tokens come from the line.
func FuzzCommandLine(f *testing.F) {
	for _, s := range []string{"db@rsp", "dd rsp L4; r rax", "r @rax=1", "~1s", ".logopen c:\\x.log", "? (1+2)*3/0",
		"db nt!Foo+0x10 L0n16", "u fffff803`78806e40", "((((((1))))))", "-(-(-1))", "g;;;", "0y102", "1fh*ffffffff"} {
		f.Add(s)
	}
	names := defaultCommands().names
	f.Fuzz(func(t *testing.T, line string) {
		for _, part := range splitCommands(line) {
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

func TestScriptLineTooLongIsSkipped(t *testing.T) {
	in := NewScriptInput(strings.NewReader(strings.Repeat("x", 1<<20) + "\nr\n"))
	if _, err := in.ReadLine(""); !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("ReadLine of a 1 MiB line: err = %v; want ErrLineTooLong", err)
	}
	if line, err := in.ReadLine(""); err != nil || line != "r" {
		t.Fatalf("next line = %q, %v; want \"r\"", line, err)
	}
	ok := strings.Repeat("y", MaxCommandLen)
	in = NewScriptInput(strings.NewReader(ok + "\r\n"))
	if line, err := in.ReadLine(""); err != nil || line != ok {
		t.Fatalf("a %d-character line: err = %v", MaxCommandLen, err)
	}
}
