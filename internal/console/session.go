package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/kdproto"
	"github.com/gokd/kd/transport"
)

// session is one connection: a transport, an engine on it and what kd
// knows about the target behind it. The runner owns its fields; other
// goroutines only use conn, eng, ctx and gen, which never change, and the
// flags read under Console.mu (stopped, dead).
type session struct {
	gen    int
	conn   transport.Conn
	eng    *kdproto.Engine
	ctx    context.Context
	cancel context.CancelFunc

	resetCancel   context.CancelFunc // ends the connection-time RESET loop
	breakinCancel context.CancelFunc // ends the break-in loop (guarded by Console.mu)
	connectSeq    int                // numbers the RESET loops; stale notes are dropped
	synced        bool               // a RESET exchange completed on this link
	pendingStop   *kdproto.Event     // a first stop waiting for the RESET exchange
	resetPhase    *atomic.Int32      // the current RESET loop's phase (loopWaiting...)
	established   bool               // "Kernel Debugger connection established." printed
	initialBreak  bool               // this connection asked for the initial breakpoint
	breakOnLoad   bool               // stop at the next module load (-d, CTRL+K)
	haveVersion   bool
	version       kdproto.Version
	rebooting     bool

	stopped     bool // guarded by Console.mu for readers outside the runner
	dead        bool // the link failed
	eventsDone  bool // the engine's event channel is closed
	last        kdproto.StateChange
	cpu         uint16
	nprocs      uint32
	contexts    map[uint16]kdproto.Context
	syms        *symbols
	bps         []*breakpoint
	breakinSent bool // CTRL+C (or -b) since the target last ran
	stepping    bool // the target was resumed by t or p

	tempBP            *breakpoint // p's breakpoint after a call
	reinsert          *breakpoint // lifted to step off it; planted again at the next stop
	continueAfterStep bool        // that step was for g: go on at once
	switching         bool        // ~Ns: the next stop is the processor switch
}

// connectNote reports the end of the connection-time RESET loop.
type connectNote struct {
	gen int
	seq int
	res kdproto.ResyncResult
	err error
}

// resyncNote reports the end of a CTRL+R resync.
type resyncNote struct {
	gen int
	res kdproto.ResyncResult
	err error
}

// resets returns the resets= bound (0 = unlimited).
func (c *Console) resets() int {
	if c.spec.Resets >= 0 {
		return c.spec.Resets
	}
	return DefaultResets
}

// dial opens the transport of the spec, or wires the embedded simulator.
func (c *Console) dial(ctx context.Context) (transport.Conn, error) {
	if c.spec.Kind == transport.KindSim {
		if c.simMachine == nil {
			c.simMachine = sim.New(c.cfg.Sim)
			// The simulator's symbol table stands in for the PDBs kd
			// cannot load yet.
			c.symbolTable = c.simMachine.Symbols()
		}
		host, target := net.Pipe()
		m := c.simMachine
		// One host at a time: the previous Serve may still be winding
		// down (after a reboot it returns once the machine rebooted).
		prev, done := c.simServing, make(chan struct{})
		c.simServing = done
		go func() {
			defer close(done)
			if prev != nil {
				<-prev
			}
			_ = m.Serve(ctx, target)
		}()
		conn := transport.WrapNetConn(host, "sim")
		c.out.Printf("Opened %s (embedded simulator)", conn.Name())
		return conn, nil
	}
	return c.cfg.Open(ctx, c.spec, transport.Options{Events: c.transportEvent})
}

// transportEvent prints a transport's progress KD's way.
func (c *Console) transportEvent(e transport.Event) {
	switch e.Kind {
	case transport.EventOpened:
		c.out.Printf("Opened %s", e.Name)
	case transport.EventWaitingForPipe:
		c.out.Printf("Waiting for pipe %s", e.Name)
	case transport.EventReconnecting:
		if e.Err != nil {
			c.out.Printf("Connection to %s lost (%v); reconnecting...", e.Name, e.Err)
		} else {
			c.out.Printf("Connection to %s lost; reconnecting...", e.Name)
		}
	case transport.EventReconnected:
		c.out.Printf("Reconnected to %s", e.Name)
	case transport.EventListening:
		c.out.Printf("Listening on %s", e.Name)
	case transport.EventAccepted:
		c.out.Printf("Accepted a connection on %s", e.Name)
	case transport.EventBusReset:
		c.out.Printf("1394 bus reset on %s (#%d)", e.Name, e.Attempt)
	default:
		if c.verbose.Load() {
			c.out.Printf("%s", e)
		}
	}
}

// open connects (or reconnects) to the target and starts waiting for it.
func (c *Console) open(breakIn, breakOnLoad, announce bool) error {
	ctx := c.rootCtx
	conn, err := c.dial(ctx)
	if err != nil {
		return err
	}
	c.gen++
	sctx, cancel := context.WithCancel(ctx)
	s := &session{gen: c.gen, conn: conn, ctx: sctx, cancel: cancel, breakOnLoad: breakOnLoad}
	s.eng = kdproto.NewEngine(conn, c.cfg.Engine)
	c.mu.Lock()
	c.sess = s
	c.mu.Unlock()
	c.updateTrace()
	c.startConnecting(s, breakIn, announce)
	return nil
}

// closeSession stops the current session's engine and link.
func (c *Console) closeSession() {
	c.mu.Lock()
	s := c.sess
	c.sess = nil
	c.mu.Unlock()
	if s == nil {
		return
	}
	s.cancel()
	_ = s.eng.Close()
}

