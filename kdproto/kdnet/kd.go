package kdnet

import (
	"encoding/binary"
	"net"
)

// BreakIn is the body of a break-in datagram: the single byte 'b', the same
// byte a serial host sends outside any packet.
const BreakIn = 0x62

// HelloSize is the size of the KD "UNUSED" packet a target sends first on
// a new data key: leader 0, type 0, length 0 and the host's IPv4 address
// in the id field as a little-endian number (192.168.0.11 is 0xC0A8000B,
// bytes 0B 00 A8 C0), without a checksum field.
const HelloSize = 12

// ParseHello reports whether body is the hello (UNUSED) packet and returns
// the IPv4 address it carries.
func ParseHello(body []byte) (net.IP, bool) {
	if len(body) != HelloSize || binary.LittleEndian.Uint32(body) != 0 ||
		binary.LittleEndian.Uint32(body[4:]) != 0 {
		return nil, false
	}
	return net.IPv4(body[11], body[10], body[9], body[8]), true
}

// AppendHello appends the hello packet naming hostIP (IPv4; anything else
// is written as 0.0.0.0) to dst.
func AppendHello(dst []byte, hostIP net.IP) []byte {
	var b [HelloSize]byte
	if v4 := hostIP.To4(); v4 != nil {
		b[8], b[9], b[10], b[11] = v4[3], v4[2], v4[1], v4[0]
	}
	return append(dst, b[:]...)
}

// IsBootDebugger reports whether a DbgKdGetVersion MajorVersion names the
// boot debugger (winload, bootmgr): its high byte is 4 (DBGKD_MAJOR_NTBD in
// the public wdbgexts.h). KDNET targets are often caught there, before the
// kernel runs, and they send FILE_IO requests a host must answer or refuse.
func IsBootDebugger(major uint16) bool { return major>>8 == 4 }
