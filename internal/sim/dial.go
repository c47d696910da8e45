package sim

import (
	"context"
	"net"
	"sync"

	"github.com/gokd/kd/transport"
)

// Dialer runs the simulator in-process for kd -k sim: each Dial serves the
// same machine on a fresh in-memory pipe, one host at a time, and any
// other connection string is opened by transport.Open.
type Dialer struct {
	cfg Config

	mu      sync.Mutex
	m       *Machine
	serving chan struct{} // closed when the last Serve returned
}

// NewDialer returns a dialer for a machine made from cfg on first use.
func NewDialer(cfg Config) *Dialer { return &Dialer{cfg: cfg} }

// Machine returns the simulated machine (made on first use).
func (d *Dialer) Machine() *Machine {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil {
		d.m = New(d.cfg)
	}
	return d.m
}

// Dial implements the console's Dial hook.
func (d *Dialer) Dial(ctx context.Context, s transport.Spec, o transport.Options) (transport.Conn, error) {
	if s.Kind != transport.KindSim {
		return transport.Open(ctx, s, o)
	}
	m := d.Machine()
	host, target := net.Pipe()
	d.mu.Lock()
	prev, done := d.serving, make(chan struct{})
	d.serving = done
	d.mu.Unlock()
	go func() {
		defer close(done)
		// One host at a time: the previous Serve may still be winding
		// down (after a reboot it returns once the machine rebooted).
		if prev != nil {
			<-prev
		}
		_ = m.Serve(ctx, target)
		_ = target.Close()
	}()
	conn := transport.WrapNetConn(host, "sim")
	if o.Events != nil {
		o.Events(transport.Event{Kind: transport.EventOpened, Name: "sim (embedded simulator)"})
	}
	return conn, nil
}

// Wait waits until the last Serve returned (after the console closed its
// end, or ctx ended).
func (d *Dialer) Wait() {
	d.mu.Lock()
	done := d.serving
	d.mu.Unlock()
	if done != nil {
		<-done
	}
}
