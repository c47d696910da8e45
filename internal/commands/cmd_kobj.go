package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gokd/kd/internal/target"
)

// groupKernel holds the kernel-object commands (!process, !thread, ...).
const groupKernel = "Kernel objects and bug checks"

func init() {
	groupOrder = append(groupOrder, groupKernel)
	addCommands(kobjCommands...)
}

var kobjCommands = []*Command{
	{
		Names: []string{"!process"}, Group: groupKernel,
		Example: "!process 0 0\n!process 0 0 lsass.exe\n!process 0 7 lsass.exe",
		Help: "Display processes: one, the current one, or every process on PsActiveProcessHead.\n\n" +
			"\t!process [Process [Flags [ImageName]]]\n\n" +
			"Process is 0 for every process, -1 (or nothing) for the current one, a process id (a value below " +
			"0x10000) or an EPROCESS address. Flags (default 3 for the current process, else 0): bit 0 adds kd's " +
			"CreateTime and ActiveThreads lines (KD's elapsed, user and kernel time lines are not shown), bits 1-2 list the threads, bit 2 adds each thread's stack (7 shows everything). ImageName keeps " +
			"only the processes whose ImageFileName matches (case-insensitive). Each process shows KD's lines: " +
			"PROCESS, SessionId/Cid/Peb/ParentCid, DirBase/ObjectTable/HandleCount, Image. Fields are read by " +
			"their names in nt's PDB (_EPROCESS, _ETHREAD, _KTHREAD); without it kd uses kdsim's offsets and " +
			"says so. The walk stops at 4096 entries, at a loop or at a pointer outside kernel space. KD's " +
			"/s, /m and the Vad, token and quota lines are not shown.",
		Run: cmdProcess,
	},
	{
		Names: []string{"!thread"}, Group: groupKernel,
		Example: "!thread\n!thread @$thread",
		Help: "Display a thread: its ids, wait state, times, stack bounds and stack.\n\n" +
			"\t!thread [Address [Flags]]\n\n" +
			"Address is an ETHREAD, or -1 (or nothing) for the current thread of the current processor (read from " +
			"control space). Flags (default 6): bit 2 walks the stack, from the registers for the current thread " +
			"and from the KSWITCH_FRAME at KTHREAD.KernelStack for a waiting one. The layout follows KD's; the " +
			"IRP, impersonation and device-map lines are not shown.",
		Run: cmdThread,
	},
	{
		Names: []string{".thread"}, Group: groupKernel,
		Example: ".thread @$thread",
		Help: "Set the implicit thread: k walks that thread's stack until the target runs again.\n\n\t.thread [Address]\n\n" +
			"Address is an ETHREAD that is not running; its saved rip, rsp and rbp come from the KSWITCH_FRAME at " +
			"KTHREAD.KernelStack and k starts from them, with KD's \"Stack trace for last set context\" line. " +
			".thread alone (or -1) goes back to the current thread. Unlike KD, kd changes only k's starting point: " +
			"r still shows the processor's registers.",
		Run: cmdDotThread,
	},
	{
		Names: []string{"!irql"}, Group: groupKernel,
		Example: "!irql",
		Help: "Display the current processor's IRQL.\n\n\t!irql [Processor]\n\n" +
			"kd reads CR8 (the x64 task-priority register, which holds the IRQL) from the processor's " +
			"KSPECIAL_REGISTERS; KD reads the IRQL the debugger saved in the KPRCB, the same value on kdsim. " +
			"Another processor's IRQL needs ~Ns first.",
		Run: cmdIrql,
	},
	{
		Names: []string{".bugcheck"}, Group: groupKernel,
		Example: ".bugcheck",
		Help: "Display the bug check code and its four parameters.\n\n\t.bugcheck\n\n" +
			"Read from nt!KiBugCheckData (found through KDDEBUGGER_DATA64). When the target has not bug-checked " +
			"the code is 0 and kd says so in a line of its own.",
		Run: cmdBugcheck,
	},
	{
		Names: []string{"!analyze"}, Group: groupKernel,
		Example: "!analyze -v",
		Help: "Analyse the bug check the target is stopped in.\n\n\t!analyze [-v]\n\n" +
			"Shows the bug check's name and description, its four parameters with their meanings, the faulting " +
			"address and its symbol, the module to blame and, with -v, the stack. kd knows the common codes " +
			"(descriptions written for kd from public documentation); the faulting frame is the parameter that " +
			"holds the faulting address when the code has one, else the first frame outside nt and hal. This is " +
			"not KD's analysis engine: no bucket database, no dump, no heuristics beyond these.",
		Run: cmdAnalyze,
	},
	{
		Names: []string{"!error"}, Group: groupKernel, Anytime: true,
		Example: "!error c0000005\n!error 5",
		Help: "Decode an NTSTATUS or Win32 error code.\n\n\t!error Value [Flags]\n\n" +
			"A value with the severity bits of an NTSTATUS (0x4..., 0x8..., 0xC...) or Flags 1 is an NTSTATUS; " +
			"others are Win32 errors. kd has a table of common codes; the messages were written from public " +
			"documentation and may differ in wording from the system's message tables.",
		Run: cmdError,
	},
}

