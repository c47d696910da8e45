package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gokd/kd/internal/target"
)

var bpCommands = []*Command{
	{
		Names: []string{"bp"}, Group: groupBreak,
		Example: "bp nt!KeBugCheckEx\nbp /1 hal!HalProcessorIdle\nbp simdrv!SimDrvTimerRoutine 3 \"r rip; k\"",
		Help: "Set a software breakpoint.\n\n\tbp [/1] Address [Passes] [\"Commands\"]\n\n" +
			"When it is hit kd prints `Breakpoint N hit` and the location, then runs Commands (separated by `;`, " +
			"`\\\"` for a quote inside). /1 makes a one-shot breakpoint, gone after its hit. Passes (default 1) is how many " +
			"hits it takes to stop: the count goes down at each hit and bl shows `remaining (initial)`. bp at an " +
			"address that has a breakpoint redefines it. An address with a symbol that cannot be resolved yet becomes " +
			"a deferred breakpoint, as with bu. The kernel allows 32 software breakpoints; they apply to every processor " +
			"(a ~N prefix is refused). KD's /p, /t, /c, /C and /w options are not supported. " +
			"Breakpoints are forgotten when the target reboots; .restart keeps them.",
		Run: func(ctx context.Context, e *Env, args string) (Result, error) {
			return setBreakpoint(ctx, e, "bp", args)
		},
	},
	{
		Names: []string{"bu"}, Group: groupBreak,
		Example: "bu simdrv!SimDrvTimerRoutine",
		Help: "Set a deferred breakpoint: by symbol, resolved again when a module loads.\n\n\tbu [/1] Symbol [Passes] [\"Commands\"]\n\n" +
			"A symbol that does not resolve yet (its module is not loaded) stays deferred: bl shows it as `eu` with the " +
			"symbol in parentheses, and kd plants it at the first module load after which it resolves. " +
			"Passes, /1 and Commands are as for bp.",
		Run: func(ctx context.Context, e *Env, args string) (Result, error) {
			return setBreakpoint(ctx, e, "bu", args)
		},
	},
	{
		Names: []string{"bm"}, Group: groupBreak,
		Example: "bm hal!Hal*",
		Help: "Set a breakpoint on every symbol that matches a pattern.\n\n\tbm [/1] Module!Pattern [Passes] [\"Commands\"]\n\n" +
			"`*` matches any run of characters and `?` one, case ignored, as for x. Each match gets a breakpoint of its " +
			"own, listed as `  N: address @!\"module!name\"` (KD's echo). A pattern that matches more symbols than the " +
			"kernel has breakpoints for sets none.",
		Run: cmdBreakMatch,
	},
	{
		Names: []string{"ba"}, Group: groupBreak,
		Example: "ba w4 simdrv!SimDrvTickCount\nba e1 hal!HalProcessorIdle",
		Help: "Set a hardware (processor) breakpoint.\n\n\tba [/1] Access Size Address [Passes] [\"Commands\"]\n\n" +
			"Access is e (execute), r (read or write), w (write) or i (I/O port); Size is 1, 2, 4 or 8 bytes, and the " +
			"address must be aligned to it; an e breakpoint has size 1. A data breakpoint stops after the instruction " +
			"that touched the bytes. The x64 processor has four debug registers (Dr0-Dr3): at most four enabled ba " +
			"breakpoints at a time. kd writes them into every processor's special registers and Dr7 with every go or step.",
		Run: func(ctx context.Context, e *Env, args string) (Result, error) {
			return setBreakpoint(ctx, e, "ba", args)
		},
	},
	{
		Names: []string{"bl"}, Group: groupBreak,
		Example: "bl\nbl 1-3",
		Help: "List the breakpoints.\n\n\tbl [IDs]\n\n" +
			"One line each: id, `e` or `d` (enabled, disabled) with `u` when unresolved, the address (for ba the access " +
			"and size after it), `remaining (initial)` pass counts in hex, the symbol, and the command string in quotes. " +
			"KD's proc:thread column is left out, as KD does for kernel targets.",
		Run: cmdBreakpointList,
	},
	{
		Names: []string{"bc"}, Group: groupBreak,
		Example: "bc 0 2\nbc 1-3\nbc *",
		Help: "Clear breakpoints.\n\n\tbc IDs\n\tbc *\n\n" +
			"IDs are decimal, as bl shows them, separated by blanks or commas, or ranges like 1-3. A single ID that does " +
			"not exist is an error.",
		Run: func(ctx context.Context, e *Env, args string) (Result, error) {
			ids, all, err := pickIDs(e, "bc", args)
			if err != nil {
				return nil, err
			}
			return nil, e.T.ClearBreakpoints(ctx, ids, all)
		},
	},
	{
		Names: []string{"bd"}, Group: groupBreak,
		Example: "bd 1\nbd *",
		Help: "Disable breakpoints (they stay listed, as `d`).\n\n\tbd IDs\n\tbd *\n\n" +
			"A disabled software breakpoint is taken out of the target; a disabled ba frees its debug register. IDs as for bc.",
		Run: func(ctx context.Context, e *Env, args string) (Result, error) {
			return enableBreakpoints(ctx, e, "bd", args, false)
		},
	},
	{
		Names: []string{"be"}, Group: groupBreak,
		Example: "be 1\nbe 0-2",
		Help:    "Enable breakpoints.\n\n\tbe IDs\n\tbe *\n\nIDs as for bc; enabling a fifth ba is refused.",
		Run: func(ctx context.Context, e *Env, args string) (Result, error) {
			return enableBreakpoints(ctx, e, "be", args, true)
		},
	},
}

