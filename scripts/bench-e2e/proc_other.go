//go:build !unix

package main

import (
	"os/exec"
	"time"
)

// maxRSS is not measured on this system.
func maxRSS(c *exec.Cmd) int64 { return 0 }

// cpuTime is not measured on this system.
func cpuTime(pid int) (time.Duration, bool) { return 0, false }

// selfCPU is not measured on this system.
func selfCPU() (time.Duration, bool) { return 0, false }
