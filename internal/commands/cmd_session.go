package commands

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/gokd/kd/internal/target"
)

func init() {
	addCommands(sessionCommands...)
	addCommands(unsupportedBlocks()...)
}

var sessionCommands = []*Command{
	{
		Names: []string{"$$"}, Group: groupSession, Anytime: true,
		Example: "$$ look at the stack; k",
		Help: "A comment, up to the next semicolon.\n\n\t$$ Text\n\n" +
			"Does nothing; a script echoes it. The comment ends at the first ; (quotes do not protect it), so " +
			"$$ note; r runs r. KD's script-file forms ($$<File, $$><File, $$>a<File) are not supported: kd says " +
			"so; give kd a script with --cf File or on standard input instead.",
		Run: func(_ context.Context, _ *Env, args string) (Result, error) {
			if strings.HasPrefix(args, "<") || strings.HasPrefix(args, ">") {
				return nil, &Error{Msg: "script files ($$<, $$><, $$>a<) are not supported inside a session",
					Hints: []string{"run the script with kd --cf FILE, or pipe it into kd's standard input"}}
			}
			return nil, nil
		},
	},
	{
		Names: []string{"*"}, Group: groupSession, Anytime: true,
		Example: "* the rest of this line; even after a semicolon; is a comment",
		Help: "A comment to the end of the line.\n\n\t* Text\n\n" +
			"Does nothing; everything after * on the line, semicolons included, is part of the comment.",
		Run: func(context.Context, *Env, string) (Result, error) { return nil, nil },
	},
	{
		Names: []string{"n"}, Group: groupSession, Anytime: true,
		Example: "n\nn 10\n? 100\nn 16",
		Help: "Show or set the default number base of expressions.\n\n\tn\n\tn 8|10|16\n\n" +
			"n alone prints `base is 16`. With a base, numbers written without a prefix (0x hex, 0n decimal, " +
			"0t octal, 0y binary) or a trailing h are read in that base from then on. The base argument itself is " +
			"always decimal. The base is kept for the whole session.",
		Run: cmdRadix,
	},
	{
		Names: []string{".formats"}, Group: groupSession, Anytime: true,
		Example: ".formats 1c407e62",
		Help: "Show the value of an expression in every number format.\n\n\t.formats Expression\n\n" +
			"Prints KD's block: Hex (16 digits with a backtick), Decimal (signed), Octal, Binary (bytes " +
			"separated by blanks), Chars (the bytes from the high one, . for unprintable ones), Time, Float " +
			"(the low and high 32 bits as floats) and Double. Time reads a value up to 0xffffffff as a C time_t " +
			"(seconds since 1970) and a larger one as a FILETIME (100 ns units since 1601, with milliseconds); kd " +
			"shows both in UTC where KD uses the local time zone, and prints `***** Invalid` for a FILETIME past " +
			"the year 9999.",
		Run: cmdFormats,
	},
	{
		Names: []string{"??"}, Group: groupSession, Anytime: true,
		Example: "?? sizeof(int)",
		Help: "C++ expression evaluation (not supported).\n\n\t?? Expression\n\n" +
			"kd has only the MASM evaluator; ?? says so and does nothing. Use ? for expressions and dt for typed data.",
		Run: func(context.Context, *Env, string) (Result, error) {
			return nil, &Error{Msg: "?? is not supported: kd has no C++ expression evaluator",
				Hints: []string{"use ? for MASM expressions (poi(), dwo(), @reg) and dt for typed data"}}
		},
	},
	{
		Names: []string{".cls"}, Group: groupSession, Anytime: true,
		Example: ".cls",
		Help: "Clear the screen.\n\n\t.cls\n\n" +
			"On a terminal kd clears the screen; in a script or with output redirected it prints nothing (KD " +
			"does not allow .cls in scripts).",
		Run: func(_ context.Context, _ *Env, args string) (Result, error) {
			if err := noArgs(".cls", args); err != nil {
				return nil, err
			}
			return ClearScreen{}, nil
		},
	},
	{
		Names: []string{".time"}, Group: groupSession, Anytime: true,
		Example: ".time",
		Help: "Show the debug session time and the target's uptime.\n\n\t.time\n\n" +
			"Prints `Debug session time:` and `System Uptime:`. The uptime is the interrupt time in the target's " +
			"KUSER_SHARED_DATA (fffff780`00000008); when that cannot be read kd prints `System Uptime: not available`.",
		Run: cmdTime,
	},
	{
		Names: []string{".lastevent"}, Group: groupSession, Anytime: true,
		Example: ".lastevent",
		Help: "Show the last event: why the target last stopped.\n\n\t.lastevent\n\n" +
			"Prints `Last event:` with the exception and its code, `Hit breakpoint N` or the module load, then " +
			"`debugger time:` (when kd saw it). Before the first stop it prints `Last event: none yet`.",
		Run: func(_ context.Context, e *Env, args string) (Result, error) {
			if err := noArgs(".lastevent", args); err != nil {
				return nil, err
			}
			st, at, ok := e.T.LastEvent()
			return LastEvent{Stop: st, At: at, Have: ok}, nil
		},
	},
	{
		Names: []string{".effmach"}, Group: groupSession, Anytime: true,
		Example: ".effmach",
		Help: "Show the effective processor type.\n\n\t.effmach\n\t.effmach .|amd64|x64\n\n" +
			"kd debugs x64 targets only, so the machine is always `x64 (AMD64)`; asking for another one is an error.",
		Run: cmdEffmach,
	},
	{
		Names: []string{".logfile"}, Group: groupSession, Anytime: true,
		Example: ".logfile",
		Help: "Show the log file status.\n\n\t.logfile\n\n" +
			"Prints `Log 'FILE' open`, or `No log file open`. KD's exact wording is not public; this is the closest " +
			"honest equivalent.",
		Run: func(_ context.Context, e *Env, args string) (Result, error) {
			if err := noArgs(".logfile", args); err != nil {
				return nil, err
			}
			if h, ok := e.Host.(interface{ LogPath() string }); ok {
				return LogStatus{Path: h.LogPath()}, nil
			}
			return nil, &Error{Msg: ".logfile: this console keeps no log file"}
		},
	},
	{
		Names: []string{".crash"}, Group: groupTarget, Anytime: true,
		Example: ".crash",
		Help: "Force a bug check on the target (refused).\n\n\t.crash\n\n" +
			"kd refuses it: a bug check ends the live session, and whether a dump is written depends on the " +
			"target's settings. Use .reboot to restart the target.",
		Run: refuse(".crash is refused: kd does not make the target bug-check on request",
			"a bug check ends the live session; .reboot restarts the target, and a pending bug check goes on with g"),
	},
	{
		Names: []string{".kdfiles"}, Group: groupTarget, Anytime: true,
		Example: ".kdfiles",
		Help: "Driver replacement map (not supported).\n\n\t.kdfiles [MapFile]\n\n" +
			"kd does not serve driver files to the target over the debug link (KD's file-I/O packets), so .kdfiles says so.",
		Run: refuse(".kdfiles is not supported: kd does not send replacement driver files to the target",
			"copy the driver onto the target and reboot it"),
	},
	{
		Names: []string{".shell"}, Group: groupSession, Anytime: true,
		Example: ".shell dir",
		Help: "Run a host shell command (refused).\n\n\t.shell Command\n\n" +
			"kd does not start programs on the host from a debugging session: a script or a pasted line could " +
			"run anything. Run the command in another terminal.",
		Run: refuse(".shell is refused: kd does not run host programs from a debugging session",
			"run the command in another terminal"),
	},
}

