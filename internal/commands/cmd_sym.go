package commands

import (
	"context"
	"strings"

	"github.com/gokd/kd/internal/pdb"
	"github.com/gokd/kd/internal/target"
)

// groupSym is the help group of the symbol and stack commands.
const groupSym = "Symbols and stacks"

var symCommands = []*Command{
	{
		Names: []string{"lm"}, Group: groupSym,
		Example: "lm",
		Help: "List the loaded modules with their symbol state.\n\n\tlm\n\tlm m Pattern\n\tlm v [m Pattern]\n\tlmv m Name\n\n" +
			"A module's symbols are (deferred) until a command needs them. The pattern takes * and ?. " +
			"With v, the module's symbols are loaded and its image path, timestamp, checksum, size, " +
			"PDB and symbol type are shown.",
		Run: func(ctx context.Context, e *Env, args string) (Result, error) { return cmdLm(ctx, e, "lm", args) },
	},
	{
		Names: []string{"lmv"}, Group: groupSym,
		Example: "lmv",
		Help:    "List modules verbosely (lm v).\n\n\tlmv [m Pattern]",
		Run:     func(ctx context.Context, e *Env, args string) (Result, error) { return cmdLm(ctx, e, "lmv", args) },
	},
	{
		Names: []string{"x"}, Group: groupSym,
		Example: "x nt!Ke*",
		Help: "List the symbols that match a pattern.\n\n\tx Module!Pattern\n\n" +
			"* matches any run of characters and ? one character, ignoring case; the module may be a pattern too. " +
			"Symbols come from the module's PDB, or from its export directory when no PDB was found.",
		Run: cmdX,
	},
	{
		Names: []string{"ln"}, Group: groupSym,
		Example: "ln @rip",
		Help: "Show the symbols nearest an address.\n\n\tln Address\n\n" +
			"Prints the nearest symbol at or before the address and the next one after it, and the " +
			"symbols at exactly the address under Exact matches.",
		Run: cmdLn,
	},
}

// moduleMatcher returns a matcher for a module pattern ("" matches all).
func moduleMatcher(pattern string) func(target.Module) bool {
	if pattern == "" {
		return nil
	}
	return func(m target.Module) bool { return pdb.Match(pattern, m.Name) || pdb.Match(pattern, m.File) }
}

func cmdLm(ctx context.Context, e *Env, name, args string) (Result, error) {
	verbose := name == "lmv"
	pattern := ""
	f := strings.Fields(args)
	line := name + " " + args
	for i := 0; i < len(f); i++ {
		switch strings.ToLower(f[i]) {
		case "v":
			verbose = true
		case "m":
			if i+1 >= len(f) {
				return nil, syntaxErr(line, "m needs a pattern")
			}
			pattern = f[i+1]
			i++
		case "vm", "mv":
			verbose = true
			if i+1 >= len(f) {
				return nil, syntaxErr(line, "m needs a pattern")
			}
			pattern = f[i+1]
			i++
		default:
			return nil, syntaxErr(line, "unknown option %q (kd knows v and m Pattern)", f[i])
		}
	}
	return listModules(ctx, e, verbose, pattern)
}

func listModules(ctx context.Context, e *Env, verbose bool, pattern string) (Result, error) {
	mods, err := e.T.ModuleInfos(ctx, verbose, moduleMatcher(pattern))
	if err != nil {
		return nil, err
	}
	return ModuleList{Modules: mods, Verbose: verbose}, nil
}

func cmdX(ctx context.Context, e *Env, args string) (Result, error) {
	args = strings.TrimSpace(args)
	mod, pattern, ok := strings.Cut(args, "!")
	if !ok || mod == "" || pattern == "" || strings.ContainsAny(args, " \t") {
		return nil, &Error{Msg: "x needs Module!Pattern, e.g. x nt!Ke*", Hints: []string{"lm lists the module names"}}
	}
	syms, err := e.T.FindSymbols(ctx, mod, pattern)
	if err != nil {
		return nil, err
	}
	return SymbolList{Symbols: syms}, nil
}

func cmdLn(ctx context.Context, e *Env, args string) (Result, error) {
	if strings.TrimSpace(args) == "" {
		return nil, syntaxErr("ln", "ln needs an address")
	}
	addr, err := e.eval(ctx, args)
	if err != nil {
		return nil, syntaxErr("ln "+args, "%v", err)
	}
	n, err := e.T.NearSymbols(ctx, addr)
	if err != nil {
		return nil, err
	}
	return NearSymbols{Near: n}, nil
}
