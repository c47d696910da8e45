package commands

import (
	"fmt"
	"strings"
)

// rangeArgs is a parsed KD range: "Address [L Count]" or "Address EndAddress".
type rangeArgs struct {
	addr     uint64
	haveAddr bool
	count    uint64 // elements; 0 = the command's default
	end      uint64
	haveEnd  bool
	anySize  bool // "L?": no 256 MiB limit
}

// maxRange is KD's limit on a range given without L?: 256 MiB.
const maxRange = 256 << 20

// length returns the range's length in bytes for elements of size bytes,
// applying KD's rule: more than 256 MiB needs L?.
func (r rangeArgs) length(size int, start uint64) (uint64, error) {
	var n uint64
	switch {
	case r.count > 0:
		if r.count > (1<<63)/uint64(size) {
			return 0, fmt.Errorf("the length is too large")
		}
		n = r.count * uint64(size)
	case r.haveEnd:
		if r.end < start {
			return 0, fmt.Errorf("the end address is before the start")
		}
		n = r.end - start + uint64(size)
		n -= n % uint64(size)
	}
	if n > maxRange && !r.anySize {
		return 0, fmt.Errorf("range error: 0x%x bytes is more than 256 MiB; write L? instead of L to allow it", n)
	}
	return n, nil
}

// parseRange parses a d* / u range.
func parseRange(args string, env exprEnv) (rangeArgs, error) {
	var r rangeArgs
	args = strings.TrimSpace(args)
	if args == "" {
		return r, nil
	}
	addrText, countText, hasL := splitLength(args)
	if addrText != "" {
		v, rest, err := evalPrefix(addrText, env)
		if err != nil {
			return r, err
		}
		r.addr, r.haveAddr = v, true
		if rest = strings.TrimSpace(rest); rest != "" {
			if hasL {
				return r, fmt.Errorf("extra characters %q", rest)
			}
			e, err := evalExpr(rest, env)
			if err != nil {
				return r, err
			}
			if e < v {
				return r, fmt.Errorf("the end address is below the start")
			}
			r.end, r.haveEnd = e, true
		}
	}
	if hasL {
		countText = strings.TrimSpace(countText)
		r.anySize = strings.HasPrefix(countText, "?")
		countText = strings.TrimPrefix(countText, "?")
		n, err := evalExpr(countText, env)
		if err != nil {
			return r, fmt.Errorf("bad length: %v", err)
		}
		if n == 0 {
			return r, fmt.Errorf("the length must not be 0")
		}
		r.count = n
	}
	return r, nil
}

// splitLength finds the " L count" part of a range: an L (either case) at
// the start of a word.
func splitLength(args string) (addr, count string, ok bool) {
	for i := 0; i < len(args); i++ {
		if (args[i] == 'L' || args[i] == 'l') && (i == 0 || args[i-1] == ' ' || args[i-1] == '\t') {
			rest := strings.TrimSpace(args[i+1:])
			if rest == "" {
				continue
			}
			c := rest[0]
			if isHexDigit(c) || c == '?' || c == '0' || c == '@' || c == '(' {
				return strings.TrimSpace(args[:i]), rest, true
			}
		}
	}
	return args, "", false
}