// refuse returns a Run that fails with msg and hint.
func refuse(msg, hint string) func(context.Context, *Env, string) (Result, error) {
	return func(context.Context, *Env, string) (Result, error) {
		return nil, &Error{Msg: msg, Hints: []string{hint}}
	}
}

// blockTokens are KD's command-program tokens, which kd does not run.
var blockTokens = []string{".block", ".break", ".catch", ".continue", ".do", ".else", ".elsif", ".for", ".foreach", ".if", ".leave", ".while"}

// unsupportedBlocks returns one refusing entry per command-program token.
func unsupportedBlocks() []*Command {
	var out []*Command
	for _, name := range blockTokens {
		out = append(out, &Command{
			Names: []string{name}, Group: groupSession, Anytime: true,
			Example: name + " { r }",
			Help: "Command-program token (not supported).\n\n\t" + name + " ...\n\n" +
				"kd runs no command programs (.block, .if/.elsif/.else, .while, .for, .do, .foreach, .break, " +
				".continue, .catch, .leave). A { } block is kept whole, so none of its commands runs.",
			Run: refuse(name+" is not supported: kd runs no command programs (.block, .if, .while, .for ...)",
				"chain commands with ; or put them in a script file, one command per line"),
		})
	}
	return out
}

func cmdRadix(_ context.Context, e *Env, args string) (Result, error) {
	args = strings.TrimSpace(args)
	if args == "" {
		return Radix{Base: e.radix()}, nil
	}
	switch args {
	case "8", "10", "16":
		e.x.radix = map[string]int{"8": 8, "10": 10, "16": 16}[args]
		return Radix{Base: e.x.radix, Set: true}, nil
	}
	return nil, syntaxErr("n "+args, "the base must be 8, 10 or 16 (written in decimal)")
}

