package transport

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// dialFunc opens (or, in server mode, accepts) one connection. It returns
// promptly when ctx is cancelled.
type dialFunc func(ctx context.Context) (net.Conn, error)

// streamConn is the Conn of every socket-like backend: Unix sockets, TCP,
// Windows named pipes and WrapNetConn. With reconnect set it replaces a
// broken connection with a new one from dial, in the background, while Read
// and Write wait for it (bounded by their deadlines).
type streamConn struct {
	name      string
	dial      dialFunc // nil: the connection cannot be reopened
	reconnect bool
	poll      time.Duration
	ev        *emitter
	onClose   func() error // releases what dial needs (a listener); may be nil

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the redial goroutine

	wmu sync.Mutex // one Write at a time, so retried writes don't interleave

	mu      sync.Mutex
	conn    net.Conn      // nil while reconnecting
	gen     int           // bumped for every new conn
	ready   chan struct{} // closed while conn != nil
	closed  bool
	outages int
	rdl     deadline
	wdl     deadline
}

func newStreamConn(c net.Conn, name string, dial dialFunc, reconnect bool, poll time.Duration, ev *emitter) *streamConn {
	ctx, cancel := context.WithCancel(context.Background())
	s := &streamConn{
		name: name, dial: dial, reconnect: reconnect && dial != nil, poll: poll, ev: ev,
		ctx: ctx, cancel: cancel,
		conn: c, ready: make(chan struct{}),
		rdl: newDeadline(), wdl: newDeadline(),
	}
	close(s.ready)
	return s
}

// WrapNetConn lets an in-process connection (a net.Pipe end, a socket
// accepted elsewhere, the embedded simulator) through the Conn interface.
// name is what Conn.Name reports. The Conn owns c and closes it on Close.
func WrapNetConn(c net.Conn, name string) Conn {
	return newStreamConn(c, name, nil, false, 0, nil)
}

// Name implements Conn.
func (s *streamConn) Name() string { return s.name }

// acquire returns the current connection, waiting while it is being
// reopened.
func (s *streamConn) acquire(op string) (net.Conn, int, error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, 0, errClosed(op, s.name)
		}
		if s.conn != nil {
			c, g := s.conn, s.gen
			s.mu.Unlock()
			return c, g, nil
		}
		d := &s.rdl
		if op == "write" {
			d = &s.wdl
		}
		ready, t, changed := s.ready, d.t, d.changed
		s.mu.Unlock()
		switch waitFor(ready, s.ctx.Done(), changed, t, 0) {
		case errDeadline:
			return nil, 0, errTimeout(op, s.name)
		case errDone:
			return nil, 0, errClosed(op, s.name)
		}
	}
}

// Read implements io.Reader. Without reconnect a connection closed by the
// peer reads io.EOF.
func (s *streamConn) Read(p []byte) (int, error) {
	for {
		c, gen, err := s.acquire("read")
		if err != nil {
			return 0, err
		}
		n, err := c.Read(p)
		if n > 0 || err == nil {
			return n, nil
		}
		if err = s.failed("read", gen, err); err != nil {
			return 0, err
		}
	}
}

// Write implements io.Writer. With reconnect, bytes that could not be
// written before the connection broke are written to the new connection.
func (s *streamConn) Write(p []byte) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	done := 0
	for {
		c, gen, err := s.acquire("write")
		if err != nil {
			return done, err
		}
		n, err := c.Write(p[done:])
		done += n
		if err == nil {
			return done, nil
		}
		if err = s.failed("write", gen, err); err != nil {
			return done, err
		}
	}
}

// failed classifies an I/O error from connection generation gen. It
// returns nil when the caller should retry on a reopened connection.
func (s *streamConn) failed(op string, gen int, err error) error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	switch {
	case closed:
		return errClosed(op, s.name)
	case isTimeout(err):
		return errTimeout(op, s.name)
	case !s.reconnect:
		if err == io.EOF {
			return io.EOF
		}
		return &OpError{Op: op, Name: s.name, Err: err}
	}
	s.broken(gen, err)
	return nil
}

// broken starts reopening the connection unless that already happened for
// generation gen.
func (s *streamConn) broken(gen int, cause error) {
	s.mu.Lock()
	if s.closed || s.conn == nil || gen != s.gen {
		s.mu.Unlock()
		return
	}
	old := s.conn
	s.conn = nil
	s.ready = make(chan struct{})
	s.outages++
	n := s.outages
	s.wg.Add(1)
	s.mu.Unlock()
	old.Close()
	s.ev.emit(Event{Kind: EventReconnecting, Name: s.name, Attempt: n, Err: cause})
	go s.redial(n)
}

// redial reopens the connection until it succeeds or the Conn is closed.
func (s *streamConn) redial(n int) {
	defer s.wg.Done()
	for {
		c, err := s.dial(s.ctx)
		if err == nil {
			s.mu.Lock()
			if s.closed {
				s.mu.Unlock()
				c.Close()
				return
			}
			c.SetReadDeadline(s.rdl.t)
			c.SetWriteDeadline(s.wdl.t)
			s.conn = c
			s.gen++
			close(s.ready)
			s.mu.Unlock()
			s.ev.emit(Event{Kind: EventReconnected, Name: s.name, Attempt: n})
			return
		}
		if waitFor(nil, s.ctx.Done(), nil, time.Time{}, s.poll) == errDone {
			return
		}
	}
}

// SetReadDeadline implements Conn.
func (s *streamConn) SetReadDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rdl.set(t)
	if s.conn != nil {
		return s.conn.SetReadDeadline(t)
	}
	return nil
}

// SetWriteDeadline implements Conn.
func (s *streamConn) SetWriteDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wdl.set(t)
	if s.conn != nil {
		return s.conn.SetWriteDeadline(t)
	}
	return nil
}

// Close implements io.Closer. It unblocks pending Read and Write calls and
// stops reconnecting. Closing twice returns an error wrapping net.ErrClosed.
func (s *streamConn) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errClosed("close", s.name)
	}
	s.closed = true
	c := s.conn
	s.mu.Unlock()
	s.cancel()
	var errs []error
	if c != nil {
		if err := c.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, &OpError{Op: "close", Name: s.name, Err: err})
		}
	}
	if s.onClose != nil {
		if err := s.onClose(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, &OpError{Op: "close", Name: s.name, Err: err})
		}
	}
	s.wg.Wait()
	return errors.Join(errs...)
}
