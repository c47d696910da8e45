package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/gokd/kd/kdproto"
	"github.com/gokd/kd/kdproto/kdnet"
)

var update = flag.Bool("update", false, "rewrite golden files")

const decodeTestKey = "cap.ture.test.key"

var (
	capHost   = netip.MustParseAddrPort("192.168.2.1:50005")
	capTarget = netip.MustParseAddrPort("192.168.2.20:50005")
	capStart  = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
)

func chacha(n byte) *rand.ChaCha8 {
	var seed [32]byte
	seed[0] = n
	return rand.NewChaCha8(seed)
}

// frame wraps a UDP payload in Ethernet, IPv4 and UDP headers.
func frame(t testing.TB, src, dst netip.AddrPort, payload []byte) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	udp := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, udp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type capFrame struct {
	src, dst netip.AddrPort
	payload  []byte
}

// conversation plays a short KDNET session between kdnet.Host and
// kdnet.Target (deterministic random bytes) and returns its datagrams in
// wire order, with a forged datagram and unrelated UDP traffic mixed in.
func conversation(t testing.TB) []capFrame {
	t.Helper()
	k, err := kdnet.ParseKey(decodeTestKey)
	if err != nil {
		t.Fatal(err)
	}
	h := kdnet.NewHost(k, chacha(1))
	tg, err := kdnet.NewTarget(k, 4, capTarget, capHost, chacha(2))
	if err != nil {
		t.Fatal(err)
	}
	var out []capFrame
	fromT := func(b []byte) {
		out = append(out, capFrame{capTarget, capHost, b})
		h.Receive(b, capTarget, capStart)
	}
	fromH := func(b []byte) {
		out = append(out, capFrame{capHost, capTarget, b})
		tg.Receive(b, capHost)
	}
	tsend := func(body []byte) {
		b, err := tg.Send(nil, body)
		if err != nil {
			t.Fatal(err)
		}
		fromT(b)
	}
	hsend := func(body []byte) {
		b, _, err := h.Send(nil, body, capStart)
		if err != nil {
			t.Fatal(err)
		}
		fromH(b)
	}
	noTrailer := func(b []byte) []byte { return b[:len(b)-1] }

	o, _ := tg.Offer(nil, 30)
	fromT(o)
	r := h.Receive(o, capTarget, capStart)
	fromH(r.Reply)
	hello, _ := tg.Hello(nil)
	fromT(hello)
	out = append(out, capFrame{netip.MustParseAddrPort("192.168.2.1:5353"), netip.MustParseAddrPort("224.0.0.251:5353"), []byte("mdns query, not KDNET")})
	hsend(kdproto.AppendControl(nil, kdproto.PacketTypeResend, 0))
	hsend([]byte{kdproto.BreakinPacketByte})
	sc := kdproto.StateChange{NewState: kdproto.StateException, NumberProcessors: 1, PC: 0xfffff80012345678,
		Exception: kdproto.Exception{Code: kdproto.StatusBreakpoint, FirstChance: 1}}
	tsend(noTrailer(kdproto.AppendData(nil, kdproto.PacketTypeStateChange64, 0, sc.Append(nil))))
	hsend(kdproto.AppendControl(nil, kdproto.PacketTypeAcknowledge, 0))
	gv := kdproto.NewManipulate(kdproto.APIGetVersion, 0, nil, nil)
	hsend(noTrailer(kdproto.AppendData(nil, kdproto.PacketTypeStateManipulate, 0x80000000, gv.Append(nil))))
	forged, _ := tg.Send(nil, []byte("forged"))
	forged[20] ^= 0x55
	out = append(out, capFrame{capTarget, capHost, forged})
	tsend(kdproto.AppendControl(nil, kdproto.PacketTypeAcknowledge, 0x80000000))
	idle, _ := tg.Offer(nil, 33)
	fromT(idle)
	return out
}

func writeCapture(t testing.TB, frames []capFrame, ng bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	type writer interface {
		WritePacket(gopacket.CaptureInfo, []byte) error
	}
	var w writer
	if ng {
		nw, err := pcapgo.NewNgWriter(&buf, layers.LinkTypeEthernet)
		if err != nil {
			t.Fatal(err)
		}
		defer nw.Flush()
		w = nw
	} else {
		pw := pcapgo.NewWriter(&buf)
		if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
			t.Fatal(err)
		}
		w = pw
	}
	for i, f := range frames {
		data := frame(t, f.src, f.dst, f.payload)
		ci := gopacket.CaptureInfo{Timestamp: capStart.Add(time.Duration(i) * 1500 * time.Microsecond), CaptureLength: len(data), Length: len(data)}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	if nw, ok := w.(*pcapgo.NgWriter); ok {
		if err := nw.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// TestDecodeCapture decodes the same conversation from pcap and pcapng
// and compares with testdata/decode.golden.
func TestDecodeCapture(t *testing.T) {
	k, _ := kdnet.ParseKey(decodeTestKey)
	frames := conversation(t)
	var outs []string
	for _, ng := range []bool{true, false} {
		var out bytes.Buffer
		if err := decodeCapture(writeCapture(t, frames, ng), k, &out); err != nil {
			t.Fatal(err)
		}
		outs = append(outs, out.String())
	}
	if outs[0] != outs[1] {
		t.Errorf("pcapng and pcap decode differently:\n%s\n---\n%s", outs[0], outs[1])
	}
	golden := filepath.Join("testdata", "decode.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(outs[0]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if outs[0] != string(want) {
		t.Errorf("decode output differs from %s (go test ./cmd/kd -run TestDecodeCapture -update):\n%s", golden, outs[0])
	}
}

// TestReadCaptureGzip: a gzipped capture reads as the plain one, and a
// gzip bomb stops at the size limit.
func TestReadCaptureGzip(t *testing.T) {
	plain := writeCapture(t, conversation(t), true)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, _ = zw.Write(plain)
	_ = zw.Close()
	got, err := readCaptureFrom(&z, maxCaptureFile)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("gzipped capture: %d bytes, %v", len(got), err)
	}
	got, err = readCaptureFrom(bytes.NewReader(plain), maxCaptureFile)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("plain capture: %d bytes, %v", len(got), err)
	}
	z.Reset()
	zw = gzip.NewWriter(&z)
	zero := make([]byte, 1<<20)
	for range 3 {
		_, _ = zw.Write(zero)
	}
	_ = zw.Close()
	if _, err := readCaptureFrom(&z, 2<<20); err == nil || !strings.Contains(err.Error(), "capture larger than 2 MiB") {
		t.Fatalf("gzip bomb: %v", err)
	}
	if _, err := readCaptureFrom(bytes.NewReader([]byte{0x1f, 0x8b, 1, 2}), maxCaptureFile); err == nil || !strings.HasPrefix(err.Error(), "gzip: ") {
		t.Fatalf("bad gzip: %v", err)
	}
}

