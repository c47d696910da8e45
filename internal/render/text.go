package render

import (
	"fmt"
	"github.com/gokd/kd/internal/safetext"
	"runtime"
	"strings"
	"time"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/kdproto"
	"github.com/gokd/kd/transport"
)

// Screen is where text output goes: the console's output, which keeps
// console lines and target text apart and copies both to the log.
type Screen interface {
	// Printf prints console text; a newline is added when missing.
	Printf(format string, args ...any)
	// Target prints target text (sanitising it).
	Target(b []byte)
	// FlushTarget ends a partial line of target text.
	FlushTarget()
	// Errorf prints "kd: error: MSG" and "kd: hint: ..." lines.
	Errorf(msg string, hints ...string)
	// Hint prints "kd: hint: ..." lines.
	Hint(hints ...string)
	// Warnf prints "kd: warning: ...".
	Warnf(format string, args ...any)
}

// Text renders events and results in KD's text formats.
type Text struct {
	Out Screen
	// Verbose reports whether CTRL+V's verbose output is on.
	Verbose func() bool
	// Quiet hides the break-in box (KDQUIET).
	Quiet bool
	// SymbolPath is shown at connection when set.
	SymbolPath string
	// Interactive: a person types at a terminal (a DbgPrompt's last
	// line is then the edit line's prompt).
	Interactive bool
	// Runtime describes kd's build in the version block; "" means the
	// running Go version, OS and architecture.
	Runtime string
}

// breakBox is the box KD prints when the user broke in (spec §4.3).
const breakBox = `*******************************************************************************
*                                                                             *
*   You are seeing this message because you pressed either                    *
*       CTRL+C (if you run console kernel debugger) or,                       *
*       CTRL+BREAK (if you run GUI kernel debugger),                          *
*   on your debugger machine's keyboard.                                      *
*                                                                             *
*                   THIS IS NOT A BUG OR A SYSTEM CRASH                       *
*                                                                             *
* If you did not intend to break into the debugger, press the "g" key, then   *
* press the "Enter" key now.  This message might immediately reappear.  If it *
* does, press "g" and "Enter" again.                                          *
*                                                                             *
*******************************************************************************`

func (r *Text) verbose() bool { return r.Verbose != nil && r.Verbose() }

// Event renders one event.
func (r *Text) Event(ev target.Event) {
	o := r.Out
	switch e := ev.(type) {
	case target.TransportEvent:
		r.transport(e.Event)
	case target.Opened:
		o.Printf("Opened %s", e.Name)
	case target.Waiting:
		o.Printf("Waiting to reconnect...")
	case target.Established:
		o.Printf("%s", establishedLine(e.InitialBreak))
	case target.Connected:
		v := e.Version
		o.Printf("Connected to %s %d %s target at (%s), ptr64 %s",
			WindowsName(v.MinorVersion), v.MinorVersion, v.MachineName(), Time(e.Time), strings.ToUpper(fmt.Sprint(v.Ptr64())))
		if e.Announce {
			o.Printf("%s", establishedLine(e.InitialBreak))
		}
		if r.SymbolPath != "" {
			o.Printf("Symbol search path is: %s", r.SymbolPath)
		}
		r.summary(e.Info)
	case target.Stopped:
		r.stopped(e)
	case target.Running:
	case target.Print:
		o.Target(e.Text)
	case target.Prompt:
		head, tail := target.SplitPrompt(e.Text)
		o.Target(head)
		if !r.Interactive {
			o.Target(tail)
		} else {
			o.FlushTarget()
		}
	case target.ResyncStarted:
		o.Printf("Resynchronizing with target...")
	case target.ResyncDone:
		r.resyncDone(e)
	case target.Where:
		r.location(e.Location)
	case target.ResetAnswered:
		if r.verbose() {
			o.Printf("Target answered the RESET (%d ms, %d RESET packets).", e.Elapsed.Milliseconds(), e.Resets)
		}
	case target.ResetUnanswered:
		o.Hint(fmt.Sprintf("no answer to %d RESET packets yet: a running target answers when it next talks; press CTRL+C to break in", e.Resets))
	case target.ModuleLoad:
		if r.verbose() {
			o.Printf("%s module %s at %s", loadVerb(e.Unload), e.Path, Addr(e.Base))
		}
	case target.LinkLost:
		o.Errorf("connection to the target lost: "+ErrText(e.Err),
			"check the pipe or cable; start kd again (or .restart) once the target is back")
	case target.Rebooting:
		o.Printf("Shutdown occurred at (%s)...unloading all symbol tables.", Time(e.Time))
	case target.Restarting:
		o.Printf("Restarting the kernel connection...")
	case target.TargetReset:
		if r.verbose() {
			o.Printf("Target sent a RESET: packet ids start again.")
		}
	case target.Repaired:
		o.Printf("%s", e.What)
	case target.Warning:
		if r.verbose() || e.Notice {
			o.Warnf("%s", e.Text)
		}
	case target.Failure:
		r.Error(e.What, e.Err)
	case target.SymbolMessage:
		o.Printf("%s", e.Text)
	}
}

