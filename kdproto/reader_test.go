package kdproto_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	. "github.com/gokd/kd/kdproto"
)

// readResult is one ReadPacket outcome, reduced to what the tests compare.
type readResult struct {
	typ     PacketType
	id      uint32
	payload string
	err     error // the sentinel (or io error) expected with errors.Is
}

// readAll calls ReadPacket until a non-recoverable error and returns every
// outcome, the final error included. It gives up after limit calls.
func readAll(tb testing.TB, r *Reader, limit int) []readResult {
	tb.Helper()
	var out []readResult
	for i := 0; i < limit; i++ {
		p, err := r.ReadPacket()
		if err != nil {
			var pe *PacketError
			if errors.As(err, &pe) {
				out = append(out, readResult{typ: pe.Header.Type, id: pe.Header.ID, err: pe.Err})
				continue
			}
			return append(out, readResult{err: err})
		}
		out = append(out, readResult{typ: p.Type, id: p.ID, payload: string(p.Payload)})
	}
	tb.Fatalf("ReadPacket did not stop after %d calls", limit)
	return nil
}

func TestReader(t *testing.T) {
	ack := AppendControl(nil, PacketTypeAcknowledge, InitialPacketID)
	reset := AppendControl(nil, PacketTypeReset, 0)
	hello := dataPacket(PacketTypeDebugIO, 0x80800800, []byte("hello"))
	world := dataPacket(PacketTypeDebugIO, 0x80800001, []byte("world"))
	empty := dataPacket(PacketTypeStateManipulate, 0x80800001, nil)
	badSum := append([]byte(nil), hello...)
	badSum[HeaderSize] ^= 1
	badTrailer := append([]byte(nil), hello...)
	badTrailer[len(badTrailer)-1] = 0x55
	noTrailer := hello[:len(hello)-1]
	oversize := AppendHeader(nil, Header{Leader: PacketLeader, Type: PacketTypeStateManipulate, ByteCount: MaxPacketSize + 1, ID: 7})
	hugeCount := AppendHeader(nil, Header{Leader: PacketLeader, Type: PacketTypeStateManipulate, ByteCount: 0xFFFF, ID: 8})
	// The last 10 bytes of a RESEND header, left behind when a receiver
	// returned right after the type field (spec §10 pitfall 11).
	resendTail := AppendControl(nil, PacketTypeResend, 0x80800001)[6:]

	gotAck := readResult{typ: PacketTypeAcknowledge, id: InitialPacketID}
	gotReset := readResult{typ: PacketTypeReset}
	gotHello := readResult{typ: PacketTypeDebugIO, id: 0x80800800, payload: "hello"}
	gotWorld := readResult{typ: PacketTypeDebugIO, id: 0x80800001, payload: "world"}
	eof := readResult{err: io.EOF}

	tests := []struct {
		name    string
		stream  []byte
		want    []readResult
		skipped int
	}{
		{"empty stream", nil, []readResult{eof}, 0},
		{"one control", ack, []readResult{gotAck, eof}, 0},
		{"one data", hello, []readResult{gotHello, eof}, 0},
		{"empty payload", empty, []readResult{{typ: PacketTypeStateManipulate, id: 0x80800001}, eof}, 0},
		{"back to back", concat(ack, hello, reset, world, ack),
			[]readResult{gotAck, gotHello, gotReset, gotWorld, gotAck, eof}, 0},
		{"junk before packet", concat([]byte("\x00\xffjunk\r\n"), hello), []readResult{gotHello, eof}, 8},
		{"junk between packets", concat(ack, []byte{0x12, 0x34}, world), []readResult{gotAck, gotWorld, eof}, 2},
		{"partial data leader then control", concat([]byte("000"), ack), []readResult{gotAck, eof}, 3},
		{"partial control leader then data", concat([]byte("ii"), hello), []readResult{gotHello, eof}, 2},
		{"short runs and junk", concat([]byte("0i0ii00x0"), world), []readResult{gotWorld, eof}, 9},
		{"mixed 00ii", concat([]byte("00ii"), hello), []readResult{gotHello, eof}, 4},
		{"stray leader byte glued to data leader", concat([]byte("0"), hello), []readResult{gotHello, eof}, 1},
		{"stray leader run glued to control leader", concat([]byte("iii"), ack), []readResult{gotAck, eof}, 3},
		{"break-in byte before packet", concat([]byte{BreakinPacketByte}, ack), []readResult{gotAck, eof}, 1},
		{"break-in leader before packet", concat([]byte("bbbb"), hello), []readResult{gotHello, eof}, 4},
		{"resend tail (pitfall 11)", concat(resendTail, world), []readResult{gotWorld, eof}, 10},
		{"resend tail between packets", concat(ack, resendTail, hello), []readResult{gotAck, gotHello, eof}, 10},
		{"bad checksum recovers", concat(badSum, world),
			[]readResult{{typ: PacketTypeDebugIO, id: 0x80800800, err: ErrBadChecksum}, gotWorld, eof}, 0},
		{"bad trailer recovers", concat(badTrailer, world),
			[]readResult{{typ: PacketTypeDebugIO, id: 0x80800800, err: ErrBadTrailer}, gotWorld, eof}, 1},
		{"missing trailer, next leader kept", concat(noTrailer, ack),
			[]readResult{{typ: PacketTypeDebugIO, id: 0x80800800, err: ErrBadTrailer}, gotAck, eof}, 0},
		{"oversize recovers", concat(oversize, ack),
			[]readResult{{typ: PacketTypeStateManipulate, id: 7, err: ErrPacketTooLarge}, gotAck, eof}, 0},
		{"0xffff count recovers", concat(hugeCount, []byte("garbage"), hello),
			[]readResult{{typ: PacketTypeStateManipulate, id: 8, err: ErrPacketTooLarge}, gotHello, eof}, 7},
		{"eof in leader", []byte("00"), []readResult{{err: io.ErrUnexpectedEOF}}, 0},
		{"eof after leader", []byte("iiii"), []readResult{{err: io.ErrUnexpectedEOF}}, 0},
		{"eof in header", ack[:10], []readResult{{err: io.ErrUnexpectedEOF}}, 0},
		{"eof in payload", hello[:HeaderSize+2], []readResult{{err: io.ErrUnexpectedEOF}}, 0},
		{"eof before trailer", noTrailer, []readResult{{err: io.ErrUnexpectedEOF}}, 0},
		{"eof after junk", concat(ack, []byte("xyz")), []readResult{gotAck, eof}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mode := range []struct {
				name string
				wrap func(io.Reader) io.Reader
			}{
				{"whole", func(r io.Reader) io.Reader { return r }},
				{"one byte reads", iotest.OneByteReader},
			} {
				r := NewReader(mode.wrap(bytes.NewReader(tt.stream)), 0)
				got := readAll(t, r, len(tt.stream)+2)
				if len(got) != len(tt.want) {
					t.Fatalf("%s: ReadPacket over %x = %+v; want %+v", mode.name, tt.stream, got, tt.want)
				}
				for i := range got {
					g, w := got[i], tt.want[i]
					if g.typ != w.typ || g.id != w.id || g.payload != w.payload || !errors.Is(g.err, w.err) || (g.err == nil) != (w.err == nil) {
						t.Errorf("%s: ReadPacket #%d over %x = %+v; want %+v", mode.name, i, tt.stream, g, w)
					}
				}
				if r.Skipped() != tt.skipped {
					t.Errorf("%s: Skipped() over %x = %d; want %d", mode.name, tt.stream, r.Skipped(), tt.skipped)
				}
			}
		})
	}
}

