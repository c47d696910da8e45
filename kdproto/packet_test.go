package kdproto_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"

	. "github.com/gokd/kd/kdproto"
)

// unhex decodes a hex dump written for humans: whitespace is ignored and a
// line may end in a comment introduced by "|".
func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	var clean strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if i := strings.IndexByte(line, '|'); i >= 0 {
			line = line[:i]
		}
		clean.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(clean.String())
	if err != nil {
		tb.Fatalf("bad hex literal %q: %v", s, err)
	}
	return b
}

// concat joins byte slices into a fresh one.
func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// dataPacket returns a well-formed data packet.
func dataPacket(t PacketType, id uint32, payload []byte) []byte {
	return AppendData(nil, t, id, payload)
}

func TestHeaderRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		h    Header
		wire string
	}{
		{"zero", Header{}, "00000000 0000 0000 00000000 00000000"},
		{"ack", Header{Leader: ControlPacketLeader, Type: PacketTypeAcknowledge, ID: 0x80800001},
			"69696969 0400 0000 01008080 00000000"},
		{"manipulate", Header{Leader: PacketLeader, Type: PacketTypeStateManipulate, ByteCount: 0x38, ID: 0x80800000, Checksum: 0x77},
			"30303030 0200 3800 00008080 77000000"},
		{"all ones", Header{Leader: 0xFFFFFFFF, Type: 0xFFFF, ByteCount: 0xFFFF, ID: 0xFFFFFFFF, Checksum: 0xFFFFFFFF},
			"ffffffff ffff ffff ffffffff ffffffff"},
		{"byte order", Header{Leader: 0x04030201, Type: 0x0605, ByteCount: 0x0807, ID: 0x0C0B0A09, Checksum: 0x100F0E0D},
			"01020304 0506 0708 090a0b0c 0d0e0f10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := unhex(t, tt.wire)
			if got := AppendHeader(nil, tt.h); !bytes.Equal(got, want) {
				t.Errorf("AppendHeader(%+v) = %x; want %x", tt.h, got, want)
			}
			got, err := ParseHeader(want)
			if err != nil || got != tt.h {
				t.Errorf("ParseHeader(%x) = %+v, %v; want %+v, nil", want, got, err, tt.h)
			}
		})
	}
}

func TestParseHeaderShort(t *testing.T) {
	for n := 0; n < HeaderSize; n++ {
		b := make([]byte, n)
		if _, err := ParseHeader(b); !errors.Is(err, ErrShortPacket) {
			t.Errorf("ParseHeader(%x) error = %v; want %v", b, err, ErrShortPacket)
		}
	}
}

func TestAppendHeaderAppends(t *testing.T) {
	prefix := []byte("prefix")
	got := AppendHeader(append([]byte(nil), prefix...), Header{Leader: ControlPacketLeader, Type: PacketTypeReset})
	want := concat(prefix, unhex(t, "69696969 0600 0000 00000000 00000000"))
	if !bytes.Equal(got, want) {
		t.Errorf("AppendHeader(prefix, RESET) = %x; want %x", got, want)
	}
}

func TestAppendControl(t *testing.T) {
	tests := []struct {
		name string
		typ  PacketType
		id   uint32
		wire string
	}{
		{"ack", PacketTypeAcknowledge, 0x80800000, "69696969 0400 0000 00008080 00000000"},
		{"ack odd", PacketTypeAcknowledge, 0x80800001, "69696969 0400 0000 01008080 00000000"},
		{"resend", PacketTypeResend, 0, "69696969 0500 0000 00000000 00000000"},
		{"reset", PacketTypeReset, 0, "69696969 0600 0000 00000000 00000000"},
		{"reset xen id", PacketTypeReset, 0xDEADBEEF, "69696969 0600 0000 efbeadde 00000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := unhex(t, tt.wire)
			if got := AppendControl(nil, tt.typ, tt.id); !bytes.Equal(got, want) {
				t.Errorf("AppendControl(%v, %#x) = %x; want %x", tt.typ, tt.id, got, want)
			}
			p, n, err := ParsePacket(want)
			if err != nil || n != HeaderSize || p.Type != tt.typ || p.ID != tt.id || !p.IsControl() || p.Payload != nil {
				t.Errorf("ParsePacket(%x) = %+v, %d, %v; want control %v id %#x, %d, nil", want, p, n, err, tt.typ, tt.id, HeaderSize)
			}
		})
	}
}