func loadVerb(unload bool) string {
	if unload {
		return "Unload"
	}
	return "Load"
}

func establishedLine(initial bool) string {
	if initial {
		return "Kernel Debugger connection established.  (Initial Breakpoint requested)"
	}
	return "Kernel Debugger connection established."
}

// transport prints a transport's progress KD's way.
func (r *Text) transport(e transport.Event) {
	o := r.Out
	switch e.Kind {
	case transport.EventOpened:
		o.Printf("Opened %s", e.Name)
	case transport.EventWaitingForPipe:
		o.Printf("Waiting for pipe %s", e.Name)
	case transport.EventReconnecting:
		if e.Err != nil {
			o.Printf("Connection to %s lost (%v); reconnecting...", e.Name, e.Err)
		} else {
			o.Printf("Connection to %s lost; reconnecting...", e.Name)
		}
	case transport.EventReconnected:
		o.Printf("Reconnected to %s", e.Name)
	case transport.EventListening:
		o.Printf("Listening on %s", e.Name)
	case transport.EventAccepted:
		o.Printf("Accepted a connection on %s", e.Name)
	case transport.EventBusReset:
		o.Printf("1394 bus reset on %s (#%d)", e.Name, e.Attempt)
	default:
		if r.verbose() {
			o.Printf("%s", e)
		}
	}
}

// summary prints the vertarget block.
func (r *Text) summary(i target.Info) { r.summaryUptime(i, 0, false) }

// summaryUptime is summary with the system uptime when it is known.
func (r *Text) summaryUptime(i target.Info, up time.Duration, haveUp bool) {
	v := i.Version
	mp := "UP"
	if v.Flags&kdproto.VersionFlagMP != 0 || i.NProcs > 1 {
		mp = fmt.Sprintf("MP (%d procs)", max(i.NProcs, 1))
	}
	kind := "Free"
	if v.Checked() {
		kind = "Checked"
	}
	r.Out.Printf("%s Kernel Version %d %s %s %s", WindowsName(v.MinorVersion), v.MinorVersion, mp, kind, v.MachineName())
	r.Out.Printf("Kernel base = 0x%s PsLoadedModuleList = 0x%s", Addr(v.KernBase), Addr(v.PsLoadedModuleList))
	r.Out.Printf("Debug session time: %s", Time(i.Time))
	if haveUp {
		r.Out.Printf("System Uptime: %s", Uptime(up))
	} else {
		r.Out.Printf("System Uptime: not available")
	}
}

func (r *Text) resyncDone(e target.ResyncDone) {
	o := r.Out
	if e.Err == nil {
		o.Printf("Resync complete (%d ms, %d RESET packets).", e.Elapsed.Milliseconds(), e.Resets)
		return
	}
	reason := ErrText(e.Err)
	if isResyncFailed(e.Err) {
		reason = fmt.Sprintf("the target did not answer %d RESET packets", e.Resets)
	}
	o.Printf("Resync failed: %s", reason)
	if e.Stopped {
		o.Hint("check the pipe or cable and that the target is alive; CTRL+R ENTER again, .restart, or CTRL+B ENTER to quit")
	} else {
		o.Hint("the target is running: it answers when it next talks (DbgPrint); press CTRL+C to break in")
	}
}

// ExceptionName names an exception code the way KD's event line does.
func ExceptionName(code kdproto.Status) string {
	switch code {
	case kdproto.StatusBreakpoint:
		return "Break instruction exception"
	case kdproto.StatusSingleStep:
		return "Single step exception"
	case kdproto.StatusAccessViolation:
		return "Access violation"
	case kdproto.StatusDatatypeMisalignment:
		return "Data misaligned"
	case kdproto.StatusAssertionFailure:
		return "Assertion failure"
	}
	return "Unknown exception"
}

// stopped prints a stop: the event line, the registers after a step,
// and the location.
func (r *Text) stopped(e target.Stopped) {
	o := r.Out
	o.FlushTarget()
	switch e.Kind {
	case target.StopModuleLoad:
		o.Printf("Load module %s at %s", e.Load.Path, Addr(e.Load.Base))
		r.location(e.Location)
		return
	case target.StopSwitch:
		return // ~Ns: the new prompt says it all
	case target.StopException:
		r.exception(e)
	}
	if e.Regs != nil {
		r.registers(*e.Regs, e.Location)
		return
	}
	r.location(e.Location)
}

