package commands

import (
	"context"
	"strings"

	"github.com/gokd/kd/internal/target"
)

var metaCommands = []*Command{
	{
		Names: []string{"help", ".help"}, Group: groupSession, Anytime: true,
		Example: "help bp",
		Help:    "List the commands and control keys, or describe one command.\n\n\thelp [Command]\n\t.help [Command]",
		Run:     cmdHelp,
	},
	{
		Names: []string{"?"}, Group: groupSession, Anytime: true,
		Example: "? rip+0n16\n? poi(@rsp) and 0xfff\n? @$t0 == 0",
		Help: "Evaluate a MASM expression, or list the commands when given none.\n\n\t? Expression\n\t?\n\n" +
			"Prints `Evaluate expression: DECIMAL = HEX` (signed decimal, 64-bit hex). Numbers are in the default " +
			"radix (16; see n) unless written 0x, 0n, 0t or 0y. Operators, from the tightest: unary - + not hi low " +
			"by wo dwo qwo poi; * / mod %; + -; << >> >>>; = == != < > <= >=; and &; xor ^; or |. Registers may be " +
			"written with @; pseudo-registers are $ip (or .), $ra, $csp, $retreg, $proc, $thread, $prcb, $pcr, " +
			"$t0-$t19, $exp (the last ? value), $bpN, $ptrsize, $pagesize. See docs/expressions.md.",
		Run: cmdEvaluate,
	},
	{
		Names: []string{"vertarget"}, Group: groupTarget,
		Example: "vertarget",
		Help: "Show the target's Windows version, kernel base and module list address.\n\n\tvertarget\n\n" +
			"The system uptime comes from the target's KUSER_SHARED_DATA, as .time's; the summary kd prints when it " +
			"connects says `not available` rather than spend a request before the first prompt.",
		Run: func(ctx context.Context, e *Env, args string) (Result, error) {
			if err := noArgs("vertarget", args); err != nil {
				return nil, err
			}
			info, ok := e.T.Info()
			if !ok {
				return nil, target.ErrNotStopped
			}
			res := TargetInfo{Info: info}
			res.Uptime, res.HaveUptime = uptime(ctx, e)
			return res, nil
		},
	},
	{
		Names: []string{"version"}, Group: groupSession, Anytime: true,
		Example: "version",
		Help:    "Show kd's version (and the target's, when known).\n\n\tversion",
		Run: func(_ context.Context, e *Env, args string) (Result, error) {
			if err := noArgs("version", args); err != nil {
				return nil, err
			}
			v := VersionInfo{Kd: e.Host.KdVersion()}
			if info, ok := e.T.Info(); ok {
				v.Target = &info
			}
			return v, nil
		},
	},
	{
		Names: []string{".echo"}, Group: groupSession, Anytime: true,
		Example: ".echo step 1 done",
		Help:    "Print a string (scripts use it as a marker).\n\n\t.echo String\n\t.echo \"String\"",
		Run: func(_ context.Context, _ *Env, args string) (Result, error) {
			return Echo{Text: strings.Trim(strings.TrimSpace(args), `"`)}, nil
		},
	},
	{
		Names: []string{".logopen"}, Group: groupSession, Anytime: true,
		Example: ".logopen kd.log",
		Help: "Start a new log file of everything typed and printed (truncating it).\n\n\t.logopen File\n\n" +
			"An open log is closed first. The log is written line by line.",
		Run: func(_ context.Context, e *Env, args string) (Result, error) { return cmdLogOpen(e, args, false) },
	},
	{
		Names: []string{".logappend"}, Group: groupSession, Anytime: true,
		Example: ".logappend kd.log",
		Help:    "Append to a log file (creating it).\n\n\t.logappend File",
		Run:     func(_ context.Context, e *Env, args string) (Result, error) { return cmdLogOpen(e, args, true) },
	},
	{
		Names: []string{".logclose"}, Group: groupSession, Anytime: true,
		Example: ".logclose",
		Help:    "Close the log file.\n\n\t.logclose",
		Run: func(_ context.Context, e *Env, args string) (Result, error) {
			if err := noArgs(".logclose", args); err != nil {
				return nil, err
			}
			p, err := e.Host.CloseLog()
			if err != nil {
				return nil, err
			}
			return LogClosed{Path: p}, nil
		},
	},
}

// registered holds the command groups that add themselves from an init
// function in their own file (addCommands), so that a new group touches
// no shared list.
var registered [][]*Command

// addCommands adds a group of commands to the default table.
func addCommands(cmds ...*Command) { registered = append(registered, cmds) }

// Default is kd's command table.
func Default() *Commands {
	var all []*Command
	groups := [][]*Command{execCommands, regCommands, memCommands, fileCommands, bpCommands, symCommands, stackCommands, typeCommands, reloadCommands, sympathCommands, metaCommands}
	for _, g := range append(groups, registered...) {
		all = append(all, g...)
	}
	return NewCommands(all)
}

func cmdHelp(_ context.Context, e *Env, args string) (Result, error) {
	args = strings.TrimSpace(args)
	var b strings.Builder
	if args == "" {
		e.Table.WriteHelp(&b)
		return Help{Text: b.String()}, nil
	}
	cmd := e.Table.Find(args)
	if cmd == nil {
		// A glued spelling (~1s) names its command; a longer word that
		// only starts with a one-letter command (nosuch) does not.
		var rest string
		cmd, rest = e.Table.Lookup(args)
		if cmd.Group == "" || rest != "" && !strings.HasPrefix(args, "~") {
			return nil, syntaxErr("help "+args, "no command %q; type help for the list", args)
		}
	}
	WriteCommandHelp(&b, cmd)
	return Help{Text: b.String()}, nil
}

func cmdEvaluate(ctx context.Context, e *Env, args string) (Result, error) {
	if strings.TrimSpace(args) == "" {
		var b strings.Builder
		e.Table.WriteHelp(&b)
		return Help{Text: b.String()}, nil
	}
	// Without a stopped target only numbers evaluate: registers and
	// symbols say why they cannot.
	v, err := e.eval(ctx, args)
	if err != nil {
		return nil, syntaxErr("? "+args, "%v", err)
	}
	e.x.lastExp = v
	return Evaluation{Value: v}, nil
}

func cmdLogOpen(e *Env, args string, appending bool) (Result, error) {
	path := strings.Trim(strings.TrimSpace(args), `"`)
	if path == "" {
		path = "Dbgeng.log"
	}
	closed, err := e.Host.OpenLog(path, appending)
	if err != nil {
		return nil, &Error{Msg: "cannot open log file '" + path + "': " + err.Error()}
	}
	return LogOpened{Path: path, Closed: closed}, nil
}
