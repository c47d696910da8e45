package console

import (
	"context"
	"errors"

	"github.com/gokd/kd/kdproto"
)

// reportError prints why a command failed and records exit status 1.
func (c *Console) reportError(line string, err error) {
	c.fail(ExitCommand)
	var se *syntaxError
	switch {
	case errors.Is(err, errLogged):
	case errors.Is(err, errUnknownCommand):
		c.out.Printf("       ^ Syntax error in '%s'", line)
		c.out.Hint("unknown command; type help for the list")
	case errors.As(err, &se):
		c.out.Printf("       ^ Syntax error in '%s'", line)
		if se.msg != "" {
			c.out.Hint(se.msg)
		}
	case errors.Is(err, kdproto.ErrNoReply):
		c.out.Errorf(line+": the target acknowledged the request but never answered: the link is out of step",
			"press CTRL+R then ENTER to resynchronize, then try again")
	case errors.Is(err, kdproto.ErrNoAck):
		c.out.Errorf(line+": the target does not acknowledge requests ("+errText(err)+")",
			"press CTRL+R then ENTER to resynchronize; if the target runs, CTRL+C breaks in")
	case errors.Is(err, kdproto.ErrTargetRunning):
		c.out.Errorf(line+": the target is running", "press CTRL+C to break in first")
	case errors.Is(err, kdproto.ErrResyncInterrupted):
		c.out.Errorf(line+": the request was cut off by a RESET twice", "try again")
	case errors.Is(err, errNotConnected):
		c.out.Errorf(line+": not connected to a stopped target", "wait for the target to stop, or press CTRL+C to break in")
	case errors.Is(err, context.Canceled):
		c.out.Errorf(line + ": cancelled")
	default:
		c.out.Errorf(line + ": " + errText(err))
	}
}

// errNotConnected: a command that needs the target ran without one.
var errNotConnected = errors.New("not connected")

// errLogged: the command printed its own error already.
var errLogged = errors.New("error already reported")
