package sim

import (
	"context"
	"io"
	"math"
	"math/bits"
	"sync"
	"time"
)

// The serial line as the target's 16550 UART sees it. On a paced line
// (Config.Baud > 0) every byte takes 10 bit times (8N1) and the two
// directions are independent:
//
//   - Receive: a byte written by the host reaches the target one byte time
//     after the previous byte has arrived, or after the host wrote it if
//     the line was idle, and the target can read it from then on, not
//     when a whole chunk has arrived. The receive FIFO holds 16 bytes; when
//     it is full the line stalls until the target reads one (hardware flow
//     control: nothing is lost, as with the connection's own buffering).
//   - Transmit: bytes the target writes leave back to back at the line
//     rate and reach the host as they arrive (in slices of at most
//     txQuantum, the last byte of a burst exactly on time). The transmit
//     FIFO holds 16 bytes, so a write returns when all but the last 16
//     bytes of it are on the wire.
//
// The byte times are computed from a schedule, not from when goroutines
// happen to run, so a late wake-up delays a byte but never shifts the
// bytes after it.

const (
	uartFIFO     = 16                   // bytes in the 16550's receive and transmit FIFOs
	rxUnpacedBuf = 4096                 // bytes the receiver holds on an unpaced line
	txQuantum    = time.Millisecond     // transmitted bytes reach the host at most this late
	txMaxPending = 4 * (4096 + 16 + 16) // bytes the transmitter queues before a write blocks
)

// pacer schedules bytes on one direction of a paced line. Bytes sent back
// to back form a burst; the k-th byte of a burst arrives k character times
// (10 bits each, 8N1) after the burst began, computed exactly rather than
// by adding a rounded byte time.
type pacer struct {
	baud  uint64
	burst time.Time // when the current burst began
	n     uint64    // bytes in it so far
}

// lineTime is how long n characters take on the line, rounded up to the
// nanosecond so that arrived(lineTime(n)) >= n.
func (p *pacer) lineTime(n uint64) time.Duration {
	hi, lo := bits.Mul64(n, 10*uint64(time.Second))
	if hi >= p.baud {
		return math.MaxInt64
	}
	q, r := bits.Div64(hi, lo, p.baud)
	if r != 0 {
		q++
	}
	return time.Duration(min(q, math.MaxInt64))
}

// arrived is how many characters of a burst that began d ago have arrived.
func (p *pacer) arrived(d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(d), p.baud) // hi < 10^10: d < 2^63, baud < 2^32
	q, _ := bits.Div64(hi, lo, 10*uint64(time.Second))
	return q
}

// last is when the latest scheduled byte arrives.
func (p *pacer) last() time.Time { return p.burst.Add(p.lineTime(p.n)) }

// add schedules k more bytes, starting now if the line is idle, and
// returns the burst they belong to and the index in it of the first.
func (p *pacer) add(now time.Time, k int) (burst time.Time, idx uint64) {
	if now.After(p.last()) {
		p.burst, p.n = now, 0
	}
	idx = p.n
	p.n += uint64(k)
	return p.burst, idx
}

// rxLine is the receive side: a reader goroutine moves bytes from the
// connection into a small ring, stamped with their arrival time, and the
// target takes them one at a time.
type rxLine struct {
	paced bool
	mu    sync.Mutex
	pace  pacer
	ring  []byte
	arr   []time.Time // arrival time of each ring slot (paced lines only)
	head  int
	n     int

	data chan struct{} // a byte was added (capacity 1)
	room chan struct{} // a byte was taken (capacity 1)
	done chan struct{} // closed when the reader goroutine has returned
}

func newRxLine(baud int) *rxLine {
	r := &rxLine{paced: baud > 0, pace: pacer{baud: uint64(max(baud, 0))},
		data: make(chan struct{}, 1), room: make(chan struct{}, 1), done: make(chan struct{})}
	if r.paced {
		r.ring, r.arr = make([]byte, uartFIFO), make([]time.Time, uartFIFO)
	} else {
		r.ring = make([]byte, rxUnpacedBuf)
	}
	return r
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// run reads conn until it fails or ctx ends.
func (r *rxLine) run(ctx context.Context, conn io.Reader) {
	defer close(r.done)
	tmp := make([]byte, len(r.ring))
	for {
		r.mu.Lock()
		free := len(r.ring) - r.n
		r.mu.Unlock()
		if free == 0 {
			select {
			case <-r.room:
				continue
			case <-ctx.Done():
				return
			}
		}
		k, err := conn.Read(tmp[:free])
		if k > 0 {
			now := time.Now()
			r.mu.Lock()
			for _, b := range tmp[:k] {
				i := (r.head + r.n) % len(r.ring)
				r.ring[i] = b
				if r.paced {
					burst, idx := r.pace.add(now, 1)
					r.arr[i] = burst.Add(r.pace.lineTime(idx + 1))
				}
				r.n++
			}
			r.mu.Unlock()
			signal(r.data)
		}
		if err != nil {
			return
		}
	}
}

// take returns the next byte that has arrived by now. If none has, it
// reports when the next one will (zero: none is on its way).
func (r *rxLine) take() (b byte, ok bool, next time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == 0 {
		return 0, false, time.Time{}
	}
	if r.paced {
		if at := r.arr[r.head]; at.After(time.Now()) {
			return 0, false, at
		}
	}
	b = r.ring[r.head]
	r.head = (r.head + 1) % len(r.ring)
	r.n--
	signal(r.room)
	return b, true, time.Time{}
}

// takeAll moves every byte that has arrived to dst (an unpaced line only:
// a paced line's bytes arrive one at a time) and returns dst extended.
func (r *rxLine) takeAll(dst []byte) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == 0 {
		return dst
	}
	k := min(r.n, len(r.ring)-r.head) // up to the end of the ring
	dst = append(dst, r.ring[r.head:r.head+k]...)
	dst = append(dst, r.ring[:r.n-k]...)
	r.head, r.n = (r.head+r.n)%len(r.ring), 0
	signal(r.room)
	return dst
}

