package commands

import (
	"context"
	"strconv"
	"strings"
)

var typeCommands = []*Command{
	{
		Names: []string{"dt"}, Group: groupSym,
		Example: "dt nt!_LIST_ENTRY",
		Help: "Display a type's layout from the module's PDB, with values when given an address.\n\n" +
			"\tdt [-r[Depth]] [Module!]Type [Field...] [Address]\n\tdt [Module!]Pattern*\n\n" +
			"Each line is +0xOFFSET Name : Type, in KD's type words (Uint4B, Ptr64 _KTHREAD, Pos 0, 1 Bit, [13] Char). " +
			"-r expands embedded structures (one level, or Depth levels); Field names a member, or a path into an " +
			"embedded structure (u.RspBase). The module is nt when none is given. A pattern with * or ? lists the " +
			"matching type names.",
		Run: cmdDt,
	},
}

func cmdDt(ctx context.Context, e *Env, args string) (Result, error) {
	line := strings.TrimSpace("dt " + args)
	words := strings.Fields(args)
	depth := 0
	var typ string
	var fields []string
	var addr uint64
	hasAddr := false
	for _, w := range words {
		switch {
		case strings.HasPrefix(w, "-r"):
			depth = 1
			if n := w[2:]; n != "" {
				v, err := strconv.Atoi(n)
				if err != nil || v < 0 {
					return nil, syntaxErr(line, "-r takes a decimal depth")
				}
				depth = v
			}
		case strings.HasPrefix(w, "-"):
			return nil, syntaxErr(line, "unknown option %s (kd knows -r[Depth])", w)
		case typ == "":
			typ = w
		case isFieldWord(w):
			fields = append(fields, w)
		default:
			if hasAddr {
				return nil, syntaxErr(line, "more than one address")
			}
			v, err := e.eval(ctx, w)
			if err != nil {
				return nil, syntaxErr(line, "%v", err)
			}
			addr, hasAddr = v, true
		}
	}
	if typ == "" {
		return nil, syntaxErr(line, "dt needs a type name, e.g. dt nt!_KPRCB")
	}
	mod, name, ok := strings.Cut(typ, "!")
	if !ok {
		mod, name = "nt", typ
	}
	if strings.ContainsAny(name, "*?") {
		names, err := e.T.TypeNames(ctx, mod, name)
		if err != nil {
			return nil, err
		}
		return TypeList{Module: mod, Names: names}, nil
	}
	l, err := e.T.DescribeType(ctx, mod, name, depth, addr, hasAddr, fields)
	if err != nil {
		return nil, err
	}
	return TypeDisplay{TypeLayout: l}, nil
}

// isFieldWord reports whether w names a field rather than an address: it
// starts with a letter or _ and is not a plain hex number or a symbol.
func isFieldWord(w string) bool {
	if w == "" || strings.ContainsAny(w, "!@`+()*") {
		return false
	}
	c := w[0]
	if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return false
	}
	return !isNumberWord(w)
}
