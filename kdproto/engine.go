package kdproto

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gokd/kd/transport"
)

// Engine errors. Callers branch on them with errors.Is.
var (
	// ErrNoAck means a data packet was retransmitted Options.Retries times
	// without an acknowledgement.
	ErrNoAck = errors.New("kdproto: target did not acknowledge the packet")
	// ErrNoReply means the target acknowledged a request but never answered it.
	ErrNoReply = errors.New("kdproto: target acknowledged the request but sent no reply")
	// ErrResyncInterrupted means a request was cut off by a RESET twice.
	ErrResyncInterrupted = errors.New("kdproto: request interrupted by a resynchronisation")
	// ErrResyncFailed means no RESET came back from the target.
	ErrResyncFailed = errors.New("kdproto: target did not answer the RESET packets")
	// ErrTargetRunning means a request was made while the target runs; it
	// would be eaten by the target's break-in poll.
	ErrTargetRunning = errors.New("kdproto: target is running")
	// ErrClosed means the engine was closed or the link is gone.
	ErrClosed = errors.New("kdproto: connection closed")
	// ErrTooManyResends means the target asked for the same packet again and
	// again without ever accepting it.
	ErrTooManyResends = errors.New("kdproto: target keeps asking for a resend")
)

// RequestError describes a failed request: which API, which packet id and why.
type RequestError struct {
	API API
	ID  uint32
	Err error
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("%s request (id %08x): %v", e.API, e.ID, e.Err)
}

// Unwrap returns the cause.
func (e *RequestError) Unwrap() error { return e.Err }

// Options configure an Engine. Zero values select the defaults.
type Options struct {
	// AckTimeout is how long to wait for an ACK before retransmitting (default 2s).
	AckTimeout time.Duration
	// ReplyTimeout bounds the wait for a reply once a request is acknowledged (default 5s).
	ReplyTimeout time.Duration
	// Retries is how many times a packet is retransmitted after ACK timeouts (default 8).
	Retries int
	// MaxPacket caps the payload the engine accepts (default MaxPacketSize).
	MaxPacket int
	// WriteTimeout bounds one write when the link supports write deadlines
	// (default 5s). NewEngine passes it to the Link it builds; a Link given
	// to NewEngineLink was configured by its maker.
	WriteTimeout time.Duration
	// Trace, when set, receives one record per packet. It can be changed
	// later with SetTrace.
	Trace func(TraceRecord)
}

func (o *Options) defaults() {
	if o.AckTimeout <= 0 {
		o.AckTimeout = 2 * time.Second
	}
	if o.ReplyTimeout <= 0 {
		o.ReplyTimeout = 5 * time.Second
	}
	if o.Retries <= 0 {
		o.Retries = 8
	}
	if o.MaxPacket <= 0 || o.MaxPacket > 0xFFFF {
		o.MaxPacket = MaxPacketSize
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 5 * time.Second
	}
}

// TargetState is what the engine knows about the target's execution.
type TargetState int32

// Target states.
const (
	StateUnknown TargetState = iota
	StateRunning
	StateStopped
)

func (s TargetState) String() string {
	switch s {
	case StateRunning:
		return "running"
	case StateStopped:
		return "stopped"
	}
	return "unknown"
}

// signal is what the reader goroutine tells the request in flight. seq
// names the request, so a signal meant for an earlier one is ignored.
type signal struct {
	seq   uint32
	kind  sigKind
	id    uint32     // sigAck: the acknowledged id
	reply Manipulate // sigReply: the reply; Data is in the request's buffer
	stale bool       // sigReply: not this request's reply (another API, or a second one)
}

type sigKind int

const (
	sigAck sigKind = iota
	sigResend
	sigReset
	sigReply
	sigStateChange
	sigTalk // the target said something only a running target says
)

// pending is the request in flight, guarded by Engine.mu.
type pending struct {
	active  bool
	seq     uint32
	id      uint32
	api     API
	addr    uint64 // the request's address, for APIs whose reply echoes it
	resumes bool   // the request lets the target run (API.Resumes)
	acked   bool   // the target acknowledged the request
	dst     []byte // where the reply's data goes, up to cap; nil: a fresh copy
	filled  bool   // the reply was delivered
	held    bool   // the reply's ACK is held for the requester to send
	heldAck uint32 // its id
}

