package kdproto

import (
	"sync"
	"time"
)

// maxQueuedControl bounds the bytes of control packets (ACKs, RESENDs)
// waiting for a link that does not drain; beyond it they are dropped, and
// the target, missing an ACK, sends its packet again.
const maxQueuedControl = 64 << 10

// outItem is one write waiting for the link.
type outItem struct {
	b       []byte
	breakin bool
	done    chan error // nil: nobody waits (ACK, RESEND)
}

// writer owns every write to the link, in order. The reader goroutine only
// queues its ACKs and RESENDs, so it never waits for a link that does not
// drain (an unbuffered pipe whose peer is itself writing, a VM that stopped
// reading its serial port).
type writer struct {
	mu      sync.Mutex
	q       []outItem
	control int  // bytes of queued items without a waiter
	stopped bool // the write loop has ended: nothing more is queued
	wake    chan struct{}
}

func newWriter() *writer { return &writer{wake: make(chan struct{}, 1)} }

// queue adds an item; an unwaited item is dropped when too many are queued.
func (w *writer) queue(it outItem) bool {
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return false
	}
	if it.done == nil {
		if w.control+len(it.b) > maxQueuedControl {
			w.mu.Unlock()
			return false
		}
		w.control += len(it.b)
	}
	w.q = append(w.q, it)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return true
}

// take removes the queued items; with stop set, the writer also stops
// taking new ones.
func (w *writer) take(stop bool) []outItem {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = w.stopped || stop
	q := w.q
	w.q = nil
	w.control = 0
	return q
}

// writeLoop writes queued items until the engine is closed or the link
// has failed; waiters of items left over learn why.
func (e *Engine) writeLoop() {
	defer func() {
		err := ErrClosed
		select {
		case <-e.done:
			err = e.err
		default:
		}
		for _, it := range e.w.take(true) {
			if it.done != nil {
				it.done <- err
			}
		}
	}()
	for {
		select {
		case <-e.w.wake:
		case <-e.quit:
			return
		case <-e.done:
			return
		}
		for _, it := range e.w.take(false) {
			if it.breakin {
				if t := e.trace.Load(); t != nil {
					(*t)(TraceRecord{Dir: DirOut, Breakin: true, Raw: it.b})
				}
			} else {
				e.traceOut(it.b)
			}
			if wd, ok := e.conn.(writeDeadliner); ok {
				_ = wd.SetWriteDeadline(time.Now().Add(e.opts.WriteTimeout))
			}
			_, err := e.conn.Write(it.b)
			if it.done != nil {
				it.done <- err
			}
		}
	}
}

// send queues b (which the caller may reuse afterwards) and waits until it
// was written. The writer answers every item it accepted, written or not,
// so the wait is bounded by the write deadline.
func (e *Engine) send(b []byte, breakin bool) error {
	done := make(chan error, 1)
	if !e.w.queue(outItem{b: append([]byte(nil), b...), breakin: breakin, done: done}) {
		if e.isClosed() {
			return ErrClosed
		}
		<-e.done // the writer stops only once the engine is closed or done
		return e.err
	}
	return <-done
}

// sendControl writes a control packet and waits for the write.
func (e *Engine) sendControl(t PacketType, id uint32) error {
	return e.send(AppendControl(make([]byte, 0, HeaderSize), t, id), false)
}

// queueControl queues a control packet without waiting (the reader's ACKs
// and RESENDs).
func (e *Engine) queueControl(t PacketType, id uint32) {
	e.w.queue(outItem{b: AppendControl(make([]byte, 0, HeaderSize), t, id)})
}

// sendRaw writes a prepared packet (data packets and retransmissions).
func (e *Engine) sendRaw(pkt []byte) error { return e.send(pkt, false) }

// BreakIn sends the break-in byte. It is safe from any goroutine at any time.
func (e *Engine) BreakIn() error { return e.send([]byte{BreakinPacketByte}, true) }
