package commands

import (
	"errors"
	"fmt"
	"strings"
)

// exprEnv resolves the names an expression uses and reads the memory its
// by/wo/dwo/qwo/poi operators ask for.
type exprEnv interface {
	// register returns a register of the current processor, or a
	// pseudo-register when name starts with $; ok is false when name is
	// neither.
	register(name string) (v uint64, ok bool, err error)
	// symbol resolves module!name, or a module name to its base.
	symbol(name string) (uint64, error)
	// memory reads size (1, 2, 4 or 8) bytes at addr, little-endian;
	// phys: addr is a physical address.
	memory(addr uint64, size int, phys bool) (uint64, error)
	// radix is the default number base (16, 10 or 8).
	radix() int
}

// evalExpr evaluates all of s as a MASM expression: numbers in the
// default radix (0x hex, 0n decimal, 0t octal, 0y binary, a trailing h,
// backticks ignored), registers with or without @, pseudo-registers,
// module!symbol names, the unary operators - + not hi low by wo dwo qwo
// poi, the binary operators of binaryOps and parentheses. The text is
// parsed into a tree first, then the tree is evaluated.
func evalExpr(s string, env exprEnv) (uint64, error) {
	v, rest, err := evalPrefix(s, env)
	if err != nil {
		return 0, err
	}
	if rest = strings.Trim(rest, " \t\n\v\f\r"); rest != "" {
		return 0, fmt.Errorf("extra characters '%s' (an operator is missing?)", rest)
	}
	return v, nil
}

// evalPrefix evaluates the longest expression at the start of s and
// returns the text after it.
func evalPrefix(s string, env exprEnv) (uint64, string, error) {
	n, rest, err := parseExpr(s, env.radix())
	if err != nil {
		return 0, "", err
	}
	v, err := evalNode(n, env)
	if err != nil {
		return 0, "", err
	}
	return v, rest, nil
}

// errDivide is a division or modulus by zero (KD's "Operand error").
var errDivide = errors.New("divide by zero (operand error)")

// evalNode evaluates a tree. Arithmetic is on unsigned 64-bit values, as
// KD's MASM evaluator does it; >>> shifts in the sign bit.
func evalNode(n *exprNode, env exprEnv) (uint64, error) {
	switch n.op {
	case opNum:
		return n.val, nil
	case opName:
		return evalName(n, env)
	}
	x, err := evalNode(n.x, env)
	if err != nil {
		return 0, err
	}
	switch n.op {
	case opNeg:
		return -x, nil
	case opNot:
		return b2u(x == 0), nil
	case opHi:
		return x >> 16 & 0xffff, nil
	case opLow:
		return x & 0xffff, nil
	case opMem:
		return env.memory(x, n.size, n.phys)
	}
	y, err := evalNode(n.y, env)
	if err != nil {
		return 0, err
	}
	switch n.op {
	case opMul:
		return x * y, nil
	case opDiv, opMod:
		if y == 0 {
			return 0, errDivide
		}
		if n.op == opDiv {
			return x / y, nil
		}
		return x % y, nil
	case opAdd:
		return x + y, nil
	case opSub:
		return x - y, nil
	case opShl:
		return x << y, nil
	case opShr:
		return x >> y, nil
	case opSar:
		return uint64(int64(x) >> y), nil
	case opEq:
		return b2u(x == y), nil
	case opNe:
		return b2u(x != y), nil
	case opLt:
		return b2u(x < y), nil
	case opGt:
		return b2u(x > y), nil
	case opLe:
		return b2u(x <= y), nil
	case opGe:
		return b2u(x >= y), nil
	case opAnd:
		return x & y, nil
	case opXor:
		return x ^ y, nil
	case opOr:
		return x | y, nil
	}
	return 0, fmt.Errorf("unknown operation %d", n.op)
}

// evalName resolves a name: with @ only a register or pseudo-register;
// without, a register, then a symbol or module.
func evalName(n *exprNode, env exprEnv) (uint64, error) {
	v, ok, err := env.register(n.name)
	if err != nil {
		return 0, err
	}
	if ok {
		return v, nil
	}
	if n.at || strings.HasPrefix(n.name, "$") {
		return 0, fmt.Errorf("bad register error at '@%s'", n.name)
	}
	return env.symbol(n.name)
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
