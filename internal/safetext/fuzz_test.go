package safetext

import (
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
		for _, line := range strings.Split(BoundLines(out, &col), "\n") {
			if len(line) > MaxLineLen+utf8.UTFMax {
				t.Fatalf("boundLines left a %d-byte line", len(line))
			}
		}
	})
}
