package sim

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/gokd/kd/kdproto"
	"github.com/gokd/kd/kdproto/kdnet"
)

// This file is the target's half of KDNET. The machine keeps speaking
// KDCOM on a byte stream (one end of a net.Pipe); a bridge turns that
// stream into KD packets sealed in data datagrams, and datagrams from the
// host back into the stream (trailer 0xAA re-added, 'b' passed as the
// break-in byte). Faults apply to whole datagrams here, not to bytes.

// Defaults of KDNETConfig.
const (
	DefaultOfferEvery   = 3 * time.Second
	DefaultKDNETVersion = 4
)

// EventKDNET is the kind of the bridge's events (Detail: what happened).
const EventKDNET = "kdnet"

// KDNETConfig describes the KDNET side of a simulated target.
type KDNETConfig struct {
	Conn       *net.UDPConn   // the target's socket; closed when ServeKDNET returns
	Host       netip.AddrPort // where offers go (bcdedit hostip and port)
	Key        kdnet.Key      // the control key
	Version    byte           // protocol byte; 0 means DefaultKDNETVersion
	OfferEvery time.Duration  // offer period, also the idle time before an idle offer; 0 means DefaultOfferEvery

	Noise, Drop, Dup float64 // per outgoing datagram: flip a byte, drop it, send it twice
	Seed             int64   // seed of the fault draws
	Random           io.Reader

	Trace  io.Writer   // one line per KDNET event; nil = off
	Events func(Event) // EventKDNET and datagram EventFault events; must be safe for concurrent use
}

type kdnetBridge struct {
	m    *Machine
	c    KDNETConfig
	in   chan udpIn
	rxOK chan struct{} // closed when the UDP reader ends

	mu       sync.Mutex // guards t, last, frng
	t        *kdnet.Target
	last     time.Time // last datagram exchanged
	frng     *mrand.Rand
	start    time.Time
	rejected int
}

type udpIn struct {
	b    []byte
	from netip.AddrPort
}

// ServeKDNET runs m as a KDNET target on c.Conn until ctx ends or m is
// closed: it offers to c.Host every OfferEvery until a host answers, then
// serves that host; a reboot ends the session, draws a new nonce and
// starts offering again, so the host must re-key.
func ServeKDNET(ctx context.Context, m *Machine, c KDNETConfig) error {
	if c.Version == 0 {
		c.Version = DefaultKDNETVersion
	}
	if c.OfferEvery <= 0 {
		c.OfferEvery = DefaultOfferEvery
	}
	if c.Random == nil {
		c.Random = rand.Reader
	}
	self, _ := netip.ParseAddrPort(c.Conn.LocalAddr().String())
	t, err := kdnet.NewTarget(c.Key, c.Version, self, c.Host, c.Random)
	if err != nil {
		c.Conn.Close()
		return err
	}
	m.kdnetIDs = true
	b := &kdnetBridge{m: m, c: c, t: t, in: make(chan udpIn, 16), rxOK: make(chan struct{}),
		frng: mrand.New(mrand.NewPCG(uint64(c.Seed), 0x6b646e6574)), start: time.Now()}
	stop := context.AfterFunc(ctx, func() { c.Conn.Close() })
	defer stop()
	defer c.Conn.Close()
	go b.reader()
	for {
		err := b.session(ctx)
		if !errors.Is(err, ErrRebooted) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		b.mu.Lock()
		err = b.t.Reboot()
		b.start = time.Now() // the offer counter is the uptime
		b.mu.Unlock()
		if err != nil {
			return err
		}
		b.event("rebooted: new nonce, offering again")
	}
}

func (b *kdnetBridge) reader() {
	defer close(b.rxOK)
	for {
		buf := make([]byte, kdnet.MaxDatagramSize+1)
		n, from, err := b.c.Conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		b.in <- udpIn{buf[:n], from}
	}
}

func (b *kdnetBridge) event(detail string) {
	if b.c.Trace != nil {
		fmt.Fprintf(b.c.Trace, "kdnet: %s\n", detail)
	}
	if b.c.Events != nil {
		b.c.Events(Event{Time: time.Now(), Kind: EventKDNET, Detail: detail})
	}
}

func (b *kdnetBridge) fault(kind, detail string) {
	if b.c.Events != nil {
		b.c.Events(Event{Time: time.Now(), Kind: EventFault, Detail: kind + ": " + detail})
	}
}

// offer sends one offer; uptime in seconds is the control counter.
func (b *kdnetBridge) offer() error {
	b.mu.Lock()
	d, err := b.t.Offer(nil, uint64(time.Since(b.start)/time.Second))
	b.last = time.Now()
	b.mu.Unlock()
	if err != nil {
		return err
	}
	_, err = b.c.Conn.WriteToUDPAddrPort(d, b.c.Host)
	return err
}

