package safetext

import (
	"strings"
	"testing"
)

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text\n", "plain text\n"},
		{"tab\tok\r\n", "tab\tok\n"},
		{"\x1b[2J\x1b]0;owned\x07", `\x1b[2J\x1b]0;owned\x07`},
		{"cr\ronly", `cr\x0donly`},
		{"del\x7f", `del\x7f`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`},
		{"c1 \u009b31m", `c1 \u009b31m`},
		{"ünïcode ok", "ünïcode ok"},
	}
	for _, tt := range tests {
		if got := Sanitize([]byte(tt.in)); got != tt.want {
			t.Errorf("Sanitize(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestBoundLines(t *testing.T) {
	col := 0
	long := strings.Repeat("é", MaxLineLen) // 2 bytes each
	got := strings.Split(BoundLines(long+"\nshort", &col), "\n")
	if len(got) != 3 || len(got[0]) != MaxLineLen || got[0]+got[1] != long || got[2] != "short" || col != 5 {
		t.Errorf("BoundLines: %d lines, col %d", len(got), col)
	}
}
