package targettest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/kdproto"
	"github.com/gokd/kd/transport"
)

// WaitLimit bounds every wait of a Rig. It is a safety net against a hung
// test, not a synchronisation: waits return as soon as what they wait for
// has happened.
const WaitLimit = 20 * time.Second

// Options configures a Rig.
type Options struct {
	Sim    sim.Config    // the machine; Events is chained, not replaced
	Target target.Config // Spec, Dial, Sink and Symbols are filled in
	// NoOpen leaves the target unopened (the test calls Open).
	NoOpen bool
}

// Rig is a Target connected to a simulated machine. Its methods must be
// called from the test's goroutine, which is the target's runner.
type Rig struct {
	T       testing.TB
	Target  *target.Target
	Machine *sim.Machine
	Dialer  *sim.Dialer
	Syms    map[string]uint64
	Ctx     context.Context

	cancel context.CancelFunc
	mu     sync.Mutex
	events []target.Event
	simEvs []sim.Event
	wake   chan struct{}
	cursor int // events before it were consumed by Next
}

// New returns a rig on a machine made from o.Sim, opened unless o.NoOpen.
// The rig is closed when the test ends.
func New(t testing.TB, o Options) *Rig {
	t.Helper()
	r := &Rig{T: t, wake: make(chan struct{})}
	scfg := o.Sim
	if scfg.Seed == 0 {
		scfg.Seed = 1
	}
	if scfg.ByteTimeout == 0 {
		// On a loaded test machine kd's ACK can come later than kdsim's
		// default 50 ms, and the target then re-sends its stop. The Rig's
		// tests check values, not recovery (internal/faults does that):
		// keep the line quiet.
		scfg.ByteTimeout = time.Second
	}
	chained := scfg.Events
	scfg.Events = func(e sim.Event) {
		if chained != nil {
			chained(e)
		}
		r.mu.Lock()
		r.simEvs = append(r.simEvs, e)
		r.wakeLocked()
		r.mu.Unlock()
	}
	r.Dialer = sim.NewDialer(scfg)
	r.Machine = r.Dialer.Machine()
	r.Syms = r.Machine.Symbols()
	tcfg := o.Target
	tcfg.Spec = transport.Spec{Kind: transport.KindSim, Resets: -1}
	tcfg.Dial = r.Dialer.Dial
	tcfg.Symbols = r.Syms
	if tcfg.Engine.AckTimeout == 0 {
		tcfg.Engine = kdproto.Options{AckTimeout: 500 * time.Millisecond, ReplyTimeout: 2 * time.Second}
	}
	tcfg.Sink = func(e target.Event) {
		r.mu.Lock()
		r.events = append(r.events, e)
		r.wakeLocked()
		r.mu.Unlock()
	}
	r.Target = target.New(tcfg)
	r.Ctx, r.cancel = context.WithCancel(context.Background())
	t.Cleanup(r.close)
	if !o.NoOpen {
		if err := r.Target.Open(r.Ctx); err != nil {
			t.Fatalf("Open: %v", err)
		}
	}
	return r
}

// close ends the target, the machine and every goroutine they started.
func (r *Rig) close() {
	if r.T.Failed() {
		r.T.Logf("target events:\n%s", r.EventLog())
	}
	r.Target.Close()
	r.cancel()
	_ = r.Machine.Close()
	r.Dialer.Wait()
}

func (r *Rig) wakeLocked() {
	close(r.wake)
	r.wake = make(chan struct{})
}

// Pump waits for cond, running the target's incoming work meanwhile. It
// fails the test after WaitLimit with what.
func (r *Rig) Pump(what string, cond func() bool) {
	r.T.Helper()
	r.PumpCtx(r.Ctx, what, cond)
}

// PumpCtx is Pump handling the incoming work with ctx (a cancelled one
// is a CTRL+C during the work done at a stop).
func (r *Rig) PumpCtx(ctx context.Context, what string, cond func() bool) {
	r.T.Helper()
	deadline := time.NewTimer(WaitLimit)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		wake := r.wake
		r.mu.Unlock()
		if cond() {
			return
		}
		select {
		case in := <-r.Target.Incoming():
			r.Target.Handle(ctx, in)
		case <-wake:
		case <-deadline.C:
			r.T.Fatalf("timed out waiting for %s; target events:\n%s", what, r.EventLog())
		}
	}
}

