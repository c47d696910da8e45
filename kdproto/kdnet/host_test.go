package kdnet

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

var (
	hostAP   = netip.MustParseAddrPort("127.0.0.1:50001")
	targetAP = netip.MustParseAddrPort("127.0.0.2:50001")
	t0       = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

func seeded(n byte) *rand.ChaCha8 {
	var seed [32]byte
	seed[0] = n
	return rand.NewChaCha8(seed)
}

// pair is a host and a target that have not met yet.
type pair struct {
	h *Host
	t *Target
}

func newPair(t testing.TB) *pair {
	t.Helper()
	k := mustKey(t, "kd.net.test.key")
	tg, err := NewTarget(k, 4, targetAP, hostAP, seeded(1))
	if err != nil {
		t.Fatal(err)
	}
	return &pair{h: NewHost(k, seeded(2)), t: tg}
}

// offer makes the target offer and hands the offer to the host.
func (p *pair) offer(t testing.TB, uptime uint64, now time.Time) Result {
	t.Helper()
	o, err := p.t.Offer(nil, uptime)
	if err != nil {
		t.Fatal(err)
	}
	return p.h.Receive(o, targetAP, now)
}

// connect runs the handshake and the hello.
func (p *pair) connect(t testing.TB, uptime uint64, now time.Time) {
	t.Helper()
	r := p.offer(t, uptime, now)
	if r.Event != EventAnswer || r.To != targetAP {
		t.Fatalf("offer: %v %v", r.Event, r.Err)
	}
	tr := p.t.Receive(r.Reply, hostAP)
	if tr.Event != EventConnected {
		t.Fatalf("target took the response as %v: %v", tr.Event, tr.Err)
	}
	hello, err := p.t.Hello(nil)
	if err != nil {
		t.Fatal(err)
	}
	r = p.h.Receive(hello, targetAP, now)
	if r.Event != EventHello || !r.Rekeyed || r.HelloIP.String() != "127.0.0.1" {
		t.Fatalf("hello: %+v", r)
	}
}

// toHost sends body from target to host.
func (p *pair) toHost(t *testing.T, body []byte, now time.Time) Result {
	t.Helper()
	b, err := p.t.Send(nil, body)
	if err != nil {
		t.Fatal(err)
	}
	return p.h.Receive(b, targetAP, now)
}

// toTarget sends body from host to target.
func (p *pair) toTarget(t *testing.T, body []byte, now time.Time) Result {
	t.Helper()
	b, to, err := p.h.Send(nil, body, now)
	if err != nil {
		t.Fatal(err)
	}
	if to != targetAP {
		t.Fatalf("host sends to %v", to)
	}
	return p.t.Receive(b, hostAP)
}

func TestHandshakeAndData(t *testing.T) {
	p := newPair(t)
	if _, _, err := p.h.Send(nil, []byte("x"), t0); !errors.Is(err, ErrNoSession) {
		t.Fatalf("Send before a session: %v", err)
	}
	p.connect(t, 10, t0)
	if p.h.Version() != 4 {
		t.Errorf("host version %d, want the target's 4", p.h.Version())
	}
	kd := bytes.Repeat([]byte{0x30}, 40)
	if r := p.toHost(t, kd, t0); r.Event != EventData || !bytes.Equal(r.Body, kd) || r.Counter != 2 {
		t.Fatalf("target data: %+v", r)
	}
	if r := p.toTarget(t, []byte{BreakIn}, t0); r.Event != EventBreakIn {
		t.Fatalf("break-in: %+v", r)
	}
	if r := p.toTarget(t, kd, t0); r.Event != EventData || !bytes.Equal(r.Body, kd) || r.Counter != 2 {
		t.Fatalf("host data: %+v", r)
	}
}

// TestIdleOffersIgnored: a stopped target offers every 3 s while the host
// is idle; the host must keep its key and counters (spec §B.6 item 8).
func TestIdleOffersIgnored(t *testing.T) {
	p := newPair(t)
	p.connect(t, 10, t0)
	now := t0
	for i := range 20 {
		now = now.Add(3 * time.Second)
		if r := p.offer(t, uint64(13+3*i), now); r.Event != EventIgnored {
			t.Fatalf("idle offer %d: %v %v", i, r.Event, r.Err)
		}
	}
	if r := p.toTarget(t, []byte("still here"), now); r.Event != EventData {
		t.Fatalf("after idle offers: %+v", r)
	}
	if r := p.toHost(t, []byte("yes"), now); r.Event != EventData || r.Rekeyed {
		t.Fatalf("reply after idle offers: %+v", r)
	}
	if s := p.h.Stats(); s.IdleOffers != 20 || s.Answered != 1 || s.Rekeys != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestRebootRekeys(t *testing.T) {
	p := newPair(t)
	p.connect(t, 10, t0)
	if err := p.t.Reboot(); err != nil {
		t.Fatal(err)
	}
	r := p.offer(t, 3, t0.Add(time.Minute))
	if r.Event != EventAnswer || !r.Reboot {
		t.Fatalf("offer after reboot: %+v", r)
	}
	// Until the target uses the new key, the old session still works.
	if _, ok := p.h.Connected(); !ok {
		t.Fatal("host dropped the session on an offer")
	}
	if tr := p.t.Receive(r.Reply, hostAP); tr.Event != EventConnected {
		t.Fatalf("response after reboot: %v %v", tr.Event, tr.Err)
	}
	hello, _ := p.t.Hello(nil)
	if r := p.h.Receive(hello, targetAP, t0.Add(time.Minute)); r.Event != EventHello || !r.Rekeyed {
		t.Fatalf("hello after reboot: %+v", r)
	}
	if r := p.toTarget(t, []byte("new key"), t0.Add(time.Minute)); r.Event != EventData || r.Counter != 1 {
		t.Fatalf("host data after re-key: %+v", r)
	}
}

// TestDeadSessionRekeys: the host sent and heard nothing for DeadAfter
// while offers came: the target lost the session (a new debugger took it,
// or it restarted its transport) and the next offer is answered.
func TestDeadSessionRekeys(t *testing.T) {
	p := newPair(t)
	p.connect(t, 10, t0)
	if _, _, err := p.h.Send(nil, []byte("lost"), t0); err != nil {
		t.Fatal(err)
	}
	if r := p.offer(t, 13, t0.Add(DeadAfter-time.Second)); r.Event != EventIgnored {
		t.Fatalf("offer before DeadAfter: %v", r.Event)
	}
	if r := p.offer(t, 16, t0.Add(DeadAfter)); r.Event != EventAnswer || r.Reboot {
		t.Fatalf("offer after DeadAfter: %+v", r)
	}
}

// TestRejectedChangeNothing: forged, replayed, truncated, oversize,
// reflected and foreign datagrams are rejected with their reason, and the
// session goes on exactly as before.
func TestRejectedChangeNothing(t *testing.T) {
	p := newPair(t)
	p.connect(t, 10, t0)
	good, err := p.t.Send(nil, []byte("packet one"))
	if err != nil {
		t.Fatal(err)
	}
	if r := p.h.Receive(good, targetAP, t0); r.Event != EventData {
		t.Fatal(r.Err)
	}
	offer, _ := p.t.Offer(nil, 20)
	if r := p.h.Receive(offer, targetAP, t0); r.Event != EventIgnored {
		t.Fatal(r.Event)
	}
	own, _, _ := p.h.Send(nil, []byte("mine"), t0)
	other := NewCipher(mustKey(t, "1.2.3.4"), HMACKey(mustKey(t, "1.2.3.4")))
	foreign, _ := other.Seal(nil, Datagram{Version: 4, Channel: ChannelData, Counter: 99, Body: []byte("x")})
	flip := func(b []byte, i int) []byte {
		c := append([]byte(nil), b...)
		c[i] ^= 1
		return c
	}
	tests := []struct {
		name string
		b    []byte
		err  error
	}{
		{"replayed data", good, ErrReplay},
		{"replayed offer", offer, ErrReplay},
		{"reflected", own, ErrDirection},
		{"foreign key", foreign, ErrAuth},
		{"bit flip in ciphertext", flip(good, 20), ErrAuth},
		{"bit flip in tag", flip(good, len(good)-1), ErrAuth},
		{"bit flip in version", flip(good, 4), ErrAuth},
		{"truncated", good[:MinDatagramSize-1], ErrTruncated},
		{"truncated by a byte", good[:len(good)-1], ErrBlocks},
		{"empty", nil, ErrTruncated},
		{"oversize", make([]byte, MaxDatagramSize+1), ErrOversize},
		{"not KDNET", []byte("GET / HTTP/1.1\r\n\r\n..................."), ErrMagic},
		{"bad channel", func() []byte { c := flip(good, 5); c[5] = 7; return c }(), ErrChannel},
		{"data under the control key", func() []byte { c := flip(good, 5); return c }(), ErrAuth},
	}
	for _, tt := range tests {
		before := *p.h.cur
		r := p.h.Receive(tt.b, targetAP, t0)
		if r.Event != EventRejected || !errors.Is(r.Err, tt.err) {
			t.Errorf("%s: %v %v, want rejected %v", tt.name, r.Event, r.Err, tt.err)
		}
		if *p.h.cur != before {
			t.Errorf("%s changed the session", tt.name)
		}
	}
	if r := p.toHost(t, []byte("packet two"), t0); r.Event != EventData || r.Rekeyed {
		t.Fatalf("after rejects: %+v", r)
	}
	if s := p.h.Stats(); s.Rejected != len(tests) {
		t.Errorf("stats.Rejected = %d, want %d", s.Rejected, len(tests))
	}
}

// TestForgedOfferKeepsSession: an offer that looks like a reboot (replayed
// from another boot, or forged by someone with the key) is answered, but
// the working session stays until data arrives under the new key.
func TestForgedOfferKeepsSession(t *testing.T) {
	p := newPair(t)
	p.connect(t, 10, t0)
	k := mustKey(t, "kd.net.test.key")
	intruder, _ := NewTarget(k, 4, targetAP, hostAP, seeded(9))
	o, _ := intruder.Offer(nil, 1)
	if r := p.h.Receive(o, targetAP, t0); r.Event != EventAnswer {
		t.Fatalf("forged offer: %v", r.Event)
	}
	if r := p.toHost(t, []byte("old session"), t0); r.Event != EventData || r.Rekeyed {
		t.Fatalf("old session after forged offer: %+v", r)
	}
	if r := p.toTarget(t, []byte("still old"), t0); r.Event != EventData {
		t.Fatalf("host to target: %+v", r)
	}
}

// TestTargetRejectsStaleResponse: a response to an offer of an earlier
// boot, or a replay of the one that made the session, is refused.
func TestTargetRejectsStaleResponse(t *testing.T) {
	p := newPair(t)
	r := p.offer(t, 10, t0)
	if tr := p.t.Receive(r.Reply, hostAP); tr.Event != EventConnected {
		t.Fatal(tr.Err)
	}
	if tr := p.t.Receive(r.Reply, hostAP); tr.Event != EventRejected || !errors.Is(tr.Err, ErrReplay) {
		t.Fatalf("replayed response: %v %v", tr.Event, tr.Err)
	}
	_ = p.t.Reboot()
	if tr := p.t.Receive(r.Reply, hostAP); tr.Event != EventRejected {
		t.Fatalf("response from before the reboot: %v", tr.Event)
	}
}

func TestBodyTooLarge(t *testing.T) {
	p := newPair(t)
	p.connect(t, 10, t0)
	if _, err := p.t.Send(nil, make([]byte, MaxBody+1)); !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("oversize body: %v", err)
	}
	b, err := p.t.Send(nil, make([]byte, MaxBody))
	if err != nil || len(b) > MaxDatagramSize {
		t.Fatalf("largest body: %d bytes, %v", len(b), err)
	}
	if r := p.h.Receive(b, targetAP, t0); r.Event != EventData || len(r.Body) != MaxBody {
		t.Fatalf("largest body received as %v %v", r.Event, r.Err)
	}
}
