package target

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gokd/kd/kdproto"
	"github.com/gokd/kd/transport"
)

// session is one connection: a transport, an engine on it and what kd
// knows about the target behind it. The runner owns its fields; other
// goroutines only use conn, eng, ctx and gen, which never change, and the
// fields read under Target.mu (stopped, dead, cpu, nprocs, breakinCancel,
// breakinSent).
type session struct {
	gen    int
	conn   transport.Conn
	eng    *kdproto.Engine
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the session's background goroutines

	resetCancel   context.CancelFunc // ends the connection-time RESET loop
	breakinCancel context.CancelFunc // ends the break-in loop (guarded by Target.mu)
	connectSeq    int                // numbers the RESET loops; stale notes are dropped
	synced        bool               // the packet ids are in step: a RESET exchange, or a first stop with the sync bit
	listening     bool               // the waiting RESET loop is the connection's listen window
	pendingStop   *kdproto.Event     // a first stop waiting for the RESET exchange
	resetPhase    *atomic.Int32      // the current RESET loop's phase (loopWaiting...)
	established   bool               // the target talked on this connection
	initialBreak  bool               // this connection asked for the initial breakpoint
	breakOnLoad   bool               // stop at the next module load (-d, CTRL+K)
	haveVersion   bool
	versionTries  int // RESET exchanges made because GetVersion failed
	version       kdproto.Version
	rebooting     bool
	noSearchAPI   bool // the target refused DbgKdSearchMemoryApi: search by reads
	noFillAPI     bool // the target refused DbgKdFillMemoryApi: fill by writes

	stopped     bool   // guarded by Target.mu for readers outside the runner
	stops       uint64 // stops seen on this connection (StopID)
	dead        bool   // the link failed
	last        kdproto.StateChange
	cpu         uint16
	nprocs      uint32
	contexts    map[uint16]kdproto.Context
	mem         memCache
	mods        *modules
	bps         []*breakpoint
	breakinSent bool // CTRL+C (or -b) since the target last ran
	stepping    bool // the target was resumed by t or p

	plan              *plan          // a multi-stop command under way (p 5, pa, gu, g ADDR)
	planBreak         atomic.Bool    // CTRL+C while a plan was between two of its stops
	replant           bool           // kd's breakpoints came over from the last connection (.restart)
	hwDirty           bool           // the hardware breakpoints changed since they were written
	hwStepOff         bool           // stepping off an execution breakpoint with Dr7 clear
	contStatus        kdproto.Status // the next Continue2's status (gh, gn); 0 = DBG_CONTINUE
	reinsert          *breakpoint    // lifted to step off it; planted again at the next stop
	continueAfterStep bool           // that step was for g: go on at once
	switching         bool           // ~Ns: the next stop is the processor switch
}