// exprPrefix evaluates the expression at the start of s.
type exprPrefix func(s string) (uint64, string, error)

// processArgs is !process's parsed command line.
type processArgs struct {
	Current  bool
	All      bool
	PID      uint64
	ByPID    bool
	Addr     uint64
	Flags    uint64
	HasFlags bool
	Image    string
}

// maxImageName bounds the ImageName argument (ImageFileName is 15 bytes;
// a longer name still matches nothing).
const maxImageName = 256

// parseProcessArgs parses "[Process [Flags [ImageName]]]".
func parseProcessArgs(line, args string, eval exprPrefix) (processArgs, error) {
	var a processArgs
	rest := strings.TrimSpace(args)
	if strings.HasPrefix(rest, "/") {
		opt, _, _ := strings.Cut(rest, " ")
		return a, syntaxErr(line, "option %s is not supported (kd knows !process [Process [Flags [ImageName]]])", opt)
	}
	if rest == "" {
		a.Current, a.Flags = true, 3
		return a, nil
	}
	v, r, err := eval(rest)
	if err != nil {
		return a, syntaxErr(line, "%v", err)
	}
	switch {
	case v == 0:
		a.All = true
	case v == ^uint64(0):
		a.Current = true
	case v < 0x10000:
		a.PID, a.ByPID = v, true
	default:
		a.Addr = v
	}
	rest = strings.TrimSpace(r)
	if rest == "" {
		if a.Current {
			a.Flags = 3
		}
		return a, nil
	}
	f, r, err := eval(rest)
	if err != nil {
		return a, syntaxErr(line, "%v", err)
	}
	a.Flags, a.HasFlags = f, true
	rest = strings.TrimSpace(r)
	if rest != "" {
		if strings.ContainsAny(rest, " \t") {
			return a, syntaxErr(line, "one image name, e.g. lsass.exe")
		}
		if len(rest) > maxImageName {
			return a, syntaxErr(line, "image name longer than %d characters", maxImageName)
		}
		a.Image = rest
	}
	return a, nil
}

func (e *Env) prefixEval(ctx context.Context) exprPrefix {
	return func(s string) (uint64, string, error) { return evalPrefix(s, exprTarget{ctx, e}) }
}

func cmdProcess(ctx context.Context, e *Env, args string) (Result, error) {
	line := strings.TrimSpace("!process " + args)
	a, err := parseProcessArgs(line, args, e.prefixEval(ctx))
	if err != nil {
		return nil, err
	}
	q := target.ProcessQuery{All: a.All, Current: a.Current, Addr: a.Addr, PID: a.PID, ByPID: a.ByPID, Image: a.Image,
		Threads: a.Flags&6 != 0, Stacks: a.Flags&4 != 0}
	l, err := e.T.Processes(ctx, q)
	switch {
	case errors.Is(err, target.ErrNoProcess):
		return nil, &Error{Msg: strings.TrimPrefix(err.Error(), target.ErrNoProcess.Error()+": "),
			Hints: []string{"!process 0 0 lists every process with its Cid"}}
	case errors.Is(err, target.ErrNotObject):
		return nil, &Error{Msg: strings.TrimPrefix(err.Error(), target.ErrNotObject.Error()+": "),
			Hints: []string{"give an EPROCESS address or a Cid from !process 0 0"}}
	case err != nil:
		return nil, err
	}
	return ProcessDump{ProcessList: l, Flags: a.Flags, All: a.All || a.Image != ""}, nil
}

// threadArgs is !thread's parsed command line.
type threadArgs struct {
	Current bool
	Addr    uint64
	Flags   uint64
}

// parseThreadArgs parses "[Address [Flags]]".
func parseThreadArgs(line, args string, eval exprPrefix) (threadArgs, error) {
	a := threadArgs{Current: true, Flags: 6}
	rest := strings.TrimSpace(args)
	if strings.HasPrefix(rest, "-") && len(rest) > 1 && (rest[1] == 'p' || rest[1] == 't') {
		return a, syntaxErr(line, "options -p and -t are not supported (kd knows !thread [Address [Flags]])")
	}
	if rest == "" {
		return a, nil
	}
	v, r, err := eval(rest)
	if err != nil {
		return a, syntaxErr(line, "%v", err)
	}
	if v != ^uint64(0) {
		a.Current, a.Addr = false, v
	}
	rest = strings.TrimSpace(r)
	if rest == "" {
		return a, nil
	}
	f, r, err := eval(rest)
	if err != nil {
		return a, syntaxErr(line, "%v", err)
	}
	if strings.TrimSpace(r) != "" {
		return a, syntaxErr(line, "too many arguments")
	}
	a.Flags = f
	return a, nil
}