func TestReaderCustomMax(t *testing.T) {
	small := dataPacket(PacketTypeDebugIO, 1, bytes.Repeat([]byte{'a'}, 8))
	big := dataPacket(PacketTypeDebugIO, 2, bytes.Repeat([]byte{'b'}, 9))
	huge := dataPacket(PacketTypeStateManipulate, 3, bytes.Repeat([]byte{'c'}, MaxPacketSize+100))
	tests := []struct {
		name   string
		max    int
		stream []byte
		want   []readResult
	}{
		{"max 8 accepts 8", 8, small, []readResult{{typ: PacketTypeDebugIO, id: 1, payload: "aaaaaaaa"}, {err: io.EOF}}},
		// The rejected payload is scanned as junk; "bbbbbbbbb" holds no leader.
		{"max 8 rejects 9", 8, concat(big, small), []readResult{
			{typ: PacketTypeDebugIO, id: 2, err: ErrPacketTooLarge},
			{typ: PacketTypeDebugIO, id: 1, payload: "aaaaaaaa"}, {err: io.EOF}}},
		{"default rejects 4100", 0, huge, []readResult{{typ: PacketTypeStateManipulate, id: 3, err: ErrPacketTooLarge}, {err: io.EOF}}},
		{"negative is default", -1, huge, []readResult{{typ: PacketTypeStateManipulate, id: 3, err: ErrPacketTooLarge}, {err: io.EOF}}},
		{"max above 4000", 5000, huge, []readResult{{typ: PacketTypeStateManipulate, id: 3, payload: string(huge[HeaderSize : len(huge)-1])}, {err: io.EOF}}},
		{"max clamped to 65535", 1 << 20, huge, []readResult{{typ: PacketTypeStateManipulate, id: 3, payload: string(huge[HeaderSize : len(huge)-1])}, {err: io.EOF}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readAll(t, NewReader(bytes.NewReader(tt.stream), tt.max), len(tt.stream)+2)
			if len(got) != len(tt.want) {
				t.Fatalf("ReadPacket (max %d) = %+v; want %+v", tt.max, got, tt.want)
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				if g.typ != w.typ || g.id != w.id || g.payload != w.payload || !errors.Is(g.err, w.err) {
					t.Errorf("ReadPacket #%d (max %d) = %+v; want %+v", i, tt.max, g, w)
				}
			}
		})
	}
}

