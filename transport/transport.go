package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"time"
)

// Conn is a byte stream to a target's debug port.
//
// Read and Write deadlines report a timeout as an error for which
// errors.Is(err, os.ErrDeadlineExceeded) is true, on every backend. Close may
// be called from another goroutine to unblock a pending Read or Write; the
// blocked call then returns an error for which errors.Is(err, net.ErrClosed)
// is true, never (0, nil).
type Conn interface {
	io.ReadWriteCloser
	// SetReadDeadline sets the deadline for pending and future Read calls.
	// A zero time means no deadline.
	SetReadDeadline(t time.Time) error
	// SetWriteDeadline sets the deadline for pending and future Write calls.
	// A zero time means no deadline.
	SetWriteDeadline(t time.Time) error
	// Name is what KD prints after "Opened ": `\\.\com1`, `/dev/ttyS0`,
	// `/tmp/kd.sock`, `127.0.0.1:4444`.
	Name() string
}

// PacketConn is implemented by a Conn whose medium carries whole packets
// instead of a byte stream: the 1394 mailboxes. Its Read and Write fail
// with ErrPacketConn; kdproto finds this interface and talks to the target
// through it. This package does not parse KD packets: a message is opaque
// bytes to it, bounded by the medium.
type PacketConn interface {
	Conn
	// ReadPacket waits for the target's next message and copies it into
	// buf: the 16-byte KD header as the target stored it, then the payload.
	// It returns the message's length. A message that does not fit buf is
	// dropped; FWMessageMax bytes always suffice on 1394. The read deadline
	// applies.
	ReadPacket(buf []byte) (int, error)
	// WritePacket delivers one message (a KD header and its payload) and
	// returns once the target has taken it. The write deadline applies.
	WritePacket(p []byte) error
	// BreakIn delivers the one-byte break-in message without waiting for a
	// running target to take it.
	BreakIn() error
}

// ErrPacketConn is the cause of the error Read and Write return on a
// PacketConn: its medium carries whole packets, not a byte stream.
var ErrPacketConn = errors.New("this link carries whole packets, not a byte stream (use ReadPacket and WritePacket)")

// BaudSetter is implemented by serial connections whose line speed can be
// changed while open (KD's CTRL+A).
type BaudSetter interface {
	// SetBaud changes the line speed; rate must be one of BaudRates.
	SetBaud(rate int) error
	// Baud reports the current line speed.
	Baud() int
}

// BaudRates lists the line speeds KD accepts, slowest first.
var BaudRates = []int{9600, 19200, 38400, 57600, 115200}

// DefaultBaud is the serial line speed used when a connection string does
// not give one; it is also bcdedit's default on the target.
const DefaultBaud = 115200

// Kind says which transport a Spec selects.
type Kind int

// The transports. The zero Kind is invalid.
const (
	KindSerial Kind = iota + 1 // com:port=PORT: a serial port
	KindPipe                   // com:pipe,port=PATH: a VM's serial port as a Unix socket or Windows named pipe
	KindTCP                    // com:ipport=N,port=HOST: a serial port exposed over TCP
	Kind1394                   // 1394:channel=N: IEEE 1394 (FireWire)
	KindNet                    // net:port=N,key=K: KDNET (opened by the console through kdproto/kdnet)
	KindSim                    // sim: the embedded simulator, wired by the console
)

var kindNames = [...]string{
	KindSerial: "serial",
	KindPipe:   "pipe",
	KindTCP:    "tcp",
	Kind1394:   "1394",
	KindNet:    "net",
	KindSim:    "sim",
}

// String returns the lower-case name of k, or Kind(N) for unknown values.
func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// EventKind says what happened in an Event.
type EventKind int