func TestDecodeCaptureErrors(t *testing.T) {
	k, _ := kdnet.ParseKey(decodeTestKey)
	wrong, _ := kdnet.ParseKey("1.2.3.4")
	good := writeCapture(t, conversation(t), true)
	goodPcap := writeCapture(t, conversation(t), false)
	big := append([]byte(nil), goodPcap...)
	big[16], big[17], big[18], big[19] = 0xff, 0xff, 0xff, 0x7f
	lying := append([]byte(nil), goodPcap...)
	lying[24+8], lying[24+9] = 0xff, 0xff // first record's captured length
	tests := []struct {
		name string
		b    []byte
		key  kdnet.Key
		err  string
		out  string
	}{
		{"empty", nil, k, "not a pcap or pcapng file (too short)", ""},
		{"text", []byte("hello, world\n"), k, "not a pcap or pcapng file (unknown magic)", ""},
		{"truncated pcapng", good[:len(good)-7], k, "pcapng: block", ""},
		{"truncated pcap", goodPcap[:100], k, "pcap: record 1: bad captured length", ""},
		{"huge snap length", big, k, "pcap: snap length 2147483647 exceeds 262144", ""},
		{"lying record", lying, k, "pcap: record 1: bad captured length", ""},
		{"wrong key", good, wrong, "", "kd: hint: no offer or response decrypted with this key: check the key"},
		{"no kdnet", writeCapture(t, []capFrame{{capHost, capTarget, []byte("plain udp")}}, true), k, "no KDNET datagrams in the capture", ""},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		err := decodeCapture(tt.b, tt.key, &out)
		if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) || tt.err == "" && err != nil {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.err)
		}
		if tt.out != "" && !strings.Contains(out.String(), tt.out) {
			t.Errorf("%s: output %q lacks %q", tt.name, out.String(), tt.out)
		}
	}
}

func TestDecodeKeyOption(t *testing.T) {
	tests := []struct{ in, err string }{
		{"net:key=1.2.3.4", ""},
		{"net:port=50000,key=A.b.C.d,target=10.0.0.2", ""},
		{"com:port=com1", "--decode needs -k net:key=KEY (the key the target was set up with)"},
		{"net:port=50000", "--decode needs key= in -k net:key=KEY"},
		{"net:key=1.2.3.topsecret!", "kdnet: key part 4: has a character that is not a base-36 digit (0-9, a-z)"},
	}
	for _, tt := range tests {
		_, err := decodeKey(tt.in)
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || err.Error() != tt.err) {
			t.Errorf("decodeKey(%q) = %v, want %q", tt.in, err, tt.err)
		}
	}
}

func FuzzDecodeCapture(f *testing.F) {
	k, _ := kdnet.ParseKey(decodeTestKey)
	f.Fuzz(func(t *testing.T, b []byte) {
		var out bytes.Buffer
		err := decodeCapture(b, k, &out)
		if err != nil && strings.Contains(err.Error(), "malformed capture") {
			t.Fatalf("the reader panicked on a capture the checks let through: %v", err)
		}
	})
}

// TestDecodeFuzzSeeds keeps testdata/fuzz/FuzzDecodeCapture in step with
// the captures the tests build (go test ./cmd/kd -run TestDecodeFuzzSeeds -update).
func TestDecodeFuzzSeeds(t *testing.T) {
	ng := writeCapture(t, conversation(t), true)
	pc := writeCapture(t, conversation(t), false)
	lying := append([]byte(nil), pc...)
	lying[24+8], lying[24+9] = 0xff, 0xff
	seeds := map[string][]byte{
		"pcapng":           ng,
		"pcap":             pc,
		"pcapng-truncated": ng[:len(ng)/2],
		"pcap-lying":       lying,
		"pcapng-header":    ng[:28],
	}
	for name, b := range seeds {
		path := filepath.Join("testdata", "fuzz", "FuzzDecodeCapture", name)
		want := []byte("go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n")
		got, err := os.ReadFile(path)
		if err == nil && bytes.Equal(got, want) {
			continue
		}
		if !*update {
			t.Errorf("%s is missing or stale (%v); run go test ./cmd/kd -run TestDecodeFuzzSeeds -update", path, err)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
