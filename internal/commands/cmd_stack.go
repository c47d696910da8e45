package commands

import (
	"context"
	"strings"

	"github.com/gokd/kd/internal/target"
)

// stackCommands are k and its forms.
var stackCommands = []*Command{
	{
		Names: []string{"k"}, Group: groupSym,
		Example: "k",
		Help: "Display the stack backtrace of the current processor.\n\n\tk [n] [FrameCount]\n\tk = StackPtr [InstructionPtr] [FrameCount]\n\n" +
			"Columns: Child-SP (RSP in the frame's function), RetAddr, Call Site. The walk undoes each function's " +
			"prolog from the image's .pdata and UNWIND_INFO read from target memory; where an image has no " +
			"usable unwind data the RBP chain is followed and the frame is marked as a guess. FrameCount is hex " +
			"(default 0n256). The letters b, v, p and n may follow k: kb, kv, kp, kn, kbn ...",
		Run: func(ctx context.Context, e *Env, args string) (Result, error) { return cmdStack(ctx, e, "k", args) },
	},
	{
		Names: []string{"kb"}, Group: groupSym,
		Example: "kb",
		Help:    "Stack backtrace with the first four arguments (the home space above each return address).\n\n\tkb [FrameCount]",
		Run:     func(ctx context.Context, e *Env, args string) (Result, error) { return cmdStack(ctx, e, "kb", args) },
	},
	{
		Names: []string{"kv"}, Group: groupSym,
		Example: "kv",
		Help:    "Stack backtrace with arguments and how each frame was found.\n\n\tkv [FrameCount]",
		Run:     func(ctx context.Context, e *Env, args string) (Result, error) { return cmdStack(ctx, e, "kv", args) },
	},
	{
		Names: []string{"kp"}, Group: groupSym,
		Example: "kp",
		Help:    "Stack backtrace with each function's parameters (types from its PDB, values from the home space).\n\n\tkp [FrameCount]",
		Run:     func(ctx context.Context, e *Env, args string) (Result, error) { return cmdStack(ctx, e, "kp", args) },
	},
	{
		Names: []string{"kn"}, Group: groupSym,
		Example: "kn",
		Help:    "Stack backtrace with frame numbers.\n\n\tkn [FrameCount]",
		Run:     func(ctx context.Context, e *Env, args string) (Result, error) { return cmdStack(ctx, e, "kn", args) },
	},
}

func cmdStack(ctx context.Context, e *Env, name, args string) (Result, error) {
	line := strings.TrimSpace(name + " " + args)
	res := StackTrace{}
	setFlag := func(c rune) {
		switch c {
		case 'b':
			res.Args = true
		case 'v':
			res.Args, res.Verbose = true, true
		case 'p':
			res.Params = true
		case 'n':
			res.Numbers = true
		}
	}
	for _, c := range name[1:] {
		setFlag(c)
	}
	rest := strings.TrimSpace(args)
	// Glued letters: "kbn", "k n 5".
	for rest != "" {
		f := strings.Fields(rest)[0]
		if strings.Trim(strings.ToLower(f), "bvpn") != "" || isNumberWord(f) {
			break
		}
		for _, c := range strings.ToLower(f) {
			setFlag(c)
		}
		rest = strings.TrimSpace(rest[len(f):])
	}
	var from target.StackFrom
	var words []string
	if strings.HasPrefix(rest, "=") {
		words = strings.Fields(strings.TrimPrefix(rest, "="))
		if len(words) == 0 {
			return nil, syntaxErr(line, "= needs a stack pointer")
		}
		v, err := e.eval(ctx, words[0])
		if err != nil {
			return nil, syntaxErr(line, "%v", err)
		}
		from.RSP, from.HaveRSP = v, true
		words = words[1:]
		if len(words) >= 2 {
			v, err := e.eval(ctx, words[0])
			if err != nil {
				return nil, syntaxErr(line, "%v", err)
			}
			from.RIP, from.HaveRIP = v, true
			words = words[1:]
		}
	} else if rest != "" {
		words = strings.Fields(rest)
	}
	count := 0
	switch len(words) {
	case 0:
	case 1:
		v, err := e.eval(ctx, words[0])
		if err != nil {
			return nil, syntaxErr(line, "%v", err)
		}
		if v == 0 || v > 0xFFFF {
			return nil, syntaxErr(line, "frame count %#x is out of range (1 to 0xffff)", v)
		}
		count = int(v)
	default:
		return nil, syntaxErr(line, "too many arguments")
	}
	if !from.HaveRSP {
		if th, ok := e.implicit(); ok {
			f, _, err := e.T.ThreadStackFrom(ctx, th)
			if err != nil {
				return nil, err
			}
			from, res.Context = f, true
		}
	}
	st, err := e.T.Stack(ctx, from, count, res.Params)
	if err != nil {
		return nil, err
	}
	res.Stack = st
	return res, nil
}

// isNumberWord reports whether w reads as a hex number (a frame count).
func isNumberWord(w string) bool {
	for i := 0; i < len(w); i++ {
		if !isHexDigit(w[i]) {
			return false
		}
	}
	return w != ""
}