func TestAppendData(t *testing.T) {
	tests := []struct {
		name  string
		typ   PacketType
		id    uint32
		parts [][]byte
		wire  string
	}{
		{"empty", PacketTypeDebugIO, 0x80800000, nil,
			"30303030 0300 0000 00008080 00000000 aa"},
		{"one part", PacketTypeStateManipulate, 0x80800001, [][]byte{{1, 2, 3}},
			"30303030 0200 0300 01008080 06000000 010203 aa"},
		{"two parts", PacketTypeStateManipulate, 0x80800000, [][]byte{{0xff, 0xff}, {0x01}},
			"30303030 0200 0300 00008080 ff010000 ffff01 aa"},
		{"empty parts", PacketTypeFileIO, 0x80800800, [][]byte{{}, nil, {0x10}, {}},
			"30303030 0b00 0100 00088080 10000000 10 aa"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := unhex(t, tt.wire)
			got := AppendData(nil, tt.typ, tt.id, tt.parts...)
			if !bytes.Equal(got, want) {
				t.Fatalf("AppendData(%v, %#x, %x) = %x; want %x", tt.typ, tt.id, tt.parts, got, want)
			}
			p, n, err := ParsePacket(got)
			if err != nil || n != len(got) {
				t.Fatalf("ParsePacket(%x) = _, %d, %v; want %d, nil", got, n, err, len(got))
			}
			if p.Type != tt.typ || p.ID != tt.id || !bytes.Equal(p.Payload, concat(tt.parts...)) {
				t.Errorf("ParsePacket(%x) = %+v; want type %v id %#x payload %x", got, p, tt.typ, tt.id, concat(tt.parts...))
			}
			if re := AppendPacket(nil, p); !bytes.Equal(re, got) {
				t.Errorf("AppendPacket(ParsePacket(%x)) = %x; want the input", got, re)
			}
		})
	}
}

func TestAppendDataTooLargePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Errorf("AppendData with a 65536-byte payload did not panic")
		}
	}()
	AppendData(nil, PacketTypeStateManipulate, InitialPacketID, make([]byte, 0x8000), make([]byte, 0x8000))
}

func TestAppendPacketKeepsHeader(t *testing.T) {
	// AppendPacket writes the header as given, so tests can build broken
	// packets; a control packet never gets a payload or trailer.
	p := Packet{Header: Header{Leader: PacketLeader, Type: PacketTypeDebugIO, ByteCount: 9, ID: 1, Checksum: 2}, Payload: []byte{7}}
	want := unhex(t, "30303030 0300 0900 01000000 02000000 07 aa")
	if got := AppendPacket(nil, p); !bytes.Equal(got, want) {
		t.Errorf("AppendPacket(%+v) = %x; want %x", p, got, want)
	}
	c := Packet{Header: Header{Leader: ControlPacketLeader, Type: PacketTypeAcknowledge, ID: 3}, Payload: []byte{1, 2}}
	want = unhex(t, "69696969 0400 0000 03000000 00000000")
	if got := AppendPacket(nil, c); !bytes.Equal(got, want) {
		t.Errorf("AppendPacket(%+v) = %x; want %x", c, got, want)
	}
}

func TestChecksum(t *testing.T) {
	ff := func(n int) []byte { return bytes.Repeat([]byte{0xff}, n) }
	seq := make([]byte, 256)
	for i := range seq {
		seq[i] = byte(i)
	}
	tests := []struct {
		name string
		in   []byte
		want uint32
	}{
		{"nil", nil, 0},
		{"one", []byte{0x42}, 0x42},
		{"unaligned tail", []byte{1, 2, 3, 4, 5, 6, 7}, 28},
		{"bytes are unsigned", []byte{0x80, 0xff}, 0x17f},
		{"0..255", seq, 255 * 256 / 2},
		{"getversion payload", concat([]byte{0x46, 0x31}, make([]byte, 54)), 0x77},
		{"max packet of 0xff", ff(MaxPacketSize), MaxPacketSize * 0xff},
		// 0x01010101 bytes of 0xff sum to exactly 0xffffffff; one more wraps.
		{"just below wrap", ff(0x01010101), 0xffffffff},
		{"wraps to 0xfe", ff(0x01010101 + 1), 0xfe},
		{"wraps to 0", append(ff(0x01010101), 1), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Checksum(tt.in); got != tt.want {
				t.Errorf("Checksum(%d bytes) = %#x; want %#x", len(tt.in), got, tt.want)
			}
		})
	}
}

