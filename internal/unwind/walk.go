package unwind

import (
	"context"
	"errors"
	"fmt"
)

// DefaultMaxFrames is KD's default frame count for k.
const DefaultMaxFrames = 256

// maxGuessGap bounds how far above RSP a frame pointer may point to be
// believed.
const maxGuessGap = 1 << 20

// Frame is one row of a stack walk.
type Frame struct {
	ChildSP uint64 // RSP while this frame's function runs
	IP      uint64 // where it is executing
	RetAddr uint64 // where it returns to; 0 when unknown
	How     How    // how IP and ChildSP were found
	Context Context
}

// Options tunes Walk.
type Options struct {
	// MaxFrames is the most frames returned; 0 means DefaultMaxFrames.
	MaxFrames int
	// FramePointerFallback follows the RBP chain when an address is in no
	// known image or its unwind data cannot be used. Such frames are guesses.
	FramePointerFallback bool
}

// Walk unwinds the stack from start. The frames found are returned even
// when err is not nil; err says why the walk stopped early (ErrNoModule
// wrapped when an address is in no known image, a read failure, a stack
// pointer that does not grow, or ctx's error). A zero return address or
// the frame limit ends the walk with a nil error.
func Walk(ctx context.Context, mem Memory, lk Lookup, start Context, opt Options) ([]Frame, error) {
	limit := opt.MaxFrames
	if limit <= 0 {
		limit = DefaultMaxFrames
	}
	c := start
	how := FromContext
	var frames []Frame
	for len(frames) < limit {
		if err := ctx.Err(); err != nil {
			return frames, err
		}
		frames = append(frames, Frame{ChildSP: c.SP(), IP: c.RIP, How: how, Context: c})
		// A return address may be just past a call at the very end of a
		// function: look up the call instruction instead. Frame 0 and
		// interrupted contexts are exact.
		pc := c.RIP
		if how != FromContext && how != FromMachineFrame && pc > 0 {
			pc--
		}
		next, nhow, err := stepAt(mem, lk, pc, c)
		if err != nil && opt.FramePointerFallback {
			if g, gerr := guess(mem, c); gerr == nil {
				next, nhow, err = g, FromFramePointer, nil
			}
		}
		if err != nil {
			return frames, err
		}
		frames[len(frames)-1].RetAddr = next.RIP
		if next.RIP == 0 {
			return frames, nil
		}
		if nhow != FromMachineFrame && next.SP() <= c.SP() {
			return frames, fmt.Errorf("stack pointer did not grow from %#x to %#x at %#x", c.SP(), next.SP(), c.RIP)
		}
		if !canonical(next.RIP) {
			return frames, fmt.Errorf("return address %#x is not canonical", next.RIP)
		}
		c, how = next, nhow
	}
	return frames, nil
}

// stepAt finds the function holding pc and unwinds one frame.
func stepAt(mem Memory, lk Lookup, pc uint64, c Context) (Context, How, error) {
	fn, err := lk.LookupFunction(pc)
	if err != nil {
		if errors.Is(err, ErrNoModule) {
			return c, FromContext, fmt.Errorf("%#x: %w", c.RIP, err)
		}
		return c, FromContext, err
	}
	next, how, err := Step(mem, fn, c)
	if err != nil && fn.Module != "" {
		err = fmt.Errorf("%s: %w", fn.Module, err)
	}
	return next, how, err
}

// guess follows the frame pointer: [RBP] is the caller's RBP and
// [RBP+8] the return address. It is only tried when RBP points a little
// above RSP.
func guess(mem Memory, c Context) (Context, error) {
	fp := c.GPR[RBP]
	if fp < c.SP() || fp-c.SP() > maxGuessGap || fp&7 != 0 {
		return c, fmt.Errorf("rbp %#x is not a frame pointer", fp)
	}
	prev, err := read64(mem, fp)
	if err != nil {
		return c, err
	}
	ret, err := read64(mem, fp+8)
	if err != nil {
		return c, err
	}
	c.GPR[RBP] = prev
	c.GPR[RSP] = fp + 16
	c.RIP = ret
	return c, nil
}

// canonical reports whether addr is a canonical 48-bit x64 address.
func canonical(addr uint64) bool {
	top := addr >> 47
	return top == 0 || top == 0x1FFFF
}
