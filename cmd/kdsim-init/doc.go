// Command kdsim-init is the whole user space of the virtual machine that
// make vm-smoke boots: the Linux kernel of Debian's linux-image package, an
// initramfs, and this program as its /init. As process 1 it mounts
// devtmpfs, proc and sysfs, runs kdsim on the guest's first serial port
// (/dev/ttyS0, COM1) and, when the debugger reboots the target (kdsim
// exits with status 4), reboots the machine for real with reboot(2); if
// kdsim fails it powers the machine off, so QEMU exits.
//
// On the build host, "kdsim-init pack" writes that initramfs: a newc cpio
// archive holding the kdsim-init binary itself as /init, a kdsim binary as
// /bin/kdsim, and the directories and the /dev/console node the kernel
// needs. Both binaries must be static (CGO_ENABLED=0) for the guest's
// architecture. See scripts/vm-smoke.sh and docs/ci.md.
package main