// receive handles one datagram under the lock and returns what it meant.
func (b *kdnetBridge) receive(d udpIn) kdnet.Result {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.t.Receive(d.b, d.from)
	if r.Event == kdnet.EventRejected {
		b.rejected++
		b.event(fmt.Sprintf("rejected a %d-byte datagram from %v: %v", len(d.b), d.from, r.Err))
		return r
	}
	b.last = time.Now()
	if r.Body != nil {
		r.Body = append([]byte(nil), r.Body...)
	}
	return r
}

// hello sends the first data datagram of a session.
func (b *kdnetBridge) hello(to netip.AddrPort) error {
	b.mu.Lock()
	d, err := b.t.Hello(nil)
	b.mu.Unlock()
	if err != nil {
		return err
	}
	b.event(fmt.Sprintf("host %v answered: new data key, hello sent", to))
	_, err = b.c.Conn.WriteToUDPAddrPort(d, to)
	return err
}

// session offers until a host answers, then runs the machine until it
// reboots (ErrRebooted), ctx ends or the socket fails.
func (b *kdnetBridge) session(ctx context.Context) error {
	tick := time.NewTicker(b.c.OfferEvery)
	defer tick.Stop()
	if err := b.offer(); err != nil {
		return err
	}
	var host netip.AddrPort
	for host == (netip.AddrPort{}) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-b.rxOK:
			return net.ErrClosed
		case <-tick.C:
			if err := b.offer(); err != nil {
				return err
			}
		case d := <-b.in:
			if r := b.receive(d); r.Event == kdnet.EventConnected {
				host = d.from
			}
		}
	}
	if err := b.hello(host); err != nil {
		return err
	}
	simSide, mine := net.Pipe()
	defer mine.Close()
	done := make(chan error, 1)
	go func() { done <- b.m.Serve(ctx, simSide) }()
	pumpDone := make(chan struct{})
	go b.pump(mine, &host, pumpDone)
	defer func() { mine.Close(); <-pumpDone }()
	for {
		select {
		case err := <-done:
			return err
		case <-b.rxOK:
			mine.Close()
			<-done
			return net.ErrClosed
		case <-tick.C:
			b.mu.Lock()
			idle := time.Since(b.last) >= b.c.OfferEvery
			b.mu.Unlock()
			if idle {
				if err := b.offer(); err != nil {
					return err
				}
			}
		case d := <-b.in:
			r := b.receive(d)
			var err error
			switch r.Event {
			case kdnet.EventConnected:
				b.mu.Lock()
				host = d.from
				b.mu.Unlock()
				err = b.hello(d.from)
			case kdnet.EventBreakIn:
				_, err = mine.Write([]byte{kdproto.BreakinPacketByte})
			case kdnet.EventData:
				if len(r.Body) >= kdproto.HeaderSize && r.Body[0] == kdproto.PacketLeaderByte {
					r.Body = append(r.Body, kdproto.PacketTrailingByte)
				}
				_, err = mine.Write(r.Body)
			}
			if err != nil {
				// The pipe closes when Serve returns (a reboot, for
				// instance): its result is the session's.
				if serr := <-done; serr != nil {
					return serr
				}
				return err
			}
		}
	}
}

// pump reads the machine's KDCOM stream, cuts it into packets and sends
// each, without its trailer, in one data datagram to the host.
func (b *kdnetBridge) pump(r io.Reader, host *netip.AddrPort, done chan<- struct{}) {
	defer close(done)
	rd := kdproto.NewReader(r, 0)
	var body []byte
	for {
		p, err := rd.ReadPacket()
		if err != nil {
			var pe *kdproto.PacketError
			if errors.As(err, &pe) {
				continue // the machine's own byte-level faults, if any
			}
			return
		}
		body = kdproto.AppendHeader(body[:0], p.Header)
		body = append(body, p.Payload...)
		b.mu.Lock()
		d, err := b.t.Send(nil, body)
		to := *host
		drop := b.c.Drop > 0 && b.frng.Float64() < b.c.Drop
		dup := b.c.Dup > 0 && b.frng.Float64() < b.c.Dup
		noise := -1
		if b.c.Noise > 0 && b.frng.Float64() < b.c.Noise {
			noise = b.frng.IntN(len(d))
		}
		b.last = time.Now()
		b.mu.Unlock()
		if err != nil {
			return
		}
		switch {
		case drop:
			b.fault("drop", "datagram with "+p.String())
			continue
		case noise >= 0:
			d[noise] ^= 0x20
			b.fault("noise", fmt.Sprintf("byte %d of the datagram with %s", noise, p.String()))
		}
		if _, err := b.c.Conn.WriteToUDPAddrPort(d, to); err != nil {
			return
		}
		if dup {
			b.fault("dup", "datagram with "+p.String())
			_, _ = b.c.Conn.WriteToUDPAddrPort(d, to)
		}
	}
}
