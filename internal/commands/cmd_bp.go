package commands

import (
	"context"
	"strconv"
	"strings"
)

var bpCommands = []*Command{
	{
		Names: []string{"bp"}, Group: groupBreak,
		Example: "bp nt!KeBugCheckEx",
		Help: "Set a software breakpoint.\n\n\tbp Address\n\n" +
			"When it is hit kd prints `Breakpoint N hit` and the location. Breakpoints are forgotten when the target reboots.",
		Run: cmdBreakpoint,
	},
	{
		Names: []string{"bl"}, Group: groupBreak,
		Example: "bl",
		Help:    "List the breakpoints.\n\n\tbl",
		Run:     cmdBreakpointList,
	},
	{
		Names: []string{"bc"}, Group: groupBreak,
		Example: "bc 0 2",
		Help:    "Clear breakpoints.\n\n\tbc ID [ID...]\n\tbc *\n\nIDs are decimal, as bl shows them; an ID that does not exist is an error.",
		Run:     cmdBreakpointClear,
	},
}

func cmdBreakpoint(ctx context.Context, e *Env, args string) (Result, error) {
	if strings.TrimSpace(args) == "" {
		return nil, syntaxErr("bp", "an address is expected")
	}
	if err := e.T.CheckStopped(); err != nil {
		return nil, err
	}
	addr, err := e.eval(ctx, args)
	if err != nil {
		return nil, syntaxErr("bp "+args, "%v", err)
	}
	id, existed, err := e.T.AddBreakpoint(ctx, addr)
	if err != nil {
		return nil, err
	}
	if existed {
		return BreakpointRedefined{ID: id}, nil
	}
	return BreakpointSet{ID: id, Addr: addr}, nil
}

func cmdBreakpointList(ctx context.Context, e *Env, args string) (Result, error) {
	if err := noArgs("bl", args); err != nil {
		return nil, err
	}
	if err := e.T.CheckStopped(); err != nil {
		return nil, err
	}
	var out BreakpointList
	for _, b := range e.T.Breakpoints() {
		out.Breakpoints = append(out.Breakpoints, BreakpointInfo{Breakpoint: b, Symbol: e.T.Symbolize(ctx, b.Addr)})
	}
	return out, nil
}

// parseBreakpointIDs parses bc/bd/be arguments: decimal ids, as bl shows
// them, or * for all.
func parseBreakpointIDs(name, args string) (ids []int, all bool, err error) {
	fields := strings.FieldsFunc(args, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' })
	if len(fields) == 0 {
		return nil, false, syntaxErr(name, "breakpoint IDs or * are expected")
	}
	for _, f := range fields {
		if f == "*" {
			all = true
			continue
		}
		id, err := strconv.ParseUint(f, 10, 16)
		if err != nil {
			return nil, false, syntaxErr(name+" "+args, "bad breakpoint ID %q (IDs are decimal, as bl shows them)", f)
		}
		ids = append(ids, int(id))
	}
	return ids, all, nil
}

func cmdBreakpointClear(ctx context.Context, e *Env, args string) (Result, error) {
	ids, all, err := parseBreakpointIDs("bc", args)
	if err != nil {
		return nil, err
	}
	return nil, e.T.ClearBreakpoints(ctx, ids, all)
}