func cmdFormats(ctx context.Context, e *Env, args string) (Result, error) {
	if strings.TrimSpace(args) == "" {
		return nil, syntaxErr(".formats", "an expression is needed: .formats Expression")
	}
	v, err := e.eval(ctx, args)
	if err != nil {
		return nil, syntaxErr(".formats "+args, "%v", err)
	}
	return Formats{Value: v}, nil
}

// sharedUserData is the x64 kernel address of KUSER_SHARED_DATA; its
// InterruptTime (a KSYSTEM_TIME: LowPart, High1Time, High2Time) is at +8.
const sharedUserData = 0xfffff78000000000

func cmdTime(ctx context.Context, e *Env, args string) (Result, error) {
	if err := noArgs(".time", args); err != nil {
		return nil, err
	}
	info, ok := e.T.Info()
	if !ok {
		return nil, target.ErrNotStopped
	}
	res := SessionTime{Time: info.Time}
	res.Uptime, res.HaveUptime = uptime(ctx, e)
	return res, nil
}

// uptime reads the system uptime from the interrupt time in the target's
// KUSER_SHARED_DATA; ok is false when it cannot be read or is torn.
func uptime(ctx context.Context, e *Env) (time.Duration, bool) {
	b, okb, err := e.T.ReadMemory(ctx, sharedUserData+8, 12)
	if err != nil || len(b) != 12 || !allTrue(okb) {
		return 0, false
	}
	low := binary.LittleEndian.Uint32(b)
	hi1, hi2 := binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint32(b[8:])
	t := uint64(hi1)<<32 | uint64(low)
	if hi1 != hi2 || t >= uint64(1<<63)/100 {
		return 0, false
	}
	return time.Duration(t * 100), true
}

func cmdEffmach(_ context.Context, _ *Env, args string) (Result, error) {
	switch strings.ToLower(strings.TrimSpace(args)) {
	case "", ".", "#", "amd64", "x64":
		return EffectiveMachine{Name: "x64", Long: "AMD64"}, nil
	}
	return nil, &Error{Msg: fmt.Sprintf(".effmach %s: kd debugs x64 (AMD64) targets only", strings.TrimSpace(args)),
		Hints: []string{".effmach alone shows the machine"}}
}
