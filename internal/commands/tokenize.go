package commands

import (
	"strings"
)

// Split splits a command line at the semicolons that are not
// inside double quotes, dropping empty pieces and surrounding blanks.
func Split(line string) []string {
	var out []string
	quoted := false
	start := 0
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '"':
			quoted = !quoted
		case ';':
			if !quoted {
				add(line[start:i])
				start = i + 1
			}
		}
	}
	add(line[start:])
	return out
}

// tokenize splits one command into its name and its argument text using
// the longest name in names that starts the command (case-insensitively),
// so KD's glued forms parse: "db@rsp" is db with "@rsp", "~1s" is ~s with
// "1", ".reload/f" is .reload with "/f". Names longer than two letters that
// end in a letter must be followed by a non-alphanumeric byte, so "helpme"
// is not help. A processor prefix ("~1s") is rewritten to the ~s command.
// When nothing matches, name is the first word and ok is false.
func tokenize(line string, names []string) (name, args string, ok bool) {
	line = strings.TrimSpace(line)
	if line == "" {
		return "", "", false
	}
	if line[0] == '~' {
		// ~Ns: digits then s.
		i := 1
		for i < len(line) && (isHexDigit(line[i]) || line[i] == ' ') {
			i++
		}
		if i < len(line) && (line[i] == 's' || line[i] == 'S') && i > 1 && strings.TrimSpace(line[i+1:]) == "" {
			return "~s", strings.TrimSpace(line[1:i]), true
		}
	}
	lower := strings.ToLower(line)
	best := ""
	for _, n := range names {
		// A name with capitals (dD, dW) matches only as written; it
		// wins over its lower-case twin of the same length.
		cased := n != strings.ToLower(n)
		if cased && !strings.HasPrefix(line, n) || !cased && !strings.HasPrefix(lower, n) {
			continue
		}
		if len(n) < len(best) || len(n) == len(best) && !cased {
			continue
		}
		if len(n) > 2 && isAlnum(n[len(n)-1]) && len(line) > len(n) && isAlnum(line[len(n)]) {
			continue
		}
		best = n
	}
	if best == "" {
		f := strings.Fields(line)
		return f[0], strings.TrimSpace(line[len(f[0]):]), false
	}
	return best, strings.TrimSpace(line[len(best):]), true
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
