package kdnet

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"time"
)

// DeadAfter is how long the host waits for any authenticated data after
// sending before it treats a target that keeps offering as gone.
const DeadAfter = 10 * time.Second

// maxPending bounds the answered offers not yet confirmed by data.
const maxPending = 2

// More errors of the host state machine.
var (
	// ErrReplay means an authenticated datagram repeats or predates a
	// counter already accepted.
	ErrReplay = errors.New("kdnet: replayed datagram (counter not above the last one)")
	// ErrDirection means a datagram carries the wrong direction bit (for
	// instance one of our own, reflected back).
	ErrDirection = errors.New("kdnet: datagram has the wrong direction bit")
	// ErrNoSession means there is no data key yet to send with.
	ErrNoSession = errors.New("kdnet: no session with a target yet")
	// ErrUnexpected means an authenticated control message of a kind this
	// side does not take (a response sent to the host, an offer to the
	// target).
	ErrUnexpected = errors.New("kdnet: unexpected control message")
)

// Event says what a received datagram meant.
type Event int

// Events returned by Host.Receive and Target.Receive.
const (
	EventRejected  Event = iota // failed a check; Result.Err says which; nothing changed
	EventIgnored                // valid but needs nothing (an idle offer during a session)
	EventAnswer                 // Result.Reply must be sent to Result.To
	EventHello                  // the target's first packet on a new data key
	EventData                   // Result.Body is a KD packet (host) or KD bytes (target)
	EventBreakIn                // target side: the host asked to break in
	EventConnected              // target side: a host answered; send the hello next
)

var eventNames = [...]string{"rejected", "ignored", "answer", "hello", "data", "break-in", "connected"}

func (e Event) String() string {
	if int(e) < len(eventNames) {
		return eventNames[e]
	}
	return "event(" + itoa(int(e)) + ")"
}

// Result is the outcome of one received datagram. Body and Reply alias
// buffers of the state machine that the next call reuses.
type Result struct {
	Event    Event
	Err      error          // EventRejected: why
	Channel  Channel        // channel of the datagram, when it had a header
	Counter  uint64         // sender's counter, when it authenticated
	Body     []byte         // EventData: the body
	Reply    []byte         // EventAnswer: the datagram to send
	To       netip.AddrPort // EventAnswer: where to send it
	HelloIP  netip.Addr     // EventHello: the host address the target sent
	Rekeyed  bool           // the data key changed (first session or a new one)
	Reboot   bool           // EventAnswer during a session: the target restarted
	Offer    *Offer         // control offers, for traces
	Datagram int            // size of the datagram
}

// Stats counts what a state machine saw. Nothing in it is secret.
type Stats struct {
	Received   int // datagrams handed to Receive
	Rejected   int // failed a check (all reasons)
	AuthFailed int // of those, did not authenticate
	Replayed   int // of those, replayed counters
	IdleOffers int // offers ignored because the session is alive
	Answered   int // offers answered
	Rekeys     int // data keys taken into use
	Sent       int // datagrams built by Send
}

// session is one data key and its two counters.
type session struct {
	data    *Cipher
	peer    netip.AddrPort
	nonce   [NonceSize]byte
	counter uint64 // control counter of the offer answered
	sent    uint64 // last counter sent
	recv    uint64 // last counter accepted
	hello   bool   // the hello packet was seen
}

// Host is the debugger's side of KDNET, without I/O: it turns received
// datagrams into KD packets and answers, and KD packets into datagrams.
// It answers the first offer it sees and, while a session is alive,
// ignores further offers (real targets send them as an idle signal while
// stopped). It answers again only when the session is really gone: the
// offer comes from a restarted target (a new nonce, or a zero "last
// debugger" address), or the data channel has been silent for DeadAfter
// after the host sent something. Datagrams that fail authentication are
// only counted: anyone can send them, so they decide nothing. Even then
// the old key stays in use until the target sends data under the new one,
// so a forged or replayed offer cannot break a working session.
// A Host is not safe for concurrent use.
type Host struct {
	control Key
	ctl     *Cipher
	hmac    Key
	rand    io.Reader
	version byte

	cur     *session
	pending []*session

	lastOffer    uint64 // control counter of the last accepted offer
	haveOffer    bool
	offerTail    [NonceSize - 4]byte
	waitingSince time.Time // first unanswered send, zero when not waiting
	now          time.Time // time of the datagram being handled

	plain []byte
	out   []byte
	stats Stats
}

// NewHost makes the host state machine for a control key; random supplies
// the host's 32 bytes per response (crypto/rand.Reader in production).
func NewHost(control Key, random io.Reader) *Host {
	hk := HMACKey(control)
	return &Host{control: control, ctl: NewCipher(control, hk), hmac: hk, rand: random, version: 2}
}

// Stats returns the counters so far.
func (h *Host) Stats() Stats { return h.stats }

// Connected reports whether a data key is in use and the peer it talks to.
func (h *Host) Connected() (netip.AddrPort, bool) {
	if h.cur == nil {
		return netip.AddrPort{}, false
	}
	return h.cur.peer, true
}

// Version returns the protocol version byte the host sends (the target's).
func (h *Host) Version() byte { return h.version }

func (h *Host) reject(r Result, err error) Result {
	h.stats.Rejected++
	switch {
	case errors.Is(err, ErrAuth):
		h.stats.AuthFailed++
	case errors.Is(err, ErrReplay):
		h.stats.Replayed++
	}
	r.Event, r.Err = EventRejected, err
	return r
}

