package main

import (
	"context"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/kdproto"
)

// target is a simulated machine served on a Unix socket, with a recorder
// of what it sees.
type target struct {
	m      *sim.Machine
	sock   string
	rec    *recorder
	cancel context.CancelFunc
	done   chan struct{}
}

// startTarget serves a machine configured by cfg on a socket in dir.
func startTarget(dir string, cfg sim.Config) (*target, error) {
	rec := &recorder{lo: sim.BulkPoolBase, hi: sim.BulkPoolBase + sim.BulkPoolSize, ran: make(chan struct{}, 1), gone: make(chan struct{}, 1)}
	cfg.Events = rec.event
	t := &target{rec: rec, sock: filepath.Join(dir, "kd.sock"), done: make(chan struct{})}
	t.m = sim.New(cfg)
	ln, err := sim.Listen("unix:" + t.sock)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	go func() {
		defer close(t.done)
		sim.ServeListener(ctx, t.m, ln)
	}()
	return t, nil
}

func (t *target) stop() {
	t.cancel()
	t.m.Close()
	<-t.done
}

// recorder follows the target's events: the window of reads in [lo, hi)
// (from the first such request to the ACK of the last reply), the sizes
// read, and the connection's first packets and requests.
type recorder struct {
	mu         sync.Mutex
	lo, hi     uint64
	start      time.Time // the first read in range was served
	end        time.Time // the ACK of the last read's reply arrived
	sizes      []int     // bytes each read in range returned
	awaitReply bool      // a read in range was served; its reply is next
	replyID    uint32    // the id of that reply, whose ACK ends the window
	awaitAck   bool
	resent     int // replies to reads in range sent again

	connected time.Time     // the latest connection began
	answered  time.Time     // the target's first packet on it
	requests  int           // requests served on it
	apis      []string      // the first maxAPIs of them: "API" or "API:bytes"
	running   time.Time     // the target last resumed
	ran       chan struct{} // signalled when the target resumes (capacity 1)
	gone      chan struct{} // signalled when a connection has ended (capacity 1)
}

var (
	apiReadVirtual = kdproto.APIReadVirtualMemory.String()
	ackType        = kdproto.PacketTypeAcknowledge.String()
	manipulateType = kdproto.PacketTypeStateManipulate.String()
)

func (r *recorder) event(e sim.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()

	switch e.Kind {
	case sim.EventConnect:
		r.connected, r.answered, r.requests, r.apis = e.Time, time.Time{}, 0, nil
	case sim.EventPacket:
		if e.Dir == "out" && r.answered.IsZero() && e.Detail == "" {
			r.answered = e.Time
		}
		if e.Dir == "out" && e.Type == manipulateType && r.awaitAck && e.ID&^kdproto.SyncPacketID == r.replyID {
			r.resent++ // the ACK did not come in time: the reply goes again
		}
		if e.Dir == "out" && e.Type == manipulateType && r.awaitReply {
			r.replyID, r.awaitReply, r.awaitAck = e.ID&^kdproto.SyncPacketID, false, true
		}
		// Only the ACK with the reply's id counts: a stale ACK can wait in
		// the receive FIFO while the target sends.
		if e.Dir == "in" && e.Type == ackType && r.awaitAck && e.ID == r.replyID {
			r.end, r.awaitAck = e.Time, false
		}
	case sim.EventAPI:
		r.requests++
		if len(r.apis) < maxAPIs {
			a := e.API
			if e.Bytes > 0 {
				a += ":" + strconv.Itoa(int(e.Bytes))
			}
			r.apis = append(r.apis, a)
		}
		if e.API == apiReadVirtual && e.Addr >= r.lo && e.Addr < r.hi {
			if r.start.IsZero() {
				r.start = e.Time
			}
			r.sizes = append(r.sizes, int(e.Bytes))
			r.awaitReply = true
		}
	case sim.EventDisconnect:
		select {
		case r.gone <- struct{}{}:
		default:
		}
	case sim.EventRun:
		r.running = e.Time
		select {
		case r.ran <- struct{}{}:
		default:
		}
	}
}

// window returns the reads recorded, how long they took on the target and
// how many of their replies were sent again.
func (r *recorder) window() (sizes []int, d time.Duration, resent int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.sizes...), r.end.Sub(r.start), r.resent
}

// maxAPIs is how many requests of a connection the recorder lists.
const maxAPIs = 64

// snapshot returns the connection's timeline so far and its requests.
func (r *recorder) snapshot() (answered time.Time, requests int, apis []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.answered, r.requests, append([]string(nil), r.apis...)
}
