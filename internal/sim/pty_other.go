//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package sim

import (
	"context"
	"errors"
	"os"
	"runtime"
)

// ServePTY is not available on this system: pseudo-terminals are a Unix
// facility. Use a Unix socket or TCP listener instead.
func ServePTY(ctx context.Context, m *Machine, master, tty *os.File, announce func(path string)) error {
	return errors.New("sim: --pty is not supported on " + runtime.GOOS + "; use --listen unix:PATH or tcp:127.0.0.1:PORT")
}

// ServeDevice is not available on this system: kdsim opens serial devices
// the Unix way. Use a Unix socket or TCP listener instead.
func ServeDevice(ctx context.Context, m *Machine, path string, opt DeviceOptions) error {
	return errors.New("sim: --device is not supported on " + runtime.GOOS + "; use --listen unix:PATH or tcp:127.0.0.1:PORT")
}
