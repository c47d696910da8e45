package commands

import (
	"strconv"
	"strings"
)

// maxAction bounds a breakpoint's command string.
const maxAction = 4096

// breakArgs is what bp, bu, bm and ba were given, before evaluation.
type breakArgs struct {
	oneShot   bool
	access    byte   // ba: e, r, w or i
	size      int    // ba: 1, 2, 4 or 8
	addr      string // the address expression (bm: the pattern)
	passes    string // the pass count expression, "" for none
	action    string // the command string, unquoted
	hasAction bool
}

// parseBreakArgs parses "[/1] [Access Size] Address [Passes] ["Commands"]"
// (the access and size only when hw is set, for ba). Every other option is
// refused by name, and so is a ~N processor prefix: kernel breakpoints
// apply to every processor.
func parseBreakArgs(name, args string, hw bool) (breakArgs, error) {
	var b breakArgs
	line := strings.TrimSpace(name + " " + args)
	s := strings.TrimSpace(args)
	if strings.HasPrefix(s, "~") {
		return b, &Error{Msg: "kernel breakpoints apply to every processor: " + name + " takes no ~N",
			Hints: []string{"drop the ~N; the breakpoint stops whichever processor reaches it"}}
	}
	for strings.HasPrefix(s, "/") {
		opt, rest, _ := strings.Cut(s, " ")
		if opt != "/1" {
			return b, syntaxErr(line, "option %s is not supported (kd knows /1, a one-shot breakpoint)", quoteWord(opt))
		}
		b.oneShot = true
		s = strings.TrimSpace(rest)
	}
	if i := strings.IndexByte(s, '"'); i >= 0 {
		act, tail, ok := unquoteAction(s[i+1:])
		if !ok {
			return b, syntaxErr(line, "the command string has no closing quote")
		}
		if strings.TrimSpace(tail) != "" {
			return b, syntaxErr(line, "nothing may follow the quoted command string")
		}
		if len(act) > maxAction {
			return b, syntaxErr(line, "the command string is longer than %d bytes", maxAction)
		}
		b.action, b.hasAction = act, true
		s = strings.TrimSpace(s[:i])
	}
	f := strings.Fields(s)
	if hw {
		if len(f) == 0 {
			return b, syntaxErr(line, "an access (e, r, w or i), a size and an address are expected")
		}
		b.access = f[0][0] | 0x20
		sz := f[0][1:]
		f = f[1:]
		if sz == "" && len(f) > 0 {
			sz, f = f[0], f[1:]
		}
		if !strings.ContainsRune("erwi", rune(b.access)) {
			return b, syntaxErr(line, "bad access %s: e (execute), r (read/write), w (write) or i (I/O)", quoteWord(f0(args)))
		}
		n, err := strconv.ParseUint(sz, 10, 8)
		if err != nil || n != 1 && n != 2 && n != 4 && n != 8 {
			return b, syntaxErr(line, "bad size %s: 1, 2, 4 or 8", quoteWord(sz))
		}
		b.size = int(n)
	}
	if len(f) == 0 {
		return b, syntaxErr(line, "an address is expected")
	}
	b.addr, b.passes = splitAddrPasses(strings.Join(f, " "))
	if b.passes != "" {
		if _, tail, err := parseExpr(b.passes, 16); err == nil && strings.TrimSpace(tail) != "" {
			return b, syntaxErr(line, "expected ADDRESS [PASSES]: %s is left over", quoteWord(strings.TrimSpace(tail)))
		}
	}
	return b, nil
}

// splitAddrPasses splits "Address [Passes]" where the address may be an
// expression with blanks in it (nt!Foo + 10 3): the longest expression at
// the start is the address. Text that does not parse as an expression is
// split at the first blank (the evaluator reports the error later).
func splitAddrPasses(s string) (addr, passes string) {
	if len(s) > maxExprLen {
		return s, "" // the evaluator refuses it
	}
	if _, tail, err := parseExpr(s, 16); err == nil && len(tail) < len(s) {
		return strings.TrimSpace(s[:len(s)-len(tail)]), strings.TrimSpace(tail)
	}
	a, p, _ := strings.Cut(s, " ")
	return a, strings.TrimSpace(p)
}

