package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/target"
)

func init() { addRenderers(kobjText, kobjJSON) }

// threadStates are the KTHREAD_STATE names KD shows.
var threadStates = []string{"INITIALIZED", "READY", "RUNNING", "STANDBY", "TERMINATED", "WAIT", "TRANSITION",
	"DEFERREDREADY", "GATEWAIT", "WAITINGFORPROCESSINSWAP"}

// waitReasons are the KWAIT_REASON names.
var waitReasons = []string{"Executive", "FreePage", "PageIn", "PoolAllocation", "DelayExecution", "Suspended",
	"UserRequest", "WrExecutive", "WrFreePage", "WrPageIn", "WrPoolAllocation", "WrDelayExecution", "WrSuspended",
	"WrUserRequest", "WrSpare0", "WrQueue", "WrLpcReceive", "WrLpcReply", "WrVirtualMemory", "WrPageOut",
	"WrRendezvous", "WrKeyedEvent", "WrTerminated", "WrProcessInSwap", "WrCpuRateControl", "WrCalloutStack",
	"WrKernel", "WrResource", "WrPushLock", "WrMutex", "WrQuantumEnd", "WrDispatchInt", "WrPreempted",
	"WrYieldExecution", "WrFastMutex", "WrGuardedMutex", "WrRundown", "WrAlertByThreadId", "WrDeferredPreempt"}

func nameOf(list []string, i int) string {
	if i >= 0 && i < len(list) {
		return list[i]
	}
	return fmt.Sprintf("%d", i)
}

// irqlNames are the x64 IRQL names.
var irqlNames = map[uint64]string{0: "LOW_LEVEL", 1: "APC_LEVEL", 2: "DISPATCH_LEVEL", 13: "CLOCK_LEVEL",
	14: "IPI_LEVEL", 15: "HIGH_LEVEL"}

// tickTime formats a count of 15.625 ms clock ticks as KD's h:mm:ss.mmm.
func tickTime(ticks uint32) string {
	ms := uint64(ticks) * 15625 / 1000
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}

func kobjText(r *Text, res commands.Result) bool {
	o := r.Out
	switch v := res.(type) {
	case commands.ProcessDump:
		var b strings.Builder
		if v.Note != "" {
			fmt.Fprintf(&b, "(%s)\n", v.Note)
		}
		if v.All {
			b.WriteString("**** NT ACTIVE PROCESS DUMP ****\n")
		}
		for _, p := range v.Processes {
			processText(&b, p, v.Flags)
		}
		if v.Stopped != "" {
			fmt.Fprintf(&b, "(the process list walk stopped: %s)\n", v.Stopped)
		}
		o.Printf("%s", strings.TrimSuffix(b.String(), "\n"))
	case commands.ThreadDump:
		var b strings.Builder
		if v.Note != "" {
			fmt.Fprintf(&b, "(%s)\n", v.Note)
		}
		threadText(&b, v.Thread, "", true)
		o.Printf("%s", strings.TrimSuffix(b.String(), "\n"))
	case commands.ThreadContext:
		o.Printf("Implicit thread is now %s", Addr(v.Thread))
	case commands.IrqlInfo:
		name := irqlNames[v.Irql]
		if name == "" {
			name = "?"
		}
		o.Printf("Debugger saved IRQL for processor 0x%x -- %d (%s)", v.Processor, v.Irql, name)
	case commands.BugCheckInfo:
		o.Printf("Bugcheck code %08X", v.Code)
		o.Printf("Arguments %s %s %s %s", Addr(v.Params[0]), Addr(v.Params[1]), Addr(v.Params[2]), Addr(v.Params[3]))
		if v.Code == 0 {
			o.Printf("(the target has not bug-checked: nt!KiBugCheckData holds 0)")
		}
	case commands.NoBugCheck:
		o.Printf("The target has not bug-checked (nt!KiBugCheckData at %s holds 0): !analyze explains bug checks only.", Addr(v.Addr))
	case commands.Analysis:
		analysisText(r, v)
	case commands.ErrorCode:
		o.Printf("%s", v.Line())
	default:
		return false
	}
	return true
}

