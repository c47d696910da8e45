package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/kdproto"
	"github.com/gokd/kd/transport"
)

// Case is one seeded session: the faults on the target's side of the
// line and what kd does.
type Case struct {
	Noise, Drop, Dup, Garbage float64 // sim.Config's fault probabilities
	Seed                      int64   // drives the faults, the machine and the reads
	Evil                      bool    // kdsim's hostile packets as well
	Reads                     int     // reads at the stop; 0 means 300
	Run                       time.Duration
	// Run is how long the target runs, printing every 100 ms, before
	// the break-in; 0 means 3 s.
}

func (c *Case) defaults() {
	if c.Reads <= 0 {
		c.Reads = 300
	}
	if c.Run <= 0 {
		c.Run = 3 * time.Second
	}
}

// Deadlines of a session's steps. A step that takes longer is a hang.
const (
	ConnectDeadline = 60 * time.Second // open to the first prompt
	ReadDeadline    = 60 * time.Second // one read, resyncs included
	StopDeadline    = 60 * time.Second // CTRL+C to the prompt
)

// Result is what one session showed.
type Result struct {
	Case
	ReadsOK     int    // reads that returned every byte, correctly
	ReadErrors  int    // reads that failed with an error within their deadline
	WrongBytes  int    // bytes shown that differ from the target's memory
	AskedResync int    // times kd's error asked for CTRL+R ENTER and the "user" pressed it
	Repairs     int    // one-line notes of repairs the engine made by itself
	PrintsAcked int    // DbgPrints the target saw acknowledged
	PrintsShown int    // DbgPrint events kd reported
	PrintsLost  int    // acknowledged but never shown
	PrintsTwice int    // shown more than once
	BrokeIn     bool   // the break-in ended at a prompt
	Hang        string // the step that missed its deadline, if any
	Err         string // the first error kd reported
	Elapsed     time.Duration
}

// Complete reports whether the session did everything right with no help
// from the user: all reads correct, every print once, the break-in answered.
func (r Result) Complete() bool {
	return r.Safe() && r.ReadsOK == r.Reads && r.AskedResync == 0 && r.PrintsLost == 0 && r.BrokeIn
}

// Safe reports whether nothing wrong was shown and nothing hung.
func (r Result) Safe() bool {
	return r.Hang == "" && r.WrongBytes == 0 && r.PrintsTwice == 0
}

func (r Result) String() string {
	return fmt.Sprintf("seed %d noise %.2f drop %.2f dup %.2f garbage %.2f: reads %d/%d (errors %d, wrong bytes %d), resyncs asked %d, repairs %d, prints %d shown of %d acked (lost %d, twice %d), break-in %v, hang %q, err %q, %v",
		r.Seed, r.Noise, r.Drop, r.Dup, r.Garbage, r.ReadsOK, r.Reads, r.ReadErrors, r.WrongBytes, r.AskedResync, r.Repairs,
		r.PrintsShown, r.PrintsAcked, r.PrintsLost, r.PrintsTwice, r.BrokeIn, r.Hang, r.Err, r.Elapsed.Round(time.Millisecond))
}

// expected returns the simulator's bulk pool byte at va.
func expected(seed int64, va uint64) byte {
	return byte(sim.BulkPoolWord(seed, va&^7) >> (8 * (va & 7)))
}

// log collects what kd and the simulator report, from any goroutine.
type log struct {
	mu       sync.Mutex
	kd       []target.Event
	acked    []string
	notify   chan struct{}
	resynced int
}

func (l *log) sink(ev target.Event) {
	l.mu.Lock()
	l.kd = append(l.kd, ev)
	if _, ok := ev.(target.ResyncDone); ok {
		l.resynced++
	}
	l.mu.Unlock()
	select {
	case l.notify <- struct{}{}:
	default:
	}
}

func (l *log) simEvent(e sim.Event) {
	if e.Kind != sim.EventPrint || e.Status != "acked" {
		return
	}
	l.mu.Lock()
	l.acked = append(l.acked, e.Detail)
	l.mu.Unlock()
}

