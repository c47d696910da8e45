package kdproto

import (
	"fmt"
	"sync"
)

// Bounds on events waiting for a slow consumer. The reader goroutine never
// blocks on the consumer (it must keep acknowledging packets and passing
// replies to requests); when a hostile or chatty target outruns the
// consumer, DbgPrint text beyond maxQueuedText or maxQueuedEvents is
// dropped and replaced by one EventWarning that counts it.
const (
	maxQueuedText   = 1 << 20
	maxQueuedEvents = 4096
	// hardQueuedEvents bounds even the events that are never dropped below
	// it (stops, prompts, resets): only a target flooding them reaches it.
	hardQueuedEvents = 16 * maxQueuedEvents
)

// droppable reports whether ev may be dropped when the consumer lags:
// DbgPrint text and warnings may; a stop, a prompt or a reset the console
// must act on may not.
func droppable(ev Event) bool { return ev.Kind == EventPrint || ev.Kind == EventWarning }

// eventQueue is an unbounded-looking, bounded-in-fact FIFO between the
// reader goroutine and the Events channel.
type eventQueue struct {
	mu       sync.Mutex
	q        []Event
	text     int  // bytes of Text queued
	dropped  int  // events dropped since the last warning
	droppedB int  // text bytes dropped since the last warning
	closed   bool // no more pushes
	wake     chan struct{}
}

func newEventQueue() *eventQueue { return &eventQueue{wake: make(chan struct{}, 1)} }

func (q *eventQueue) push(ev Event) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	if droppable(ev) && (len(q.q) >= maxQueuedEvents || q.text+len(ev.Text) > maxQueuedText) ||
		len(q.q) >= hardQueuedEvents && ev.Kind != EventLinkError {
		q.dropped++
		q.droppedB += len(ev.Text)
		q.mu.Unlock()
		return
	}
	if q.dropped > 0 {
		q.q = append(q.q, q.dropWarning())
	}
	q.q = append(q.q, ev)
	q.text += len(ev.Text)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// close stops pushes; events already queued are still delivered.
func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// pop returns the next event, or ok=false once the queue is closed and empty.
func (q *eventQueue) pop(quit <-chan struct{}) (Event, bool) {
	for {
		q.mu.Lock()
		if len(q.q) > 0 {
			ev := q.q[0]
			q.q[0] = Event{}
			q.q = q.q[1:]
			q.text -= len(ev.Text)
			q.mu.Unlock()
			return ev, true
		}
		if q.dropped > 0 {
			w := q.dropWarning()
			q.mu.Unlock()
			return w, true
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return Event{}, false
		}
		select {
		case <-q.wake:
		case <-quit:
			return Event{}, false
		}
	}
}

// forward moves events from the queue to the Events channel until the
// queue is closed and drained or the engine is closed.
func (e *Engine) forward() {
	defer close(e.events)
	for {
		ev, ok := e.queue.pop(e.quit)
		if !ok {
			return
		}
		select {
		case e.events <- ev:
		case <-e.quit:
			return
		}
	}
}

// dropWarning returns the warning for the events dropped so far and resets
// the count. q.mu must be held.
func (q *eventQueue) dropWarning() Event {
	w := Event{Kind: EventWarning, Text: fmt.Appendf(nil, "%d events (%d bytes of target output) dropped: the console did not keep up", q.dropped, q.droppedB)}
	q.dropped, q.droppedB = 0, 0
	return w
}