// setBreakpoint is bp, bu and ba.
func setBreakpoint(ctx context.Context, e *Env, name, args string) (Result, error) {
	b, err := parseBreakArgs(name, args, name == "ba")
	if err != nil {
		return nil, err
	}
	if err := e.T.CheckStopped(); err != nil {
		return nil, err
	}
	sp := target.BreakSpec{OneShot: b.oneShot, Action: b.action, Hardware: name == "ba", Access: b.access, Size: b.size}
	if b.passes != "" {
		n, err := e.eval(ctx, b.passes)
		if err != nil {
			return nil, syntaxErr(name+" "+args, "%v", err)
		}
		if n == 0 || n > 0xFFFF {
			return nil, syntaxErr(name+" "+args, "the pass count must be 1 to 0xffff")
		}
		sp.Passes = int(n)
	}
	expr := b.addr
	if name == "bu" {
		sp.Expr = expr
		sp.Resolve = func(ctx context.Context) (uint64, error) { return e.eval(ctx, expr) }
	} else {
		addr, err := e.eval(ctx, expr)
		switch {
		case err != nil && name == "bp" && strings.Contains(expr, "!") && ctx.Err() == nil:
			// KD: bp at a symbol that does not resolve becomes bu.
			sp.Expr = expr
			sp.Resolve = func(ctx context.Context) (uint64, error) { return e.eval(ctx, expr) }
		case err != nil:
			return nil, syntaxErr(name+" "+args, "%v", err)
		default:
			sp.Addr = addr
		}
	}
	id, redefined, err := e.T.SetBreakpoint(ctx, sp)
	if err != nil {
		var he *target.HardwareError
		if errors.As(err, &he) {
			h := &Error{Msg: he.Msg}
			if he.Hint != "" {
				h.Hints = []string{he.Hint}
			}
			return nil, h
		}
		return nil, err
	}
	if redefined {
		return BreakpointRedefined{ID: id}, nil
	}
	set := BreakpointSet{ID: id, Addr: sp.Addr}
	for _, bp := range e.T.Breakpoints() {
		if bp.ID == id {
			set.Addr, set.Deferred, set.Expr = bp.Addr, bp.Deferred, bp.Expr
		}
	}
	return set, nil
}