func cmdThread(ctx context.Context, e *Env, args string) (Result, error) {
	line := strings.TrimSpace("!thread " + args)
	a, err := parseThreadArgs(line, args, e.prefixEval(ctx))
	if err != nil {
		return nil, err
	}
	d, err := e.T.ThreadInfo(ctx, target.ThreadQuery{Addr: a.Addr, Current: a.Current, Stack: a.Flags&4 != 0})
	if errors.Is(err, target.ErrNotObject) {
		return nil, &Error{Msg: strings.TrimPrefix(err.Error(), target.ErrNotObject.Error()+": "),
			Hints: []string{"!process ADDR 2 lists a process's ETHREAD addresses"}}
	}
	if err != nil {
		return nil, err
	}
	return ThreadDump{ThreadDetail: d, Flags: a.Flags}, nil
}

// implicitThread is the thread .thread set: k walks its saved context
// until the target runs again.
type implicitThread struct {
	addr uint64
	stop uint64 // Target.StopID when it was set
}

// implicit returns the implicit thread when it is set for this stop.
func (e *Env) implicit() (uint64, bool) {
	if e.thread.addr == 0 || e.thread.stop != e.T.StopID() {
		e.thread = implicitThread{}
		return 0, false
	}
	return e.thread.addr, true
}

func cmdDotThread(ctx context.Context, e *Env, args string) (Result, error) {
	line := strings.TrimSpace(".thread " + args)
	a, err := parseThreadArgs(line, args, e.prefixEval(ctx))
	if err != nil {
		return nil, err
	}
	if a.Current {
		d, err := e.T.ThreadInfo(ctx, target.ThreadQuery{Current: true})
		if err != nil {
			return nil, err
		}
		e.thread = implicitThread{}
		return ThreadContext{Thread: d.Thread.Addr, Current: true}, nil
	}
	from, th, err := e.T.ThreadStackFrom(ctx, a.Addr)
	if errors.Is(err, target.ErrNotObject) {
		return nil, &Error{Msg: strings.TrimPrefix(err.Error(), target.ErrNotObject.Error()+": "),
			Hints: []string{"!process ADDR 2 lists a process's ETHREAD addresses"}}
	}
	if err != nil {
		return nil, err
	}
	if th.Current {
		e.thread = implicitThread{}
		return ThreadContext{Thread: th.Addr, Current: true}, nil
	}
	e.thread = implicitThread{addr: th.Addr, stop: e.T.StopID()}
	return ThreadContext{Thread: th.Addr, RSP: from.RSP, RIP: from.RIP, RBP: from.RBP}, nil
}

func cmdIrql(ctx context.Context, e *Env, args string) (Result, error) {
	line := strings.TrimSpace("!irql " + args)
	cpu, _ := e.T.Processor()
	if rest := strings.TrimSpace(args); rest != "" {
		v, err := e.eval(ctx, rest)
		if err != nil {
			return nil, syntaxErr(line, "%v", err)
		}
		if v != uint64(cpu) {
			return nil, &Error{Msg: fmt.Sprintf("kd reads the IRQL of the current processor only (%d)", cpu),
				Hints: []string{fmt.Sprintf("switch with ~%ds, then !irql", v)}}
		}
	}
	sr, err := e.T.SpecialRegisters(ctx)
	if err != nil {
		return nil, err
	}
	return IrqlInfo{Processor: cpu, Irql: sr.Cr8}, nil
}

func cmdBugcheck(ctx context.Context, e *Env, args string) (Result, error) {
	if strings.TrimSpace(args) != "" {
		return nil, syntaxErr(strings.TrimSpace(".bugcheck "+args), ".bugcheck takes no arguments")
	}
	bc, err := e.T.BugCheckData(ctx)
	if err != nil {
		return nil, err
	}
	return BugCheckInfo{BugCheck: bc}, nil
}

func cmdError(ctx context.Context, e *Env, args string) (Result, error) {
	line := strings.TrimSpace("!error " + args)
	v, flags, err := parseErrorArgs(line, args, func(s string) (uint64, string, error) {
		return evalPrefix(s, exprTarget{ctx, e})
	})
	if err != nil {
		return nil, err
	}
	return LookupError(v, flags&1 != 0), nil
}

// parseErrorArgs parses "Value [Flags]".
func parseErrorArgs(line, args string, eval exprPrefix) (uint64, uint64, error) {
	rest := strings.TrimSpace(args)
	if rest == "" {
		return 0, 0, syntaxErr(line, "!error needs a value, e.g. !error c0000005")
	}
	v, r, err := eval(rest)
	if err != nil {
		return 0, 0, syntaxErr(line, "%v", err)
	}
	var flags uint64
	if rest = strings.TrimSpace(r); rest != "" {
		if flags, r, err = eval(rest); err != nil {
			return 0, 0, syntaxErr(line, "%v", err)
		}
		if strings.TrimSpace(r) != "" {
			return 0, 0, syntaxErr(line, "too many arguments")
		}
	}
	return v, flags, nil
}