func TestChecksumMatchesNaiveSum(t *testing.T) {
	// The implementation sums in lanes; every length and alignment must give
	// the plain byte sum.
	buf := make([]byte, 67)
	for i := range buf {
		buf[i] = byte(i*37 + 11)
	}
	for lo := 0; lo < 8; lo++ {
		for hi := lo; hi <= len(buf); hi++ {
			var want uint32
			for _, c := range buf[lo:hi] {
				want += uint32(c)
			}
			if got := Checksum(buf[lo:hi]); got != want {
				t.Fatalf("Checksum(%x) = %#x; want %#x", buf[lo:hi], got, want)
			}
		}
	}
}

func TestChecksumExcludesHeaderAndID(t *testing.T) {
	// The checksum covers the payload only, so a packet renumbered after a
	// RESET keeps its checksum (spec §1.4).
	payload := []byte("state change")
	a := dataPacket(PacketTypeStateChange64, 0x80800800, payload)
	b := dataPacket(PacketTypeStateChange64, 0x80800000, payload)
	ha, _ := ParseHeader(a)
	hb, _ := ParseHeader(b)
	if ha.Checksum != hb.Checksum || ha.Checksum != Checksum(payload) {
		t.Errorf("checksums %#x, %#x; want both %#x", ha.Checksum, hb.Checksum, Checksum(payload))
	}
}

func TestParsePacketErrors(t *testing.T) {
	good := dataPacket(PacketTypeStateManipulate, InitialPacketID, []byte{1, 2, 3, 4})
	with := func(off int, v byte) []byte {
		b := append([]byte(nil), good...)
		b[off] = v
		return b
	}
	tooLarge := AppendHeader(nil, Header{Leader: PacketLeader, Type: PacketTypeStateManipulate, ByteCount: MaxPacketSize + 1})
	tests := []struct {
		name       string
		in         []byte
		want       error
		wantPacket bool // the error is a *PacketError carrying the header
	}{
		{"empty", nil, ErrShortPacket, false},
		{"half header", good[:8], ErrShortPacket, false},
		{"header only", good[:HeaderSize], ErrShortPacket, false},
		{"no trailer", good[:len(good)-1], ErrShortPacket, false},
		{"short control", unhex(t, "69696969 0400 0000 00008080 000000"), ErrShortPacket, false},
		{"bad leader", with(0, 0x31), ErrBadLeader, false},
		{"mixed leader", with(3, ControlLeaderByte), ErrBadLeader, false},
		{"break-in leader", unhex(t, "62626262 0400 0000 00000000 00000000"), ErrBadLeader, false},
		{"kdnet zero leader", unhex(t, "00000000 0400 0000 00000000 00000000"), ErrBadLeader, false},
		{"too large", tooLarge, ErrPacketTooLarge, true},
		{"too large max", AppendHeader(nil, Header{Leader: PacketLeader, ByteCount: 0xFFFF}), ErrPacketTooLarge, true},
		{"bad trailer", with(len(good)-1, 0xAB), ErrBadTrailer, true},
		{"bad checksum field", with(12, 0), ErrBadChecksum, true},
		{"corrupt payload", with(HeaderSize, 9), ErrBadChecksum, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, n, err := ParsePacket(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParsePacket(%x) = %v; want %v", tt.in, err, tt.want)
			}
			if n != 0 || !reflect.DeepEqual(p, Packet{}) {
				t.Errorf("ParsePacket(%x) = %+v, %d on error; want zero packet, 0", tt.in, p, n)
			}
			var pe *PacketError
			if got := errors.As(err, &pe); got != tt.wantPacket {
				t.Fatalf("errors.As(ParsePacket(%x) error %v, *PacketError) = %v; want %v", tt.in, err, got, tt.wantPacket)
			}
			if pe != nil {
				want, _ := ParseHeader(tt.in)
				if pe.Header != want || pe.Err != tt.want {
					t.Errorf("ParsePacket(%x) error = %+v; want header %+v, Err %v", tt.in, pe, want, tt.want)
				}
			}
		})
	}
}

