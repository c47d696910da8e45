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

// conn1394 carries the KD byte stream over the target's two 1394 mailboxes.
//
// Target→host: the host polls the send mailbox's status word; at 0x103 it
// reads the KD header, the length and the payload, then writes 0 to the
// status to acknowledge. Read presents the packet as serial would carry it:
// header, payload and, for data packets, the trailing 0xAA.
//
// Host→target: Write cuts the stream into packets (framer), waits until the
// receive mailbox's status is not 0x103, writes length and packet, and
// writes 0x103 to the status last.
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

	rmu  sync.Mutex
	rbuf []byte // the rest of the packet being read

	wmu sync.Mutex
	fr  framer

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

// Read implements io.Reader: it returns the bytes of the target's packets,
// polling the send mailbox until one arrives.
func (c *conn1394) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if len(p) == 0 {
		return 0, nil
	}
	for len(c.rbuf) == 0 {
		if c.isClosed() {
			return 0, errClosed("read", c.name)
		}
		if c.expired(&c.rdl) {
			return 0, errTimeout("read", c.name)
		}
		var pkt []byte
		err := c.transact("read", &c.rdl, func() (err error) {
			pkt, err = c.receive()
			return err
		})
		if err != nil {
			return 0, err
		}
		if pkt != nil {
			c.rbuf = pkt
			break
		}
		if err := c.wait("read", &c.rdl, c.poll); err != nil {
			return 0, err
		}
	}
	n := copy(p, c.rbuf)
	c.rbuf = c.rbuf[n:]
	return n, nil
}

// receive takes one packet from the send mailbox if the target put one
// there, and acknowledges it. It returns nil when the mailbox is empty or
// held a malformed packet (which is acknowledged and dropped; the KD layer
// recovers by timeout and resend).
func (c *conn1394) receive() ([]byte, error) {
	st, err := c.bus.ReadQuadlet(c.node, c.sendBox)
	if err != nil || st != statusPending {
		return nil, err
	}
	var hb [kdHeaderSize + 4]byte
	if err := c.bus.ReadBlock(c.node, c.sendBox+4, hb[:]); err != nil {
		return nil, err
	}
	h, ok := parseKDHeader(hb[:kdHeaderSize])
	length := int(binary.LittleEndian.Uint32(hb[kdHeaderSize:]))
	switch {
	case !ok, length > sendPayloadMax, h.control && length != 0, !h.control && h.byteCount != length:
		c.dropped++
		return nil, c.bus.WriteQuadlet(c.node, c.sendBox, statusFree)
	}
	pkt := make([]byte, kdHeaderSize+length, kdHeaderSize+length+1)
	copy(pkt, hb[:kdHeaderSize])
	for off := 0; off < length; off += c.chunk {
		end := min(off+c.chunk, length)
		if err := c.bus.ReadBlock(c.node, c.sendBox+sendHeaderSize+uint64(off), pkt[kdHeaderSize+off:kdHeaderSize+end]); err != nil {
			return nil, err
		}
	}
	if err := c.bus.WriteQuadlet(c.node, c.sendBox, statusFree); err != nil {
		return nil, err
	}
	if !h.control {
		pkt = append(pkt, kdTrailer)
	}
	return pkt, nil
}

// Write implements io.Writer. Each complete packet in p is in the target's
// mailbox when Write returns; an incomplete one is kept for the next Write.
// On error n counts the bytes before the packet that failed.
func (c *conn1394) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.isClosed() {
		return 0, errClosed("write", c.name)
	}
	if c.expired(&c.wdl) {
		return 0, errTimeout("write", c.name)
	}
	start := 0
	for i := 0; i < len(p); {
		if c.fr.idle() {
			start = i
		}
		n, pkt, err := c.fr.push(p[i:])
		i += n
		if err != nil {
			return start, &OpError{Op: "write", Name: c.name, Err: err}
		}
		if pkt != nil {
			if err := c.transmit(pkt); err != nil {
				return start, err
			}
		}
	}
	return len(p), nil
}

// transmit puts pkt into the receive mailbox once the target has emptied
// it. A break-in is dropped while an earlier break-in is still waiting.
func (c *conn1394) transmit(pkt []byte) error {
	breakin := len(pkt) == 1 && pkt[0] == kdBreakin
	buf := make([]byte, 4+len(pkt)) // length, then the packet
	binary.LittleEndian.PutUint32(buf, uint32(len(pkt)))
	copy(buf[4:], pkt)
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
		now := time.Now()
		if busySince.IsZero() {
			busySince = now
		}
		if now.Sub(busySince) >= c.stall {
			return &OpError{Op: "write", Name: c.name, Err: &wrapErr{
				msg:    fmt.Sprintf("target has not taken the previous packet for %v (has it stopped polling?)", c.stall),
				causes: []error{os.ErrDeadlineExceeded},
			}}
		}
		if err := c.wait("write", &c.wdl, c.poll); err != nil {
			return err
		}
	}
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
