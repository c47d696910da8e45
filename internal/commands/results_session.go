package commands

import (
	"time"

	"github.com/gokd/kd/internal/target"
)

// Radix is n: the default number base; Set says the command changed it.
type Radix struct {
	Base int
	Set  bool
}

// Formats is .formats EXPR: one value to show in every form.
type Formats struct{ Value uint64 }

// SessionTime is .time: the debug session time and, when the target's
// KUSER_SHARED_DATA could be read, how long the system has been up.
type SessionTime struct {
	Time       time.Time
	Uptime     time.Duration
	HaveUptime bool
}

// LastEvent is .lastevent: the last stop and when kd saw it.
type LastEvent struct {
	Stop target.Stopped
	At   time.Time
	Have bool
}

// EffectiveMachine is .effmach: the processor type kd debugs as.
type EffectiveMachine struct {
	Name string // "x64"
	Long string // "AMD64"
}

// ClearScreen is .cls.
type ClearScreen struct{}

// LogStatus is .logfile: the open log file ("" when none).
type LogStatus struct{ Path string }

// ResultName returns the result's JSON name.
func (Radix) ResultName() string            { return "radix" }
func (Formats) ResultName() string          { return "formats" }
func (SessionTime) ResultName() string      { return "time" }
func (LastEvent) ResultName() string        { return "last_event" }
func (EffectiveMachine) ResultName() string { return "effective_machine" }
func (ClearScreen) ResultName() string      { return "clear_screen" }
func (LogStatus) ResultName() string        { return "log_status" }