// startConnecting prints "Waiting to reconnect..." and sends RESET
// packets about once a second (bounded by resets=) until the target
// answers; with breakIn it also sends the break-in byte every second until
// the target stops, the first RESET half a second after the first break-in
// so that the two never run together on the line.
func (c *Console) startConnecting(s *session, breakIn, announce bool) {
	if announce {
		c.out.Printf("Waiting to reconnect...")
	}
	s.synced = false
	s.initialBreak = breakIn
	if breakIn {
		c.startBreakins(s, time.Second)
		c.startResetLoop(s, 500*time.Millisecond)
		return
	}
	c.startResetLoop(s, 0)
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
func (c *Console) startResetLoop(s *session, delay time.Duration) {
	if s.resetPhase != nil && !s.resetPhase.CompareAndSwap(loopWaiting, loopCancelled) {
		if s.resetPhase.Load() == loopSending && s.resetCancel != nil {
			return
		}
	}
	if s.resetCancel != nil {
		s.resetCancel()
	}
	ctx, cancel := context.WithCancel(s.ctx)
	s.resetCancel = cancel
	s.connectSeq++
	seq := s.connectSeq
	phase := &atomic.Int32{}
	s.resetPhase = phase
	go func() {
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		if !phase.CompareAndSwap(loopWaiting, loopSending) {
			return
		}
		res, err := s.eng.Resync(ctx, kdproto.ResyncOptions{Interval: time.Second, Max: c.resets()})
		c.mail.post(connectNote{gen: s.gen, seq: seq, res: res, err: err})
	}()
}

// startBreakins sends the break-in byte now and then every interval
// until the target stops: a running target can miss one (the byte is
// forgotten when packet bytes follow it at once, for instance the ACK of
// a DbgPrint), so KD hosts repeat it. It is safe from any goroutine.
func (c *Console) startBreakins(s *session, interval time.Duration) {
	c.mu.Lock()
	s.breakinSent = true
	if s.breakinCancel != nil {
		c.mu.Unlock()
		_ = s.eng.BreakIn()
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	s.breakinCancel = cancel
	c.mu.Unlock()
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if err := s.eng.BreakIn(); err != nil && ctx.Err() == nil {
				c.out.Errorf("cannot send the break-in byte: " + errText(err))
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// stopBreakins ends a break-in loop.
func (c *Console) stopBreakins(s *session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.breakinCancel != nil {
		s.breakinCancel()
		s.breakinCancel = nil
	}
}

// stopConnecting ends the connection phase's loops.
func (c *Console) stopConnecting(s *session) {
	c.stopBreakins(s)
	if s.resetCancel != nil {
		s.resetCancel()
		s.resetCancel = nil
	}
	s.resetPhase = nil
}

// onConnectDone notes the end of a connection-time RESET loop. Once the
// target answered, the packet ids are in step and a stop that waited for
// it is shown. A silent target may be running: it shows up when it next
// talks or when CTRL+C breaks in.
func (c *Console) onConnectDone(ctx context.Context, n connectNote) {
	s := c.session()
	if s == nil || s.gen != n.gen || n.seq != s.connectSeq {
		return
	}
	s.resetCancel = nil
	s.resetPhase = nil
	switch {
	case n.err == nil:
		s.synced = true
		if c.verbose.Load() {
			c.out.Printf("Target answered the RESET (%d ms, %d RESET packets).", n.res.Elapsed.Milliseconds(), n.res.Resets)
		}
	case !errors.Is(n.err, kdproto.ErrResyncFailed):
		return // cancelled, or the link is gone
	case s.pendingStop == nil && !s.established:
		c.out.Hint(fmt.Sprintf("no answer to %d RESET packets yet: a running target answers when it next talks; press CTRL+C to break in", n.res.Resets))
		return
	}
	if ev := s.pendingStop; ev != nil {
		s.pendingStop = nil
		s.synced = true // as good as it gets: go on
		c.onStateChange(ctx, s, *ev)
	}
}

// updateTrace installs or removes the engine's packet trace hook.
func (c *Console) updateTrace() {
	s := c.session()
	if s == nil {
		return
	}
	if !c.traceConsole.Load() && c.cfg.Trace == nil {
		s.eng.SetTrace(nil)
		return
	}
	s.eng.SetTrace(c.trace)
}

// trace prints one packet trace line to the console (CTRL+D) and to the
// --trace sink.
func (c *Console) trace(r kdproto.TraceRecord) {
	line := r.String()
	if c.traceConsole.Load() {
		c.out.Printf("%s", line)
	}
	if w := c.cfg.Trace; w != nil {
		if w == c.cfg.Stderr || w == os.Stderr {
			c.out.Stderr(line + "\n")
		} else {
			_, _ = io.WriteString(w, line+"\n")
		}
	}
}

// reopen drops the engine and the link and connects again (.restart).
func (c *Console) reopen() error {
	c.closeSession()
	c.disarmWait()
	return c.open(c.cfg.BreakIn, c.cfg.BreakOnModuleLoad, true)
}

// openHints suggests what to check when a transport does not open, unless
// the transport's message gives advice already.
func openHints(s transport.Spec, err error) []string {
	msg := err.Error()
	if strings.Contains(msg, "reconnect") || strings.Contains(msg, "not supported") {
		return nil
	}
	switch s.Kind {
	case transport.KindPipe:
		return []string{"is the VM's serial port a pipe or socket at " + s.Port + "? start the VM (or kdsim) first, or add ,reconnect to wait for it"}
	case transport.KindSerial:
		return []string{"check the port name and that no other program holds it"}
	case transport.KindTCP:
		return []string{"is the VM's serial port served on " + s.Port + "?"}
	}
	return nil
}
