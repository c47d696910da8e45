package kdproto_test

import (
	"bytes"
	"testing"

	. "github.com/gokd/kd/kdproto"
)

// repeatReader returns data over and over, so a Reader can be benchmarked in
// steady state without running out of input.
type repeatReader struct {
	data []byte
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.data[r.off:])
		n += c
		r.off = (r.off + c) % len(r.data)
	}
	return n, nil
}

// payload4K is the largest payload a packet may carry: a ReadVirtual reply
// with MaxTransfer bytes of memory.
func payload4K() []byte {
	mem := make([]byte, MaxTransfer)
	for i := range mem {
		mem[i] = byte(i * 31)
	}
	m := NewManipulate(APIReadVirtualMemory, 0, Memory{Address: 0xFFFFF80002A9B000, TransferCount: MaxTransfer, ActualBytes: MaxTransfer}, mem)
	return m.Append(nil)
}

func BenchmarkChecksum(b *testing.B) {
	data := payload4K()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var sink uint32
	for b.Loop() {
		sink += Checksum(data)
	}
	_ = sink
}

func BenchmarkAppendData4K(b *testing.B) {
	payload := payload4K()
	buf := make([]byte, 0, HeaderSize+MaxPacketSize+1)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendData(buf[:0], PacketTypeStateManipulate, InitialPacketID, payload)
	}
}

func BenchmarkParsePacket4K(b *testing.B) {
	pkt := AppendData(nil, PacketTypeStateManipulate, InitialPacketID, payload4K())
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParsePacket(pkt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReaderReadPacket4K(b *testing.B) {
	pkt := AppendData(nil, PacketTypeStateManipulate, InitialPacketID, payload4K())
	r := NewReader(&repeatReader{data: pkt}, 0)
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.ReadPacket(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseStateChange(b *testing.B) {
	payload := encodeStateChange(breakpointStateChange())
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseStateChange(payload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStateChangeAppend(b *testing.B) {
	s := breakpointStateChange()
	buf := make([]byte, 0, 0x200)
	b.ReportAllocs()
	for b.Loop() {
		buf = s.Append(buf[:0])
	}
}

func BenchmarkManipulateAppend(b *testing.B) {
	m := NewManipulate(APIReadVirtualMemory, 0, Memory{Address: 0xFFFFF80002A9B000, TransferCount: MaxTransfer}, nil)
	buf := make([]byte, 0, ManipulateSize)
	b.ReportAllocs()
	for b.Loop() {
		buf = m.Append(buf[:0])
	}
}

func BenchmarkParseManipulate4K(b *testing.B) {
	payload := payload4K()
	b.ReportAllocs()
	for b.Loop() {
		m, err := ParseManipulate(payload)
		if err != nil || m.Memory().ActualBytes != MaxTransfer {
			b.Fatal(err)
		}
	}
}

// TestCodecZeroAllocs asserts what the benchmarks report: encoding and
// decoding a 4 KB packet, and the checksum, allocate nothing in steady state.
func TestCodecZeroAllocs(t *testing.T) {
	payload := payload4K()
	pkt := AppendData(nil, PacketTypeStateManipulate, InitialPacketID, payload)
	buf := make([]byte, 0, len(pkt))
	reader := NewReader(&repeatReader{data: pkt}, 0)
	sc := breakpointStateChange()
	scPayload := encodeStateChange(sc)
	scBuf := make([]byte, 0, len(scPayload))
	m := NewManipulate(APIGetVersion, 0, sampleVersion(), nil)
	mBuf := make([]byte, 0, ManipulateSize)
	var sink uint32
	tests := []struct {
		name string
		f    func()
	}{
		{"Checksum", func() { sink += Checksum(payload) }},
		{"AppendData", func() { buf = AppendData(buf[:0], PacketTypeStateManipulate, InitialPacketID, payload) }},
		{"AppendControl", func() { buf = AppendControl(buf[:0], PacketTypeAcknowledge, InitialPacketID) }},
		{"ParsePacket", func() {
			if p, _, err := ParsePacket(pkt); err != nil || len(p.Payload) != len(payload) {
				t.Fatalf("ParsePacket: %v", err)
			}
		}},
		{"Reader.ReadPacket", func() {
			if p, err := reader.ReadPacket(); err != nil || !bytes.Equal(p.Payload, payload) {
				t.Fatalf("ReadPacket: %v", err)
			}
		}},
		{"ParseManipulate", func() {
			if m, err := ParseManipulate(payload); err != nil || len(m.Data) != MaxTransfer {
				t.Fatalf("ParseManipulate: %v", err)
			}
		}},
		{"Manipulate.Append", func() { mBuf = m.Append(mBuf[:0]) }},
		{"ParseStateChange", func() {
			if _, err := ParseStateChange(scPayload); err != nil {
				t.Fatalf("ParseStateChange: %v", err)
			}
		}},
		{"StateChange.Append", func() { scBuf = sc.Append(scBuf[:0]) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(100, tt.f); n != 0 {
				t.Errorf("%s: %v allocs/op; want 0", tt.name, n)
			}
		})
	}
	_ = sink
}
