package safetext

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxLineLen bounds one line of target text; longer lines are broken.
const MaxLineLen = 4096

// Sanitize makes target text safe to print on a terminal: ESC and the other
// C0 control bytes except newline and tab, DEL and the C1 controls are shown
// as \xNN escapes, invalid UTF-8 bytes likewise, and a CR directly before a
// newline is dropped.
func Sanitize(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\r' && i+1 < len(b) && b[i+1] == '\n':
				// CRLF: keep the line break only.
			case c == '\n' || c == '\t':
				sb.WriteByte(c)
			case c < 0x20 || c == 0x7f:
				fmt.Fprintf(&sb, `\x%02x`, c)
			default:
				sb.WriteByte(c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&sb, `\x%02x`, c)
			i++
			continue
		case r >= 0x80 && r <= 0x9f, r == 0x2028, r == 0x2029:
			fmt.Fprintf(&sb, `\u%04x`, r)
		default:
			sb.Write(b[i : i+n])
		}
		i += n
	}
	return sb.String()
}

// BoundLines breaks lines longer than MaxLineLen bytes; col is the length
// of the line so far and is updated. s must be valid UTF-8.
func BoundLines(s string, col *int) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r == '\n' {
			*col = 0
		} else {
			if *col >= MaxLineLen {
				b.WriteByte('\n')
				*col = 0
			}
			*col += utf8.RuneLen(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
