package kdproto

import "sync"

// maxQueuedControl bounds the bytes of control packets (ACKs, RESENDs)
// waiting for a link that does not drain; beyond it they are dropped, and
// the target, missing an ACK, sends its packet again.
const maxQueuedControl = 64 << 10

// outItem is one packet (or the break-in) waiting for the link. A data
// packet's payload belongs to its sender, who waits on done until the
// writer has sent it, so nothing is copied.
type outItem struct {
	pkt     Packet
	breakin bool
	done    chan error // nil: nobody waits (ACK, RESEND)
}

// writer owns every write to the link, in order. The reader goroutine only
// queues its ACKs and RESENDs, so it never waits for a link that does not
// drain (an unbuffered pipe whose peer is itself writing, a VM that stopped
// reading its serial port). Everything queued by the time the writer wakes
// goes to the link in one Send: an ACK and the next request share a write.
type writer struct {
	mu      sync.Mutex
	q       []outItem
	control int  // bytes of queued items without a waiter
	stopped bool // the write loop has ended: nothing more is queued
	wake    chan struct{}
}

func newWriter() *writer { return &writer{wake: make(chan struct{}, 1)} }

// queue adds items, in order, all or none; unwaited control packets are
// dropped when too many are queued.
func (w *writer) queue(items ...outItem) bool {
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return false
	}
	for _, it := range items {
		if it.done == nil {
			if w.control+HeaderSize > maxQueuedControl {
				continue
			}
			w.control += HeaderSize
		}
		w.q = append(w.q, it)
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return true
}

// take swaps the queue for spare (emptied) and returns what was queued;
// with stop set, the writer also stops taking new items.
func (w *writer) take(stop bool, spare []outItem) []outItem {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = w.stopped || stop
	q := w.q
	w.q = spare[:0]
	w.control = 0
	return q
}

// writeLoop writes queued items until the engine is closed or the link
// has failed; waiters of items left over learn why.
func (e *Engine) writeLoop() {
	var spare []outItem
	var batch []Packet
	defer func() {
		err := ErrClosed
		select {
		case <-e.done:
			err = e.err
		default:
		}
		for _, it := range e.w.take(true, nil) {
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
		items := e.w.take(false, spare)
		for start := 0; start < len(items); {
			if items[start].breakin {
				if t := e.trace.Load(); t != nil {
					(*t)(TraceRecord{Dir: DirOut, Breakin: true, Raw: []byte{BreakinPacketByte}})
				}
				answer(items[start:start+1], e.link.BreakIn())
				start++
				continue
			}
			end := start
			batch = batch[:0]
			for end < len(items) && !items[end].breakin {
				batch = append(batch, items[end].pkt)
				e.traceOut(items[end].pkt)
				end++
			}
			answer(items[start:end], e.link.Send(batch))
			start = end
		}
		clear(items) // drop the references to payloads
		clear(batch)
		spare = items
	}
}

// answer tells the waiters among items how their write went.
func answer(items []outItem, err error) {
	for _, it := range items {
		if it.done != nil {
			it.done <- err
		}
	}
}

// send queues items and waits on done (buffered, with room for one) until
// the writer has sent them; only the last item carries done. The writer
// answers every item it accepted, written or not, so the wait is bounded by
// the link's write deadline.
func (e *Engine) send(done chan error, items ...outItem) error {
	if !e.w.queue(items...) {
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
	done := make(chan error, 1)
	return e.send(done, outItem{pkt: Packet{Header: ControlHeader(t, id)}, done: done})
}

// queueControl queues a control packet without waiting (the reader's ACKs
// and RESENDs).
func (e *Engine) queueControl(t PacketType, id uint32) {
	e.w.queue(outItem{pkt: Packet{Header: ControlHeader(t, id)}})
}

// BreakIn sends the break-in byte. It is safe from any goroutine at any time.
func (e *Engine) BreakIn() error {
	done := make(chan error, 1)
	return e.send(done, outItem{breakin: true, done: done})
}
