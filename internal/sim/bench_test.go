package sim

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/gokd/kd/kdproto"
)

// benchLink starts a simulator stopped at its initial breakpoint on a Unix
// socket (which buffers like a VM's pipe) and returns a connected engine.
func benchLink(b *testing.B, cfg Config) (*kdproto.Engine, *Machine) {
	b.Helper()
	cfg.Stopped = true
	m := New(cfg)
	ln, err := net.Listen("unix", filepath.Join(b.TempDir(), "kd.sock"))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go ServeListener(ctx, m, ln)
	conn, err := net.Dial("unix", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	e := kdproto.NewEngine(conn, kdproto.Options{})
	b.Cleanup(func() { e.Close(); cancel(); ln.Close(); m.Close() })
	go func() {
		for range e.Events() {
		}
	}()
	if _, err := e.Resync(ctx, kdproto.ResyncOptions{Interval: 200 * time.Millisecond, Max: 50}); err != nil {
		b.Fatal(err)
	}
	return e, m
}

// BenchmarkReadMemoryAtBaud measures a 4 KiB kernel memory read over a
// link paced like a real UART: how close kd gets to the line rate, the
// figure that matters on slow serial links. At 115200 baud (8N1) the line
// carries 11520 bytes/s each way; every 3944-byte chunk costs one request
// (73 bytes), its ACK (16) and the reply (73+3944) plus its ACK.
func BenchmarkReadMemoryAtBaud(b *testing.B) {
	for _, baud := range []int{115200, 0} {
		name := "unpaced"
		if baud > 0 {
			name = "115200"
		}
		b.Run(name, func(b *testing.B) {
			e, m := benchLink(b, Config{Baud: baud})
			ctx := context.Background()
			addr := m.KernBase()
			const n = 4096
			b.SetBytes(n)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.ReadVirtual(ctx, 0, addr, n); err != nil {
					b.Fatal(err)
				}
			}
			if baud > 0 {
				lineRate := float64(baud) / 10
				perOp := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(float64(n)/perOp/lineRate*100, "%line-rate")
			}
		})
	}
}

// BenchmarkBulkReadUnpaced measures what .writemem does over an unpaced
// Unix socket: 256 KiB of the bulk pool per operation in 3944-byte
// requests, both sides in this process (so its CPU is the sum of kd's
// engine and the target's). Issue 9's goal is 50 MB/s.
func BenchmarkBulkReadUnpaced(b *testing.B) {
	e, _ := benchLink(b, Config{})
	ctx := context.Background()
	const n = 256 << 10
	b.SetBytes(n)
	b.ReportAllocs()
	addr := uint64(BulkPoolBase)
	for b.Loop() {
		if _, err := e.ReadVirtual(ctx, 0, addr, n); err != nil {
			b.Fatal(err)
		}
		addr += n
		if addr+n > BulkPoolBase+BulkPoolSize {
			addr = BulkPoolBase
		}
	}
	b.ReportMetric(float64(b.N)*n/kdproto.MaxTransfer/b.Elapsed().Seconds(), "requests/s")
}
