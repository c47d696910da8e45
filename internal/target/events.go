package target

import (
	"time"

	"github.com/gokd/kd/kdproto"
	"github.com/gokd/kd/transport"
)

// Event is something that happened to the target or its connection. The
// concrete types below are the events; renderers switch on them.
type Event interface{ EventName() string }

// TransportEvent is progress of the transport (opened, waiting for a pipe,
// reconnecting, ...).
type TransportEvent struct{ transport.Event }

// Opened says the embedded or external target's link is open.
type Opened struct{ Name string }

// Waiting says kd waits for the target to answer ("Waiting to reconnect...").
type Waiting struct{}

// Established says the target talked for the first time on this connection.
type Established struct{ InitialBreak bool }

// Info describes the connected target (KD's vertarget block).
type Info struct {
	Version kdproto.Version
	NProcs  uint32
	Time    time.Time // the debug session time
}

// Connected says kd read the target's version at its first stop.
type Connected struct {
	Info
	// Announce: the "connection established" line was not shown yet.
	Announce     bool
	InitialBreak bool
}

// StopKind says why the target stopped.
type StopKind int

// Stop kinds.
const (
	StopException  StopKind = iota // an exception: breakpoint, single step, fault
	StopModuleLoad                 // a module load the user asked to break at
	StopSwitch                     // a processor switch (~Ns)
	StopOther                      // another state change
)

// Stopped says the target stopped and takes commands.
type Stopped struct {
	CPU         uint16
	NProcs      uint32
	PC          uint64
	Kind        StopKind
	Code        kdproto.Status // the exception code (StopException)
	FirstChance bool
	Breakpoint  int  // id of the breakpoint hit, or -1
	BreakIn     bool // the user broke in (CTRL+C, -b)
	Step        bool // the stop ends a t or p
	// Reached: the stop ends g ADDRESS or gu where it was meant to (only
	// the location is shown).
	Reached bool
	// Action is the command string of the breakpoint hit ("" for none):
	// the console runs it.
	Action string
	// Load is the module whose load stopped the target (StopModuleLoad).
	Load *ModuleLoad
	// Regs is the register context shown after a step (nil otherwise).
	Regs     *Registers
	Location Location
}

// Running says the target was resumed.
type Running struct{ Step bool }

// Print is DbgPrint text: raw target bytes, to be sanitised or escaped.
type Print struct{ Text []byte }

// Prompt is a DbgPrompt: Text is printed and the last line is the prompt
// whose answer the target waits for (AnswerPrompt).
type Prompt struct {
	Text     []byte
	MaxReply uint32
}

// ResyncStarted says a CTRL+R resync began.
type ResyncStarted struct{}

// ResyncDone says a resync ended; Stopped says whether the target was
// stopped then.
type ResyncDone struct {
	Elapsed time.Duration
	Resets  int
	Err     error
	Stopped bool
}

// Where is the stop location shown again (after a resync).
type Where struct{ Location Location }

// ResetUnanswered says the connection-time RESET packets got no answer
// yet (a running target answers when it next talks).
type ResetUnanswered struct{ Resets int }

// ResetAnswered says the target answered the connection-time RESET.
type ResetAnswered struct {
	Elapsed time.Duration
	Resets  int
}

// ModuleLoad is a module load or unload the target reported.
type ModuleLoad struct {
	Path   string // sanitised
	Base   uint64
	Unload bool
}

// LinkLost says the link failed; the session is over unless it reconnects.
type LinkLost struct{ Err error }

// Rebooting says the target was told to reboot (.reboot).
type Rebooting struct{ Time time.Time }

// Restarting says the connection is being restarted (.restart).
type Restarting struct{}

// TargetReset says the target sent a RESET on its own.
type TargetReset struct{}

// Warning is something odd but survivable on the link (sanitised text).
// Notice: shown even without -v (the target said something that cannot
// be, and kd did something about it).
type Warning struct {
	Text   string
	Notice bool
}

// Repaired says kd put the link right by itself (a RESET exchange after a
// lost reply, a stop it checked with the target): one line, no action
// needed.
type Repaired struct{ What string }

// Failure is an operation the target core did on its own (not a user
// command) that failed: reading the version at the first stop, sending a
// break-in byte, putting a breakpoint back.
type Failure struct {
	What  string
	Err   error
	Hints []string
}

// EventName returns the event's JSON name.
func (TransportEvent) EventName() string  { return "transport" }
func (Opened) EventName() string          { return "opened" }
func (Waiting) EventName() string         { return "waiting" }
func (Established) EventName() string     { return "established" }
func (Connected) EventName() string       { return "connected" }
func (Stopped) EventName() string         { return "stopped" }
func (Running) EventName() string         { return "running" }
func (Print) EventName() string           { return "print" }
func (Prompt) EventName() string          { return "prompt" }
func (ResyncStarted) EventName() string   { return "resync_started" }
func (ResyncDone) EventName() string      { return "resync" }
func (Where) EventName() string           { return "where" }
func (ResetUnanswered) EventName() string { return "reset_unanswered" }
func (ResetAnswered) EventName() string   { return "reset_answered" }
func (ModuleLoad) EventName() string      { return "module_load" }
func (LinkLost) EventName() string        { return "link_lost" }
func (Rebooting) EventName() string       { return "reboot" }
func (Restarting) EventName() string      { return "restart" }
func (TargetReset) EventName() string     { return "target_reset" }
func (Warning) EventName() string         { return "warning" }
func (Repaired) EventName() string        { return "repaired" }
func (Failure) EventName() string         { return "failure" }
