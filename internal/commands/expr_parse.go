package commands

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// exprOp is the operation of one node of a parsed expression.
type exprOp uint8

// The operations, leaves first.
const (
	opNum  exprOp = iota // a number
	opName               // a register, pseudo-register, module or symbol
	// Unary operators.
	opNeg
	opNot // MASM not: 1 when the operand is 0, else 0
	opHi  // bits 16-31
	opLow // bits 0-15
	opMem // by wo dwo qwo poi (size bytes), $pby ... (phys)
	// Binary operators.
	opMul
	opDiv
	opMod
	opAdd
	opSub
	opShl
	opShr // logical
	opSar // arithmetic
	opEq
	opNe
	opLt
	opGt
	opLe
	opGe
	opAnd
	opXor
	opOr
)

// exprNode is one node of an expression tree.
type exprNode struct {
	op   exprOp
	val  uint64 // opNum
	name string // opName: the text as written (without @)
	at   bool   // opName: written with @, so only a register will do
	size int    // opMem: bytes to read
	phys bool   // opMem: a physical address
	x, y *exprNode
}

// Limits on what one expression may be: no input can exhaust the stack or
// build an unbounded tree.
const (
	maxExprDepth = 256  // nesting of parentheses and unary operators
	maxExprLen   = 4096 // characters (KD's command-line limit)
)

// binaryOps are MASM's binary operators by precedence level, lowest
// first; operators of one level group left to right.
var binaryOps = [][]struct {
	text string
	op   exprOp
}{
	{{"or", opOr}, {"|", opOr}},
	{{"xor", opXor}, {"^", opXor}},
	{{"and", opAnd}, {"&", opAnd}},
	{{"==", opEq}, {"!=", opNe}, {"<=", opLe}, {">=", opGe}, {"=", opEq}, {"<", opLt}, {">", opGt}},
	{{"<<", opShl}, {">>>", opSar}, {">>", opShr}},
	{{"+", opAdd}, {"-", opSub}},
	{{"*", opMul}, {"/", opDiv}, {"%", opMod}, {"mod", opMod}},
}

// unaryWords are the unary operators spelled as words, with the memory
// size they read (0 for the arithmetic ones).
var unaryWords = map[string]struct {
	op   exprOp
	size int
	phys bool
}{
	"not": {opNot, 0, false}, "hi": {opHi, 0, false}, "low": {opLow, 0, false},
	"by": {opMem, 1, false}, "wo": {opMem, 2, false}, "dwo": {opMem, 4, false}, "qwo": {opMem, 8, false}, "poi": {opMem, 8, false},
	"$pby": {opMem, 1, true}, "$pwo": {opMem, 2, true}, "$pdwo": {opMem, 4, true}, "$pqwo": {opMem, 8, true}, "$ppoi": {opMem, 8, true},
}

// exprParser turns the text of a MASM expression into a tree. It reads
// as much of s as forms one expression and stops before the first text
// that cannot continue it (evalPrefix returns that rest).
type exprParser struct {
	s     string
	pos   int
	radix int
	depth int
}

// parseExpr parses the longest expression at the start of s; rest is the
// text after it. radix is the default number base (16, 10 or 8).
func parseExpr(s string, radix int) (n *exprNode, rest string, err error) {
	if len(s) > maxExprLen {
		return nil, "", fmt.Errorf("the expression is longer than %d characters", maxExprLen)
	}
	p := &exprParser{s: s, radix: radix}
	n, err = p.binary(0)
	if err != nil {
		return nil, "", err
	}
	return n, s[p.pos:], nil
}

func (p *exprParser) skip() {
	for p.pos < len(p.s) && isBlank(p.s[p.pos]) {
		p.pos++
	}
}

// binary parses the operators of precedence level and above.
func (p *exprParser) binary(level int) (*exprNode, error) {
	if level == len(binaryOps) {
		return p.unary()
	}
	x, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		op, n, ok := p.peekBinary(level)
		if !ok {
			return x, nil
		}
		p.pos += n
		y, err := p.binary(level + 1)
		if err != nil {
			return nil, err
		}
		x = &exprNode{op: op, x: x, y: y}
	}
}

// peekBinary reports whether an operator of level comes next, and its
// length (blanks before it included).
func (p *exprParser) peekBinary(level int) (exprOp, int, bool) {
	start := p.pos
	p.skip()
	rest := p.s[p.pos:]
	skipped := p.pos - start
	p.pos = start
	for _, o := range binaryOps[level] {
		if len(rest) < len(o.text) || !strings.EqualFold(rest[:len(o.text)], o.text) {
			continue
		}
		if isAlnum(o.text[0]) && len(rest) > len(o.text) && isWordByte(rest[len(o.text)]) {
			continue // "order" is not "or"
		}
		return o.op, skipped + len(o.text), true
	}
	return 0, 0, false
}