// maxMatches bounds what one bm sets.
const maxMatches = target.MaxBreakpoints

func cmdBreakMatch(ctx context.Context, e *Env, args string) (Result, error) {
	b, err := parseBreakArgs("bm", args, false)
	if err != nil {
		return nil, err
	}
	mod, pattern, ok := strings.Cut(b.addr, "!")
	if !ok || mod == "" || pattern == "" {
		return nil, syntaxErr("bm "+args, "a pattern module!name is expected (for example hal!Hal*)")
	}
	if err := e.T.CheckStopped(); err != nil {
		return nil, err
	}
	passes := 1
	if b.passes != "" {
		n, err := e.eval(ctx, b.passes)
		if err != nil || n == 0 || n > 0xFFFF {
			return nil, syntaxErr("bm "+args, "the pass count must be 1 to 0xffff")
		}
		passes = int(n)
	}
	syms, err := e.T.FindSymbols(ctx, mod, pattern)
	if err != nil {
		return nil, err
	}
	var out BreakpointMatches
	seen := map[uint64]bool{}
	var uniq []target.Sym
	for _, y := range syms {
		if !seen[y.Addr] {
			seen[y.Addr] = true
			uniq = append(uniq, y)
		}
	}
	if len(uniq) == 0 {
		return nil, &Error{Msg: fmt.Sprintf("no symbol matches %s", b.addr), Hints: []string{"x " + b.addr + " lists the matching symbols"}}
	}
	if len(uniq) > maxMatches {
		return nil, &Error{Msg: fmt.Sprintf("%s matches %d symbols; the kernel allows %d software breakpoints", b.addr, len(uniq), target.MaxBreakpoints),
			Hints: []string{"narrow the pattern"}}
	}
	for _, y := range uniq {
		id, _, err := e.T.SetBreakpoint(ctx, target.BreakSpec{Addr: y.Addr, Passes: passes, OneShot: b.oneShot, Action: b.action})
		if err != nil {
			return out, err
		}
		out.Set = append(out.Set, BreakpointMatch{ID: id, Addr: y.Addr, Name: y.Module + "!" + y.Name})
	}
	return out, nil
}

func cmdBreakpointList(ctx context.Context, e *Env, args string) (Result, error) {
	set, err := parseIDs("bl", args, true)
	if err != nil {
		return nil, err
	}
	if err := e.T.CheckStopped(); err != nil {
		return nil, err
	}
	all := e.T.Breakpoints()
	ids, every := set.resolve(existingIDs(all))
	var out BreakpointList
	for _, b := range all {
		if !every && !containsInt(ids, b.ID) {
			continue
		}
		info := BreakpointInfo{Breakpoint: b}
		if !b.Deferred {
			info.Symbol = e.T.Symbolize(ctx, b.Addr)
		}
		out.Breakpoints = append(out.Breakpoints, info)
	}
	return out, nil
}

func existingIDs(bl []target.Breakpoint) []int {
	ids := make([]int, len(bl))
	for i, b := range bl {
		ids[i] = b.ID
	}
	return ids
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// pickIDs parses bc/bd/be ids against the breakpoints that exist.
func pickIDs(e *Env, name, args string) ([]int, bool, error) {
	set, err := parseIDs(name, args, false)
	if err != nil {
		return nil, false, err
	}
	if err := e.T.CheckStopped(); err != nil {
		return nil, false, err
	}
	ids, all := set.resolve(existingIDs(e.T.Breakpoints()))
	return ids, all, nil
}

func enableBreakpoints(ctx context.Context, e *Env, name, args string, on bool) (Result, error) {
	ids, all, err := pickIDs(e, name, args)
	if err != nil {
		return nil, err
	}
	err = e.T.EnableBreakpoints(ctx, ids, all, on)
	var he *target.HardwareError
	if errors.As(err, &he) {
		return nil, &Error{Msg: he.Msg, Hints: []string{he.Hint}}
	}
	return nil, err
}
