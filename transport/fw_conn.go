package transport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// conn1394 carries whole packets over the target's two 1394 mailboxes
// (PacketConn). It reads no KD header: the packets are opaque bytes here,
// and kdproto's mailbox link parses them.
//
// Target→host: the host polls the send mailbox's status word; at 0x103 it
// reads the 16-byte header field, the length and the payload, then writes 0
// to the status to acknowledge. ReadPacket returns header and payload.
//
// Host→target: WritePacket waits until the receive mailbox's status is not
// 0x103, writes length and packet, writes 0x103 to the status last, and
// waits for the target to write 0 back (delivery).
//
// A bus reset (or a transaction refused for a stale generation) makes the
// conn find the target again and repeat the interrupted sequence from its
// start; transient errors are retried for up to the target timeout.
type conn1394 struct {
	name    string
	bus     fwBus
	channel int
	ev      *emitter
	poll    time.Duration // mailbox polling
	retry   time.Duration // wait after a transient bus error
	stall   time.Duration // Options.TargetTimeout
	chunk   int           // largest block transaction

	done      chan struct{}
	closeOnce sync.Once

	busMu       sync.Mutex // one transaction sequence at a time; guards the fields below
	node        fwNode
	sendBox     uint64 // target→host mailbox
	recvBox     uint64 // host→target mailbox
	resetCh     <-chan struct{}
	stale       bool // a bus reset happened; find the target again
	announced   bool // EventBusReset was sent for the current reset
	resets      int
	lastBreakin bool // the packet last put in the receive mailbox was a break-in
	dropped     int  // malformed target packets acknowledged and dropped

	rmu sync.Mutex // one ReadPacket at a time

	wmu  sync.Mutex // one WritePacket or BreakIn at a time; guards wbuf
	wbuf []byte     // length and packet being put into the mailbox

	dmu sync.Mutex
	rdl deadline
	wdl deadline
}

// newConn1394 finds the target publishing the KD keys for s.Channel on
// bus. It takes ownership of bus.
func newConn1394(bus fwBus, s Spec, o Options, ev *emitter) (*conn1394, error) {
	c := &conn1394{
		bus: bus, channel: s.Channel, ev: ev,
		poll: o.mailboxPoll(), retry: o.pollInterval(), stall: o.targetTimeout(), chunk: 512,
		done: make(chan struct{}),
		rdl:  newDeadline(), wdl: newDeadline(),
	}
	c.busMu.Lock()
	err := c.discover()
	// The target resets the bus after publishing its ROM; a reset that
	// lands in the middle of discovery is worth another look.
	for try := 0; try < 3 && errors.Is(err, errGeneration); try++ {
		err = c.discover()
	}
	c.busMu.Unlock()
	if err != nil {
		bus.Close()
		return nil, err
	}
	c.name = "1394 channel " + strconv.Itoa(s.Channel) + " (" + c.node.Name + ")"
	return c, nil
}