func TestParsePacketConsumesOnePacket(t *testing.T) {
	ack := AppendControl(nil, PacketTypeAcknowledge, InitialPacketID)
	data := dataPacket(PacketTypeDebugIO, InitialPacketID, []byte("hello"))
	stream := concat(ack, data, []byte("junk"))
	var got []Packet
	for off := 0; off < len(ack)+len(data); {
		p, n, err := ParsePacket(stream[off:])
		if err != nil {
			t.Fatalf("ParsePacket(%x) at %d: %v", stream[off:], off, err)
		}
		got = append(got, p)
		off += n
	}
	if len(got) != 2 || got[0].Type != PacketTypeAcknowledge || string(got[1].Payload) != "hello" {
		t.Errorf("ParsePacket over %x = %+v; want ACK then DEBUG_IO \"hello\"", stream, got)
	}
	// The payload aliases the input, with capacity capped at its length.
	p, _, _ := ParsePacket(data)
	if &p.Payload[0] != &data[HeaderSize] || cap(p.Payload) != len(p.Payload) {
		t.Errorf("ParsePacket payload does not alias the input with a capped capacity")
	}
}

func TestParsePacketAcceptsMaxSize(t *testing.T) {
	payload := bytes.Repeat([]byte{0xA5}, MaxPacketSize)
	b := dataPacket(PacketTypeStateManipulate, InitialPacketID, payload)
	p, n, err := ParsePacket(b)
	if err != nil || n != HeaderSize+MaxPacketSize+1 || !bytes.Equal(p.Payload, payload) {
		t.Errorf("ParsePacket(4000-byte packet) = _, %d, %v; want %d, nil", n, err, HeaderSize+MaxPacketSize+1)
	}
}

