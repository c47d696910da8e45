package kdproto

import (
	"context"
	"fmt"
	"time"
)

// ResyncOptions configure Resync.
type ResyncOptions struct {
	// Interval between RESET packets (default 1s).
	Interval time.Duration
	// Max is the most RESET packets to send; 0 means no limit (KD's resets=0).
	Max int
}

// ResyncResult reports a completed resynchronisation.
type ResyncResult struct {
	Resets  int           // RESET packets sent
	Elapsed time.Duration // from the first RESET to the target's answer
}

// Resync sends RESET packets until the target answers with its own RESET,
// then both sides number their packets from InitialPacketID again. A target
// that is stopped re-sends its state change afterwards (an EventStateChange
// with Repeat set when nothing else changed). A running target only reads
// packets when it next talks (a DbgPrint) or after a break-in, so Resync
// keeps trying until Max is reached or ctx ends; BreakIn from another
// goroutine completes it. A request in flight is sent again once after the
// RESET.
func (e *Engine) Resync(ctx context.Context, o ResyncOptions) (ResyncResult, error) {
	if err := ctx.Err(); err != nil {
		return ResyncResult{}, err
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	answered := make(chan struct{})
	e.mu.Lock()
	e.resyncers = append(e.resyncers, answered)
	e.mu.Unlock()
	defer e.dropResyncer(answered)
	start := time.Now()
	var timer *time.Timer
	for n := 1; ; n++ {
		if err := e.sendControl(PacketTypeReset, 0); err != nil {
			return ResyncResult{Resets: n}, err
		}
		if timer == nil {
			timer = time.NewTimer(o.Interval)
			defer timer.Stop()
		} else {
			timer.Reset(o.Interval)
		}
		select {
		case <-answered:
			return ResyncResult{Resets: n, Elapsed: time.Since(start)}, nil
		case <-timer.C:
			if o.Max > 0 && n >= o.Max {
				return ResyncResult{Resets: n, Elapsed: time.Since(start)}, fmt.Errorf("%w after %d RESET packets", ErrResyncFailed, n)
			}
		case <-ctx.Done():
			return ResyncResult{Resets: n, Elapsed: time.Since(start)}, ctx.Err()
		case <-e.done:
			return ResyncResult{Resets: n, Elapsed: time.Since(start)}, e.err
		}
	}
}

func (e *Engine) dropResyncer(c chan struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, r := range e.resyncers {
		if r == c {
			e.resyncers = append(e.resyncers[:i], e.resyncers[i+1:]...)
			return
		}
	}
}
