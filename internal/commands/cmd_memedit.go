package commands

import (
	"context"
	"strings"
)

func init() {
	addHinted(
		&Command{
			Names: []string{"e"}, Group: groupData,
			Example: "e ffffd000`00000000 90 90",
			Help: "Enter values in the size of the last eb, ew, ed or eq.\n\n\te Address Value [Value...]\n\n" +
				"Bytes when no e* came before. KD's interactive mode (e Address alone, prompting for each value) is not supported: " +
				"kd says so and asks for the values on the line.",
			Run: cmdEnterLast,
		},
		&Command{
			Names: []string{"ew"}, Group: groupData,
			Example: "ew ffffd000`00000000 1234 5678",
			Help:    "Enter 16-bit values into memory.\n\n\tew Address Value [Value...]\n\nValues are expressions (hex by default) or 'c' characters; nothing is printed on success.",
			Run: func(ctx context.Context, e *Env, args string) (Result, error) {
				return cmdEnterValues(ctx, e, "ew", 2, args)
			},
		},
		&Command{
			Names: []string{"ef"}, Group: groupData,
			Example: "ef ffffd000`00000000 1.5 -2e10",
			Help:    "Enter single-precision floats into memory.\n\n\tef Address Value [Value...]\n\nValues are decimal floating-point numbers (1.5, -2e10).",
			Run:     cmdEnterFloat,
		},
		&Command{
			Names: []string{"ea"}, Group: groupData,
			Example: "ea ffffd000`00000000 \"hello\"",
			Help:    "Enter an ASCII string into memory.\n\n\tea Address \"String\"\n\nOne byte per character, no terminating NUL (eza adds one); KD has no escapes inside the quotes.",
			Run: func(ctx context.Context, e *Env, args string) (Result, error) {
				return cmdEnterString(ctx, e, "ea", args)
			},
		},
		&Command{
			Names: []string{"eza"}, Group: groupData,
			Example: "eza ffffd000`00000000 \"hello\"",
			Help:    "Enter a NUL-terminated ASCII string into memory.\n\n\teza Address \"String\"",
			Run: func(ctx context.Context, e *Env, args string) (Result, error) {
				return cmdEnterString(ctx, e, "eza", args)
			},
		},
		&Command{
			Names: []string{"eu"}, Group: groupData,
			Example: "eu ffffd000`00000000 \"hello\"",
			Help:    "Enter a UTF-16 string into memory.\n\n\teu Address \"String\"\n\nTwo bytes per character (UTF-16LE), no terminating NUL (ezu adds one).",
			Run: func(ctx context.Context, e *Env, args string) (Result, error) {
				return cmdEnterString(ctx, e, "eu", args)
			},
		},
		&Command{
			Names: []string{"ezu"}, Group: groupData,
			Example: "ezu ffffd000`00000000 \"hello\"",
			Help:    "Enter a NUL-terminated UTF-16 string into memory.\n\n\tezu Address \"String\"",
			Run: func(ctx context.Context, e *Env, args string) (Result, error) {
				return cmdEnterString(ctx, e, "ezu", args)
			},
		},
	)
}

// enterArgs splits "Address rest..." and evaluates the address.
func enterArgs(ctx context.Context, e *Env, line, args string) (uint64, []string, error) {
	fields, err := splitFields(args)
	if err != nil {
		return 0, nil, syntaxErr(line, "%v", err)
	}
	if len(fields) < 2 {
		return 0, nil, syntaxErr(line, "an address and at least one value are expected")
	}
	addr, err := e.eval(ctx, fields[0])
	if err != nil {
		return 0, nil, syntaxErr(line, "%v", err)
	}
	return addr, fields[1:], nil
}

// cmdEnterValues writes values of size bytes each (ew).
func cmdEnterValues(ctx context.Context, e *Env, name string, size int, args string) (Result, error) {
	if err := e.T.CheckStopped(); err != nil {
		return nil, err
	}
	line := strings.TrimSpace(name + " " + args)
	addr, vals, err := enterArgs(ctx, e, line, args)
	if err != nil {
		return nil, err
	}
	data, err := valueBytes(vals, size, func(s string) (uint64, error) { return e.eval(ctx, s) })
	if err != nil {
		return nil, syntaxErr(line, "%v", err)
	}
	e.dump.enter = size
	return nil, e.T.WriteMemory(ctx, addr, data)
}

// cmdEnterLast is e: values in the size of the last eb/ew/ed/eq.
func cmdEnterLast(ctx context.Context, e *Env, args string) (Result, error) {
	fields, err := splitFields(args)
	if err == nil && len(fields) == 1 {
		return nil, &Error{Msg: "e: KD's interactive entry mode (one value at a time at a prompt) is not supported",
			Hints: []string{"give the values on the line: e Address Value [Value...]"}}
	}
	return cmdEnterValues(ctx, e, "e", max(e.dump.enter, 1), args)
}

func cmdEnterFloat(ctx context.Context, e *Env, args string) (Result, error) {
	if err := e.T.CheckStopped(); err != nil {
		return nil, err
	}
	line := strings.TrimSpace("ef " + args)
	addr, vals, err := enterArgs(ctx, e, line, args)
	if err != nil {
		return nil, err
	}
	data, err := floatBytes(vals, 4)
	if err != nil {
		return nil, syntaxErr(line, "%v", err)
	}
	return nil, e.T.WriteMemory(ctx, addr, data)
}

// cmdEnterString writes ea/eza/eu/ezu's string.
func cmdEnterString(ctx context.Context, e *Env, name, args string) (Result, error) {
	if err := e.T.CheckStopped(); err != nil {
		return nil, err
	}
	line := strings.TrimSpace(name + " " + args)
	addr, vals, err := enterArgs(ctx, e, line, args)
	if err != nil {
		return nil, err
	}
	s, ok := quoted(vals[0])
	if len(vals) != 1 || !ok {
		return nil, syntaxErr(line, "one \"string\" is expected after the address")
	}
	var data []byte
	if strings.HasSuffix(name, "u") {
		data = utf16Bytes(s)
	} else if data, err = asciiBytes(s); err != nil {
		return nil, syntaxErr(line, "%v", err)
	}
	if name == "eza" {
		data = append(data, 0)
	} else if name == "ezu" {
		data = append(data, 0, 0)
	}
	if len(data) == 0 {
		return nil, nil
	}
	return nil, e.T.WriteMemory(ctx, addr, data)
}
