//go:build !windows

package console

import (
	"os"
	"os/signal"
	"syscall"
)

// notifySignals routes SIGINT (CTRL+C when the terminal is not raw, or
// kill -INT) and the signals that end kd to ch.
func notifySignals(ch chan<- os.Signal) {
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
}