// go runs f as one of the session's background goroutines.
func (s *session) goBackground(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// connectNote reports the end of a connection-time RESET loop.
type connectNote struct {
	seq int
	res kdproto.ResyncResult
	err error
}

// resyncNote reports the end of a CTRL+R resync.
type resyncNote struct {
	res kdproto.ResyncResult
	err error
}

// startConnecting announces the wait and sends RESET packets about once a
// second (bounded by resets=) until the target answers; with breakIn it
// also sends the break-in byte every second until the target stops, the
// first RESET half a second after the first break-in so that the two
// never run together on the line. Without breakIn kd first listens for
// listenWindow: a target that stops with the sync bit needs no RESET
// (onStateChange).
func (t *Target) startConnecting(s *session, breakIn, announce bool) {
	if announce {
		t.emit(Waiting{})
	}
	s.synced = false
	s.initialBreak = breakIn
	if breakIn {
		t.startBreakins(s, time.Second)
		t.startResetLoop(s, 500*time.Millisecond)
		return
	}
	t.startResetLoop(s, listenWindow(s.conn))
	s.listening = true
}

// Listening before the first RESET. A stopped target is usually sending
// its state change when kd connects: if that packet carries the sync bit,
// the target started its numbering over and the RESET exchange would only
// make it send the stop again (47 ms at 115200). kd may join in the
// middle of a packet, whose rest is lost until the target sends it again,
// so the window is the line time of two packets of listenPacket
// characters (the largest a stopped target sends unasked: a state change
// is 257, one for a module load a little more), and at least listenMin,
// which covers a pipe or socket (no line time) and the scheduling of both
// ends. A silent (running) target only answers a RESET when it next talks,
// so starting its RESETs listenMin later costs nothing anyone waits for.
const (
	listenMin    = 100 * time.Millisecond
	listenPacket = 300
)

// listenWindow is how long kd listens on conn before its first RESET:
// 100 ms, or 625 ms at 9600 baud when the line is a serial port.
func listenWindow(conn any) time.Duration {
	bs, ok := conn.(transport.BaudSetter)
	if !ok || bs.Baud() <= 0 {
		return listenMin
	}
	// 8N1: ten bits a character.
	line := time.Duration(2*listenPacket*10) * time.Second / time.Duration(bs.Baud())
	return max(listenMin, line)
}

// joinFresh reports whether the first stop ev lets kd skip the RESET
// exchange, and if so cancels the RESET loop that waits out the listen
// window: the stop's packet carried the sync bit (the engine renumbered,
// so the ids are in step) and that loop has sent nothing yet. A loop that
// is sending is left to finish its exchange, as is any other first stop.
func (s *session) joinFresh(ev kdproto.Event) bool {
	if !ev.Fresh || !s.listening || s.pendingStop != nil || s.resetPhase == nil {
		return false
	}
	if !s.resetPhase.CompareAndSwap(loopWaiting, loopCancelled) {
		return false
	}
	if s.resetCancel != nil {
		s.resetCancel()
		s.resetCancel = nil
	}
	s.resetPhase = nil
	s.listening = false
	s.synced = true
	return true
}

// Phases of a connection-time RESET loop.
const (
	loopWaiting   = iota // in its initial delay: can still be replaced
	loopSending          // RESETs are on the line: leave it alone
	loopCancelled        // replaced before it sent anything
)

// startResetLoop starts the RESET packets of the connection phase, after
// delay. A loop that has not sent anything yet is replaced; one that is
// sending is left alone, since two RESET exchanges crossing on the line
// would leave the ids out of step.
func (t *Target) startResetLoop(s *session, delay time.Duration) {
	if s.resetPhase != nil && !s.resetPhase.CompareAndSwap(loopWaiting, loopCancelled) {
		if s.resetPhase.Load() == loopSending && s.resetCancel != nil {
			return
		}
	}
	if s.resetCancel != nil {
		s.resetCancel()
	}
	s.listening = false // set again by startConnecting for its own loop
	ctx, cancel := context.WithCancel(s.ctx)
	s.resetCancel = cancel
	s.connectSeq++
	seq := s.connectSeq
	phase := &atomic.Int32{}
	s.resetPhase = phase
	s.goBackground(func() {
		if delay > 0 {
			tm := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				tm.Stop()
				return
			case <-tm.C:
			}
		}
		if !phase.CompareAndSwap(loopWaiting, loopSending) {
			return
		}
		res, err := s.eng.Resync(ctx, kdproto.ResyncOptions{Interval: time.Second, Max: t.resets()})
		t.post(s.ctx, s.gen, connectNote{seq: seq, res: res, err: err})
	})
}

// startBreakins sends the break-in byte now and then every interval
// until the target stops: a running target can miss one (the byte is
// forgotten when packet bytes follow it at once, for instance the ACK of
// a DbgPrint), so KD hosts repeat it. It is safe from any goroutine.
func (t *Target) startBreakins(s *session, interval time.Duration) {
	t.mu.Lock()
	s.breakinSent = true
	if s.breakinCancel != nil {
		t.mu.Unlock()
		_ = s.eng.BreakIn()
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	s.breakinCancel = cancel
	t.mu.Unlock()
	s.goBackground(func() {
		tk := time.NewTicker(interval)
		defer tk.Stop()
		defer cancel()
		for {
			err := s.eng.BreakIn()
			if err == nil {
				select {
				case <-ctx.Done():
					return
				case <-tk.C:
				}
				continue
			}
			// The loop is over: the next CTRL+C starts a new one. Said
			// before the failure is reported, so that a CTRL+C answering
			// the report never finds this loop still registered.
			stopped := ctx.Err() != nil
			t.mu.Lock()
			if !stopped {
				s.breakinCancel = nil
			}
			t.mu.Unlock()
			// A link that is gone is reported once, as LinkLost (or is
			// the reboot under way): only other failures here.
			if !stopped && !linkGoing(s.eng, err) {
				t.emit(Failure{What: "cannot send the break-in byte", Err: err})
			}
			return
		}
	})
}

// stopBreakins ends a break-in loop.
func (t *Target) stopBreakins(s *session) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s.breakinCancel != nil {
		s.breakinCancel()
		s.breakinCancel = nil
	}
}

