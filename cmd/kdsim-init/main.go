package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `Usage: kdsim-init pack --kdsim PATH -o FILE

kdsim-init is the /init of kdsim's VM guest (see make vm-smoke). Run as
process 1 it mounts /dev, /proc and /sys and runs
  /bin/kdsim --device /dev/ttyS0 --exit-on-reboot ARGS...
where ARGS are the kernel command line's words after "--". It reboots the
machine when the debugger reboots the target and powers it off when kdsim
fails.

  pack --kdsim PATH -o FILE   write an initramfs (newc cpio) with this
                              binary as /init and PATH as /bin/kdsim
  -h, --help                  show this help

Example:
  CGO_ENABLED=0 go build -o bin/vm/ ./cmd/kdsim ./cmd/kdsim-init
  bin/vm/kdsim-init pack --kdsim bin/vm/kdsim -o bin/vm/initramfs.cpio
  qemu-system-x86_64 -kernel vmlinuz -initrd bin/vm/initramfs.cpio \
    -append "console=ttyS1 -- --print-every 1s" \
    -serial unix:/tmp/kd.sock,server=on,wait=off -serial stdio ...
`

func main() {
	if os.Getpid() == 1 {
		os.Exit(initMain(os.Args[1:]))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is kdsim-init's host side: it returns the exit status (0, 1 on a
// runtime error, 2 on a usage error).
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if len(args) == 0 || args[0] != "pack" {
		return usageError(stderr, "kdsim-init runs as process 1 of a VM guest; on a host only \"pack\" is available")
	}
	return packCommand(args[1:], stdout, stderr)
}

func usageError(stderr io.Writer, msg string) int {
	fmt.Fprintf(stderr, "kdsim-init: error: %s\nkdsim-init: hint: run kdsim-init -h for usage\n", msg)
	return 2
}