// Next waits for the first event after the previous one Next returned
// that is of type E (and satisfies match, when given), and returns it.
func Next[E target.Event](r *Rig, match func(E) bool) E {
	r.T.Helper()
	var got E
	var zero E
	r.Pump(fmt.Sprintf("a %T event", zero), func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for i := r.cursor; i < len(r.events); i++ {
			if e, ok := r.events[i].(E); ok && (match == nil || match(e)) {
				got, r.cursor = e, i+1
				return true
			}
		}
		return false
	})
	return got
}

// Events returns the target events of type E seen so far.
func Events[E target.Event](r *Rig) []E {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []E
	for _, e := range r.events {
		if x, ok := e.(E); ok {
			out = append(out, x)
		}
	}
	return out
}

// Skip marks every event seen so far as consumed by Next.
func (r *Rig) Skip() {
	r.mu.Lock()
	r.cursor = len(r.events)
	r.mu.Unlock()
}

// Stop waits for the next Stopped event and for the target to take
// commands, and returns the event.
func (r *Rig) Stop() target.Stopped {
	r.T.Helper()
	st := Next[target.Stopped](r, nil)
	r.Pump("the target to be ready", r.Target.Ready)
	return st
}

// Stopped starts a rig whose machine boots stopped at the initial
// breakpoint and waits until kd took that stop.
func Stopped(t testing.TB, o Options) (*Rig, target.Stopped) {
	t.Helper()
	o.Sim.Stopped = true
	r := New(t, o)
	Next[target.Connected](r, nil)
	return r, r.Stop()
}

// SimCount returns how many machine events of kind (and api, when not
// empty) were seen.
func (r *Rig) SimCount(kind, api string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.simEvs {
		if e.Kind == kind && (api == "" || e.API == api) {
			n++
		}
	}
	return n
}

// WaitSim waits until the machine reported n events of kind (and api).
func (r *Rig) WaitSim(kind, api string, n int) {
	r.T.Helper()
	r.Pump(fmt.Sprintf("%d machine events %s %s", n, kind, api), func() bool { return r.SimCount(kind, api) >= n })
}

// SimEvents returns the machine events of kind seen so far.
func (r *Rig) SimEvents(kind string) []sim.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []sim.Event
	for _, e := range r.simEvs {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// Reads counts the ReadVirtualMemory requests the machine served.
func (r *Rig) Reads() int { return r.SimCount(sim.EventAPI, kdproto.APIReadVirtualMemory.String()) }

// EventLog returns the target events so far, one per line.
func (r *Rig) EventLog() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for i, e := range r.events {
		mark := " "
		if i == r.cursor {
			mark = ">"
		}
		fmt.Fprintf(&b, "%s %s %+v\n", mark, e.EventName(), e)
	}
	return b.String()
}

// Sym returns the address of a machine symbol, failing the test when the
// machine has none of that name.
func (r *Rig) Sym(name string) uint64 {
	r.T.Helper()
	a, ok := r.Syms[name]
	if !ok {
		r.T.Fatalf("the machine has no symbol %s", name)
	}
	return a
}

// Peek returns the machine's bytes at addr, failing the test when one of
// them is unmapped.
func (r *Rig) Peek(addr uint64, n int) []byte {
	r.T.Helper()
	b, ok := r.Machine.PeekVirtual(addr, n)
	for i, o := range ok {
		if !o {
			r.T.Fatalf("machine memory at %#x is unmapped", addr+uint64(i))
		}
	}
	return b
}

// Regs returns processor cpu's registers as the machine holds them.
func (r *Rig) Regs(cpu int) kdproto.Context {
	r.T.Helper()
	raw := r.Machine.Context(cpu)
	if raw == nil {
		r.T.Fatalf("the machine has no processor %d", cpu)
	}
	return kdproto.Context{Regs: kdproto.AMD64Regs, Raw: raw}
}

// Gap finds, at or after from, a page-aligned unmapped hole of at most
// maxPages pages with mapped memory on both sides; it returns the hole's
// first address and its end (the first mapped byte after it).
func (r *Rig) Gap(from uint64, maxPages int) (hole, end uint64) {
	r.T.Helper()
	const page = 4096
	mapped := func(a uint64) bool { _, ok := r.Machine.PeekVirtual(a, 1); return ok[0] }
	a := from &^ (page - 1)
	for range 1 << 16 {
		if mapped(a) && !mapped(a+page) {
			for n := 2; n <= maxPages+1; n++ {
				if mapped(a + uint64(n)*page) {
					return a + page, a + uint64(n)*page
				}
			}
		}
		a += page
	}
	r.T.Fatalf("no hole of at most %d pages after %#x", maxPages, from)
	return 0, 0
}
