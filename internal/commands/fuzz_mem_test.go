package commands

import (
	"strings"
	"testing"
)

// FuzzMemoryArgs: the memory commands' argument parsers (quoted fields,
// a range followed by more arguments, the patterns of s, f and e*, the
// caching flags of the physical commands) never panic on any text, and
// what they accept is bounded.
func FuzzMemoryArgs(f *testing.F) {
	for _, s := range []string{
		`nt L20 de ad be ef`, `-a nt L1000 "This program"`, `-q 0 L?10 0123456789abcdef`, `-u 0 100 "wide"`,
		`ffffd000'00000000 "hi"`, `0 L 10 'ab' 1 2`, `[uc] #1000 L4`, `"unterminated`, `'x`, `-d 0 L`, `,,, ,`,
		`0 L10 1.5 -2e10 NaN inf 1e39`, "0 L10 \"\x1b[2J\"", `[c] -m 0`, `-b 0 L10 100`,
	} {
		f.Add(s)
	}
	eval := func(s string) (uint64, error) { return evalExpr(s, fakeEnv{}) }
	f.Fuzz(func(t *testing.T, args string) {
		fields, err := splitFields(args)
		if err != nil {
			return
		}
		if len(fields) > maxFields {
			t.Fatalf("%d fields", len(fields))
		}
		for _, fl := range fields {
			if fl == "" || !strings.Contains(args, fl) {
				t.Fatalf("field %q is not from %q", fl, args)
			}
		}
		if kind, rest, err := searchKind(fields); err == nil {
			if text, after, err := splitRange(rest, 1); err == nil {
				_, _ = parseRange(text, fakeEnv{})
				if pat, err := searchPattern(kind, after, eval); err == nil && (len(pat) == 0 || len(pat) > maxPatternLen) {
					t.Fatalf("search pattern of %d bytes accepted", len(pat))
				}
			}
		}
		if pat, err := fillPattern(fields, eval); err == nil && (len(pat) == 0 || len(pat) > maxPatternLen) {
			t.Fatalf("fill pattern of %d bytes accepted", len(pat))
		}
		for _, size := range []int{1, 2, 4, 8} {
			if b, err := valueBytes(fields, size, eval); err == nil && len(b) != size*len(fields) {
				t.Fatalf("valueBytes size %d: %d bytes for %d fields", size, len(b), len(fields))
			}
		}
		if b, err := floatBytes(fields, 4); err == nil && len(b) != 4*len(fields) {
			t.Fatalf("floatBytes: %d bytes for %d fields", len(b), len(fields))
		}
		_, _, _ = cachingFlag(fields)
		if len(fields) > 0 {
			if s, ok := quoted(fields[0]); ok {
				_, _ = asciiBytes(s)
				_ = utf16Bytes(s)
			}
		}
	})
}

// TestMemoryParsers pins the parsers' answers.
func TestMemoryParsers(t *testing.T) {
	eval := func(s string) (uint64, error) { return evalExpr(s, fakeEnv{}) }
	for _, tc := range []struct {
		args      string
		rng, rest string
		err       bool
	}{
		{"1000 L20 de ad", "1000 L20", "de ad", false},
		{"1000 L 20 de", "1000 L20", "de", false},
		{"1000 L?20 de", "1000 L?20", "de", false},
		{"1000 L? 20 de", "1000 L?20", "de", false},
		{"1000 2000 de", "1000 2000", "de", false},
		{"1000 2000", "", "", true}, // the second field is the pattern: no range end
		{"1000 L", "", "", true},
		{"", "", "", true},
	} {
		fields, _ := splitFields(tc.args)
		rng, rest, err := splitRange(fields, 1)
		if (err != nil) != tc.err || rng != tc.rng || strings.Join(rest, " ") != tc.rest {
			t.Errorf("splitRange(%q) = %q %q %v", tc.args, rng, rest, err)
		}
	}
	for _, tc := range []struct {
		kind byte
		args string
		want string
	}{
		{'b', "de ad", "\xde\xad"},
		{'w', "1234 'ab'", "\x34\x12\x62\x61"},
		{'d', "efbeadde", "\xde\xad\xbe\xef"},
		{'q', "1", "\x01\x00\x00\x00\x00\x00\x00\x00"},
		{'a', `"hi there"`, "hi there"},
		{'u', `"hi"`, "h\x00i\x00"},
	} {
		fields, _ := splitFields(tc.args)
		got, err := searchPattern(tc.kind, fields, eval)
		if err != nil || string(got) != tc.want {
			t.Errorf("searchPattern(%c, %q) = %q, %v; want %q", tc.kind, tc.args, got, err, tc.want)
		}
	}
	for _, bad := range []string{"100", "'abc'", `"s"`} {
		fields, _ := splitFields(bad)
		if _, err := searchPattern('b', fields, eval); err == nil {
			t.Errorf("searchPattern(b, %q) succeeded", bad)
		}
	}
	if got, err := fillPattern([]string{`"ab"`, "'c'", "64"}, eval); err != nil || string(got) != "abcd" {
		t.Errorf("fillPattern = %q, %v", got, err)
	}
}