// txLine is the transmit side of a paced line: writes are scheduled back
// to back at the line rate and a goroutine hands each byte to the
// connection when it has arrived.
type txLine struct {
	mu   sync.Mutex
	pace pacer
	segs []txSeg
	n    int  // bytes queued in segs
	dead bool // the connection failed: nothing more is sent

	kick  chan struct{} // bytes were queued (capacity 1)
	space chan struct{} // bytes were sent (capacity 1)
	done  chan struct{} // closed when the transmitter has returned
}

// txSeg is one write: data[i] is character idx+i of the burst that began
// at burst.
type txSeg struct {
	data  []byte
	burst time.Time
	idx   uint64
}

func newTxLine(baud int) *txLine {
	return &txLine{pace: pacer{baud: uint64(baud)},
		kick: make(chan struct{}, 1), space: make(chan struct{}, 1), done: make(chan struct{})}
}

// queue schedules b after the bytes already queued and returns when the
// write may return: when all but the last uartFIFO bytes have left, that
// is, when the last byte has entered the transmit FIFO. It reports false
// if the queue is full (the host does not read); the caller waits for
// space and tries again. It fails once the connection has failed.
func (t *txLine) queue(b []byte) (ret time.Time, ok bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dead {
		return time.Time{}, false, errLinkDown
	}
	if t.n > 0 && t.n+len(b) > txMaxPending {
		return time.Time{}, false, nil
	}
	burst, idx := t.pace.add(time.Now(), len(b))
	t.segs = append(t.segs, txSeg{data: append([]byte(nil), b...), burst: burst, idx: idx})
	t.n += len(b)
	signal(t.kick)
	if t.pace.n <= uartFIFO {
		return burst, true, nil
	}
	return burst.Add(t.pace.lineTime(t.pace.n - uartFIFO)), true, nil
}

// run hands scheduled bytes to conn as they arrive, until ctx ends or a
// write fails.
func (t *txLine) run(ctx context.Context, conn io.Writer) {
	defer close(t.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var out []byte
	var wake time.Time
	for {
		out, wake = t.due(out[:0])
		if len(out) > 0 {
			if _, err := conn.Write(out); err != nil {
				t.mu.Lock()
				t.dead = true
				t.mu.Unlock()
				return
			}
			signal(t.space)
			continue
		}
		if wake.IsZero() {
			select {
			case <-t.kick:
				continue
			case <-ctx.Done():
				return
			}
		}
		timer.Reset(time.Until(wake))
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return
		}
	}
}

// due moves the bytes that have arrived by now to out. When none has, it
// returns when to look again (zero: nothing is queued): when the next byte
// has arrived, or, on lines faster than one byte per txQuantum, when it is
// txQuantum late or the current write's last byte has arrived, if sooner.
func (t *txLine) due(out []byte) ([]byte, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	for len(t.segs) > 0 {
		s := &t.segs[0]
		got := t.pace.arrived(now.Sub(s.burst))
		if got <= s.idx {
			break
		}
		k := int(min(got-s.idx, uint64(len(s.data))))
		out = append(out, s.data[:k]...)
		s.data, s.idx = s.data[k:], s.idx+uint64(k)
		t.n -= k
		if len(s.data) > 0 {
			break
		}
		t.segs = t.segs[1:]
	}
	if len(out) > 0 || len(t.segs) == 0 {
		return out, time.Time{}
	}
	s := t.segs[0]
	next := s.burst.Add(t.pace.lineTime(s.idx + 1))
	if t.pace.lineTime(1) >= txQuantum {
		return out, next // one byte at a time, each on time
	}
	wake := next.Add(txQuantum)
	if end := s.burst.Add(t.pace.lineTime(s.idx + uint64(len(s.data)))); end.Before(wake) {
		wake = end
	}
	return out, wake
}

// pending reports whether bytes are still queued and the line is alive.
func (t *txLine) pending() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n > 0 && !t.dead
}
