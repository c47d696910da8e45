//go:build !linux

package main

import (
	"fmt"
	"os"
	"runtime"
)

// initMain refuses: the guest is a Linux machine.
func initMain([]string) int {
	fmt.Fprintf(os.Stderr, "kdsim-init: error: process 1 of a VM guest must run on Linux, not %s\n", runtime.GOOS)
	return 1
}
