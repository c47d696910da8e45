package pdb

import (
	"unicode"
	"unicode/utf8"
)

// Match reports whether name matches pattern, where '*' matches any run
// of characters (including none) and '?' exactly one, ignoring ASCII and
// simple Unicode case. It runs in O(len(pattern)·len(name)) at worst.
func Match(pattern, name string) bool {
	p, n := 0, 0
	starP, starN := -1, 0
	for n < len(name) {
		if p < len(pattern) {
			pc, ps := utf8.DecodeRuneInString(pattern[p:])
			nc, ns := utf8.DecodeRuneInString(name[n:])
			switch {
			case pc == '*':
				starP, starN = p, n
				p += ps
				continue
			case pc == '?' || foldEq(pc, nc):
				p += ps
				n += ns
				continue
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last star swallow one more character of name.
		_, ns := utf8.DecodeRuneInString(name[starN:])
		starN += ns
		p, n = starP+1, starN
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func foldEq(a, b rune) bool {
	if a == b {
		return true
	}
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		return a == b
	}
	return unicode.SimpleFold(a) == b || unicode.SimpleFold(b) == a || unicode.ToLower(a) == unicode.ToLower(b)
}
