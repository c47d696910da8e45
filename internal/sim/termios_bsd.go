//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package sim

import "golang.org/x/sys/unix"

const (
	ioctlGetTermios = unix.TIOCGETA
	ioctlSetTermios = unix.TIOCSETA
)

// termiosSpeed maps a baud rate to its termios speed code: on the BSDs the
// code is the rate itself.
func termiosSpeed(baud int) (uint32, bool) {
	switch baud {
	case 9600, 19200, 38400, 57600, 115200:
		return uint32(baud), true
	}
	return 0, false
}

func setSpeed(t *unix.Termios, speed uint32) {
	setSpeedField(&t.Ispeed, speed)
	setSpeedField(&t.Ospeed, speed)
}

func setSpeedField[T ~uint32 | ~uint64 | ~int32 | ~int64](p *T, speed uint32) { *p = T(speed) }

// flushBoth discards what the line received and what it has not sent yet.
func flushBoth(fd int) error {
	const fread, fwrite = 1, 2 // FREAD and FWRITE of <sys/fcntl.h>
	return unix.IoctlSetPointerInt(fd, unix.TIOCFLUSH, fread|fwrite)
}

// drain waits until the output queue has gone out on the wire (tcdrain).
func drain(fd int) {
	_ = unix.IoctlSetInt(fd, unix.TIOCDRAIN, 0)
}
