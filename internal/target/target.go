package target

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/gokd/kd/kdproto"
	"github.com/gokd/kd/transport"
)

// DefaultResets is the number of RESET packets sent before a resync is
// given up when the connection string has no resets= option.
const DefaultResets = 10

// ErrNotStopped is returned by operations that need a stopped target
// (or a link) when there is none.
var ErrNotStopped = errors.New("not connected to a stopped target")

// ErrResumeUnconfirmed says a request to run (g, t, p) got no ACK and the
// target said nothing since: it may run or still be stopped.
var ErrResumeUnconfirmed = errors.New("the target did not acknowledge the request to run; it may be running")

// Config configures a Target.
type Config struct {
	Spec              transport.Spec // where the target is (-k)
	BreakIn           bool           // -b: break in at once, and after reboots
	BreakOnModuleLoad bool           // -d: break at the first module load after a reboot
	Engine            kdproto.Options
	// Dial opens the transport; nil means transport.Open. The embedded
	// simulator is wired here by cmd/kd.
	Dial func(ctx context.Context, s transport.Spec, o transport.Options) (transport.Conn, error)
	// Link opens a packet link for a medium that is not a byte stream
	// (KDNET); a nil Link with a nil error, or a nil Link func, means Dial.
	Link func(ctx context.Context, s transport.Spec) (kdproto.Link, error)
	// Now returns the time; nil means time.Now.
	Now func() time.Time
	// Symbols are extra "module!name" addresses known without reading
	// the target (the embedded simulator's table).
	Symbols map[string]uint64
	// Sink receives the events. It may be called from any goroutine and
	// must not call back into the Target.
	Sink func(Event)
}

// BreakState is what kd asks for when the target (re)boots (CTRL+K).
type BreakState int

// Break states, in CTRL+K's cycle order.
const (
	BreakNone         BreakState = iota // let it boot
	BreakOnReboot                       // the initial breakpoint
	BreakOnModuleLoad                   // the first module load
)

// Incoming is something for the owner to pass to Handle: an engine event
// or the end of a background operation.
type Incoming struct {
	gen int
	v   any
}

// Target is the debugger core; see the package documentation.
type Target struct {
	cfg Config
	in  chan Incoming

	// Owned by the runner (the goroutine calling Handle and the operations).
	gen       int
	rootCtx   context.Context
	dbgPrompt *kdproto.Event      // a DbgPrompt waiting for its answer
	syms      map[symKey]*modSyms // symbols of the images seen, kept across module list reads
	symSearch SymbolSearch        // the symbol path
	symNoisy  bool                // !sym noisy
	last      lastEvent           // the last stop, for .lastevent

	// Shared, guarded by mu.
	mu         sync.Mutex
	sess       *session
	resyncing  bool
	breakState BreakState
	trace      func(kdproto.TraceRecord)
}

// New returns a target for cfg; Open connects it.
func New(cfg Config) *Target {
	if cfg.Dial == nil {
		cfg.Dial = transport.Open
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sink == nil {
		cfg.Sink = func(Event) {}
	}
	t := &Target{cfg: cfg, in: make(chan Incoming)}
	switch {
	case cfg.BreakIn:
		t.breakState = BreakOnReboot
	case cfg.BreakOnModuleLoad:
		t.breakState = BreakOnModuleLoad
	}
	return t
}

// Incoming returns the channel of things to pass to Handle.
func (t *Target) Incoming() <-chan Incoming { return t.in }

// post hands v to the runner; it gives up when ctx ends.
func (t *Target) post(ctx context.Context, gen int, v any) {
	select {
	case t.in <- Incoming{gen: gen, v: v}:
	case <-ctx.Done():
	}
}

func (t *Target) emit(e Event) {
	t.last.note(e, t.cfg.Now)
	t.cfg.Sink(e)
}

// Open connects to the target and starts waiting for it. ctx bounds the
// whole session: cancelling it ends every background operation.
func (t *Target) Open(ctx context.Context) error {
	t.rootCtx = ctx
	return t.open(t.cfg.BreakIn, t.cfg.BreakOnModuleLoad, true)
}

func (t *Target) open(breakIn, breakOnLoad, announce bool) error {
	ctx := t.rootCtx
	conn, link, err := t.connect(ctx)
	if err != nil {
		return err
	}
	t.gen++
	sctx, cancel := context.WithCancel(ctx)
	s := &session{gen: t.gen, conn: conn, ctx: sctx, cancel: cancel, breakOnLoad: breakOnLoad}
	s.eng = kdproto.NewEngineLink(link, t.cfg.Engine)
	s.mem.init()
	t.mu.Lock()
	t.sess = s
	tr := t.trace
	t.mu.Unlock()
	if tr != nil {
		s.eng.SetTrace(tr)
	}
	s.goBackground(func() { t.forward(s) })
	t.startConnecting(s, breakIn, announce)
	return nil
}

// connect opens the link to the target: Config.Link for a packet medium
// (conn is then nil), otherwise Dial and the link its byte stream needs.
func (t *Target) connect(ctx context.Context) (transport.Conn, kdproto.Link, error) {
	if t.cfg.Link != nil {
		if l, err := t.cfg.Link(ctx, t.cfg.Spec); err != nil || l != nil {
			return nil, l, err
		}
	}
	conn, err := t.cfg.Dial(ctx, t.cfg.Spec, transport.Options{Events: func(e transport.Event) { t.emit(TransportEvent{e}) }})
	if err != nil {
		return nil, nil, err
	}
	return conn, kdproto.LinkFor(conn, t.cfg.Engine), nil
}

// forward passes the engine's events to the runner.
func (t *Target) forward(s *session) {
	for ev := range s.eng.Events() {
		t.post(s.ctx, s.gen, ev)
	}
}

// Close ends the session: the engine and the link are closed and every
// background goroutine of the target ends.
func (t *Target) Close() {
	t.mu.Lock()
	s := t.sess
	t.sess = nil
	t.mu.Unlock()
	if s == nil {
		return
	}
	s.cancel()
	_ = s.eng.Close()
	s.wg.Wait()
}

// session returns the current session, or nil.
func (t *Target) session() *session {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sess
}

// Ready reports whether a command can run now: KD reads commands only
// while the target is stopped (and kd is not resynchronising).
func (t *Target) Ready() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.sess
	return s != nil && s.stopped && s.haveVersion && !t.resyncing && !s.dead
}

