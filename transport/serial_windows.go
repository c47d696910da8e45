package transport

import (
	"strconv"
	"strings"
)

const serialPermissionHint = "close the program using it or run kd as administrator"

// serialDevice maps comN and \\.\comN to \\.\COMN. The name is what KD
// prints: \\.\ followed by the port as written, e.g. \\.\com1.
func serialDevice(port string) (dev, name string, err error) {
	if n, ok := comNumber(port); ok {
		return `\\.\COM` + strconv.Itoa(n), `\\.\` + strings.TrimPrefix(port, `\\.\`), nil
	}
	return port, port, nil
}
