package target

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/transport"
)

// breakinRefuser fails every write of the lone break-in byte, as a link
// whose write deadline expired would, while other writes go through.
type breakinRefuser struct {
	transport.Conn
	mu    sync.Mutex
	tries int
}

var errRefused = errors.New("write refused")

func (c *breakinRefuser) Write(p []byte) (int, error) {
	if len(p) == 1 && p[0] == 0x62 {
		c.mu.Lock()
		c.tries++
		c.mu.Unlock()
		return 0, errRefused
	}
	return c.Conn.Write(p)
}

// TestBreakinLoopRestartsAfterAFailure: a break-in loop that failed does
// not leave the target thinking one runs, so the next CTRL+C starts a new
// loop (and says again why it fails) instead of sending one byte silently.
func TestBreakinLoopRestartsAfterAFailure(t *testing.T) {
	d := sim.NewDialer(sim.Config{Seed: 1}) // running, silent
	var conn *breakinRefuser
	failures := make(chan Failure, 8)
	tg := New(Config{
		Spec: transport.Spec{Kind: transport.KindSim, Resets: 1},
		Dial: func(ctx context.Context, s transport.Spec, o transport.Options) (transport.Conn, error) {
			c, err := d.Dial(ctx, s, o)
			if err != nil {
				return nil, err
			}
			conn = &breakinRefuser{Conn: c}
			return conn, nil
		},
		Sink: func(e Event) {
			if f, ok := e.(Failure); ok {
				failures <- f
			}
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer func() {
		cancel()
		tg.Close()
		d.Wait()
	}()
	if err := tg.Open(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	for i := 1; i <= 2; i++ {
		if !tg.Interrupt() {
			t.Fatalf("CTRL+C #%d: the target is not running, says Interrupt", i)
		}
		select {
		case f := <-failures:
			if f.What != "cannot send the break-in byte" || !errors.Is(f.Err, errRefused) {
				t.Fatalf("failure #%d: %+v", i, f)
			}
		case <-deadline.C:
			t.Fatalf("CTRL+C #%d: no failure reported; a stale loop swallowed it", i)
		}
	}
}

type fixedBaud int

func (b fixedBaud) SetBaud(int) error { return nil }
func (b fixedBaud) Baud() int         { return int(b) }

// The listen window before the first RESET: two 300-character packets of
// line time at the port's speed, at least 100 ms; 100 ms where kd knows
// no speed (pipes, sockets, 1394, KDNET).
func TestListenWindow(t *testing.T) {
	for _, tt := range []struct {
		conn any
		want time.Duration
	}{
		{nil, 100 * time.Millisecond},
		{fixedBaud(0), 100 * time.Millisecond},
		{fixedBaud(115200), 100 * time.Millisecond}, // 52 ms of line time
		{fixedBaud(57600), 104166666 * time.Nanosecond},
		{fixedBaud(19200), 312500 * time.Microsecond},
		{fixedBaud(9600), 625 * time.Millisecond},
	} {
		if got := listenWindow(tt.conn); got != tt.want {
			t.Errorf("listenWindow(%v) = %v; want %v", tt.conn, got, tt.want)
		}
	}
}
