package commands

import (
	"context"

	"github.com/gokd/kd/internal/target"
)

// Host is what commands need from the console around them: the log
// file, quitting, and kd's own version.
type Host interface {
	// OpenLog starts a log file; it returns the path of a log it closed.
	OpenLog(path string, appending bool) (closed string, err error)
	// CloseLog closes the log file and returns its path ("" when none).
	CloseLog() (string, error)
	// Quit ends the session once the command returns.
	Quit()
	// KdVersion returns kd's version string.
	KdVersion() string
	// Progress starts reporting a transfer of total bytes.
	Progress(total int64, what string) Progress
}

// Env is what a command runs against: the target, the console's services
// and what earlier commands left for later ones (where d and u continue).
type Env struct {
	T     *target.Target
	Host  Host
	Table *Commands
	dump  dumpState
	regs  regState
	x     exprState // the evaluator's radix and pseudo-registers
	// thread is the implicit thread .thread set, for k at the same stop.
	thread implicitThread
}

// NewEnv returns an environment for running commands of table against t.
func NewEnv(t *target.Target, h Host, table *Commands) *Env {
	return &Env{T: t, Host: h, Table: table}
}

// Run runs one command line (one piece of a ;-separated line). repeat
// says whether an empty line may repeat it.
func (e *Env) Run(ctx context.Context, line string) (res Result, repeat bool, err error) {
	cmd, args := e.Table.Lookup(line)
	res, err = cmd.Run(ctx, e, args)
	return res, cmd.Repeat, err
}
