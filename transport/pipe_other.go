//go:build !windows

package transport

import (
	"context"
	"errors"
	"io/fs"
	"runtime"
	"syscall"
)

// openNamedPipe refuses Windows named-pipe paths outside Windows.
func openNamedPipe(_ context.Context, s Spec, _ Options, _ *emitter) (Conn, error) {
	return nil, parseErr("port="+s.Port, "Windows named pipes exist only on Windows; on "+
		runtime.GOOS+" give the path of the Unix socket the VM serves")
}

// isAbsent reports whether a dial error means "nothing there yet": no
// socket file, or nobody accepting on it.
func isAbsent(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED)
}