// LinkDead reports whether there is no working link to the target.
func (t *Target) LinkDead() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sess == nil || t.sess.dead
}

// Resyncing reports whether a CTRL+R resync is under way.
func (t *Target) Resyncing() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.resyncing
}

// Stopped reports whether the target is stopped.
func (t *Target) Stopped() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sess != nil && t.sess.stopped && !t.sess.dead
}

// Processor returns the current processor and the number of processors
// (0 when unknown).
func (t *Target) Processor() (cpu uint16, n uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sess == nil {
		return 0, 0
	}
	return t.sess.cpu, t.sess.nprocs
}

// Info returns the vertarget facts, once the version is known.
func (t *Target) Info() (Info, bool) {
	s := t.session()
	if s == nil || !s.haveVersion {
		return Info{}, false
	}
	return Info{Version: s.version, NProcs: s.nprocs, Time: t.cfg.Now()}, true
}

// LinkName returns the transport's name and kind.
func (t *Target) LinkName() string {
	s := t.session()
	if s == nil {
		return ""
	}
	if s.conn == nil {
		return t.cfg.Spec.Kind.String() // a packet link (KDNET) has no transport
	}
	return s.conn.Name()
}

// SetTrace installs (nil: removes) the packet trace hook of this and
// later connections.
func (t *Target) SetTrace(f func(kdproto.TraceRecord)) {
	t.mu.Lock()
	t.trace = f
	s := t.sess
	t.mu.Unlock()
	if s != nil {
		s.eng.SetTrace(f)
	}
}

// CycleBreakState steps CTRL+K's break state and returns the new one.
func (t *Target) CycleBreakState() BreakState {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.breakState = (t.breakState + 1) % 3
	return t.breakState
}

func (t *Target) currentBreakState() BreakState {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.breakState
}

// CycleBaud steps a serial port's line speed (CTRL+A ENTER) through
// 19200, 38400, 57600, 115200 and returns the new rate.
func (t *Target) CycleBaud() (int, error) {
	s := t.session()
	if s == nil {
		return 0, errors.New("not connected")
	}
	bs, ok := s.conn.(transport.BaudSetter)
	if !ok {
		return 0, &NotSerialError{Name: t.LinkName(), Kind: t.cfg.Spec.Kind}
	}
	next := nextBaud(bs.Baud())
	if err := bs.SetBaud(next); err != nil {
		return next, err
	}
	return next, nil
}

// NotSerialError says CTRL+A was used on a link that is not a serial port.
type NotSerialError struct {
	Name string
	Kind transport.Kind
}

func (e *NotSerialError) Error() string {
	return e.Name + " is a " + e.Kind.String() + " connection, not a serial port"
}

var baudCycle = []int{19200, 38400, 57600, 115200}

func nextBaud(cur int) int {
	for i, b := range baudCycle {
		if b == cur {
			return baudCycle[(i+1)%len(baudCycle)]
		}
	}
	return baudCycle[0]
}

// resets returns the resets= bound (0 = unlimited).
func (t *Target) resets() int {
	if t.cfg.Spec.Resets >= 0 {
		return t.cfg.Spec.Resets
	}
	return DefaultResets
}