// Engine is the host side of the KD protocol over one Link. It owns the
// packet ids, acknowledges the target's packets, retransmits its own,
// resynchronises with RESET and turns what the target says on its own
// (state changes, DbgPrint, DbgPrompt) into events. The Link's capabilities
// (LinkCaps) adjust the rules that differ per medium.
//
// One goroutine reads the link; writes go out one at a time, from the
// requester itself when the link is free, else from a writer goroutine
// (see writer). Request, Resync, BreakIn
// and AnswerPrompt may be called from any goroutine; requests are
// serialised.
type Engine struct {
	link Link
	caps LinkCaps
	opts Options

	trace atomic.Pointer[func(TraceRecord)]
	state atomic.Int32

	refusing atomic.Bool // a FILE_IO refusal is under way

	w *writer // serialises writes: the claiming sender or the writer goroutine

	reqSem  chan struct{} // one request at a time; holding it guards the fields below
	payload []byte        // request payload being built
	sig     chan signal   // the reader's signals to the request in flight
	reqDone chan error    // the writer's answer to the request's write
	timer   *time.Timer   // the request's ACK and reply timeouts
	seq     uint32        // numbers requests for their signals
	carry   bool          // an ACK of the last reply waits to go with the next request
	carryID uint32        // its id
	handoff chan struct{} // set when a cancelled exchange is being finished: release closes it

	mu        sync.Mutex
	nextID    uint32  // id of the host's next data packet
	lastRecv  uint32  // id of the last data packet delivered from the target
	haveLast  bool    // lastRecv is valid
	sticky    bool    // the target's sync bit outlives an ACK, so it means no restart (until a RESET)
	pend      pending // request in flight
	resyncers []chan struct{}
	lastStop  []byte // payload of the last state change, to spot repeats
	resetGen  int    // counts RESETs from the target
	stops     int    // counts state changes from the target

	quit      chan struct{} // closed by Close
	closeOnce sync.Once
	closeErr  error

	events chan Event
	queue  *eventQueue
	done   chan struct{}
	err    error // why the reader stopped; set before done is closed
}

// NewEngine starts an engine on conn with the link its medium needs: the
// 1394 mailbox link when conn is a transport.PacketConn, KDCOM framing on
// any other byte stream. Close it to stop the engine's goroutines.
func NewEngine(conn io.ReadWriteCloser, opts Options) *Engine {
	opts.defaults()
	return NewEngineLink(LinkFor(conn, opts), opts)
}

// LinkFor returns the Link for conn: NewMailboxLink for a
// transport.PacketConn, NewKDCOMLink for any other byte stream, with the
// packet size and write timeout of opts.
func LinkFor(conn io.ReadWriteCloser, opts Options) Link {
	opts.defaults()
	if pc, ok := conn.(transport.PacketConn); ok {
		return NewMailboxLink(pc, opts.MaxPacket, opts.WriteTimeout)
	}
	return NewKDCOMLink(conn, opts.MaxPacket, opts.WriteTimeout)
}

// NewEngineLink starts an engine on link. Close it to stop the engine's
// goroutines; Close closes the link.
func NewEngineLink(link Link, opts Options) *Engine {
	opts.defaults()
	e := &Engine{
		link:    link,
		caps:    link.Caps(),
		opts:    opts,
		nextID:  InitialPacketID,
		events:  make(chan Event),
		queue:   newEventQueue(),
		done:    make(chan struct{}),
		quit:    make(chan struct{}),
		reqSem:  make(chan struct{}, 1),
		sig:     make(chan signal, 16),
		reqDone: make(chan error, 1),
		timer:   time.NewTimer(time.Hour),
		w:       newWriter(),
	}
	e.timer.Stop()
	if opts.Trace != nil {
		e.SetTrace(opts.Trace)
	}
	go e.readLoop()
	go e.writeLoop()
	go e.forward()
	return e
}

// Events returns the stream of things the target says on its own. It is
// closed after the link fails (the last event is then an EventLinkError) or
// the engine is closed. Events wait in a bounded queue, so a slow consumer
// never stalls the protocol; see maxQueuedText.
func (e *Engine) Events() <-chan Event { return e.events }

// Done is closed when the reader goroutine has stopped.
func (e *Engine) Done() <-chan struct{} { return e.done }

// Err returns why the engine stopped, once Done is closed.
func (e *Engine) Err() error {
	select {
	case <-e.done:
		return e.err
	default:
		return nil
	}
}

// SetTrace installs (or, with nil, removes) the packet trace hook.
func (e *Engine) SetTrace(f func(TraceRecord)) {
	if f == nil {
		e.trace.Store(nil)
		return
	}
	e.trace.Store(&f)
}

// Tracing reports whether a trace hook is installed.
func (e *Engine) Tracing() bool { return e.trace.Load() != nil }

// State returns what the engine knows about the target's execution.
func (e *Engine) State() TargetState { return TargetState(e.state.Load()) }

// SetState overrides the known target state (for example StateUnknown after
// the user asks to talk to a target whatever the engine believes).
func (e *Engine) SetState(s TargetState) { e.state.Store(int32(s)) }

// Close stops the engine and closes the link.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		close(e.quit)
		e.closeErr = e.link.Close()
	})
	<-e.done
	return e.closeErr
}

func (e *Engine) isClosed() bool {
	select {
	case <-e.quit:
		return true
	default:
		return false
	}
}
