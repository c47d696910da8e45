package commands

import (
	"fmt"
	"strconv"
	"strings"
)

// exprEnv resolves the names an expression uses.
type exprEnv interface {
	// register returns a register of the current processor; ok is false
	// when name is not a register.
	register(name string) (v uint64, ok bool, err error)
	// symbol resolves module!name, or a module name to its base.
	symbol(name string) (uint64, error)
}

// exprParser evaluates KD's MASM-style expressions: numbers in hex by
// default (0x hex, 0n decimal, 0t octal, 0y binary, a trailing h, backticks
// ignored), registers with or without @, module!symbol names, + - * /,
// unary minus and parentheses.
type exprParser struct {
	s     string
	pos   int
	env   exprEnv
	depth int // nesting of parentheses and unary operators
}

// maxExprDepth bounds the nesting of an expression, so that no input can
// exhaust the stack.
const maxExprDepth = 256

// evalExpr evaluates all of s.
func evalExpr(s string, env exprEnv) (uint64, error) {
	v, rest, err := evalPrefix(s, env)
	if err != nil {
		return 0, err
	}
	if strings.TrimSpace(rest) != "" {
		return 0, fmt.Errorf("extra characters %q", strings.TrimSpace(rest))
	}
	return v, nil
}

// evalPrefix evaluates the longest expression at the start of s and
// returns the text after it.
func evalPrefix(s string, env exprEnv) (uint64, string, error) {
	p := &exprParser{s: s, env: env}
	v, err := p.sum()
	if err != nil {
		return 0, "", err
	}
	return v, p.s[p.pos:], nil
}

func (p *exprParser) skip() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

func (p *exprParser) peek() byte {
	p.skip()
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *exprParser) sum() (uint64, error) {
	v, err := p.product()
	if err != nil {
		return 0, err
	}
	for {
		switch p.peek() {
		case '+':
			p.pos++
			w, err := p.product()
			if err != nil {
				return 0, err
			}
			v += w
		case '-':
			p.pos++
			w, err := p.product()
			if err != nil {
				return 0, err
			}
			v -= w
		default:
			return v, nil
		}
	}
}

func (p *exprParser) product() (uint64, error) {
	v, err := p.unary()
	if err != nil {
		return 0, err
	}
	for {
		switch p.peek() {
		case '*':
			p.pos++
			w, err := p.unary()
			if err != nil {
				return 0, err
			}
			v *= w
		case '/':
			p.pos++
			w, err := p.unary()
			if err != nil {
				return 0, err
			}
			if w == 0 {
				return 0, fmt.Errorf("division by zero")
			}
			v /= w
		default:
			return v, nil
		}
	}
}

func (p *exprParser) unary() (uint64, error) {
	if p.depth++; p.depth > maxExprDepth {
		return 0, fmt.Errorf("expression nested more than %d deep", maxExprDepth)
	}
	defer func() { p.depth-- }()
	switch p.peek() {
	case '-':
		p.pos++
		v, err := p.unary()
		return -v, err
	case '+':
		p.pos++
		return p.unary()
	case '(':
		p.pos++
		v, err := p.sum()
		if err != nil {
			return 0, err
		}
		if p.peek() != ')' {
			return 0, fmt.Errorf("missing )")
		}
		p.pos++
		return v, nil
	case '@':
		p.pos++
		name := p.word()
		if name == "" {
			return 0, fmt.Errorf("register name expected after @")
		}
		v, ok, err := p.env.register(name)
		if err != nil {
			return 0, err
		}
		if !ok {
			return 0, fmt.Errorf("bad register %q", name)
		}
		return v, nil
	case 0:
		return 0, fmt.Errorf("expression expected")
	}
	w := p.word()
	if w == "" {
		return 0, fmt.Errorf("unexpected %q", p.s[p.pos:p.pos+1])
	}
	if v, ok := parseNumber(w); ok {
		return v, nil
	}
	if !strings.Contains(w, "!") {
		v, ok, err := p.env.register(w)
		if err != nil {
			return 0, err
		}
		if ok {
			return v, nil
		}
	}
	return p.env.symbol(w)
}

// word reads a number, register or symbol name.
func (p *exprParser) word() string {
	p.skip()
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if isAlnum(c) || c == '`' || c == '!' || c == '$' || c == '.' || c == '?' {
			p.pos++
			continue
		}
		break
	}
	return p.s[start:p.pos]
}

// parseNumber parses one number in KD's notations; hex is the default.
func parseNumber(w string) (uint64, bool) {
	w = strings.ReplaceAll(w, "`", "")
	if w == "" {
		return 0, false
	}
	base := 16
	lw := strings.ToLower(w)
	switch {
	case strings.HasPrefix(lw, "0x"):
		w = w[2:]
	case strings.HasPrefix(lw, "0n"):
		base, w = 10, w[2:]
	case strings.HasPrefix(lw, "0t"):
		base, w = 8, w[2:]
	case strings.HasPrefix(lw, "0y"):
		base, w = 2, w[2:]
	case len(lw) > 1 && strings.HasSuffix(lw, "h") && lw[0] >= '0' && lw[0] <= '9':
		w = w[:len(w)-1]
	}
	if w == "" {
		return 0, false
	}
	v, err := strconv.ParseUint(w, base, 64)
	if err != nil {
		return 0, false
	}
	return v, true
}

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
