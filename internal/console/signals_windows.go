//go:build windows

package console

import (
	"os"
	"os/signal"
	"syscall"
)

// notifySignals routes CTRL+C and CTRL+BREAK (both reported as
// os.Interrupt) and termination to ch.
func notifySignals(ch chan<- os.Signal) {
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
}
