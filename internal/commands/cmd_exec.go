package commands

import (
	"context"
	"strings"

	"github.com/gokd/kd/internal/target"
)

var execCommands = []*Command{
	{
		Names: []string{"g"}, Resumes: true, Group: groupExec,
		Example: "g\ng hal!HalProcessorIdle\ng = nt!KiIdleLoop simdrv!SimDrvTimerRoutine",
		Help: "Go: resume the target.\n\n\tg [= StartAddress] [BreakAddress ...]\n\n" +
			"kd shows no prompt while the target runs; CTRL+C breaks in again. A breakpoint at the current address is " +
			"stepped over first. = StartAddress moves rip there first. Up to 10 BreakAddresses get temporary " +
			"breakpoints, all gone at the next stop; reaching one shows its location. KD's ga (hardware break " +
			"addresses) and a command string after g are not supported.",
		Run: cmdGo,
	},
	{
		Names: []string{"gu"}, Resumes: true, Group: groupExec,
		Example: "gu",
		Help: "Go up: run until the current function returns to its caller.\n\n\tgu\n\n" +
			"The return address comes from the unwinder (as k shows it); kd stops there only once the stack pointer " +
			"is above the function's frame, so a recursive call of the same function returning does not end gu.",
		Run: func(ctx context.Context, e *Env, args string) (Result, error) {
			if err := noArgs("gu", args); err != nil {
				return nil, err
			}
			return nil, e.T.GoUp(ctx)
		},
	},
	{
		Names: []string{"gh"}, Resumes: true, Group: groupExec,
		Example: "gh",
		Help: "Go with the exception handled: resume, telling the kernel the exception was handled.\n\n\tgh\n\n" +
			"The Continue2 carries DBG_EXCEPTION_HANDLED instead of g's DBG_CONTINUE.",
		Run: func(ctx context.Context, e *Env, args string) (Result, error) {
			if err := noArgs("gh", args); err != nil {
				return nil, err
			}
			return nil, e.T.GoException(ctx, true)
		},
	},
	{
		Names: []string{"gn"}, Resumes: true, Group: groupExec,
		Example: "gn",
		Help: "Go with the exception not handled: the kernel passes it on to its handlers.\n\n\tgn\n\n" +
			"The Continue2 carries DBG_EXCEPTION_NOT_HANDLED. At one of kd's own breakpoints gh and gn are g: the " +
			"breakpoint is kd's, not the kernel's, and a not-handled continue could not step off it.",
		Run: func(ctx context.Context, e *Env, args string) (Result, error) {
			if err := noArgs("gn", args); err != nil {
				return nil, err
			}
			return nil, e.T.GoException(ctx, false)
		},
	},
	{
		Names: []string{"t"}, Resumes: true, Group: groupExec, Repeat: true,
		Example: "t\nt 3",
		Help: "Trace: execute instructions, stepping into calls, and show the registers after each.\n\n\tt [= StartAddress] [Count]\n\n" +
			"Count (default 1) instructions; CTRL+C ends a long count early.",
		Run: stepCmd("t", false),
	},
	{
		Names: []string{"p"}, Resumes: true, Group: groupExec, Repeat: true,
		Example: "p\np 5",
		Help: "Step: execute instructions, running calls to completion, and show the registers after each.\n\n\tp [= StartAddress] [Count]\n\n" +
			"A call runs to a temporary breakpoint at its return address. Count (default 1) steps; CTRL+C ends them early.",
		Run: stepCmd("p", true),
	},
	{
		Names: []string{"tc"}, Resumes: true, Group: groupExec, Repeat: true,
		Example: "tc",
		Help: "Trace to the next call instruction (stepping into calls on the way) and show the registers there.\n\n\ttc [= StartAddress]\n\n" +
			"kd gives up after 100000 steps (CTRL+C sooner); KD's count is not supported.",
		Run: stepToCmd("tc", false, false),
	},
	{
		Names: []string{"pc"}, Resumes: true, Group: groupExec, Repeat: true,
		Example: "pc",
		Help: "Step to the next call instruction (running calls on the way to completion) and show the registers there.\n\n\tpc [= StartAddress]\n\n" +
			"kd gives up after 100000 steps (CTRL+C sooner); KD's count is not supported.",
		Run: stepToCmd("pc", true, false),
	},
	{
		Names: []string{"ta"}, Resumes: true, Group: groupExec,
		Example: "ta hal!HalProcessorIdle+4",
		Help: "Trace to an address, showing the registers at every step.\n\n\tta [= StartAddress] StopAddress\n\n" +
			"kd gives up after 100000 steps (CTRL+C sooner).",
		Run: stepToCmd("ta", false, true),
	},
	{
		Names: []string{"pa"}, Resumes: true, Group: groupExec,
		Example: "pa hal!HalProcessorIdle+8",
		Help: "Step to an address (running calls to completion), showing the registers at every step.\n\n\tpa [= StartAddress] StopAddress\n\n" +
			"kd gives up after 100000 steps (CTRL+C sooner).",
		Run: stepToCmd("pa", true, true),
	},
	{
		Names: []string{"wt"}, Group: groupExec,
		Example: "wt",
		Help: "Trace and watch data: not supported by kd.\n\n\twt\n\n" +
			"kd refuses wt with an error: its call tree of a whole function needs thousands of single steps over " +
			"the serial link. Use p or t with a count, pc, or breakpoints and g.",
		Run: func(context.Context, *Env, string) (Result, error) {
			return nil, &Error{Msg: "wt (trace and watch data) is not supported by kd",
				Hints: []string{"step with p or t and a count (p 20), pc/tc to the next call, or set breakpoints and use g"}}
		},
	},
	{
		Names: []string{"~s"}, Resumes: true, Group: groupExec,
		Example: "~1s",
		Help:    "Switch to another processor.\n\n\t~Ns\n\nN is the processor number; the prompt becomes `N: kd> `.",
		Run: func(ctx context.Context, e *Env, args string) (Result, error) {
			n, ok := parseNumber(strings.TrimSpace(args))
			if !ok {
				return nil, syntaxErr("~"+args+"s", "a processor number is expected")
			}
			return nil, e.T.SwitchProcessor(ctx, n)
		},
	},
	{
		Names: []string{".reboot"}, Resumes: true, Group: groupTarget,
		Example: ".reboot",
		Help: "Reboot the target and wait for it to come back.\n\n\t.reboot\n\n" +
			"kd prints the shutdown line, then `Waiting to reconnect...` and the connection lines again. " +
			"Breakpoints are forgotten. CTRL+K chooses whether kd breaks in when the target is back.",
		Run: func(ctx context.Context, e *Env, args string) (Result, error) {
			if err := noArgs(".reboot", args); err != nil {
				return nil, err
			}
			return nil, e.T.Reboot(ctx)
		},
	},
	{
		Names: []string{".restart"}, Resumes: true, Group: groupTarget, Anytime: true,
		Example: ".restart",
		Help: "Restart the kernel connection: drop the link and the protocol state and connect again.\n\n\t.restart\n\n" +
			"Stronger than CTRL+R ENTER: the same as quitting kd and attaching a new one.",
		Run: func(_ context.Context, e *Env, args string) (Result, error) {
			if err := noArgs(".restart", args); err != nil {
				return nil, err
			}
			return nil, e.T.Restart()
		},
	},
	{
		Names: []string{"q"}, Group: groupSession, Anytime: true,
		Example: "q",
		Help:    "Quit: end the session and exit kd. The target stays as it is (a stopped target stays stopped).\n\n\tq",
		Run: func(_ context.Context, e *Env, args string) (Result, error) {
			if err := noArgs("q", args); err != nil {
				return nil, err
			}
			e.Host.Quit()
			return Quit{}, nil
		},
	},
}

