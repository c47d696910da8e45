package kdnet

import (
	"errors"
	"strings"
	"testing"
)

// TestDecodeV2 decodes the public Windows 8.1 datagrams as kd --decode
// does: the data key comes from the response in the stream.
func TestDecodeV2(t *testing.T) {
	d := NewDecoder(mustKey(t, "1.1.1.1"))
	if x := d.Decode(readHex(t, "unused.hex")); !errors.Is(x.Err, ErrNoDataKey) {
		t.Fatalf("data before the handshake: %v", x.Err)
	}
	tests := []struct {
		file, want string
	}{
		{"poke.hex", "<- KDNET offer v2 counter="},
		{"response.hex", "-> KDNET response v2 counter="},
		{"unused.hex", "<- KDNET hello host=192.168.0.11 [kdnet #"},
		{"resend.hex", "-> RESEND id=00000000"},
		{"breakin.hex", "-> BREAKIN 62 [kdnet #"},
		{"getversion-req.hex", "-> STATE_MANIPULATE id="},
		{"getversion-resp.hex", "<- STATE_MANIPULATE id="},
	}
	for _, tt := range tests {
		x := d.Decode(readHex(t, tt.file))
		if got := x.String(); !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s: %q, want prefix %q", tt.file, got, tt.want)
		}
	}
	if x := d.Decode(readHex(t, "getversion-resp.hex")); !strings.Contains(x.String(), "GetVersion") {
		t.Errorf("GetVersion reply line %q", x.String())
	}
	forged := readHex(t, "getversion-resp.hex")
	forged[40] ^= 1
	if x := d.Decode(forged); !errors.Is(x.Err, ErrAuth) || !strings.HasPrefix(x.String(), "?? KDNET datagram not decoded") {
		t.Errorf("forged datagram: %q", x.String())
	}
	if x := d.Decode([]byte("not kdnet at all, just some udp")); !errors.Is(x.Err, ErrMagic) {
		t.Errorf("foreign UDP: %v", x.Err)
	}
	s := d.Stats()
	if s.Offers != 1 || s.Responses != 1 || s.KDPackets != 4 || s.BreakIns != 1 || s.Rejected != 2 || s.NotKDNET != 1 || s.NoDataKeys != 1 {
		t.Errorf("stats %+v", s)
	}
}

// TestDecodeOldKey: after a second handshake the decoder still reads
// datagrams under the first key (a capture that interleaves two targets,
// or late retransmissions).
func TestDecodeOldKey(t *testing.T) {
	p := newPair(t)
	d := NewDecoder(mustKey(t, "kd.net.test.key"))
	o, _ := p.t.Offer(nil, 1)
	d.Decode(o)
	r := p.h.Receive(o, targetAP, t0)
	d.Decode(r.Reply)
	p.t.Receive(r.Reply, hostAP)
	old, _ := p.t.Send(nil, []byte("iiii\x04\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00"))
	_ = p.t.Reboot()
	o2, _ := p.t.Offer(nil, 1)
	r2 := p.h.Receive(o2, targetAP, t0)
	d.Decode(o2)
	d.Decode(r2.Reply)
	if x := d.Decode(old); x.Err != nil || x.Kind != "kd" || d.Stats().KeysTried != 1 {
		t.Fatalf("old-key datagram: %v %q", x.Err, x.Kind)
	}
}