// unary parses an operand with its unary operators.
func (p *exprParser) unary() (*exprNode, error) {
	if p.depth++; p.depth > maxExprDepth {
		return nil, fmt.Errorf("the expression is nested more than %d deep", maxExprDepth)
	}
	defer func() { p.depth-- }()
	p.skip()
	if p.pos >= len(p.s) {
		return nil, errors.New("numeric expression missing")
	}
	switch c := p.s[p.pos]; c {
	case '-', '+':
		p.pos++
		x, err := p.unary()
		if err != nil || c == '+' {
			return x, err
		}
		return &exprNode{op: opNeg, x: x}, nil
	case '(':
		p.pos++
		return p.paren()
	case '@':
		return p.register()
	}
	start := p.pos
	w := p.word()
	if w == "" {
		return nil, fmt.Errorf("unexpected '%c'", p.s[p.pos])
	}
	if u, ok := unaryWords[strings.ToLower(w)]; ok {
		x, err := p.unary()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", strings.ToLower(w), err)
		}
		return &exprNode{op: u.op, size: u.size, phys: u.phys, x: x}, nil
	}
	n, err := p.leaf(w)
	if err != nil {
		p.pos = start
	}
	return n, err
}

// paren parses the rest of a parenthesised expression.
func (p *exprParser) paren() (*exprNode, error) {
	x, err := p.binary(0)
	if err != nil {
		return nil, err
	}
	p.skip()
	if p.pos >= len(p.s) || p.s[p.pos] != ')' {
		return nil, errors.New("missing ')'")
	}
	p.pos++
	return x, nil
}

// register parses @name, @@masm(...) and the refused @@c++(...).
func (p *exprParser) register() (*exprNode, error) {
	p.pos++ // @
	if strings.HasPrefix(p.s[p.pos:], "@") {
		rest := strings.ToLower(p.s[p.pos+1:])
		if strings.HasPrefix(rest, "masm(") {
			p.pos += 1 + len("masm(")
			return p.paren()
		}
		return nil, errors.New("the C++ expression evaluator (@@c++(...), @@(...)) is not supported: kd evaluates MASM expressions only")
	}
	w := p.word()
	if w == "" {
		return nil, errors.New("register name expected after @")
	}
	return &exprNode{op: opName, name: w, at: true}, nil
}

// leaf turns one word into a number or a name.
func (p *exprParser) leaf(w string) (*exprNode, error) {
	if w == "." {
		return &exprNode{op: opName, name: "$ip"}, nil
	}
	v, isNum, err := parseNumberRadix(w, p.radix)
	if err != nil {
		return nil, err
	}
	if isNum {
		return &exprNode{op: opNum, val: v}, nil
	}
	if c := w[0]; c >= '0' && c <= '9' && !strings.Contains(w, "!") {
		return nil, fmt.Errorf("bad number '%s' (the default base is %d)", w, p.radix)
	}
	return &exprNode{op: opName, name: w}, nil
}

// word reads a number, register or symbol name.
func (p *exprParser) word() string {
	p.skip()
	start := p.pos
	for p.pos < len(p.s) && isWordByte(p.s[p.pos]) {
		if p.s[p.pos] == '!' && (p.pos+1 >= len(p.s) || p.s[p.pos+1] == '=') {
			break // "3!=3" and "x !" end the word before the !
		}
		p.pos++
	}
	return p.s[start:p.pos]
}

// isBlank reports whether c is ASCII white space (as strings.TrimSpace
// sees it).
func isBlank(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }

func isWordByte(c byte) bool {
	return isAlnum(c) || c == '`' || c == '!' || c == '$' || c == '.' || c == '?'
}

// parseNumber parses one number in KD's notations with hex the default.
func parseNumber(w string) (uint64, bool) {
	v, ok, err := parseNumberRadix(w, 16)
	return v, ok && err == nil
}

// parseNumberRadix parses one number: 0x hex, 0n decimal, 0t octal, 0y
// binary (a prefix alone is 0), a trailing h for hex after a leading
// digit, backticks ignored, otherwise in radix. isNum is false when w is
// not written as a number; err is set when it is one but too large.
func parseNumberRadix(w string, radix int) (v uint64, isNum bool, err error) {
	w = strings.ReplaceAll(w, "`", "")
	if w == "" {
		return 0, false, nil
	}
	base := radix
	lw := strings.ToLower(w)
	digits := lw
	switch {
	case len(lw) >= 2 && lw[0] == '0' && strings.IndexByte("xnty", lw[1]) >= 0:
		base = map[byte]int{'x': 16, 'n': 10, 't': 8, 'y': 2}[lw[1]]
		digits = lw[2:]
		if digits == "" {
			return 0, true, nil
		}
	case len(lw) > 1 && lw[len(lw)-1] == 'h' && lw[0] >= '0' && lw[0] <= '9':
		base, digits = 16, lw[:len(lw)-1]
	}
	for i := 0; i < len(digits); i++ {
		if !digitIn(digits[i], base) {
			return 0, false, nil
		}
	}
	v, perr := strconv.ParseUint(digits, base, 64)
	if perr != nil {
		return 0, true, fmt.Errorf("the number '%s' does not fit in 64 bits", w)
	}
	return v, true, nil
}

// digitIn reports whether c (lower case) is a digit of base.
func digitIn(c byte, base int) bool {
	var d int
	switch {
	case c >= '0' && c <= '9':
		d = int(c - '0')
	case c >= 'a' && c <= 'z':
		d = int(c-'a') + 10
	default:
		return false
	}
	return d < base
}
