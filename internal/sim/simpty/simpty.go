// Package simpty serves the simulator on a fresh pseudo-terminal pair
// (kdsim --pty). It is a package of its own so that the pty library is
// linked into kdsim only, never into kd (which embeds the simulator for
// -k sim).
package simpty

import (
	"context"
	"errors"
	"runtime"

	"github.com/creack/pty"

	"github.com/gokd/kd/internal/sim"
)

// Serve opens a pseudo-terminal pair and serves m on it until ctx ends;
// see sim.ServePTY.
func Serve(ctx context.Context, m *sim.Machine, announce func(path string)) error {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		return errors.New("kdsim: --pty is not supported on " + runtime.GOOS + "; use --listen unix:PATH or tcp:127.0.0.1:PORT")
	}
	master, tty, err := pty.Open()
	if err != nil {
		return err
	}
	return sim.ServePTY(ctx, m, master, tty, announce)
}