func f0(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

// quoteWord quotes a word of the user's for an error message, shortened.
func quoteWord(w string) string {
	if len(w) > 40 {
		w = w[:40] + "..."
	}
	return strconv.Quote(w)
}

// unquoteAction reads a command string up to its closing quote; \" is a
// quote inside it and \\ a backslash. It returns the text after the
// closing quote.
func unquoteAction(s string) (act, tail string, ok bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\'):
			b.WriteByte(s[i+1])
			i++
		case c == '"':
			return b.String(), s[i+1:], true
		default:
			b.WriteByte(c)
		}
	}
	return "", "", false
}

// idSet is what bc, bd, be and bl select: ids, ranges (1-3) or all (*).
type idSet struct {
	all    bool
	ids    []int    // single ids: each must exist
	ranges [][2]int // inclusive ranges: the ids that exist in them
}

// maxIDTerms bounds the terms of one id list.
const maxIDTerms = 256

// parseIDs parses breakpoint ids as bl shows them (decimal): a list
// separated by blanks or commas, ranges a-b, or *.
func parseIDs(name, args string, optional bool) (idSet, error) {
	var set idSet
	fields := strings.FieldsFunc(args, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' })
	if len(fields) == 0 {
		if optional {
			set.all = true
			return set, nil
		}
		return set, syntaxErr(name, "breakpoint IDs or * are expected")
	}
	if len(fields) > maxIDTerms {
		return set, syntaxErr(name+" "+args, "more than %d breakpoint IDs", maxIDTerms)
	}
	bad := func(f string) error {
		return syntaxErr(name+" "+args, "bad breakpoint ID %s (IDs are decimal, as bl shows them; a range is 1-3)", quoteWord(f))
	}
	for _, f := range fields {
		if f == "*" {
			set.all = true
			continue
		}
		lo, hi, isRange := strings.Cut(f, "-")
		a, err := strconv.ParseUint(lo, 10, 16)
		if err != nil {
			return set, bad(f)
		}
		if !isRange {
			set.ids = append(set.ids, int(a))
			continue
		}
		z, err := strconv.ParseUint(hi, 10, 16)
		if err != nil || z < a {
			return set, bad(f)
		}
		set.ranges = append(set.ranges, [2]int{int(a), int(z)})
	}
	return set, nil
}

// resolve turns the set into the ids to act on, given the ids that exist:
// single ids pass through (the target says when one does not exist),
// ranges keep the existing ids in them.
func (set idSet) resolve(existing []int) (ids []int, all bool) {
	if set.all {
		return nil, true
	}
	ids = append(ids, set.ids...)
	for _, id := range existing {
		for _, r := range set.ranges {
			if id >= r[0] && id <= r[1] {
				ids = append(ids, id)
				break
			}
		}
	}
	return ids, false
}

// execArgs is what g, p, t and their forms were given: "= Start" and the
// words after it.
type execArgs struct {
	start string // "" when there is no = StartAddress
	rest  []string
}

// maxExecWords bounds the words of an execution command.
const maxExecWords = 16

// parseExecArgs parses "[= StartAddress] [words...]". A quoted command
// string (KD's p "cmd") is refused.
func parseExecArgs(name, args string) (execArgs, error) {
	var x execArgs
	s := strings.TrimSpace(args)
	line := strings.TrimSpace(name + " " + args)
	if strings.ContainsRune(s, '"') {
		return x, syntaxErr(line, "kd does not run a command string after %s", name)
	}
	if strings.HasPrefix(s, "=") {
		s = strings.TrimSpace(s[1:])
		w, rest, _ := strings.Cut(s, " ")
		if w == "" {
			return x, syntaxErr(line, "an address is expected after =")
		}
		x.start, s = w, rest
	}
	x.rest = strings.Fields(s)
	if len(x.rest) > maxExecWords {
		return x, syntaxErr(line, "too many arguments")
	}
	return x, nil
}