// stopConnecting ends the connection phase's loops.
func (t *Target) stopConnecting(s *session) {
	t.stopBreakins(s)
	if s.resetCancel != nil {
		s.resetCancel()
		s.resetCancel = nil
	}
	s.resetPhase = nil
	s.listening = false
}

// onConnectDone notes the end of a connection-time RESET loop. Once the
// target answered, the packet ids are in step and a stop that waited for
// it is handled. A silent target may be running: it shows up when it next
// talks or when CTRL+C breaks in.
func (t *Target) onConnectDone(ctx context.Context, s *session, n connectNote) {
	if n.seq != s.connectSeq {
		return
	}
	s.resetCancel = nil
	s.resetPhase = nil
	switch {
	case n.err == nil:
		s.synced = true
		t.emit(ResetAnswered{Elapsed: n.res.Elapsed, Resets: n.res.Resets})
	case !errors.Is(n.err, kdproto.ErrResyncFailed):
		return // cancelled, or the link is gone
	case s.pendingStop == nil && !s.established:
		t.emit(ResetUnanswered{Resets: n.res.Resets})
		return
	}
	if ev := s.pendingStop; ev != nil {
		s.pendingStop = nil
		s.synced = true // as good as it gets: go on
		t.onStateChange(ctx, s, *ev)
	}
}

// Handle processes one value taken from Incoming. It runs on the runner.
func (t *Target) Handle(ctx context.Context, in Incoming) {
	s := t.session()
	if s == nil || s.gen != in.gen {
		return // from a connection that is gone
	}
	switch v := in.v.(type) {
	case kdproto.Event:
		t.onEvent(ctx, s, v)
	case connectNote:
		t.onConnectDone(ctx, s, v)
	case resyncNote:
		t.onResyncDone(ctx, s, v)
	}
}

// Restart drops the engine and the link and connects again (.restart).
//
// The target keeps its memory across a restart, so kd keeps its
// breakpoints: a stopped target has them lifted first, and at the first
// stop of the new connection they are planted again (a kernel hands back
// the same handle for an address that still has its int 3, so one left in
// by a running target is taken over, not doubled).
func (t *Target) Restart() error {
	t.emit(Restarting{})
	var keep []*breakpoint
	if s := t.session(); s != nil {
		keep = t.releaseBreakpoints(s)
	}
	t.Close()
	t.dbgPrompt = nil
	if err := t.open(t.cfg.BreakIn, t.cfg.BreakOnModuleLoad, true); err != nil {
		return err
	}
	if s := t.session(); s != nil && len(keep) > 0 {
		s.bps, s.replant, s.hwDirty = keep, true, true
	}
	return nil
}

// releaseBreakpoints lifts the planted breakpoints of a stopped target
// before its connection is dropped and returns kd's list to carry over.
func (t *Target) releaseBreakpoints(s *session) []*breakpoint {
	t.mu.Lock()
	live := s.stopped && !s.dead
	t.mu.Unlock()
	ctx, cancel := context.WithTimeout(s.ctx, 2*time.Second)
	defer cancel()
	for _, b := range s.bps {
		if live && b.written {
			_ = t.lift(ctx, s, b) // one that stays in is taken over at the replant
		}
		b.written, b.handle = false, 0
	}
	return s.bps
}

// replant puts the carried-over breakpoints back in at the first stop of
// a new connection.
func (t *Target) replant(ctx context.Context, s *session) {
	s.replant = false
	for _, b := range s.bps {
		if b.enabled && !b.hw && !b.deferred {
			if err := t.plant(ctx, s, b); err != nil {
				t.emit(Failure{What: fmt.Sprintf("breakpoint %d", b.id), Err: err})
			}
		}
	}
}

// reopenAfterReboot reconnects after the link dropped during .reboot.
func (t *Target) reopenAfterReboot() error {
	t.Close()
	st := t.currentBreakState()
	if err := t.open(st == BreakOnReboot, st == BreakOnModuleLoad, false); err != nil {
		return err
	}
	if s := t.session(); s != nil {
		s.rebooting = true
	}
	return nil
}

// linkGoing reports whether a failed write is the link going away (the
// reader then reports it once, as LinkLost, or it is a reboot under way):
// the engine stopped already, or stops within a second.
func linkGoing(eng *kdproto.Engine, err error) bool {
	var le *kdproto.LinkError
	if errors.As(err, &le) || errors.Is(err, kdproto.ErrClosed) {
		return true
	}
	tm := time.NewTimer(time.Second)
	defer tm.Stop()
	select {
	case <-eng.Done():
		return true
	case <-tm.C:
		return false
	}
}
