package kdproto

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
)

// echoTarget is a minimal target for benchmarks: it ACKs every data packet
// and answers every manipulate request by echoing it with 4000-byte-bounded
// data for reads.
func echoTarget(conn net.Conn) {
	r := NewReader(conn, 0)
	mem := make([]byte, MaxTransfer)
	var out []byte
	id := InitialPacketID
	for {
		p, err := r.ReadPacket()
		if err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return
			}
			var pe *PacketError
			if errors.As(err, &pe) {
				continue
			}
			return
		}
		if p.IsControl() {
			continue
		}
		m, err := ParseManipulate(p.Payload)
		if err != nil {
			continue
		}
		out = AppendControl(out[:0], PacketTypeAcknowledge, p.ID)
		if m.API == APIReadVirtualMemory {
			n := min(int(m.Memory().TransferCount), len(mem))
			mm := m.Memory()
			mm.ActualBytes = uint32(n)
			mm.Put(&m.U)
			m.Data = mem[:n]
		}
		var buf [ManipulateSize]byte
		hdr := m
		hdr.Data = nil
		out = AppendData(out, PacketTypeStateManipulate, id, hdr.Append(buf[:0]), m.Data)
		id ^= 1
		if _, err := conn.Write(out); err != nil {
			return
		}
	}
}

func benchEngine(b *testing.B) *Engine {
	host, target := net.Pipe()
	go echoTarget(target)
	e := NewEngine(host, Options{})
	b.Cleanup(func() { e.Close(); target.Close() })
	return e
}

// BenchmarkRoundTripGetVersion measures one request/ACK/reply/ACK exchange
// over net.Pipe.
func BenchmarkRoundTripGetVersion(b *testing.B) {
	e := benchEngine(b)
	ctx := context.Background()
	m := NewManipulate(APIGetVersion, 0, nil, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Request(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoundTripRead4K measures a full-size memory read (3944 bytes).
func BenchmarkRoundTripRead4K(b *testing.B) {
	e := benchEngine(b)
	ctx := context.Background()
	b.SetBytes(MaxTransfer)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.ReadVirtual(ctx, 0, 0x1000, MaxTransfer); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoundTripRead64K measures a 64 KiB read: 17 requests, each
// reply's ACK written together with the next request.
func BenchmarkRoundTripRead64K(b *testing.B) {
	e := benchEngine(b)
	ctx := context.Background()
	b.SetBytes(64 << 10)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.ReadVirtual(ctx, 0, 0x1000, 64<<10); err != nil {
			b.Fatal(err)
		}
	}
}
