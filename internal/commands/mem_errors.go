package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gokd/kd/internal/target"
)

// The memory commands' failures of the target's memory get a hint: where
// to look next. hinted wraps a command's Run with them.

func init() {
	for _, c := range memCommands {
		c.Run = hinted(c)
	}
}

// addHinted adds memory commands with their failures hinted.
func addHinted(cmds ...*Command) {
	for _, c := range cmds {
		c.Run = hinted(c)
	}
	addCommands(cmds...)
}

// hinted returns c's Run with the hints of memory failures added.
func hinted(c *Command) func(context.Context, *Env, string) (Result, error) {
	run := c.Run
	return func(ctx context.Context, e *Env, args string) (Result, error) {
		res, err := run(ctx, e, args)
		return res, memHint(strings.TrimSpace(c.Names[0]+" "+args), err)
	}
}

// memHint adds a hint to an error of the target's memory.
func memHint(line string, err error) error {
	var ae *target.AccessError
	var pe *target.PhysicalAccessError
	var ne *target.NonCanonicalError
	switch {
	case errors.As(err, &ae):
		a := fmt.Sprintf("%x`%08x", ae.Addr>>32, uint32(ae.Addr))
		return &Error{Msg: line + ": " + err.Error(), Err: err,
			Hints: []string{"the page is not mapped or not writable there; !pte " + a + " shows its page-table entries"}}
	case errors.As(err, &pe):
		return &Error{Msg: line + ": " + err.Error(), Err: err,
			Hints: []string{"no memory answers at that physical address; !vtop 0 VA finds the physical address of a virtual one"}}
	case errors.As(err, &ne):
		return &Error{Msg: line + ": " + err.Error(), Err: err,
			Hints: []string{"x64 virtual addresses run to 00007fff`ffffffff and from ffff8000`00000000 (bit 47 sign-extended)"}}
	}
	return err
}