// Run runs one session of c and reports it. It returns when the session
// is over or ctx ends; every goroutine it started has ended by then.
func Run(ctx context.Context, c Case) (r Result) {
	c.defaults()
	start := time.Now()
	r = Result{Case: c}
	defer func() { r.Elapsed = time.Since(start) }()
	l := &log{notify: make(chan struct{}, 1)}
	d := sim.NewDialer(sim.Config{
		Seed: c.Seed, Stopped: true, PrintEvery: 100 * time.Millisecond, Evil: c.Evil,
		Noise: c.Noise, Drop: c.Drop, Dup: c.Dup, Garbage: c.Garbage, Events: l.simEvent,
	})
	t := target.New(target.Config{
		Spec: transport.Spec{Kind: transport.KindSim, Resets: -1},
		Dial: d.Dial, Sink: l.sink, Symbols: d.Machine().Symbols(),
	})
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		t.Close()
		d.Wait()
	}()
	// wait runs the target's events until cond holds or d passes.
	wait := func(cond func() bool, d time.Duration) bool {
		tm := time.NewTimer(d)
		defer tm.Stop()
		for !cond() {
			select {
			case in := <-t.Incoming():
				t.Handle(ctx, in)
			case <-l.notify:
			case <-tm.C:
				return cond()
			case <-ctx.Done():
				return false
			}
		}
		return true
	}
	seen := 0 // kd events looked at
	// failures notes kd's errors; it reports whether one asked for CTRL+R.
	failures := func() bool {
		l.mu.Lock()
		evs := l.kd[seen:]
		seen = len(l.kd)
		l.mu.Unlock()
		ask := false
		for _, ev := range evs {
			switch e := ev.(type) {
			case target.Failure:
				r.note(e.What + ": " + errText(e.Err))
				ask = ask || asksResync(e.Err, e.Hints)
			case target.Repaired:
				r.Repairs++
			case target.LinkLost:
				r.note("link lost: " + errText(e.Err))
			}
		}
		return ask
	}
	// resync is the user pressing CTRL+R ENTER and waiting for it.
	resync := func(deadline time.Duration) bool {
		r.AskedResync++
		l.mu.Lock()
		before := l.resynced
		l.mu.Unlock()
		if err := t.Resync(); err != nil && !errors.Is(err, target.ErrResyncInProgress) {
			return false
		}
		return wait(func() bool {
			l.mu.Lock()
			defer l.mu.Unlock()
			return l.resynced > before && t.Ready()
		}, deadline)
	}

	if err := t.Open(ctx); err != nil {
		r.note("open: " + err.Error())
		r.Hang = "open"
		return r
	}
	connected := false
	for tries := 0; tries < 3 && !connected; tries++ {
		connected = wait(t.Ready, ConnectDeadline)
		if !connected && failures() {
			connected = resync(ConnectDeadline)
		}
	}
	failures()
	if !connected {
		r.Hang = "connect"
		return r
	}

	rng := rand.New(rand.NewPCG(uint64(c.Seed), 0x6b64))
	for i := 0; i < c.Reads; i++ {
		n := 1 + rng.IntN(3*kdproto.MaxTransfer)
		addr := sim.BulkPoolBase + rng.Uint64N(sim.BulkPoolSize-uint64(n))
		rctx, rcancel := context.WithTimeout(ctx, ReadDeadline)
		data, ok, err := t.ReadMemory(rctx, addr, n)
		late := rctx.Err() != nil
		rcancel()
		if late {
			r.Hang = fmt.Sprintf("read %d", i)
			return r
		}
		for j := range data {
			if ok[j] && data[j] != expected(c.Seed, addr+uint64(j)) {
				r.WrongBytes++
			}
		}
		if err == nil && len(data) == n && !contains(ok, false) {
			r.ReadsOK++
			continue
		}
		r.ReadErrors++
		if err == nil {
			err = fmt.Errorf("read %d at %#x: some bytes unreadable", n, addr)
		}
		r.note(errText(err))
		failures()
		if !resync(ReadDeadline) {
			r.Hang = fmt.Sprintf("resync after read %d", i)
			return r
		}
	}
	failures()

	// Run with DbgPrints, then break in.
	gctx, gcancel := context.WithTimeout(ctx, ReadDeadline)
	err := t.Go(gctx)
	gcancel()
	if err != nil {
		r.note("g: " + errText(err))
	}
	wait(func() bool { return false }, c.Run)
	l.mu.Lock()
	mark := len(l.kd)
	l.mu.Unlock()
	// brokeIn: the prompt is back after a stop that says it was the break-in.
	brokeIn := func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, ev := range l.kd[mark:] {
			if st, ok := ev.(target.Stopped); ok && st.BreakIn {
				return t.Ready()
			}
		}
		return false
	}
	if !t.Interrupt() {
		r.note("CTRL+C sent no break-in: kd believed the target stopped")
	}
	r.BrokeIn = wait(brokeIn, StopDeadline)
	if !r.BrokeIn {
		if failures() && resync(StopDeadline) {
			r.BrokeIn = brokeIn()
		}
		if !r.BrokeIn {
			r.Hang = "break-in"
		}
	}
	failures()

	l.mu.Lock()
	defer l.mu.Unlock()
	shown := map[string]int{}
	for _, ev := range l.kd {
		if p, ok := ev.(target.Print); ok {
			shown[string(p.Text)]++
			r.PrintsShown++
		}
	}
	r.PrintsAcked = len(l.acked)
	acked := map[string]bool{}
	for _, a := range l.acked {
		acked[a] = true
		if shown[a] == 0 {
			r.PrintsLost++
		}
	}
	for _, n := range shown {
		if n > 1 {
			r.PrintsTwice += n - 1
		}
	}
	return r
}

func (r *Result) note(s string) {
	if r.Err == "" {
		r.Err = s
	}
}

func contains(ok []bool, v bool) bool {
	for _, b := range ok {
		if b == v {
			return true
		}
	}
	return false
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// asksResync reports whether an error is one whose hint is CTRL+R ENTER.
func asksResync(err error, hints []string) bool {
	for _, h := range hints {
		if strings.Contains(h, "CTRL+R") {
			return true
		}
	}
	return errors.Is(err, kdproto.ErrNoReply) || errors.Is(err, kdproto.ErrNoAck) || errors.Is(err, kdproto.ErrResyncInterrupted)
}