// discover finds the node whose config block carries our channel. The
// caller holds busMu.
func (c *conn1394) discover() error {
	c.resetCh = c.bus.BusReset()
	nodes, err := c.bus.Nodes()
	if err != nil {
		return err
	}
	var firstErr error
	for _, n := range nodes {
		if n.Err != nil {
			firstErr = cmpOr(firstErr, n.Err)
			continue
		}
		addr, ok := kdROMAddress(n.ROM)
		if !ok {
			continue
		}
		var blk [configSize]byte
		if err := c.bus.ReadBlock(n, addr, blk[:]); err != nil {
			firstErr = cmpOr(firstErr, fmt.Errorf("transport: node %d: reading the KD config block at %#x: %w", n.ID, addr, err))
			continue
		}
		cb := parseConfigBlock(blk[:])
		if err := cb.check(n.ID, c.channel); err != nil {
			firstErr = cmpOr(firstErr, err)
			continue
		}
		c.node, c.sendBox, c.recvBox = n, cb.SendAddr, cb.RecvAddr
		return nil
	}
	if firstErr != nil {
		return firstErr
	}
	return errNoKDNode
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// refresh notices bus resets and finds the target again after one. The
// caller holds busMu.
func (c *conn1394) refresh() error {
	select {
	case <-c.resetCh:
		c.stale = true
	default:
	}
	if !c.stale {
		return nil
	}
	if !c.announced {
		c.announced = true
		c.resets++
		c.ev.emit(Event{Kind: EventBusReset, Name: c.name, Attempt: c.resets})
	}
	if err := c.discover(); err != nil {
		return &lostError{err: err}
	}
	c.stale, c.announced = false, false
	return nil
}

// transact runs f, a sequence of transactions with the target, under the
// bus lock. After a bus reset it finds the target and runs f again from the
// start; transient errors are retried until they have lasted the target
// timeout or d passes.
func (c *conn1394) transact(op string, d *deadline, f func() error) error {
	var failingSince time.Time
	for {
		if c.isClosed() {
			return errClosed(op, c.name)
		}
		c.busMu.Lock()
		err := c.refresh()
		if err == nil {
			err = f()
			if errors.Is(err, errGeneration) {
				c.stale = true
			}
		}
		c.busMu.Unlock()
		switch {
		case err == nil:
			return nil
		case c.isClosed():
			return errClosed(op, c.name)
		case !isTransient(err):
			return &OpError{Op: op, Name: c.name, Err: err}
		}
		now := time.Now()
		if failingSince.IsZero() {
			failingSince = now
		}
		if now.Sub(failingSince) >= c.stall {
			return &OpError{Op: op, Name: c.name, Err: fmt.Errorf("1394 bus failing for %v: %w", c.stall, err)}
		}
		if err := c.wait(op, d, c.retry); err != nil {
			return err
		}
	}
}

// wait sleeps for poll, returning early with an error when the Conn is
// closed or the deadline d passes.
func (c *conn1394) wait(op string, d *deadline, poll time.Duration) error {
	c.dmu.Lock()
	t, changed := d.t, d.changed
	c.dmu.Unlock()
	switch waitFor(nil, c.done, changed, t, poll) {
	case errDeadline:
		return errTimeout(op, c.name)
	case errDone:
		return errClosed(op, c.name)
	}
	return nil
}

func (c *conn1394) expired(d *deadline) bool {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	return !d.t.IsZero() && !time.Now().Before(d.t)
}

func (c *conn1394) isClosed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Name implements Conn.
func (c *conn1394) Name() string { return c.name }

// Read implements io.Reader only to satisfy Conn: the mailboxes carry
// whole packets, which ReadPacket returns.
func (c *conn1394) Read([]byte) (int, error) {
	return 0, &OpError{Op: "read", Name: c.name, Err: ErrPacketConn}
}

// Write implements io.Writer only to satisfy Conn: WritePacket and BreakIn
// put whole packets into the target's mailbox.
func (c *conn1394) Write([]byte) (int, error) {
	return 0, &OpError{Op: "write", Name: c.name, Err: ErrPacketConn}
}

// ReadPacket implements PacketConn: it polls the send mailbox until the
// target has put a message there, copies it into buf and acknowledges it.
func (c *conn1394) ReadPacket(buf []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for {
		if c.isClosed() {
			return 0, errClosed("read", c.name)
		}
		if c.expired(&c.rdl) {
			return 0, errTimeout("read", c.name)
		}
		n := -1
		err := c.transact("read", &c.rdl, func() (err error) {
			n, err = c.receive(buf)
			return err
		})
		if err != nil {
			return 0, err
		}
		if n >= 0 {
			return n, nil
		}
		if err := c.wait("read", &c.rdl, c.poll); err != nil {
			return 0, err
		}
	}
}

// receive takes one message from the send mailbox if the target put one
// there, copies the KD header field and the payload into buf, and
// acknowledges it by freeing the mailbox. It returns -1 when the mailbox is
// empty or held a message whose length does not fit the mailbox or buf
// (freed and dropped, counted in dropped; the KD layer recovers by timeout
// and resend). The caller holds busMu.
func (c *conn1394) receive(buf []byte) (int, error) {
	st, err := c.bus.ReadQuadlet(c.node, c.sendBox)
	if err != nil || st != statusPending {
		return -1, err
	}
	var hb [fwHeaderSize + 4]byte
	if err := c.bus.ReadBlock(c.node, c.sendBox+4, hb[:]); err != nil {
		return -1, err
	}
	length := int(binary.LittleEndian.Uint32(hb[fwHeaderSize:]))
	if length > sendPayloadMax || fwHeaderSize+length > len(buf) {
		c.dropped++
		return -1, c.bus.WriteQuadlet(c.node, c.sendBox, statusFree)
	}
	copy(buf, hb[:fwHeaderSize])
	for off := 0; off < length; off += c.chunk {
		end := min(off+c.chunk, length)
		if err := c.bus.ReadBlock(c.node, c.sendBox+sendHeaderSize+uint64(off), buf[fwHeaderSize+off:fwHeaderSize+end]); err != nil {
			return -1, err
		}
	}
	if err := c.bus.WriteQuadlet(c.node, c.sendBox, statusFree); err != nil {
		return -1, err
	}
	return fwHeaderSize + length, nil
}

// WritePacket implements PacketConn: it puts p into the receive mailbox
// once the target has emptied it, then waits until the target has taken p
// (its TransferStatus flips back to free), which is how 1394 confirms
// delivery.
func (c *conn1394) WritePacket(p []byte) error {
	if len(p) > recvPacketMax {
		return &OpError{Op: "write", Name: c.name, Err: fmt.Errorf("a packet of %d bytes does not fit the %d-byte 1394 mailbox", len(p), recvPacketMax)}
	}
	return c.put(p, false)
}

// BreakIn implements PacketConn: the one-byte message 0x62. It does not
// wait for a running target to take it, and is dropped while an earlier
// break-in still waits in the mailbox.
func (c *conn1394) BreakIn() error { return c.put([]byte{fwBreakin}, true) }

func (c *conn1394) put(p []byte, breakin bool) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.isClosed() {
		return errClosed("write", c.name)
	}
	if c.expired(&c.wdl) {
		return errTimeout("write", c.name)
	}
	if err := c.transmit(p, breakin); err != nil || breakin {
		return err
	}
	return c.waitTaken()
}

