//go:build windows

package transport

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"syscall"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"
)

// openNamedPipe opens \\.\pipe\NAME or \\HOST\pipe\NAME through go-winio.
// As a client it connects to the pipe the hypervisor created; with the
// server option kd creates the pipe and waits for the VM to connect.
func openNamedPipe(ctx context.Context, s Spec, o Options, ev *emitter) (Conn, error) {
	if s.Server {
		return listenAndAccept(ctx, s.Port, s, o, ev, func() (net.Listener, error) {
			return winio.ListenPipe(s.Port, nil)
		})
	}
	dial := func(ctx context.Context) (net.Conn, error) {
		return winio.DialPipeContext(ctx, s.Port)
	}
	return dialConn(ctx, s.Port, dial, s, o, ev)
}

// isAbsent reports whether a dial error means "nothing there yet": no pipe
// or socket, or nobody accepting on it.
func isAbsent(err error) bool {
	return errors.Is(err, fs.ErrNotExist) ||
		errors.Is(err, windows.WSAECONNREFUSED) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, windows.ERROR_PIPE_NOT_CONNECTED)
}
