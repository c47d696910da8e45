package sim

import "golang.org/x/sys/unix"

const (
	ioctlGetTermios = unix.TCGETS
	ioctlSetTermios = unix.TCSETS
)

// termiosSpeed maps a baud rate to its termios speed code.
func termiosSpeed(baud int) (uint32, bool) {
	switch baud {
	case 9600:
		return unix.B9600, true
	case 19200:
		return unix.B19200, true
	case 38400:
		return unix.B38400, true
	case 57600:
		return unix.B57600, true
	case 115200:
		return unix.B115200, true
	}
	return 0, false
}

func setSpeed(t *unix.Termios, speed uint32) {
	t.Cflag &^= unix.CBAUD
	t.Cflag |= speed
	t.Ispeed, t.Ospeed = speed, speed
}

// flushBoth discards what the line received and what it has not sent yet.
func flushBoth(fd int) error {
	return unix.IoctlSetInt(fd, unix.TCFLSH, unix.TCIOFLUSH)
}

// drain waits until the output queue has gone out on the wire (tcdrain).
func drain(fd int) {
	_ = unix.IoctlSetInt(fd, unix.TCSBRK, 1)
}
