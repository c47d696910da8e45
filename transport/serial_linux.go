package transport

import "strconv"

const serialPermissionHint = "add yourself to the dialout group"

// serialDevice maps comN and \\.\comN to /dev/ttyS{N-1}; other names are
// device paths used as given. The name is the device path.
func serialDevice(port string) (dev, name string, err error) {
	if n, ok := comNumber(port); ok {
		dev = "/dev/ttyS" + strconv.Itoa(n-1)
		return dev, dev, nil
	}
	return port, port, nil
}