// processText writes one process in KD's !process layout.
func processText(b *strings.Builder, p target.Process, flags uint64) {
	sess := "none"
	switch {
	case !p.SessionOK:
		sess = "?"
	case p.Session == -2:
		sess = "?"
	case p.Session >= 0:
		sess = fmt.Sprintf("%d", p.Session)
	}
	fmt.Fprintf(b, "PROCESS %016x\n", p.Addr)
	fmt.Fprintf(b, "    SessionId: %s  Cid: %04x    Peb: %08x  ParentCid: %04x\n", sess, p.PID, p.Peb, p.ParentPID)
	handles := "<Data Not Accessible>"
	if p.HandlesOK {
		handles = fmt.Sprintf("%d.", p.Handles)
	}
	fmt.Fprintf(b, "    DirBase: %08x  ObjectTable: %016x  HandleCount: %s\n", p.DirBase, p.ObjectTable, handles)
	fmt.Fprintf(b, "    Image: %s\n", p.Image)
	if flags&1 != 0 {
		if p.CreateTime != 0 {
			fmt.Fprintf(b, "    CreateTime: %s\n", fileTime(p.CreateTime))
		}
		fmt.Fprintf(b, "    ActiveThreads: %d\n", p.NThreads)
	}
	if flags&6 != 0 {
		b.WriteByte('\n')
		for _, th := range p.Threads {
			threadText(b, th, "        ", flags&4 != 0)
		}
		if p.ThreadsStopped != "" {
			fmt.Fprintf(b, "        (the thread list walk stopped: %s)\n", p.ThreadsStopped)
		}
	}
	b.WriteByte('\n')
}

// threadText writes one thread in KD's !thread layout, each line
// prefixed with indent; detail adds the times, stack bounds and stack.
func threadText(b *strings.Builder, th target.Thread, indent string, detail bool) {
	state := nameOf(threadStates, th.State)
	switch th.State {
	case target.ThreadWaiting:
		mode := "KernelMode"
		if th.WaitMode == 1 {
			mode = "UserMode"
		}
		alert := "Non-Alertable"
		if th.Alertable {
			alert = "Alertable"
		}
		state = fmt.Sprintf("WAIT: (%s) %s %s", nameOf(waitReasons, th.WaitReason), mode, alert)
	case target.ThreadRunning:
		state = "RUNNING"
	}
	fmt.Fprintf(b, "%sTHREAD %016x  Cid %04x.%04x  Teb: %016x Win32Thread: %016x %s\n", indent, th.Addr, th.PID, th.TID,
		th.Teb, th.Win32Thread, state)
	if !detail {
		return
	}
	img := th.ProcessImage
	fmt.Fprintf(b, "%sOwning Process            %016x       Image:         %s\n", indent, th.Process, img)
	fmt.Fprintf(b, "%sWait Start TickCount      %-14d Context Switch Count      %d\n", indent, th.WaitTime, th.Switches)
	fmt.Fprintf(b, "%sUserTime                  %s\n", indent, tickTime(th.UserTime))
	fmt.Fprintf(b, "%sKernelTime                %s\n", indent, tickTime(th.KernelTime))
	switch {
	case th.StartSymbol != "":
		fmt.Fprintf(b, "%sWin32 Start Address %s (0x%016x)\n", indent, th.StartSymbol, th.StartAddress)
	case th.StartAddress != 0:
		fmt.Fprintf(b, "%sWin32 Start Address 0x%016x\n", indent, th.StartAddress)
	}
	fmt.Fprintf(b, "%sStack Init %016x Current %016x\n", indent, th.InitStack, th.KernelStack)
	fmt.Fprintf(b, "%sBase %016x Limit %016x Call 0000000000000000\n", indent, th.StackBase, th.StackLimit)
	fmt.Fprintf(b, "%sPriority %d BasePriority %d\n", indent, th.Priority, th.BasePriority)
	switch {
	case th.Stack != nil:
		for _, l := range strings.Split(StackText(commands.StackTrace{Stack: *th.Stack}), "\n") {
			fmt.Fprintf(b, "%s%s\n", indent, l)
		}
	case th.StackErr != "":
		fmt.Fprintf(b, "%s(no stack: %s)\n", indent, th.StackErr)
	}
	b.WriteByte('\n')
}

