package render

import (
	"context"
	"errors"
	"strings"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/kdproto"
)

// Problem is how a failed command is shown: KD's caret line for syntax
// errors, or an error message with hints.
type Problem struct {
	Caret   bool   // "       ^ Syntax error in 'LINE'"
	Kind    string // KD's word before "error" on the caret line: "Syntax", "Bad register"
	Message string
	Hints   []string
}

// ErrText is an error's text without the package prefixes users do not need.
func ErrText(err error) string {
	s := err.Error()
	for _, p := range []string{"kdproto: ", "transport: "} {
		s = strings.ReplaceAll(s, p, "")
	}
	return s
}

// Describe says how the failure of command line to run is shown.
func Describe(line string, err error) Problem {
	var se *commands.SyntaxError
	var ce *commands.Error
	var nb *target.NoBreakpointError
	switch {
	case errors.Is(err, commands.ErrUnknownCommand):
		return Problem{Caret: true, Kind: "Syntax", Message: "unknown command", Hints: []string{"unknown command; type help for the list"}}
	case errors.As(err, &se):
		p := Problem{Caret: true, Kind: se.KindText(), Message: se.Error()}
		if se.Msg != "" {
			p.Hints = []string{se.Msg}
		}
		return p
	case errors.As(err, &ce):
		return Problem{Message: ce.Msg, Hints: ce.Hints}
	case errors.As(err, &nb):
		return Problem{Message: line + ": " + nb.Error(), Hints: []string{"bl lists the breakpoints and their IDs"}}
	case errors.Is(err, target.ErrResumeUnconfirmed):
		return Problem{Message: line + ": " + ErrText(err),
			Hints: []string{"press CTRL+C to break in: a running target stops, a stopped one shows its stop again"}}
	case errors.Is(err, kdproto.ErrNoReply):
		return Problem{Message: line + ": the target acknowledged the request but never answered: the link is out of step",
			Hints: []string{"press CTRL+R then ENTER to resynchronize, then try again"}}
	case errors.Is(err, kdproto.ErrNoAck):
		return Problem{Message: line + ": the target does not acknowledge requests (" + ErrText(err) + ")",
			Hints: []string{"press CTRL+R then ENTER to resynchronize; if the target runs, CTRL+C breaks in"}}
	case errors.Is(err, kdproto.ErrTargetRunning):
		return Problem{Message: line + ": the target is running", Hints: []string{"press CTRL+C to break in first"}}
	case errors.Is(err, kdproto.ErrResyncInterrupted):
		return Problem{Message: line + ": the request was cut off by a RESET twice", Hints: []string{"try again"}}
	case errors.Is(err, target.ErrNotStopped):
		return Problem{Message: line + ": not connected to a stopped target", Hints: []string{"wait for the target to stop, or press CTRL+C to break in"}}
	case errors.Is(err, context.Canceled):
		return Problem{Message: line + ": cancelled"}
	}
	return Problem{Message: line + ": " + ErrText(err)}
}