// The events a backend reports. Backends never print; the console turns
// events into KD-style lines.
const (
	// EventOpened: the connection is up; Name is what KD prints after "Opened ".
	EventOpened EventKind = iota + 1
	// EventWaitingForPipe: the pipe or socket does not exist (or nobody
	// listens on it) and reconnect was given, so Open waits for it.
	EventWaitingForPipe
	// EventReconnecting: the connection broke (Err says how) and is being
	// reopened. Attempt numbers the outages of this Conn from 1.
	EventReconnecting
	// EventReconnected: the connection with the same Attempt is back.
	EventReconnected
	// EventListening: with the server option, kd listens on Name for the VM.
	EventListening
	// EventAccepted: with the server option, a peer connected to Name.
	EventAccepted
	// EventBusReset: a 1394 bus reset happened and the target is being
	// looked up again. Attempt numbers the resets from 1.
	EventBusReset
)

var eventNames = [...]string{
	EventOpened:         "opened",
	EventWaitingForPipe: "waiting for pipe",
	EventReconnecting:   "reconnecting",
	EventReconnected:    "reconnected",
	EventListening:      "listening",
	EventAccepted:       "accepted",
	EventBusReset:       "bus reset",
}

// String returns a short lower-case description of k, or EventKind(N).
func (k EventKind) String() string {
	if k > 0 && int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event is a step of opening or keeping up a connection, reported through
// Options.Events.
type Event struct {
	Kind    EventKind
	Name    string // the connection's name, as Conn.Name
	Attempt int    // see the EventKind constants; 0 when not meaningful
	Err     error  // the cause of EventReconnecting, else nil
}

// String formats e for logs and test failures, e.g. "reconnecting /tmp/kd.sock (#1): EOF".
func (e Event) String() string {
	s := e.Kind.String() + " " + e.Name
	if e.Attempt > 0 {
		s += " (#" + strconv.Itoa(e.Attempt) + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Options tune Open. The zero value is ready to use.
type Options struct {
	// Events receives progress reports; it may be nil. It is called from
	// the goroutine calling Open, Read or Write, or from a reconnecting
	// goroutine, but never concurrently with itself. It must not block for
	// long and must not call back into the Conn.
	Events func(Event)

	// PollInterval is how often a missing or broken pipe or socket is tried
	// again while waiting for it. Zero means 250ms.
	PollInterval time.Duration

	// MailboxPoll is how often the 1394 backend looks at the target's
	// mailbox while waiting for a packet. Zero means 1ms.
	MailboxPoll time.Duration

	// TargetTimeout bounds how long the 1394 backend waits for the target
	// to take a packet from its mailbox, and how long bus errors may last,
	// before reporting an error. Zero means 10s.
	TargetTimeout time.Duration
}

func (o Options) pollInterval() time.Duration {
	if o.PollInterval > 0 {
		return o.PollInterval
	}
	return 250 * time.Millisecond
}

func (o Options) mailboxPoll() time.Duration {
	if o.MailboxPoll > 0 {
		return o.MailboxPoll
	}
	return time.Millisecond
}

func (o Options) targetTimeout() time.Duration {
	if o.TargetTimeout > 0 {
		return o.TargetTimeout
	}
	return 10 * time.Second
}

// emitter serialises calls to Options.Events.
type emitter struct {
	mu sync.Mutex
	f  func(Event)
}

func newEmitter(f func(Event)) *emitter { return &emitter{f: f} }

func (e *emitter) emit(ev Event) {
	if e == nil || e.f == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.f(ev)
}

// OpError is the error a Conn returns when I/O fails. Err is the cause:
// os.ErrDeadlineExceeded for timeouts, net.ErrClosed after Close, or the
// operating system's error.
type OpError struct {
	Op   string // "read", "write", "open", "accept", "close", ...
	Name string // Conn.Name
	Err  error
}

// Error formats e as "transport: read NAME: cause".
func (e *OpError) Error() string {
	return "transport: " + e.Op + " " + e.Name + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *OpError) Unwrap() error { return e.Err }

// Timeout reports whether the operation timed out, as net.Error does.
func (e *OpError) Timeout() bool { return errors.Is(e.Err, os.ErrDeadlineExceeded) }

// Open connects to the target described by s. ctx bounds the connection
// attempt, including waiting for a missing pipe and for a peer in server
// mode; it does not affect the Conn once Open has returned.
//
// On success Open reports EventOpened. KindSim is refused: the console
// wires the simulator itself through WrapNetConn.
func Open(ctx context.Context, s Spec, o Options) (Conn, error) {
	ev := newEmitter(o.Events)
	var (
		c   Conn
		err error
	)
	switch s.Kind {
	case KindSerial:
		c, err = openSerial(s)
	case KindPipe:
		c, err = openPipe(ctx, s, o, ev)
	case KindTCP:
		c, err = openTCP(ctx, s, o, ev)
	case Kind1394:
		c, err = open1394(ctx, s, o, ev)
	case KindNet:
		// Not s.String(): that would print the key.
		return nil, fmt.Errorf("transport: net: KDNET carries packets, not a byte stream: open it with kdproto/kdnet: %w", errors.ErrUnsupported)
	case KindSim:
		return nil, errors.New("transport: sim is wired by the console, not opened here")
	default:
		return nil, fmt.Errorf("transport: cannot open a spec of kind %v", s.Kind)
	}
	if err != nil {
		return nil, err
	}
	ev.emit(Event{Kind: EventOpened, Name: c.Name()})
	return c, nil
}

// isTimeout reports whether err is a deadline error.
func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// errClosed builds the error returned by I/O on a closed Conn.
func errClosed(op, name string) error { return &OpError{Op: op, Name: name, Err: net.ErrClosed} }

// errTimeout builds the error returned when a deadline passes.
func errTimeout(op, name string) error {
	return &OpError{Op: op, Name: name, Err: os.ErrDeadlineExceeded}
}

// deadline is a settable deadline with a channel that is closed (and
// replaced) whenever the deadline changes, so waiters can re-arm.
type deadline struct {
	t       time.Time
	changed chan struct{}
}

func newDeadline() deadline { return deadline{changed: make(chan struct{})} }

// set stores t and wakes waiters; the caller holds the owning lock.
func (d *deadline) set(t time.Time) {
	d.t = t
	close(d.changed)
	d.changed = make(chan struct{})
}

// waitFor blocks until ch is closed (returns nil), done is closed (errDone),
// the deadline t passes (errDeadline) or changed is closed (errChanged).
func waitFor(ch, done, changed <-chan struct{}, t time.Time, poll time.Duration) error {
	var timer *time.Timer
	var tc <-chan time.Time
	d := poll
	if !t.IsZero() {
		until := time.Until(t)
		if until <= 0 {
			return errDeadline
		}
		if d <= 0 || until < d {
			d = until
		}
	}
	if d > 0 {
		timer = time.NewTimer(d)
		defer timer.Stop()
		tc = timer.C
	}
	select {
	case <-ch:
		return nil
	case <-done:
		return errDone
	case <-changed:
		return errChanged
	case <-tc:
		if !t.IsZero() && !time.Now().Before(t) {
			return errDeadline
		}
		return errPollTick
	}
}

// Sentinels of waitFor; never returned to callers of the package.
var (
	errDone     = errors.New("transport: internal: closed")
	errDeadline = errors.New("transport: internal: deadline")
	errChanged  = errors.New("transport: internal: deadline changed")
	errPollTick = errors.New("transport: internal: poll tick")
)

// noDeadline is the zero time: wait without a deadline.
var noDeadline time.Time

// wrapErr is an error with its own message that still matches its causes
// with errors.Is and errors.As.
type wrapErr struct {
	msg    string
	causes []error
}

func (e *wrapErr) Error() string   { return e.msg }
func (e *wrapErr) Unwrap() []error { return e.causes }

func itoa(n int) string { return strconv.Itoa(n) }
