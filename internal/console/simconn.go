package console

import (
	"net"
	"sync"
	"time"
)

// queuedConn gives one end of a net.Pipe the send buffer a socket has:
// Write queues the bytes and returns, a goroutine delivers them. Without
// it the engine's reader, writing an ACK, and the simulator, writing its
// next packet, can each wait for the other to read.
type queuedConn struct {
	net.Conn
	mu     sync.Mutex
	cond   *sync.Cond
	queue  []byte
	err    error
	closed bool
}

func newQueuedConn(c net.Conn) *queuedConn {
	q := &queuedConn{Conn: c}
	q.cond = sync.NewCond(&q.mu)
	go q.flush()
	return q
}

func (q *queuedConn) Write(p []byte) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return 0, q.err
	}
	if q.closed {
		return 0, net.ErrClosed
	}
	q.queue = append(q.queue, p...)
	q.cond.Signal()
	return len(p), nil
}

func (q *queuedConn) flush() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		for len(q.queue) == 0 && !q.closed {
			q.cond.Wait()
		}
		if q.closed {
			return
		}
		b := q.queue
		q.queue = nil
		q.mu.Unlock()
		_, err := q.Conn.Write(b)
		q.mu.Lock()
		if err != nil {
			q.err = err
			return
		}
	}
}

// SetWriteDeadline is a no-op: writes never block.
func (q *queuedConn) SetWriteDeadline(time.Time) error { return nil }

// SetDeadline sets the read deadline only.
func (q *queuedConn) SetDeadline(t time.Time) error { return q.Conn.SetReadDeadline(t) }

func (q *queuedConn) Close() error {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
	return q.Conn.Close()
}
