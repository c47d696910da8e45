package kdnet

import (
	"encoding/binary"
	"errors"
	"net"
)

// Control-channel message sizes and kinds.
const (
	// OfferSize is the body of a target's offer.
	OfferSize = 344
	// ResponseSize is the body of the host's response; the data key is
	// the SHA-256 of the control key and these bytes.
	ResponseSize = 322
	// NonceSize is the target's nonce, echoed by the host.
	NonceSize = 32
	// HostRandomSize is the host's random contribution to the data key.
	HostRandomSize = 32

	ctlMarker   = 0x01
	kindOffer   = 0x01
	kindRespond = 0x02
)

// Errors of the control messages.
var (
	// ErrNotOffer means a control body is not a well-formed offer.
	ErrNotOffer = errors.New("kdnet: control message is not an offer")
	// ErrNotResponse means a control body is not a well-formed response.
	ErrNotResponse = errors.New("kdnet: control message is not a response")
)

// Offer is the target's invitation ("poke"), sent on the control channel
// every few seconds to the host address configured on the target.
type Offer struct {
	Nonce      [NonceSize]byte // opaque; the first 4 bytes count offers (LE)
	TargetIP   net.IP          // 16 bytes, IPv4-mapped for IPv4
	TargetPort uint16
	HostIP     net.IP // the host address configured on the target
	HostPort   uint16
	LastIP     net.IP // zero after boot, later the last debugger's address
	LastPort   uint16
}

// ParseOffer decodes an offer body. The addresses are copies.
func ParseOffer(b []byte) (Offer, error) {
	if len(b) != OfferSize || b[0] != ctlMarker || b[1] != kindOffer {
		return Offer{}, ErrNotOffer
	}
	var o Offer
	copy(o.Nonce[:], b[2:34])
	o.TargetIP = net.IP(append([]byte(nil), b[34:50]...))
	o.TargetPort = binary.BigEndian.Uint16(b[50:])
	o.HostIP = net.IP(append([]byte(nil), b[52:68]...))
	o.HostPort = binary.BigEndian.Uint16(b[68:])
	o.LastIP = net.IP(append([]byte(nil), b[70:86]...))
	o.LastPort = binary.BigEndian.Uint16(b[86:])
	return o, nil
}

// AppendOffer appends o's 344-byte body to dst. Addresses are written in
// their 16-byte form (IPv4 as ::ffff:a.b.c.d); a nil address is zero.
func AppendOffer(dst []byte, o *Offer) []byte {
	start := len(dst)
	dst = grow(dst, OfferSize)
	b := dst[start:]
	clear(b)
	b[0], b[1] = ctlMarker, kindOffer
	copy(b[2:34], o.Nonce[:])
	putIP(b[34:50], o.TargetIP)
	binary.BigEndian.PutUint16(b[50:], o.TargetPort)
	putIP(b[52:68], o.HostIP)
	binary.BigEndian.PutUint16(b[68:], o.HostPort)
	putIP(b[70:86], o.LastIP)
	binary.BigEndian.PutUint16(b[86:], o.LastPort)
	return dst
}

func putIP(dst []byte, ip net.IP) {
	if ip16 := ip.To16(); ip16 != nil {
		copy(dst, ip16)
	}
}

// FreshBoot reports whether the offer's "last debugger" address is zero,
// which a target sends only until its first debugger after boot.
func (o *Offer) FreshBoot() bool {
	return o.LastIP == nil || o.LastIP.Equal(net.IPv6zero) || isZero(o.LastIP)
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Response is the host's answer to an offer.
type Response struct {
	Nonce      [NonceSize]byte      // the offer's nonce, verbatim
	HostRandom [HostRandomSize]byte // fresh random bytes from the host
}

// AppendResponse appends r's 322-byte body to dst.
func AppendResponse(dst []byte, r *Response) []byte {
	start := len(dst)
	dst = grow(dst, ResponseSize)
	b := dst[start:]
	clear(b)
	b[0], b[1] = ctlMarker, kindRespond
	copy(b[2:34], r.Nonce[:])
	copy(b[34:66], r.HostRandom[:])
	return dst
}

// ParseResponse decodes a response body.
func ParseResponse(b []byte) (Response, error) {
	if len(b) != ResponseSize || b[0] != ctlMarker || b[1] != kindRespond {
		return Response{}, ErrNotResponse
	}
	var r Response
	copy(r.Nonce[:], b[2:34])
	copy(r.HostRandom[:], b[34:66])
	return r, nil
}

// IsOffer reports whether a control body starts like an offer.
func IsOffer(b []byte) bool { return len(b) >= 2 && b[0] == ctlMarker && b[1] == kindOffer }

// IsResponse reports whether a control body starts like a response.
func IsResponse(b []byte) bool { return len(b) >= 2 && b[0] == ctlMarker && b[1] == kindRespond }
