package transport

import (
	"errors"
	"strings"
)

// The environment variables a bare kd -k reads, as KD does.
const (
	EnvPort        = "_NT_DEBUG_PORT"
	EnvBaudRate    = "_NT_DEBUG_BAUD_RATE"
	EnvBus         = "_NT_DEBUG_BUS"
	Env1394Channel = "_NT_DEBUG_1394_CHANNEL"
	Env1394Symlink = "_NT_DEBUG_1394_SYMLINK"
)

// ErrNoEnvironment is returned by FromEnv when none of the kernel-debugging
// environment variables is set.
var ErrNoEnvironment = errors.New("transport: no connection string given and neither " + EnvPort + " nor " + EnvBus + " is set")

// FromEnv builds a Spec from KD's environment variables, for a bare kd -k:
// _NT_DEBUG_BUS=1394 with _NT_DEBUG_1394_CHANNEL and optionally
// _NT_DEBUG_1394_SYMLINK selects 1394; otherwise _NT_DEBUG_PORT (com1,
// \\.\com1 or a device path) and optionally _NT_DEBUG_BAUD_RATE select a
// serial port. getenv is usually os.Getenv. Errors name the variable.
func FromEnv(getenv func(string) string) (Spec, error) {
	s := Spec{Resets: -1}
	bus := getenv(EnvBus)
	switch strings.ToLower(bus) {
	case "":
	case "1394":
		s.Kind = Kind1394
		ch := getenv(Env1394Channel)
		if ch == "" {
			return Spec{}, parseErr(EnvBus+"="+bus, Env1394Channel+" is not set")
		}
		n, msg := parseChannel(ch)
		if msg != "" {
			return Spec{}, parseErr(Env1394Channel+"="+ch, msg)
		}
		s.Channel = n
		if v := getenv(Env1394Symlink); v != "" {
			sl, msg := parseSymlink(v)
			if msg != "" {
				return Spec{}, parseErr(Env1394Symlink+"="+v, msg)
			}
			s.Symlink = sl
		}
		return s, nil
	default:
		return Spec{}, parseErr(EnvBus+"="+bus, "only 1394 is supported")
	}

	port, baud := getenv(EnvPort), getenv(EnvBaudRate)
	if port == "" {
		if baud != "" {
			return Spec{}, parseErr(EnvBaudRate+"="+baud, EnvPort+" is not set")
		}
		return Spec{}, ErrNoEnvironment
	}
	s.Kind = KindSerial
	s.Port = port
	if strings.Contains(port, ",") {
		return Spec{}, parseErr(EnvPort+"="+port, "a port name cannot contain a comma")
	}
	if msg := checkSerialPort(port); msg != "" {
		return Spec{}, parseErr(EnvPort+"="+port, msg)
	}
	if baud != "" {
		n, msg := parseBaud(baud)
		if msg != "" {
			return Spec{}, parseErr(EnvBaudRate+"="+baud, msg)
		}
		s.Baud = n
	}
	return s, nil
}
