package commands

import (
	"context"
	"strings"
)

var execCommands = []*Command{
	{
		Names: []string{"g"}, Resumes: true, Group: groupExec,
		Example: "g",
		Help: "Go: resume the target.\n\n\tg\n\nkd shows no prompt while the target runs; CTRL+C breaks in again. " +
			"A breakpoint at the current address is stepped over first.",
		Run: func(ctx context.Context, e *Env, args string) (Result, error) {
			if err := noArgs("g", args); err != nil {
				return nil, err
			}
			return nil, e.T.Go(ctx)
		},
	},
	{
		Names: []string{"t"}, Resumes: true, Group: groupExec, Repeat: true,
		Example: "t",
		Help:    "Trace: execute one instruction (step into calls) and show the registers.\n\n\tt",
		Run: func(ctx context.Context, e *Env, args string) (Result, error) {
			if err := noArgs("t", args); err != nil {
				return nil, err
			}
			return nil, e.T.Trace(ctx)
		},
	},
	{
		Names: []string{"p"}, Resumes: true, Group: groupExec, Repeat: true,
		Example: "p",
		Help:    "Step: execute one instruction, running calls to completion, and show the registers.\n\n\tp",
		Run: func(ctx context.Context, e *Env, args string) (Result, error) {
			if err := noArgs("p", args); err != nil {
				return nil, err
			}
			return nil, e.T.StepOver(ctx)
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
