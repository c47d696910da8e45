package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// kdsimRebooted is kdsim's exit status under --exit-on-reboot after the
// host rebooted the target.
const kdsimRebooted = 4

// initMain is process 1 of the guest. It never returns on success: the
// machine reboots or powers off. (If process 1 exits the kernel panics.)
// kdsim's arguments are the words after "--" on the kernel command line,
// read from /proc/cmdline: the kernel also hands init the words it does
// not know (such as nokaslr on a PVH boot), so init's own argv is ignored.
func initMain([]string) int {
	for _, m := range []struct{ src, dir, fstype string }{
		{"devtmpfs", "/dev", "devtmpfs"},
		{"proc", "/proc", "proc"},
		{"sysfs", "/sys", "sysfs"},
	} {
		if err := unix.Mount(m.src, m.dir, m.fstype, unix.MS_NOSUID|unix.MS_NOEXEC, ""); err != nil && !errors.Is(err, unix.EBUSY) {
			say("cannot mount %s on %s: %v", m.fstype, m.dir, err)
		}
	}
	say("up %s after the kernel started", uptime())
	args, err := kdsimArgs()
	if err != nil {
		say("cannot read the kernel command line: %v", err)
	}
	cmd := exec.Command("/bin/kdsim", append([]string{"--device", "/dev/ttyS0", "--exit-on-reboot"}, args...)...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == kdsimRebooted {
		say("the debugger rebooted the target: rebooting")
		unix.Sync()
		err = unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)
	} else {
		say("kdsim ended (%v): powering off", err)
		unix.Sync()
		err = unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	}
	say("reboot(2): %v", err)
	return 1
}

// kdsimArgs returns the words after "--" on the kernel command line.
func kdsimArgs() ([]string, error) {
	b, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return nil, err
	}
	return argsAfterDashes(string(b)), nil
}

func say(format string, args ...any) {
	fmt.Fprintf(os.Stdout, "kdsim-init: "+format+"\n", args...)
}

// uptime is the first field of /proc/uptime, the time since the kernel
// started.
func uptime() string {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return "(unknown)"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "(unknown)"
	}
	d, err := time.ParseDuration(f[0] + "s")
	if err != nil {
		return "(unknown)"
	}
	return d.String()
}
