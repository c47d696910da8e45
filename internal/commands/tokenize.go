package commands

import (
	"strings"
)

// Split splits a command line at the semicolons that are not inside
// double quotes or a { } block, dropping empty pieces and surrounding
// blanks. A piece that starts with $$ (but not the script forms $$< and
// $$>) is a comment up to the next semicolon, quotes and all; a piece that
// starts with * is a comment to the end of the line, semicolons and all.
// Comments stay pieces (the $$ and * commands do nothing), so that a
// script echoes them as KD does.
func Split(line string) []string {
	var out []string
	i := 0
	for i < len(line) {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i == len(line) {
			break
		}
		if line[i] == '*' {
			out = append(out, strings.TrimSpace(line[i:]))
			break
		}
		start := i
		comment := strings.HasPrefix(line[i:], "$$") && !strings.HasPrefix(line[i:], "$$<") && !strings.HasPrefix(line[i:], "$$>")
		quoted, braces := false, 0
	scan:
		for ; i < len(line); i++ {
			switch c := line[i]; {
			case c == ';' && (comment || !quoted && braces == 0):
				break scan
			case comment:
			case c == '"':
				quoted = !quoted
			case c == '{' && !quoted:
				braces++
			case c == '}' && !quoted && braces > 0:
				braces--
			}
		}
		if p := strings.TrimSpace(line[start:i]); p != "" {
			out = append(out, p)
		}
		i++ // the ;
	}
	return out
}

// tokenize splits one command into its name and its argument text using
// the longest name in names that starts the command (case-insensitively),
// so KD's glued forms parse: "db@rsp" is db with "@rsp", "~1s" is ~s with
// "1", ".reload/f" is .reload with "/f". Names longer than two letters that
// end in a letter must be followed by a non-alphanumeric byte, so "helpme"
// is not help, and n (whose argument is a number) must not be followed by
// a letter, so "nosuch" is unknown rather than n. A processor prefix ("~1s") is rewritten to the ~s command.
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
		if n == "n" && len(line) > 1 && isAlnum(line[1]) && !(line[1] >= '0' && line[1] <= '9') {
			continue // n takes a decimal base: "nosuch" is not n
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
