//go:build !linux && !windows

package transport

import "runtime"

const serialPermissionHint = "check the device's owner and mode"

// serialDevice uses device paths as given; COM names have no fixed meaning
// here (on macOS ports are /dev/cu.*).
func serialDevice(port string) (dev, name string, err error) {
	if _, ok := comNumber(port); ok {
		return "", "", parseErr("port="+port, "COM port names have no meaning on "+runtime.GOOS+
			"; give the device path, e.g. /dev/cu.usbserial-1410")
	}
	return port, port, nil
}
