package commands

import (
	"time"

	"github.com/gokd/kd/internal/target"
)

// Result is what a command found. The concrete types below are the
// results; renderers switch on them. A command with nothing to show
// returns nil.
type Result interface{ ResultName() string }

// RegisterDisplay is r without arguments: the registers the mask (rm)
// selects and the current instruction. Regs holds the integer, flag and
// segment registers; Extra holds the other groups the mask asks for, one
// display line each.
type RegisterDisplay struct {
	Regs     target.Registers
	Location target.Location
	Mask     uint32
	Extra    [][]RegValue
}

// RegValue is one register's value.
type RegValue = target.RegValue

// RegisterValues is r with register names.
type RegisterValues struct{ Values []RegValue }

// MemoryDump is a d* display: Count elements of Size bytes from Addr,
// PerLine to a line. OK[i] says whether Data[i] could be read.
type MemoryDump struct {
	Form    string // db, dd, dq
	Size    int
	PerLine int
	Addr    uint64
	Data    []byte
	OK      []bool
}

// Disassembly is u's listing.
type Disassembly struct{ Lines []target.Location }

// Evaluation is ? EXPR.
type Evaluation struct{ Value uint64 }

// TargetInfo is vertarget.
type TargetInfo struct {
	target.Info
	Uptime     time.Duration // from KUSER_SHARED_DATA
	HaveUptime bool
}

// VersionInfo is version (and CTRL+W): kd's version and, when known, the
// target's.
type VersionInfo struct {
	Target *target.Info
	Kd     string
}

// Help is help text.
type Help struct{ Text string }

// Echo is .echo's text.
type Echo struct{ Text string }

// LogOpened is .logopen/.logappend.
type LogOpened struct{ Path, Closed string }

// LogClosed is .logclose (Path "" when no log was open).
type LogClosed struct{ Path string }

// Quit is q.
type Quit struct{}

// FileTransfer is .writemem or .readmem: Bytes of Total moved between
// File and the target at Addr in Elapsed.
type FileTransfer struct {
	Op      string // ".writemem" or ".readmem"
	File    string
	Addr    uint64
	Bytes   uint64
	Total   uint64
	Elapsed time.Duration
}

// ResultName returns the result's JSON name.
func (RegisterDisplay) ResultName() string { return "registers" }
func (RegisterValues) ResultName() string  { return "register_values" }
func (MemoryDump) ResultName() string      { return "memory" }
func (Disassembly) ResultName() string     { return "disassembly" }
func (Evaluation) ResultName() string      { return "evaluation" }
func (TargetInfo) ResultName() string      { return "vertarget" }
func (VersionInfo) ResultName() string     { return "version" }
func (Help) ResultName() string            { return "help" }
func (Echo) ResultName() string            { return "echo" }
func (LogOpened) ResultName() string       { return "log_opened" }
func (LogClosed) ResultName() string       { return "log_closed" }
func (Quit) ResultName() string            { return "quit" }
func (FileTransfer) ResultName() string    { return "transfer" }
