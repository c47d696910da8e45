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
//
// A sender that finds nothing queued and nobody writing writes its packets
// itself (claim): a request then costs no hand-off to the write loop and
// back, which on a fast link is most of its cost. Whoever holds the claim
// (busy) is the only one writing, so packets stay in order.
type writer struct {
	mu      sync.Mutex
	q       []outItem
	control int  // bytes of queued items without a waiter
	stopped bool // the write loop has ended: nothing more is queued
	busy    bool // someone (the write loop or a claiming sender) is writing
	wake    chan struct{}
	batch   []Packet // the packets of the Send in progress, reused by the claim's holder
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
	w.signal()
	return true
}

func (w *writer) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// take swaps the queue for spare (emptied) and returns what was queued,
// claiming the link for the write loop when there is something to write
// and nobody else writes (nil otherwise: the claim's holder wakes the loop
// when it is done). With stop set, the writer also stops taking new items
// and everything queued is returned.
func (w *writer) take(stop bool, spare []outItem) []outItem {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = w.stopped || stop
	if !stop && (w.busy || len(w.q) == 0) {
		return spare[:0]
	}
	q := w.q
	w.q = spare[:0]
	w.control = 0
	w.busy = !stop
	return q
}

// claim makes the caller the link's writer if nothing is queued and nobody
// writes; it must call unclaim when done.
func (w *writer) claim() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped || w.busy || len(w.q) > 0 {
		return false
	}
	w.busy = true
	return true
}

// unclaim ends a claim (or the write loop's turn), waking the write loop
// for what was queued meanwhile.
func (w *writer) unclaim() {
	w.mu.Lock()
	w.busy = false
	more := len(w.q) > 0
	w.mu.Unlock()
	if more {
		w.signal()
	}
}

// writeLoop writes queued items until the engine is closed or the link
// has failed; waiters of items left over learn why.
func (e *Engine) writeLoop() {
	var spare []outItem
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
		if len(items) == 0 {
			continue
		}
		e.writeItems(items, true)
		clear(items) // drop the references to payloads
		spare = items
		e.w.unclaim()
	}
}

// writeItems sends items in order, break-ins on their own and the packets
// between them in one Send each, and returns the first error; with
// answerWaiters each group's waiters learn their outcome. The caller holds
// the writer's claim.
func (e *Engine) writeItems(items []outItem, answerWaiters bool) error {
	var first error
	report := func(group []outItem, err error) {
		if first == nil {
			first = err
		}
		if answerWaiters {
			answer(group, err)
		}
	}
	for start := 0; start < len(items); {
		if items[start].breakin {
			if t := e.trace.Load(); t != nil {
				(*t)(TraceRecord{Dir: DirOut, Breakin: true, Raw: []byte{BreakinPacketByte}})
			}
			report(items[start:start+1], e.link.BreakIn())
			start++
			continue
		}
		end := start
		batch := e.w.batch[:0]
		for end < len(items) && !items[end].breakin {
			batch = append(batch, items[end].pkt)
			e.traceOut(items[end].pkt)
			end++
		}
		err := e.link.Send(batch)
		clear(batch)
		e.w.batch = batch
		report(items[start:end], err)
		start = end
	}
	return first
}

// answer tells the waiters among items how their write went.
func answer(items []outItem, err error) {
	for _, it := range items {
		if it.done != nil {
			it.done <- err
		}
	}
}

// send writes items and waits until they are written: at once in this
// goroutine when the link is free (claim), else through the write loop,
// waiting on done (buffered, with room for one; only the last item carries
// it). The writer answers every item it accepted, written or not, so the
// wait is bounded by the link's write deadline.
func (e *Engine) send(done chan error, items ...outItem) error {
	if e.w.claim() {
		var err error
		select {
		case <-e.quit:
			err = ErrClosed
		case <-e.done:
			err = e.err
		default:
			err = e.writeItems(items, false)
		}
		e.w.unclaim()
		return err
	}
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
