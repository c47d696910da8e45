package commands

import (
	"context"
	"strings"

	"github.com/gokd/kd/internal/target"
)

var regCommands = []*Command{
	{
		Names: []string{"r"}, Group: groupData,
		Example: "r rax, rip",
		Help: "Show or change registers of the current processor.\n\n\tr\n\tr Register[, Register...]\n\tr Register=Value\n\n" +
			"Without arguments r shows the integer registers, the flags, the segment registers and the current " +
			"instruction. Register names may be written with @ (r @rax=1). Values are expressions (hex by default).",
		Run: cmdRegisters,
	},
}

func cmdRegisters(ctx context.Context, e *Env, args string) (Result, error) {
	regs, err := e.T.Registers(ctx)
	if err != nil {
		return nil, err
	}
	args = strings.TrimSpace(args)
	if args == "" {
		loc, err := e.T.Location(ctx, regs.PC())
		if err != nil {
			return nil, err
		}
		return RegisterDisplay{Regs: regs, Location: loc}, nil
	}
	line := "r " + args
	if name, val, ok := strings.Cut(args, "="); ok {
		name = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(name), "@"))
		if !target.IsRegister(name) {
			return nil, syntaxErr(line, "bad register %q", name)
		}
		v, err := e.eval(ctx, val)
		if err != nil {
			return nil, syntaxErr(line, "%v", err)
		}
		return nil, e.T.SetRegister(ctx, name, v)
	}
	var out RegisterValues
	for _, f := range strings.Split(args, ",") {
		name := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(f), "@"))
		r, known := regs.Lookup(name)
		if !known {
			return nil, syntaxErr(line, "bad register %q", name)
		}
		v, _ := regs.Get(name)
		out.Values = append(out.Values, RegValue{Name: name, Value: v, Size: r.Size})
	}
	return out, nil
}