// TestSpecExamples checks the worked byte-level examples of spec §9 byte for byte.
func TestSpecExamples(t *testing.T) {
	getVersion := NewManipulate(APIGetVersion, 0, nil, nil)
	getVersionPending := getVersion
	getVersionPending.ReturnStatus = StatusPending
	goReq := NewManipulate(APIContinue2, 0, Continue2{Status: DbgContinue}, nil)
	stepReq := NewManipulate(APIContinue2, 0, Continue2{Status: DbgContinue, TraceFlag: 1}, nil)

	tests := []struct {
		name string
		got  []byte
		wire string
	}{
		{"9.1 host RESET", AppendControl(nil, PacketTypeReset, 0), `
			69 69 69 69   | leader "iiii"
			06 00         | type 6 (RESET)
			00 00         | ByteCount 0
			00 00 00 00   | PacketId 0
			00 00 00 00   | Checksum 0`},
		{"9.2 target RESET reply", AppendControl(nil, PacketTypeReset, 0),
			"69 69 69 69 06 00 00 00 00 00 00 00 00 00 00 00"},
		{"9.2 xen RESET reply", AppendControl(nil, PacketTypeReset, 0xDEADBEEF),
			"69 69 69 69 06 00 00 00 EF BE AD DE 00 00 00 00"},
		{"9.3 ACK 0x80800001", AppendControl(nil, PacketTypeAcknowledge, 0x80800001),
			"69 69 69 69 04 00 00 00 01 00 80 80 00 00 00 00"},
		{"9.3 ACK of sync-bit id", AppendControl(nil, PacketTypeAcknowledge, (InitialPacketID|SyncPacketID)&^SyncPacketID),
			"69 69 69 69 04 00 00 00 00 00 80 80 00 00 00 00"},
		{"9.3 RESEND", AppendControl(nil, PacketTypeResend, 0),
			"69 69 69 69 05 00 00 00 00 00 00 00 00 00 00 00"},
		{"9.4 GetVersion", AppendData(nil, PacketTypeStateManipulate, InitialPacketID, getVersion.Append(nil)), `
			30 30 30 30 02 00 38 00 00 00 80 80 77 00 00 00  | header: type 2, count 0x38, id 0x80800000, checksum 0x77
			46 31 00 00 00 00 00 00 00 00 00 00 00 00 00 00  | 0000 ApiNumber 0x3146, ReturnStatus 0, pad
			00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  | 0010 union
			00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  | 0020
			00 00 00 00 00 00 00 00 AA                       | 0030, then the trailing byte
			`},
		{"9.4 GetVersion with STATUS_PENDING", AppendData(nil, PacketTypeStateManipulate, InitialPacketID, getVersionPending.Append(nil)), `
			30 30 30 30 02 00 38 00 00 00 80 80 7B 00 00 00  | header: checksum 0x7B
			46 31 00 00 00 00 00 00 03 01 00 00 00 00 00 00  | 0000 ReturnStatus STATUS_PENDING
			00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  | 0010 union
			00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  | 0020
			00 00 00 00 00 00 00 00 AA                       | 0030, then the trailing byte
			`},
		{"9.4 target ACK", AppendControl(nil, PacketTypeAcknowledge, InitialPacketID),
			"69 69 69 69 04 00 00 00 00 00 80 80 00 00 00 00"},
		{"9.5 Continue2 go", AppendData(nil, PacketTypeStateManipulate, 0x80800001, goReq.Append(nil)), `
			30 30 30 30 02 00 38 00 01 00 80 80 70 00 00 00  | header: id 0x80800001, checksum 0x70
			3C 31 00 00 00 00 00 00 00 00 00 00 00 00 00 00  | 0000 ApiNumber 0x313C
			02 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00  | 0010 DBG_CONTINUE, TraceFlag 0
			00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  | 0020
			00 00 00 00 00 00 00 00 AA                       | 0030, then the trailing byte
			`},
		{"9.5 Continue2 step", AppendData(nil, PacketTypeStateManipulate, 0x80800001, stepReq.Append(nil)), `
			30 30 30 30 02 00 38 00 01 00 80 80 71 00 00 00  | header: id 0x80800001, checksum 0x71
			3C 31 00 00 00 00 00 00 00 00 00 00 00 00 00 00  | 0000 ApiNumber 0x313C
			02 00 01 00 01 00 00 00 00 00 00 00 00 00 00 00  | 0010 DBG_CONTINUE, TraceFlag 1
			00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  | 0020
			00 00 00 00 00 00 00 00 AA                       | 0030, then the trailing byte
			`},
		{"9.6 break-in", []byte{BreakinPacketByte}, "62"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := unhex(t, tt.wire)
			if !bytes.Equal(tt.got, want) {
				t.Fatalf("encoded %x; want %x", tt.got, want)
			}
			if len(want) < HeaderSize {
				return
			}
			p, n, err := ParsePacket(want)
			if err != nil || n != len(want) {
				t.Fatalf("ParsePacket(%x) = _, %d, %v; want %d, nil", want, n, err, len(want))
			}
			if re := AppendPacket(nil, p); !bytes.Equal(re, want) {
				t.Errorf("AppendPacket(ParsePacket(%x)) = %x; want the input", want, re)
			}
		})
	}
}

func TestSpecExamplesDecode(t *testing.T) {
	// 9.4 and 9.5 decode back to the requests they were built from.
	b := unhex(t, `
		30 30 30 30 02 00 38 00 01 00 80 80 71 00 00 00
		3C 31 00 00 00 00 00 00 00 00 00 00 00 00 00 00
		02 00 01 00 01 00 00 00 00 00 00 00 00 00 00 00
		00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
		00 00 00 00 00 00 00 00 AA`)
	p, _, err := ParsePacket(b)
	if err != nil {
		t.Fatalf("ParsePacket(%x): %v", b, err)
	}
	m, err := ParseManipulate(p.Payload)
	if err != nil {
		t.Fatalf("ParseManipulate(%x): %v", p.Payload, err)
	}
	want := Continue2{Status: DbgContinue, TraceFlag: 1}
	if m.API != APIContinue2 || m.API.HasReply() || m.Continue2() != want {
		t.Errorf("ParseManipulate(%x) = %v %+v; want Continue2 %+v with no reply", p.Payload, m.API, m.Continue2(), want)
	}
}

