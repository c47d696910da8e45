package sim

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gokd/kd/kdproto"
)

// lineTime is k characters at baud, 8N1, rounded up to the nanosecond.
func lineTime(baud, k int) time.Duration {
	p := pacer{baud: uint64(baud)}
	return p.lineTime(uint64(k))
}

// arrival is one chunk the host read and when.
type arrival struct {
	at time.Time
	n  int
}

// hostReader records when each byte the target sends reaches the host.
type hostReader struct {
	mu  sync.Mutex
	got []arrival
}

func (h *hostReader) run(c net.Conn) {
	buf := make([]byte, 8192)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			h.mu.Lock()
			h.got = append(h.got, arrival{time.Now(), n})
			h.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// times returns the arrival time of every byte, in order.
func (h *hostReader) times() []time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []time.Time
	for _, a := range h.got {
		for range a.n {
			out = append(out, a.at)
		}
	}
	return out
}

// linkTest runs f in a synctest bubble with a link at baud on one end of a
// pipe and the host's end, and tears both down afterwards.
func linkTest(t *testing.T, baud int, f func(t *testing.T, l *link, host net.Conn)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		m := New(Config{Baud: baud, Stopped: true})
		a, b := net.Pipe()
		ctx, cancel := context.WithCancel(context.Background())
		l := newLink(ctx, a, m)
		f(t, l, b)
		cancel()
		a.Close()
		b.Close()
		<-l.rx.done
		<-l.tx.done
	})
}

// TestTransmitPacing checks when each byte the target writes reaches the
// host: back to back at the line rate, never early, at most txQuantum late
// and the last byte of a write exactly on time; the write returns when
// only the FIFO's 16 bytes are left.
func TestTransmitPacing(t *testing.T) {
	for _, baud := range []int{9600, 57600, 115200, 921600} {
		t.Run(fmt.Sprint(baud), func(t *testing.T) {
			linkTest(t, baud, func(t *testing.T, l *link, host net.Conn) {
				h := &hostReader{}
				go h.run(host)
				t0 := time.Now()
				first, second := make([]byte, 300), make([]byte, 10)
				if err := l.write(first); err != nil {
					t.Fatal(err)
				}
				if d, want := time.Since(t0), lineTime(baud, len(first)-uartFIFO); d != want {
					t.Errorf("write returned after %v; want %v (all but 16 bytes sent)", d, want)
				}
				if err := l.write(second); err != nil { // fits in the FIFO: returns at once
					t.Fatal(err)
				}
				time.Sleep(lineTime(baud, 400))
				synctest.Wait()
				got := h.times()
				if len(got) != len(first)+len(second) {
					t.Fatalf("host got %d bytes; want %d", len(got), len(first)+len(second))
				}
				for i, at := range got {
					want := t0.Add(lineTime(baud, i+1))
					late := at.Sub(want)
					if late < 0 || late > txQuantum {
						t.Fatalf("byte %d arrived at +%v; want +%v (at most %v late)", i, at.Sub(t0), want.Sub(t0), txQuantum)
					}
					if (i == len(first)-1 || i == len(got)-1 || lineTime(baud, 1) >= txQuantum) && late != 0 {
						t.Errorf("byte %d arrived %v late; want on time", i, late)
					}
				}
			})
		})
	}
}

// TestReceivePacing checks that the target sees each byte one character
// time after the previous one, not a whole chunk after the chunk's line
// time: at 9600 baud the host's ACK and next request (89 bytes) used to
// arrive together after 92 ms.
func TestReceivePacing(t *testing.T) {
	for _, baud := range []int{9600, 115200} {
		t.Run(fmt.Sprint(baud), func(t *testing.T) {
			linkTest(t, baud, func(t *testing.T, l *link, host net.Conn) {
				go host.Write(make([]byte, 89))
				t0 := time.Now()
				for i := range 89 {
					if _, ok, err := l.getByte(time.Second); !ok || err != nil {
						t.Fatalf("byte %d: %v, %v", i, ok, err)
					}
					if d, want := time.Since(t0), lineTime(baud, i+1); d != want {
						t.Fatalf("byte %d read at +%v; want +%v", i, d, want)
					}
				}
				// Nothing more comes: the per-byte timeout runs out.
				t1 := time.Now()
				if _, ok, _ := l.getByte(50 * time.Millisecond); ok || time.Since(t1) != 50*time.Millisecond {
					t.Errorf("after the last byte: ok=%v after %v; want a 50ms timeout", ok, time.Since(t1))
				}
			})
		})
	}
}