// transmit puts pkt into the receive mailbox once the target has emptied
// it. A break-in is dropped while an earlier break-in is still waiting. The
// caller holds wmu.
func (c *conn1394) transmit(pkt []byte, breakin bool) error {
	c.wbuf = binary.LittleEndian.AppendUint32(c.wbuf[:0], uint32(len(pkt))) // length, then the packet
	c.wbuf = append(c.wbuf, pkt...)
	buf := c.wbuf
	var busySince time.Time
	for {
		busy := false
		err := c.transact("write", &c.wdl, func() error {
			st, err := c.bus.ReadQuadlet(c.node, c.recvBox)
			if err != nil {
				return err
			}
			if st == statusPending {
				busy = !(breakin && c.lastBreakin)
				return nil
			}
			for off := 0; off < len(buf); off += c.chunk {
				end := min(off+c.chunk, len(buf))
				if err := c.bus.WriteBlock(c.node, c.recvBox+4+uint64(off), buf[off:end]); err != nil {
					return err
				}
			}
			if err := c.bus.WriteQuadlet(c.node, c.recvBox, statusPending); err != nil {
				return err
			}
			c.lastBreakin = breakin
			return nil
		})
		if err != nil || !busy {
			return err
		}
		if err := c.stalled(&busySince); err != nil {
			return err
		}
	}
}

// waitTaken waits until the target has taken the message in the receive
// mailbox. The caller holds wmu.
func (c *conn1394) waitTaken() error {
	var busySince time.Time
	for {
		busy := false
		err := c.transact("write", &c.wdl, func() error {
			st, err := c.bus.ReadQuadlet(c.node, c.recvBox)
			busy = err == nil && st == statusPending
			return err
		})
		if err != nil || !busy {
			return err
		}
		if err := c.stalled(&busySince); err != nil {
			return err
		}
	}
}

// stalled fails once the target has left the receive mailbox full for the
// target timeout, and otherwise waits one poll interval.
func (c *conn1394) stalled(since *time.Time) error {
	now := time.Now()
	if since.IsZero() {
		*since = now
	}
	if now.Sub(*since) >= c.stall {
		return &OpError{Op: "write", Name: c.name, Err: &wrapErr{
			msg:    fmt.Sprintf("target has not taken the previous packet for %v (has it stopped polling?)", c.stall),
			causes: []error{os.ErrDeadlineExceeded},
		}}
	}
	return c.wait("write", &c.wdl, c.poll)
}

// SetReadDeadline implements Conn.
func (c *conn1394) SetReadDeadline(t time.Time) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.rdl.set(t)
	return nil
}

// SetWriteDeadline implements Conn.
func (c *conn1394) SetWriteDeadline(t time.Time) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.wdl.set(t)
	return nil
}

// Close implements io.Closer. Pending Read and Write calls return after
// their current transaction.
func (c *conn1394) Close() error {
	first := false
	c.closeOnce.Do(func() {
		close(c.done)
		first = true
	})
	if !first {
		return errClosed("close", c.name)
	}
	c.busMu.Lock()
	defer c.busMu.Unlock()
	if err := c.bus.Close(); err != nil {
		return &OpError{Op: "close", Name: c.name, Err: err}
	}
	return nil
}