func TestPacketStrings(t *testing.T) {
	getVersion := NewManipulate(APIGetVersion, 0, nil, nil)
	failed := getVersion
	failed.ReturnStatus = StatusUnsuccessful
	pending := getVersion
	pending.ReturnStatus = StatusPending
	sc := StateChange{NewState: StateException}
	dio := DebugIO{API: APIPrintString}
	parse := func(b []byte) Packet {
		t.Helper()
		p, _, err := ParsePacket(b)
		if err != nil {
			t.Fatalf("ParsePacket(%x): %v", b, err)
		}
		return p
	}
	tests := []struct {
		name string
		p    Packet
		want string
	}{
		{"ack", parse(AppendControl(nil, PacketTypeAcknowledge, 0x80800001)), "ACK id=80800001"},
		{"reset", parse(AppendControl(nil, PacketTypeReset, 0)), "RESET id=00000000"},
		{"getversion", parse(dataPacket(PacketTypeStateManipulate, InitialPacketID, getVersion.Append(nil))), "STATE_MANIPULATE id=80800000 len=56 GetVersion"},
		{"pending hidden", parse(dataPacket(PacketTypeStateManipulate, InitialPacketID, pending.Append(nil))), "STATE_MANIPULATE id=80800000 len=56 GetVersion"},
		{"failed", parse(dataPacket(PacketTypeStateManipulate, 0x80800001, failed.Append(nil))), "STATE_MANIPULATE id=80800001 len=56 GetVersion STATUS_UNSUCCESSFUL"},
		{"state change", parse(dataPacket(PacketTypeStateChange64, 0x80800800, sc.Append(nil))), "STATE_CHANGE64 id=80800800 len=240 Exception"},
		{"debug io", parse(dataPacket(PacketTypeDebugIO, InitialPacketID, dio.Append(nil))), "DEBUG_IO id=80800000 len=16 PrintString"},
		{"short payload", parse(dataPacket(PacketTypeStateManipulate, InitialPacketID, []byte{1, 2})), "STATE_MANIPULATE id=80800000 len=2"},
		{"unknown type", parse(dataPacket(0x99, 1, []byte{1, 2, 3, 4})), "PacketType(0x99) id=00000001 len=4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.String(); got != tt.want {
				t.Errorf("Packet.String() = %q; want %q", got, tt.want)
			}
		})
	}
	h := Header{Leader: PacketLeader, Type: PacketTypeDebugIO, ByteCount: 5, ID: 0x80800000, Checksum: 0x1f4}
	if got, want := h.String(), "DEBUG_IO id=80800000 len=5 sum=000001f4"; got != want {
		t.Errorf("Header.String() = %q; want %q", got, want)
	}
	pe := &PacketError{Header: h, Err: ErrBadChecksum}
	if got, want := pe.Error(), "kdproto: bad checksum (DEBUG_IO id=80800000 len=5 sum=000001f4)"; got != want {
		t.Errorf("PacketError.Error() = %q; want %q", got, want)
	}
}

// Checksum adds words, not bytes: it must agree with the byte sum for
// every length and alignment, and for the largest bytes (0xFF everywhere
// fills its 16-bit lanes to their bound).
func TestChecksumIsByteSum(t *testing.T) {
	byteSum := func(b []byte) uint32 {
		var s uint32
		for _, c := range b {
			s += uint32(c)
		}
		return s
	}
	random := make([]byte, 3*MaxPacketSize)
	x := uint64(0x9E3779B97F4A7C15)
	for i := range random {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		random[i] = byte(x)
	}
	ones := bytes.Repeat([]byte{0xFF}, 3*MaxPacketSize)
	for _, tc := range []struct {
		name string
		data []byte
	}{{"random", random}, {"0xff", ones}} {
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 1023, 1024, 1025, 2047, 2048, 2049, 3944, 4000, MaxPacketSize, 3 * MaxPacketSize} {
			for _, off := range []int{0, 1, 3, 7} {
				if off+n > len(tc.data) {
					continue
				}
				b := tc.data[off : off+n]
				if got, want := Checksum(b), byteSum(b); got != want {
					t.Errorf("%s: Checksum of %d bytes at +%d = %#x; want %#x", tc.name, n, off, got, want)
				}
			}
		}
	}
}
