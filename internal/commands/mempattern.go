package commands

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The argument parsers of the memory commands: quoted fields, ranges
// followed by more arguments, and the patterns of e*, f and s.

// maxFields bounds how many arguments one memory command takes.
const maxFields = 4096

// splitFields splits args at blanks, keeping a "double-quoted" string or
// a 'quoted' character sequence (quotes included) as one field. KD has
// no escapes inside quotes.
func splitFields(args string) ([]string, error) {
	var out []string
	i := 0
	for i < len(args) {
		c := args[i]
		if c == ' ' || c == '\t' || c == ',' {
			i++
			continue
		}
		if len(out) >= maxFields {
			return nil, fmt.Errorf("more than %d arguments", maxFields)
		}
		start := i
		if c == '"' || c == '\'' {
			end := strings.IndexByte(args[i+1:], c)
			if end < 0 {
				return nil, fmt.Errorf("missing closing %c", c)
			}
			i += end + 2
			out = append(out, args[start:i])
			continue
		}
		for i < len(args) && args[i] != ' ' && args[i] != '\t' && args[i] != ',' && args[i] != '"' && args[i] != '\'' {
			i++
		}
		out = append(out, args[start:i])
	}
	return out, nil
}

// splitRange takes a range from the front of fields: "Address L Count"
// (also "LCount", "L?Count", "L? Count") or "Address EndAddress". It
// returns the range's text and the fields after it. A plain second field
// is the range's end only when at least minAfter fields follow it (f, s,
// c and m need their pattern or second address after the range).
func splitRange(fields []string, minAfter int) (string, []string, error) {
	if len(fields) == 0 {
		return "", nil, fmt.Errorf("a range is expected")
	}
	if len(fields) >= 2 {
		f := fields[1]
		if f[0] == 'L' || f[0] == 'l' {
			rest := strings.TrimPrefix(f[1:], "?")
			if rest == "" {
				if len(fields) < 3 {
					return "", nil, fmt.Errorf("a length is expected after %s", f)
				}
				return fields[0] + " " + f + fields[2], fields[3:], nil
			}
			return fields[0] + " " + f, fields[2:], nil
		}
		if len(fields)-2 >= minAfter {
			return fields[0] + " " + fields[1], fields[2:], nil
		}
	}
	return "", nil, fmt.Errorf("a range (Address L Count or Address EndAddress) is expected")
}

// quoted returns the text inside a "double-quoted" field.
func quoted(f string) (string, bool) {
	if len(f) >= 2 && f[0] == '"' && f[len(f)-1] == '"' {
		return f[1 : len(f)-1], true
	}
	return "", false
}

// asciiBytes encodes s as KD's ea does: one byte per character; a
// character outside Latin-1 is refused.
func asciiBytes(s string) ([]byte, error) {
	var b []byte
	for _, r := range s {
		if r == utf8.RuneError || r > 0xFF {
			return nil, fmt.Errorf("%q is not a single-byte character", r)
		}
		b = append(b, byte(r))
	}
	return b, nil
}

// utf16Bytes encodes s as UTF-16LE (eu, s -u).
func utf16Bytes(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

// valueBytes evaluates each field as a value of size bytes (a 'c' quoted
// sequence gives its characters as the value, as KD's ed ' cbA'), and
// returns them little-endian.
func valueBytes(fields []string, size int, eval func(string) (uint64, error)) ([]byte, error) {
	var out []byte
	for _, f := range fields {
		var v uint64
		if f[0] == '\'' {
			s := f[1 : len(f)-1]
			if s == "" || len(s) > size {
				return nil, fmt.Errorf("%s does not fit in %d bytes", f, size)
			}
			for i := 0; i < len(s); i++ { // 'ab' is 0x6162
				v = v<<8 | uint64(s[i])
			}
		} else if f[0] == '"' {
			return nil, fmt.Errorf("a string is not a value here: %s", f)
		} else {
			var err error
			if v, err = eval(f); err != nil {
				return nil, err
			}
			if !fits(v, size) {
				return nil, fmt.Errorf("%s does not fit in %d bytes", f, size)
			}
		}
		out = binary.LittleEndian.AppendUint64(out, v)[:len(out)+size]
	}
	return out, nil
}

// floatBytes parses each field as a float of size 4 or 8 bytes.
func floatBytes(fields []string, size int) ([]byte, error) {
	var out []byte
	for _, f := range fields {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return nil, fmt.Errorf("%s is not a floating-point number", f)
		}
		if size == 4 {
			if math.Abs(v) > math.MaxFloat32 && !math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s does not fit in a float", f)
			}
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(float32(v)))
		} else {
			out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
		}
	}
	return out, nil
}

// searchPattern parses s's pattern for its type flag: b/w/d/q values,
// or a "string" for a (ASCII) and u (UTF-16).
func searchPattern(kind byte, fields []string, eval func(string) (uint64, error)) ([]byte, error) {
	if len(fields) == 0 {
		return nil, fmt.Errorf("a pattern is expected")
	}
	var pat []byte
	switch kind {
	case 'a', 'u':
		if len(fields) != 1 {
			return nil, fmt.Errorf("one \"string\" is expected")
		}
		s, ok := quoted(fields[0])
		if !ok {
			s = fields[0]
		}
		if kind == 'u' {
			pat = utf16Bytes(s)
		} else {
			var err error
			if pat, err = asciiBytes(s); err != nil {
				return nil, err
			}
		}
	default:
		size := map[byte]int{'b': 1, 'w': 2, 'd': 4, 'q': 8}[kind]
		var err error
		if pat, err = valueBytes(fields, size, eval); err != nil {
			return nil, err
		}
	}
	if len(pat) == 0 {
		return nil, fmt.Errorf("the pattern is empty")
	}
	if len(pat) > maxPatternLen {
		return nil, fmt.Errorf("the pattern is longer than %d bytes", maxPatternLen)
	}
	return pat, nil
}

// maxPatternLen bounds a search or fill pattern (target.MaxPattern).
const maxPatternLen = 1024