func TestReaderOversizeDoesNotAllocate(t *testing.T) {
	// A lying ByteCount must be an error, not an allocation of that size.
	stream := concat(
		AppendHeader(nil, Header{Leader: PacketLeader, Type: PacketTypeStateManipulate, ByteCount: 0xFFFF}),
		AppendControl(nil, PacketTypeAcknowledge, InitialPacketID))
	src := bytes.NewReader(stream)
	r := NewReader(src, 0)
	allocs := testing.AllocsPerRun(100, func() {
		src.Reset(stream)
		if _, err := r.ReadPacket(); !errors.Is(err, ErrPacketTooLarge) {
			t.Fatalf("ReadPacket(oversize) = %v; want %v", err, ErrPacketTooLarge)
		}
		if p, err := r.ReadPacket(); err != nil || p.Type != PacketTypeAcknowledge {
			t.Fatalf("ReadPacket after oversize = %v, %v; want ACK", p, err)
		}
	})
	// The *PacketError itself is the only allocation.
	if allocs > 1 {
		t.Errorf("oversize packet then ACK: %v allocs/op; want at most 1 (the *PacketError)", allocs)
	}
}

func TestReaderPayloadReusesBuffer(t *testing.T) {
	// The payload is valid until the next call: the Reader keeps one buffer.
	stream := concat(dataPacket(PacketTypeDebugIO, 1, []byte("first")), dataPacket(PacketTypeDebugIO, 2, []byte("second")))
	r := NewReader(bytes.NewReader(stream), 0)
	p1, err := r.ReadPacket()
	if err != nil {
		t.Fatalf("ReadPacket: %v", err)
	}
	p2, err := r.ReadPacket()
	if err != nil {
		t.Fatalf("ReadPacket: %v", err)
	}
	if &p1.Payload[0] != &p2.Payload[0] || cap(p2.Payload) != len(p2.Payload) {
		t.Errorf("payloads do not share the reader's buffer with a capped capacity")
	}
}

func TestReaderPassesReadErrors(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name   string
		stream []byte
	}{
		{"before leader", nil},
		{"in leader", []byte("00")},
		{"in header", []byte("0000\x02\x00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(io.MultiReader(bytes.NewReader(tt.stream), iotest.ErrReader(boom)), 0)
			if _, err := r.ReadPacket(); !errors.Is(err, boom) {
				t.Errorf("ReadPacket over %x then error = %v; want %v", tt.stream, err, boom)
			}
		})
	}
}
