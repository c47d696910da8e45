package kdnet

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
)

// Target is the debuggee's side of KDNET, without I/O, as kdsim plays it:
// it builds offers, takes a host's response (checking that it echoes the
// current boot's nonce), then carries KD bytes over the data key. A
// response during a session replaces the old host, as on Windows. Reboot
// forgets the session and starts a new nonce. Not safe for concurrent use.
type Target struct {
	control Key
	ctl     *Cipher
	hmac    Key
	rand    io.Reader
	version byte

	nonce    [NonceSize]byte // bytes 0-3 count offers
	counter  uint64          // control counter of the last offer
	self     netip.AddrPort
	host     netip.AddrPort // configured host address
	lastHost netip.AddrPort // the last debugger that answered

	data     *Cipher
	answered uint32 // offer number (nonce bytes 0-3) of the session's response
	sent     uint64
	recv     uint64

	plain []byte
	stats Stats
}

// NewTarget makes a target state machine for a control key. version is the
// protocol byte it sends (2 or 4); self and host are the addresses its
// offers name. random supplies the nonce.
func NewTarget(control Key, version byte, self, host netip.AddrPort, random io.Reader) (*Target, error) {
	hk := HMACKey(control)
	t := &Target{control: control, ctl: NewCipher(control, hk), hmac: hk, rand: random, version: version, self: self, host: host}
	return t, t.Reboot()
}

// Reboot forgets the session, the last debugger and the offer counter and
// draws a new nonce, as a restarted machine does.
func (t *Target) Reboot() error {
	if _, err := io.ReadFull(t.rand, t.nonce[:]); err != nil {
		return err
	}
	t.counter, t.data, t.lastHost, t.sent, t.recv, t.answered = 0, nil, netip.AddrPort{}, 0, 0, 0
	return nil
}

// Stats returns the counters so far.
func (t *Target) Stats() Stats { return t.stats }

// Connected reports whether a host's response gave the target a data key.
func (t *Target) Connected() bool { return t.data != nil }

// Offer appends a new offer datagram to dst. uptime is the target's
// control counter (seconds since boot on Windows); it is raised if needed
// so that counters always grow.
func (t *Target) Offer(dst []byte, uptime uint64) ([]byte, error) {
	if uptime <= t.counter {
		uptime = t.counter + 1
	}
	t.counter = uptime
	binary.LittleEndian.PutUint32(t.nonce[:4], binary.LittleEndian.Uint32(t.nonce[:4])+1)
	o := Offer{
		Nonce:      t.nonce,
		TargetIP:   addrIP(t.self.Addr()),
		TargetPort: t.self.Port(),
		HostIP:     addrIP(t.host.Addr()),
		HostPort:   t.host.Port(),
		LastIP:     addrIP(t.lastHost.Addr()),
		LastPort:   t.lastHost.Port(),
	}
	var body [OfferSize]byte
	AppendOffer(body[:0], &o)
	return t.ctl.Seal(dst, Datagram{Version: t.version, Channel: ChannelControl, Counter: uptime, Body: body[:]})
}

func addrIP(a netip.Addr) net.IP {
	if !a.IsValid() {
		return nil
	}
	b := a.As16()
	return net.IP(b[:])
}

func (t *Target) reject(r Result, err error) Result {
	t.stats.Rejected++
	switch err {
	case ErrAuth:
		t.stats.AuthFailed++
	case ErrReplay:
		t.stats.Replayed++
	}
	r.Event, r.Err = EventRejected, err
	return r
}

// Receive handles one datagram from the address from.
func (t *Target) Receive(b []byte, from netip.AddrPort) Result {
	t.stats.Received++
	r := Result{Datagram: len(b)}
	_, ch, err := CheckHeader(b)
	if err != nil {
		return t.reject(r, err)
	}
	r.Channel = ch
	c := t.data
	if ch == ChannelControl {
		c = t.ctl
	} else if c == nil {
		return t.reject(r, ErrNoSession)
	}
	d, plain, err := c.Open(b, t.plain)
	t.plain = plain
	if err != nil {
		return t.reject(r, err)
	}
	r.Counter = d.Counter
	if !d.FromHost {
		return t.reject(r, ErrDirection)
	}
	if ch == ChannelControl {
		resp, err := ParseResponse(d.Body)
		if err != nil {
			return t.reject(r, ErrUnexpected)
		}
		// The nonce must be this boot's; bytes 0-3 count offers, so any
		// offer of this boot up to the last one may be answered, but not
		// one older than the response that made the current session.
		n := binary.LittleEndian.Uint32(resp.Nonce[:4])
		if !bytes.Equal(resp.Nonce[4:], t.nonce[4:]) || n > binary.LittleEndian.Uint32(t.nonce[:4]) || n <= t.answered || d.Counter > t.counter {
			return t.reject(r, ErrReplay)
		}
		t.data = NewCipher(DataKey(t.control, d.Body), t.hmac)
		t.sent, t.recv, t.lastHost, t.answered = 0, 0, from, n
		t.stats.Rekeys++
		r.Event, r.Rekeyed = EventConnected, true
		return r
	}
	if d.Counter <= t.recv {
		return t.reject(r, ErrReplay)
	}
	t.recv = d.Counter
	r.Body = d.Body
	if len(d.Body) == 1 && d.Body[0] == BreakIn {
		r.Event = EventBreakIn
		return r
	}
	r.Event = EventData
	return r
}

// Send appends a data datagram carrying body to dst.
func (t *Target) Send(dst, body []byte) ([]byte, error) {
	if t.data == nil {
		return dst, ErrNoSession
	}
	out, err := t.data.Seal(dst, Datagram{Version: t.version, Channel: ChannelData, Counter: t.sent + 1, Body: body})
	if err != nil {
		return dst, err
	}
	t.sent++
	t.stats.Sent++
	return out, nil
}

// Hello appends the first data datagram of a session: the UNUSED packet
// carrying the host's IPv4 address.
func (t *Target) Hello(dst []byte) ([]byte, error) {
	var body [HelloSize]byte
	AppendHello(body[:0], addrIP(t.lastHost.Addr()))
	return t.Send(dst, body[:])
}
