package commands

import (
	"context"
	"strings"

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

// exprEnv adapts the target to the expression evaluator.
type exprTarget struct {
	ctx context.Context
	t   *target.Target
}

func (x exprTarget) register(name string) (uint64, bool, error) {
	name = strings.ToLower(name)
	if name == "$ip" {
		name = "rip"
	}
	if !target.IsRegister(name) {
		return 0, false, nil
	}
	v, err := x.t.ReadRegister(x.ctx, name)
	if err != nil {
		return 0, true, err
	}
	return v.Value, true, nil
}

func (x exprTarget) symbol(name string) (uint64, error) { return x.t.Resolve(x.ctx, name) }

// eval evaluates an expression against the target.
func (e *Env) eval(ctx context.Context, s string) (uint64, error) {
	return evalExpr(s, exprTarget{ctx, e.T})
}

// Eval evaluates an expression against the target (for the console's
// own use, e.g. fuzzing and tests).
func (e *Env) Eval(ctx context.Context, s string) (uint64, error) { return e.eval(ctx, s) }