// Receive handles one datagram b from the address from at time now.
func (h *Host) Receive(b []byte, from netip.AddrPort, now time.Time) Result {
	h.stats.Received++
	h.now = now
	r := Result{Datagram: len(b)}
	_, ch, err := CheckHeader(b)
	if err != nil {
		return h.reject(r, err)
	}
	r.Channel = ch
	if ch == ChannelControl {
		return h.control1(b, from, r)
	}
	return h.data(b, from, now, r)
}

func (h *Host) control1(b []byte, from netip.AddrPort, r Result) Result {
	d, plain, err := h.ctl.Open(b, h.plain)
	h.plain = plain
	if err != nil {
		return h.reject(r, err)
	}
	r.Counter = d.Counter
	if d.FromHost {
		return h.reject(r, ErrDirection)
	}
	o, err := ParseOffer(d.Body)
	if err != nil {
		return h.reject(r, ErrUnexpected)
	}
	r.Offer = &o
	var tail [NonceSize - 4]byte
	copy(tail[:], o.Nonce[4:])
	newBoot := !h.haveOffer || tail != h.offerTail || o.FreshBoot()
	if !newBoot && d.Counter <= h.lastOffer {
		return h.reject(r, ErrReplay)
	}
	h.lastOffer, h.offerTail, h.haveOffer = d.Counter, tail, true
	if h.cur != nil && !newBoot && !h.gone() {
		h.stats.IdleOffers++
		r.Event = EventIgnored
		return r
	}
	return h.answer(d, &o, from, r, h.cur != nil && newBoot)
}

// gone reports whether the current session looks dead: data failed to
// authenticate since the last good datagram, or a send has waited for an
// answer longer than DeadAfter (checked in data when now is known).
func (h *Host) gone() bool {
	return !h.waitingSince.IsZero() && h.now.Sub(h.waitingSince) >= DeadAfter
}

func (h *Host) answer(d Datagram, o *Offer, from netip.AddrPort, r Result, reboot bool) Result {
	resp := Response{Nonce: o.Nonce}
	if _, err := io.ReadFull(h.rand, resp.HostRandom[:]); err != nil {
		return h.reject(r, errors.New("kdnet: no random bytes for the response: "+err.Error()))
	}
	var body [ResponseSize]byte
	AppendResponse(body[:0], &resp)
	h.version = d.Version
	out, err := h.ctl.Seal(h.out[:0], Datagram{Version: d.Version, Channel: ChannelControl, Counter: d.Counter, FromHost: true, Body: body[:]})
	if err != nil {
		return h.reject(r, err)
	}
	h.out = out
	s := &session{data: NewCipher(DataKey(h.control, body[:]), h.hmac), peer: from, nonce: o.Nonce, counter: d.Counter}
	if len(h.pending) == maxPending {
		copy(h.pending, h.pending[1:])
		h.pending = h.pending[:maxPending-1]
	}
	h.pending = append(h.pending, s)
	h.stats.Answered++
	r.Event, r.Reply, r.To, r.Reboot = EventAnswer, out, from, reboot
	return r
}

// data handles a data-channel datagram: the current key first, then the
// keys of answered offers; the first of those to authenticate becomes the
// session.
func (h *Host) data(b []byte, from netip.AddrPort, now time.Time, r Result) Result {
	var (
		d   Datagram
		err error = ErrNoSession
		s   *session
	)
	if h.cur != nil {
		d, h.plain, err = h.cur.data.Open(b, h.plain)
		s = h.cur
	}
	if err != nil {
		for i := len(h.pending) - 1; i >= 0; i-- {
			var perr error
			d, h.plain, perr = h.pending[i].data.Open(b, h.plain)
			if perr == nil {
				s, err = h.pending[i], nil
				break
			}
		}
	}
	if err != nil {
		if errors.Is(err, ErrNoSession) {
			err = ErrAuth
		}
		return h.reject(r, err)
	}
	r.Counter = d.Counter
	if d.FromHost {
		return h.reject(r, ErrDirection)
	}
	if d.Counter <= s.recv {
		return h.reject(r, ErrReplay)
	}
	if s != h.cur {
		h.cur, h.pending = s, h.pending[:0]
		h.stats.Rekeys++
		r.Rekeyed = true
	}
	s.recv = d.Counter
	s.peer = from
	h.waitingSince = time.Time{}
	r.Body = d.Body
	if ip, ok := ParseHello(d.Body); ok {
		s.hello = true
		r.Event, r.HelloIP = EventHello, ipAddr(ip)
		return r
	}
	r.Event = EventData
	return r
}

// Send appends the datagram carrying body (a KD packet, or the single
// break-in byte) to dst, under the current data key, and returns the
// address to send it to.
func (h *Host) Send(dst, body []byte, now time.Time) ([]byte, netip.AddrPort, error) {
	if h.cur == nil {
		return dst, netip.AddrPort{}, ErrNoSession
	}
	s := h.cur
	out, err := s.data.Seal(dst, Datagram{Version: h.version, Channel: ChannelData, Counter: s.sent + 1, FromHost: true, Body: body})
	if err != nil {
		return dst, netip.AddrPort{}, err
	}
	s.sent++
	h.stats.Sent++
	if h.waitingSince.IsZero() {
		h.waitingSince = now
	}
	return out, s.peer, nil
}

func ipAddr(ip net.IP) netip.Addr {
	a, _ := netip.AddrFromSlice(ip.To4())
	return a
}