// TestReceiveFIFOStallsTheLine: a target that does not read (a running
// one polls a byte per tick) holds 16 bytes; the rest wait on the host's
// side and flow once the target reads, without loss.
func TestReceiveFIFOStallsTheLine(t *testing.T) {
	const baud = 115200
	linkTest(t, baud, func(t *testing.T, l *link, host net.Conn) {
		msg := make([]byte, 40)
		for i := range msg {
			msg[i] = byte(i)
		}
		go host.Write(msg)
		t0 := time.Now()
		time.Sleep(100 * time.Millisecond)
		for i := range msg {
			b, ok, err := l.getByte(time.Second)
			if !ok || err != nil || b != byte(i) {
				t.Fatalf("byte %d: %#x, %v, %v", i, b, ok, err)
			}
			want := 100 * time.Millisecond // the FIFO's 16 bytes have long arrived
			if i >= uartFIFO {
				want += lineTime(baud, i-uartFIFO+1)
			}
			if d := time.Since(t0); d != want {
				t.Fatalf("byte %d read at +%v; want +%v", i, d, want)
			}
		}
		if b, ok := l.pollByte(); ok {
			t.Errorf("poll found a byte %#x after the message", b)
		}
	})
}

// TestSlowLineServesWithoutResends: at 9600 baud every request is served
// once (no reply is sent twice because an ACK came late) and each takes
// the stop-and-wait time of its packets on the line.
func TestSlowLineServesWithoutResends(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const baud = 9600
		var mu sync.Mutex
		replies := 0
		var readEvents []Event
		m := New(Config{Baud: baud, Stopped: true, Events: func(e Event) {
			mu.Lock()
			defer mu.Unlock()
			if e.Kind == EventPacket && e.Dir == "out" && e.Type == kdproto.PacketTypeStateManipulate.String() {
				replies++
			}
			if e.Kind == EventAPI && e.API == kdproto.APIReadVirtualMemory.String() {
				readEvents = append(readEvents, e)
			}
		}})
		a, b := net.Pipe()
		ctx, cancel := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- m.Serve(ctx, a) }()
		e := kdproto.NewEngine(b, kdproto.Options{})
		defer func() { e.Close(); cancel(); <-served }()
		waitEvent(t, e, kdproto.EventStateChange)
		go func() {
			for range e.Events() {
			}
		}()
		time.Sleep(time.Second) // the state change's ACK has left: the line is idle
		const reads, n = 5, 100
		t0 := time.Now()
		for i := range reads {
			if _, err := e.ReadVirtual(ctx, 0, m.KernBase()+uint64(i*n), n); err != nil {
				t.Fatal(err)
			}
		}
		took := time.Since(t0)
		mu.Lock()
		defer mu.Unlock()
		if replies != reads || len(readEvents) != reads {
			t.Errorf("%d replies sent for %d requests; want one each", replies, reads)
		}
		for i, e := range readEvents {
			if want := m.KernBase() + uint64(i*n); e.Addr != want || e.Bytes != n {
				t.Errorf("read %d's event: addr %#x, bytes %d; want %#x, %d", i, e.Addr, e.Bytes, want, n)
			}
		}
		// Per read: request 73 and its ACK 16, reply 73+n and its ACK 16.
		// The first request is not preceded by an ACK; the host's last ACK
		// is sent after the last reply.
		limit := lineTime(baud, reads*(178+n)-16)
		if took < limit || took > limit+reads*time.Millisecond {
			t.Errorf("%d reads took %v; the line allows %v", reads, took, limit)
		}
	})
}