// analysisText writes !analyze's report with KD's headings.
func analysisText(r *Text, a commands.Analysis) {
	var b strings.Builder
	star := strings.Repeat("*", 79)
	blank := "*" + strings.Repeat(" ", 77) + "*"
	fmt.Fprintf(&b, "%s\n%s\n*%s*\n%s\n%s\n\n", star, blank, center("Bugcheck Analysis", 77), blank, star)
	name := a.Name
	if name == "" {
		name = "Unknown bugcheck code"
	}
	fmt.Fprintf(&b, "%s (%x)\n", name, a.BugCheck.Code)
	if a.Desc != "" {
		fmt.Fprintf(&b, "%s\n", a.Desc)
	}
	b.WriteString("Arguments:\n")
	for i, p := range a.BugCheck.Params {
		fmt.Fprintf(&b, "Arg%d: %016x, %s\n", i+1, p, a.ArgText(i))
	}
	if !a.Verbose {
		b.WriteString("\nUse !analyze -v to get detailed debugging information.\n\n")
		fmt.Fprintf(&b, "BugCheck %X, {%x, %x, %x, %x}\n\n", a.BugCheck.Code, a.BugCheck.Params[0], a.BugCheck.Params[1],
			a.BugCheck.Params[2], a.BugCheck.Params[3])
		if a.HaveFault {
			fmt.Fprintf(&b, "Probably caused by : %s ( %s )\n", orUnknown(a.Image), orUnknown(a.FaultSymbol))
		}
		r.Out.Printf("%s", strings.TrimSuffix(b.String(), "\n"))
		return
	}
	b.WriteString("\nDebugging Details:\n------------------\n\n")
	fmt.Fprintf(&b, "BUGCHECK_CODE:  %x\n\n", a.BugCheck.Code)
	for i, p := range a.BugCheck.Params {
		fmt.Fprintf(&b, "BUGCHECK_P%d: %x\n", i+1, p)
	}
	b.WriteByte('\n')
	if a.HaveFault {
		fmt.Fprintf(&b, "FAULTING_IP: \n%s\n%s\n\n", orUnknown(a.FaultSymbol), InstLine(a.FaultInst.Inst))
	}
	b.WriteString("STACK_TEXT:  \n")
	if len(a.Stack.Frames) > 0 {
		b.WriteString(StackText(commands.StackTrace{Stack: a.Stack}))
		b.WriteByte('\n')
	} else if a.StackErr != "" {
		fmt.Fprintf(&b, "(no stack: %s)\n", a.StackErr)
	}
	b.WriteByte('\n')
	if a.HaveFault {
		fmt.Fprintf(&b, "SYMBOL_NAME:  %s\n\n", orUnknown(a.FaultSymbol))
		fmt.Fprintf(&b, "MODULE_NAME: %s\n\n", orUnknown(a.Module))
		fmt.Fprintf(&b, "IMAGE_NAME:  %s\n\n", orUnknown(a.Image))
		fn, _, _ := strings.Cut(a.FaultSymbol, "+")
		fmt.Fprintf(&b, "FAILURE_BUCKET_ID:  0x%X_%s\n", a.BugCheck.Code, orUnknown(fn))
	} else {
		b.WriteString("(kd found no faulting frame outside nt and hal)\n")
	}
	r.Out.Printf("%s", strings.TrimSuffix(b.String(), "\n"))
}

// fileTime formats a FILETIME (100 ns since 1601) as KD shows dates, in UTC.
func fileTime(ft uint64) string {
	const unixEpoch = 116444736000000000
	if ft < unixEpoch || ft > unixEpoch+1e7*(1<<40) {
		return fmt.Sprintf("%016x (not a date)", ft)
	}
	t := time.Unix(0, int64(ft-unixEpoch)*100).UTC()
	return t.Format("Mon Jan _2 15:04:05.000 2006") + " (UTC + 0:00)"
}

func orUnknown(s string) string {
	if s == "" {
		return "Unknown"
	}
	return s
}

func center(s string, w int) string {
	if len(s) >= w {
		return s
	}
	left := (w - len(s)) / 2
	return strings.Repeat(" ", left) + s + strings.Repeat(" ", w-len(s)-left)
}
