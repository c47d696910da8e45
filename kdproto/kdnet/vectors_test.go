package kdnet

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readHex loads a testdata/v2 datagram written as hex bytes.
func readHex(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "v2", name))
	if err != nil {
		t.Fatal(err)
	}
	b, err := hex.DecodeString(strings.Join(strings.Fields(string(raw)), ""))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

func mustKey(t testing.TB, s string) Key {
	t.Helper()
	k, err := ParseKey(s)
	if err != nil {
		t.Fatalf("ParseKey: %v", err)
	}
	return k
}

func TestKeyVector(t *testing.T) {
	k := mustKey(t, "8.8.8.8")
	want := bytes.Repeat([]byte{8, 0, 0, 0, 0, 0, 0, 0}, 4)
	if !bytes.Equal(k[:], want) {
		t.Errorf("control key = % x, want % x", k[:], want)
	}
	h := HMACKey(k)
	wantH := bytes.Repeat([]byte{0xf7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 4)
	if !bytes.Equal(h[:], wantH) {
		t.Errorf("HMAC key = % x, want % x", h[:], wantH)
	}
}

func TestParseKey(t *testing.T) {
	tests := []struct {
		in   string
		want [4]uint64
		err  string
	}{
		{in: "1.2.3.4", want: [4]uint64{1, 2, 3, 4}},
		{in: "z.10.Zz.0", want: [4]uint64{35, 36, 36*35 + 35, 0}},
		{in: "3w5e11264sgsf.0.0.1", want: [4]uint64{1<<64 - 1, 0, 0, 1}},
		{in: "3w5e11264sgsg.0.0.1", err: "kdnet: key part 1: does not fit in 64 bits"},
		{in: "1.2.3", err: "kdnet: key: want four dot-separated base-36 parts, got 3"},
		{in: "1.2.3.4.5", err: "kdnet: key: more than four dot-separated parts"},
		{in: "1..3.4", err: "kdnet: key part 2: must be 1 to 13 base-36 digits"},
		{in: "1.2.3.secret-key", err: "kdnet: key part 4: has a character that is not a base-36 digit (0-9, a-z)"},
		{in: "12345678901234.2.3.4", err: "kdnet: key part 1: must be 1 to 13 base-36 digits"},
		{in: strings.Repeat("a", 60), err: "kdnet: key: too long; want four dot-separated base-36 parts of at most 13 digits"},
		{in: "", err: "kdnet: key part 1: must be 1 to 13 base-36 digits"},
	}
	for _, tt := range tests {
		k, err := ParseKey(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err || !errors.Is(err, ErrKey) {
				t.Errorf("ParseKey(%q) = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseKey(%q): %v", tt.in, err)
			continue
		}
		for i, w := range tt.want {
			if got := binary.LittleEndian.Uint64(k[8*i:]); got != w {
				t.Errorf("ParseKey(%q) word %d = %d, want %d", tt.in, i, got, w)
			}
		}
	}
}

func TestKeyNeverPrinted(t *testing.T) {
	k := mustKey(t, "zz.zz.zz.zz")
	for _, f := range []string{"%v", "%s", "%x", "%X", "%#v", "%+v", "%d", "%q"} {
		s := fmt.Sprintf(f, k)
		if strings.Contains(s, "23") || strings.Contains(strings.ToLower(s), "0x") || strings.Contains(s, "1295") {
			t.Errorf("Sprintf(%q, key) = %q shows key material", f, s)
		}
	}
	s := fmt.Sprintf("%v", struct{ K Key }{k})
	if !strings.Contains(s, "(kdnet key)") {
		t.Errorf("key in a struct printed as %q", s)
	}
}

// TestV2Session decrypts the public Windows 8.1 datagrams (spec §B.7
// [V2]), checks every field the spec lists, derives the data key from
// WinDbg's response and re-encrypts each datagram bit-exact.
func TestV2Session(t *testing.T) {
	ctlKey := mustKey(t, "1.1.1.1")
	hk := HMACKey(ctlKey)
	ctl := NewCipher(ctlKey, hk)

	poke := readHex(t, "poke.hex")
	od, _, err := ctl.Open(poke, nil)
	if err != nil {
		t.Fatalf("offer: %v", err)
	}
	if od.Version != 2 || od.Channel != ChannelControl || od.FromHost || len(od.Body) != OfferSize {
		t.Fatalf("offer datagram = %+v", od)
	}
	offer, err := ParseOffer(od.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !isZero(od.Body[88:]) {
		t.Error("offer tail not zero")
	}

	respDgram := readHex(t, "response.hex")
	rd, _, err := ctl.Open(respDgram, nil)
	if err != nil {
		t.Fatalf("response: %v", err)
	}
	if !rd.FromHost || len(rd.Body) != ResponseSize || rd.Counter != od.Counter {
		t.Fatalf("response datagram = %+v (offer counter %d)", rd, od.Counter)
	}
	resp, err := ParseResponse(rd.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Nonce != offer.Nonce {
		t.Error("response does not echo the offer's nonce")
	}
	dk := DataKey(ctlKey, rd.Body)
	if got, want := hex.EncodeToString(dk[:]), "6d41dd0561a9f887afd8e82b2527e19ff800011075ff2ee6904553abbec778f2"; got != want {
		t.Fatalf("data key = %s, want %s", got, want)
	}
	data := NewCipher(dk, hk)

	tests := []struct {
		file     string
		c        *Cipher
		fromHost bool
		check    func(t *testing.T, body []byte)
	}{
		{"poke.hex", ctl, false, nil},
		{"response.hex", ctl, true, nil},
		{"unused.hex", data, false, func(t *testing.T, body []byte) {
			ip, ok := ParseHello(body)
			if !ok || ip.String() != "192.168.0.11" {
				t.Errorf("hello = % x (%v, %v), want 192.168.0.11", body, ip, ok)
			}
		}},
		{"resend.hex", data, true, func(t *testing.T, body []byte) {
			if len(body) != 16 || binary.LittleEndian.Uint32(body) != 0x69696969 || binary.LittleEndian.Uint16(body[4:]) != 5 {
				t.Errorf("resend body = % x", body)
			}
		}},
		{"breakin.hex", data, true, func(t *testing.T, body []byte) {
			if len(body) != 1 || body[0] != BreakIn {
				t.Errorf("break-in body = % x", body)
			}
		}},
		{"getversion-req.hex", data, true, func(t *testing.T, body []byte) {
			if len(body) != 16+0x38 || binary.LittleEndian.Uint32(body[16:]) != 0x3146 {
				t.Errorf("GetVersion request body = % x", body)
			}
		}},
		{"getversion-resp.hex", data, false, func(t *testing.T, body []byte) {
			if len(body) != 16+0x38 || binary.LittleEndian.Uint32(body[16:]) != 0x3146 {
				t.Errorf("GetVersion reply body = % x", body)
			}
			if sum := kdSum(body[16:]); sum != binary.LittleEndian.Uint32(body[12:]) {
				t.Errorf("KD checksum %08x, header says %08x", sum, binary.LittleEndian.Uint32(body[12:]))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw := readHex(t, tt.file)
			d, _, err := tt.c.Open(raw, nil)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if d.FromHost != tt.fromHost || d.Version != 2 {
				t.Errorf("FromHost=%v Version=%d", d.FromHost, d.Version)
			}
			if tt.check != nil {
				tt.check(t, d.Body)
			}
			again, err := tt.c.Seal(nil, d)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, raw) {
				t.Errorf("re-sealed datagram differs:\n got % x\nwant % x", again, raw)
			}
		})
	}
}

// kdSum is KD's additive payload checksum.
func kdSum(b []byte) uint32 {
	var s uint32
	for _, c := range b {
		s += uint32(c)
	}
	return s
}

func TestIsBootDebugger(t *testing.T) {
	tests := []struct {
		major uint16
		want  bool
	}{
		{0x040F, true}, // the boot debugger of the Windows 10 capture (spec §B.6 item 9)
		{0x0F00, false},
		{0x000F, false},
		{0x0400, true},
		{0x0500, false},
	}
	for _, tt := range tests {
		if got := IsBootDebugger(tt.major); got != tt.want {
			t.Errorf("IsBootDebugger(%#04x) = %v", tt.major, got)
		}
	}
}