func noArgs(name, args string) error {
	if strings.TrimSpace(args) != "" {
		return syntaxErr(name+" "+args, "%s takes no arguments", name)
	}
	return nil
}

// evalStart evaluates the = StartAddress of an execution command.
func evalStart(ctx context.Context, e *Env, name string, x execArgs) (*uint64, error) {
	if x.start == "" {
		return nil, nil
	}
	v, err := e.eval(ctx, x.start)
	if err != nil {
		return nil, syntaxErr(name+" ="+x.start, "%v", err)
	}
	return &v, nil
}

func cmdGo(ctx context.Context, e *Env, args string) (Result, error) {
	x, err := parseExecArgs("g", args)
	if err != nil {
		return nil, err
	}
	if len(x.rest) > target.MaxGoAddresses {
		return nil, syntaxErr("g "+args, "g takes at most %d break addresses", target.MaxGoAddresses)
	}
	if err := e.T.CheckStopped(); err != nil {
		return nil, err
	}
	start, err := evalStart(ctx, e, "g", x)
	if err != nil {
		return nil, err
	}
	var addrs []uint64
	for _, w := range x.rest {
		a, err := e.eval(ctx, w)
		if err != nil {
			return nil, syntaxErr("g "+args, "%v", err)
		}
		addrs = append(addrs, a)
	}
	if start == nil && len(addrs) == 0 {
		return nil, e.T.Go(ctx)
	}
	return nil, e.T.GoTo(ctx, start, addrs)
}

// maxStepCount bounds p and t counts.
const maxStepCount = 100000

func stepCmd(name string, over bool) func(context.Context, *Env, string) (Result, error) {
	return func(ctx context.Context, e *Env, args string) (Result, error) {
		x, err := parseExecArgs(name, args)
		if err != nil {
			return nil, err
		}
		if len(x.rest) > 1 {
			return nil, syntaxErr(name+" "+args, "expected [= StartAddress] [Count]")
		}
		if err := e.T.CheckStopped(); err != nil {
			return nil, err
		}
		o := target.StepOptions{Over: over, Count: 1}
		if len(x.rest) == 1 {
			n, err := e.eval(ctx, x.rest[0])
			if err != nil {
				return nil, syntaxErr(name+" "+args, "%v", err)
			}
			if n == 0 || n > maxStepCount {
				return nil, syntaxErr(name+" "+args, "the count must be 1 to %#x", maxStepCount)
			}
			o.Count = int(n)
		}
		if o.Start, err = evalStart(ctx, e, name, x); err != nil {
			return nil, err
		}
		return nil, e.T.Step(ctx, o)
	}
}

func stepToCmd(name string, over, toAddr bool) func(context.Context, *Env, string) (Result, error) {
	return func(ctx context.Context, e *Env, args string) (Result, error) {
		x, err := parseExecArgs(name, args)
		if err != nil {
			return nil, err
		}
		switch {
		case toAddr && len(x.rest) != 1:
			return nil, syntaxErr(name+" "+args, "expected [= StartAddress] StopAddress")
		case !toAddr && len(x.rest) != 0:
			return nil, syntaxErr(name+" "+args, "expected [= StartAddress] (a count is not supported)")
		}
		if err := e.T.CheckStopped(); err != nil {
			return nil, err
		}
		o := target.StepOptions{Over: over, ToCall: !toAddr, ToAddr: toAddr}
		if toAddr {
			if o.Addr, err = e.eval(ctx, x.rest[0]); err != nil {
				return nil, syntaxErr(name+" "+args, "%v", err)
			}
		}
		if o.Start, err = evalStart(ctx, e, name, x); err != nil {
			return nil, err
		}
		return nil, e.T.Step(ctx, o)
	}
}
