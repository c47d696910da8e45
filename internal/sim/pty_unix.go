//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package sim

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// ServePTY serves m on a pseudo-terminal pair made by the caller (package
// simpty opens one, so that only kdsim links a pty library): it puts both
// sides in raw mode, reports the path of the terminal side through
// announce (e.g. /dev/pts/3, which a debugger opens as its serial port),
// and serves m on the master until ctx ends. The pair outlives reboots and
// debuggers that close and reopen the path, like a serial cable.
func ServePTY(ctx context.Context, m *Machine, master, tty *os.File, announce func(path string)) error {
	defer master.Close()
	defer tty.Close() // held open so the master never sees a hang-up
	for _, f := range []*os.File{tty, master} {
		if err := makeRaw(int(f.Fd())); err != nil {
			return err
		}
	}
	announce(tty.Name())
	port := newSharedPort(master)
	defer close(port.stop)
	stop := context.AfterFunc(ctx, func() { master.Close() })
	defer stop()
	for ctx.Err() == nil {
		err := m.Serve(ctx, port.session())
		if err != nil && !errors.Is(err, ErrRebooted) {
			return err
		}
		if port.dead() {
			return io.ErrUnexpectedEOF
		}
	}
	return ctx.Err()
}

// makeRaw is cfmakeraw: no echo, no line discipline, 8-bit bytes.
func makeRaw(fd int) error {
	t, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	return unix.IoctlSetTermios(fd, ioctlSetTermios, t)
}

// sharedPort reads a file that outlives the Serve calls made on it: one
// reader goroutine feeds chunks to whichever session is current, and
// closing a session ends its Reads without closing the file.
type sharedPort struct {
	f    *os.File
	ch   chan []byte
	done chan struct{} // closed when the file can no longer be read
	stop chan struct{} // closed when the port is no longer served
}

func newSharedPort(f *os.File) *sharedPort {
	p := &sharedPort{f: f, ch: make(chan []byte), done: make(chan struct{}), stop: make(chan struct{})}
	go func() {
		defer close(p.done)
		for {
			b := make([]byte, 512)
			n, err := f.Read(b)
			if n > 0 {
				select {
				case p.ch <- b[:n]:
				case <-p.stop:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return p
}

func (p *sharedPort) dead() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *sharedPort) session() *portSession {
	return &portSession{p: p, closed: make(chan struct{})}
}

type portSession struct {
	p      *sharedPort
	closed chan struct{}
	once   sync.Once
	rest   []byte
}

func (s *portSession) Read(b []byte) (int, error) {
	if len(s.rest) == 0 {
		select {
		case c := <-s.p.ch:
			s.rest = c
		case <-s.p.done:
			return 0, io.EOF
		case <-s.closed:
			return 0, io.EOF
		}
	}
	n := copy(b, s.rest)
	s.rest = s.rest[n:]
	return n, nil
}

func (s *portSession) Write(b []byte) (int, error) {
	select {
	case <-s.closed:
		return 0, os.ErrClosed
	default:
	}
	return s.p.f.Write(b)
}

func (s *portSession) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}
