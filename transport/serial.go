package transport

import (
	"errors"
	"io/fs"
	"sync"
	"time"

	"go.bug.st/serial"
)

// serialSlice is the longest single wait inside Read. go.bug.st/serial can
// only time out a read, not cancel it for a new deadline, so Read waits in
// slices of at most this long and re-checks the deadline between them.
const serialSlice = 100 * time.Millisecond

// serialConn is a serial port through go.bug.st/serial.
type serialConn struct {
	name  string
	port  serial.Port
	slice time.Duration

	rmu sync.Mutex // one Read at a time: SetReadTimeout is not safe concurrently with Read
	wmu sync.Mutex // one Write at a time

	mu     sync.Mutex
	closed bool
	baud   int
	rdl    deadline
	wdl    deadline
}

// openSerial opens com:port=PORT,baud=RATE at 8N1 without flow control.
func openSerial(s Spec) (Conn, error) {
	baud := s.Baud
	if baud == 0 {
		baud = DefaultBaud
	}
	if !validBaud(baud) {
		return nil, parseErr("baud="+itoa(baud), baudMsg)
	}
	dev, name, err := serialDevice(s.Port)
	if err != nil {
		return nil, err
	}
	p, err := serial.Open(dev, serialMode(baud))
	if err != nil {
		return nil, serialOpenError(dev, err)
	}
	// Drop whatever the line held before we came.
	_ = p.ResetInputBuffer()
	return &serialConn{
		name: name, port: p, slice: serialSlice, baud: baud,
		rdl: newDeadline(), wdl: newDeadline(),
	}, nil
}

func serialMode(baud int) *serial.Mode {
	return &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit}
}

// serialOpenError maps go.bug.st/serial's errors to messages a user can act on.
func serialOpenError(dev string, err error) error {
	var pe *serial.PortError
	code := serial.PortErrorCode(-1)
	if errors.As(err, &pe) {
		code = pe.Code()
	}
	switch {
	case code == serial.PermissionDenied || errors.Is(err, fs.ErrPermission):
		return &wrapErr{msg: "transport: permission denied opening " + dev + ": " + serialPermissionHint,
			causes: []error{fs.ErrPermission, err}}
	case code == serial.PortNotFound || errors.Is(err, fs.ErrNotExist):
		return &wrapErr{msg: "transport: no such serial port " + dev, causes: []error{fs.ErrNotExist, err}}
	case code == serial.PortBusy:
		return &wrapErr{msg: "transport: port busy: " + dev + " is open in another program", causes: []error{err}}
	case code == serial.InvalidSerialPort:
		return &wrapErr{msg: "transport: " + dev + " is not a serial port", causes: []error{err}}
	}
	return &OpError{Op: "open", Name: dev, Err: err}
}

// Name implements Conn.
func (c *serialConn) Name() string { return c.name }

// Read implements io.Reader. It translates the library's (0, nil) timeout
// into waiting for the deadline, and returns os.ErrDeadlineExceeded when
// the deadline passes. A deadline set while Read waits takes effect within
// serialSlice.
func (c *serialConn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if len(p) == 0 {
		return 0, nil
	}
	for {
		c.mu.Lock()
		closed, t := c.closed, c.rdl.t
		c.mu.Unlock()
		if closed {
			return 0, errClosed("read", c.name)
		}
		wait := c.slice
		if !t.IsZero() {
			until := time.Until(t)
			if until <= 0 {
				return 0, errTimeout("read", c.name)
			}
			wait = min(wait, until)
		}
		// Windows counts read timeouts in whole milliseconds.
		wait = max(wait.Round(time.Millisecond), time.Millisecond)
		if err := c.port.SetReadTimeout(wait); err != nil {
			return 0, c.ioError("read", err)
		}
		n, err := c.port.Read(p)
		if n > 0 {
			return n, nil
		}
		if err != nil {
			return 0, c.ioError("read", err)
		}
		// (0, nil) is the library's timeout: check the deadline and wait on.
	}
}

// Write implements io.Writer. The write deadline is checked before
// writing; the library cannot abandon a write in progress, which on a
// serial port only blocks while the output buffer is full.
func (c *serialConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	closed, t := c.closed, c.wdl.t
	c.mu.Unlock()
	if closed {
		return 0, errClosed("write", c.name)
	}
	if !t.IsZero() && !time.Now().Before(t) {
		return 0, errTimeout("write", c.name)
	}
	n, err := c.port.Write(p)
	if err != nil {
		return n, c.ioError("write", err)
	}
	return n, nil
}

// ioError maps a library error during I/O.
func (c *serialConn) ioError(op string, err error) error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	var pe *serial.PortError
	if closed || errors.As(err, &pe) && pe.Code() == serial.PortClosed {
		return errClosed(op, c.name)
	}
	return &OpError{Op: op, Name: c.name, Err: err}
}

// SetReadDeadline implements Conn.
func (c *serialConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rdl.set(t)
	return nil
}

// SetWriteDeadline implements Conn.
func (c *serialConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wdl.set(t)
	return nil
}

// SetBaud implements BaudSetter.
func (c *serialConn) SetBaud(rate int) error {
	if !validBaud(rate) {
		return parseErr("baud="+itoa(rate), baudMsg)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errClosed("set baud", c.name)
	}
	if err := c.port.SetMode(serialMode(rate)); err != nil {
		return &OpError{Op: "set baud", Name: c.name, Err: err}
	}
	c.baud = rate
	return nil
}

// Baud implements BaudSetter.
func (c *serialConn) Baud() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.baud
}

// Close implements io.Closer; a pending Read returns at once with an error
// wrapping net.ErrClosed.
func (c *serialConn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errClosed("close", c.name)
	}
	c.closed = true
	c.mu.Unlock()
	if err := c.port.Close(); err != nil {
		return &OpError{Op: "close", Name: c.name, Err: err}
	}
	return nil
}