func (r *Text) exception(e target.Stopped) {
	if e.Step && e.Code == kdproto.StatusSingleStep && e.Breakpoint < 0 || e.Reached {
		return
	}
	if e.Breakpoint >= 0 && !e.BreakIn {
		r.Out.Printf("Breakpoint %d hit", e.Breakpoint)
		return
	}
	chance := "(first chance)"
	if !e.FirstChance {
		chance = "(!!! second chance !!!)"
	}
	r.Out.Printf("%s - code %08x %s", ExceptionName(e.Code), uint32(e.Code), chance)
	if e.BreakIn && e.Code == kdproto.StatusBreakpoint && !r.Quiet {
		r.Out.Printf("%s", breakBox)
	}
}

// location prints the symbol line and the disassembly of an address.
func (r *Text) location(l target.Location) {
	if l.Symbol != "" {
		r.Out.Printf("%s:", l.Symbol)
	}
	r.Out.Printf("%s", InstLine(l.Inst))
}

// InstLine formats one instruction as KD does:
// "fffff803`78806e40 cc              int     3".
func InstLine(in target.Instruction) string {
	if !in.Valid {
		if len(in.Bytes) == 0 {
			return fmt.Sprintf("%s ??              ???", Addr(in.Addr))
		}
		return fmt.Sprintf("%s %-16s???", Addr(in.Addr), fmt.Sprintf("%02x", in.Bytes[0]))
	}
	hex := fmt.Sprintf("%x", in.Bytes)
	if len(hex) >= 16 {
		hex += " "
	}
	return fmt.Sprintf("%s %-16s%s", Addr(in.Addr), hex, in.Text)
}

// Error shows why a command line failed.
func (r *Text) Error(line string, err error) {
	// The line came from a script or a terminal: shown like target text,
	// never as raw control bytes.
	line = safetext.Sanitize([]byte(line))
	p := Describe(line, err)
	if p.Caret {
		r.Out.Printf("       ^ %s error in '%s'", p.Kind, line)
		if len(p.Hints) > 0 {
			r.Out.Hint(p.Hints...)
		}
		return
	}
	r.Out.Errorf(p.Message, p.Hints...)
}

// Result renders one command's result.
func (r *Text) Result(res commands.Result) {
	o := r.Out
	switch v := res.(type) {
	case commands.RegisterDisplay:
		r.registerDisplay(v)
	case commands.RegisterValues:
		parts := make([]string, 0, len(v.Values))
		for _, x := range v.Values {
			parts = append(parts, RegValueText(x))
		}
		o.Printf("%s", strings.Join(parts, " "))
	case commands.MemoryDump:
		var b strings.Builder
		lineBytes := v.PerLine * v.Size
		for off := 0; off < len(v.Data); off += lineBytes {
			end := min(off+lineBytes, len(v.Data))
			b.WriteString(DumpLine(v.Size, v.PerLine, v.Addr+uint64(off), v.Data[off:end], v.OK[off:end]))
			b.WriteByte('\n')
		}
		if b.Len() > 0 {
			o.Printf("%s", b.String())
		}
	case commands.Disassembly:
		for _, l := range v.Lines {
			r.location(l)
		}
	case commands.Evaluation:
		o.Printf("Evaluate expression: %d = %s", int64(v.Value), Addr(v.Value))
	case commands.TargetInfo:
		r.summaryUptime(v.Info, v.Uptime, v.HaveUptime)
	case commands.VersionInfo:
		if v.Target != nil {
			r.summary(*v.Target)
			o.Printf("")
		}
		r.KdVersion(v.Kd)
	case commands.Help:
		o.Printf("%s", v.Text)
	case commands.Echo:
		o.Printf("%s", v.Text)
	case commands.LogOpened:
		if v.Closed != "" {
			o.Printf("Closing open log file %s", v.Closed)
		}
		o.Printf("Opened log file '%s'", v.Path)
	case commands.LogClosed:
		if v.Path == "" {
			o.Printf("No log file open")
		} else {
			o.Printf("Closing open log file %s", v.Path)
		}
	case commands.Quit:
		o.Printf("quit:")
	case commands.FileTransfer:
		verb := "Writing"
		if v.Op == ".readmem" {
			verb = "Reading"
		}
		o.Printf("%s %x bytes.", verb, v.Bytes)
	default:
		r.textFallback(res)
	}
}

// KdVersion prints kd's version block (version, CTRL+W ENTER).
func (r *Text) KdVersion(v string) {
	rt := r.Runtime
	if rt == "" {
		rt = runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
	}
	r.Out.Printf("kd version %s (%s)", v, rt)
	r.Out.Printf("KD-style kernel debugger console; protocol: KDCOM serial packets")
}
