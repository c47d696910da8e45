package sim

import (
	"context"
	"errors"
	"io"
	"maps"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/gokd/kd/kdproto"
)

// ErrRebooted is returned by Serve when the host rebooted the target: the
// link dropped and the machine has booted afresh (its next packet carries
// the sync bit again).
var ErrRebooted = errors.New("sim: target rebooted")

// ErrClosed is returned by Serve after Close.
var ErrClosed = errors.New("sim: machine closed")

var errReboot = errors.New("sim: reboot")

const maxBreakpoints = 32

type breakpoint struct {
	addr   uint64
	orig   byte
	active bool
}

// stopState is the stop the target is in: the state change that began it
// and whether the host has acknowledged it yet.
type stopState struct {
	cpu      int
	kind     kdproto.StateKind
	code     kdproto.Status
	pc       uint64
	payload  []byte
	sent     bool
	bugcheck bool
}

// Machine is a simulated Windows x64 machine with a KDCOM debug port. Its
// state survives from one Serve to the next, like a VM whose serial port
// is reconnected.
type Machine struct {
	cfg  Config
	syms map[string]uint64 // immutable after New: the layout never changes

	ctlMu   sync.Mutex
	serving bool
	closed  bool
	cancel  context.CancelFunc

	// Owned by the serving goroutine (Serve calls are serialised by ctlMu).
	frng     *rand.Rand
	im       *image
	curID    uint32 // CurrentPacketId: id of our next data packet
	remoteID uint32 // RemotePacketId: id expected on the host's next data packet
	// KDNET ids (set by ServeKDNET): a RESET renumbers nothing and a host
	// packet is a duplicate only when it repeats the last id accepted.
	kdnetIDs    bool
	lastHostID  uint32
	haveHostID  bool
	hostPresent bool
	controlC    bool // a break-in is pending (KdpControlCPending)
	stop        *stopState
	contextSent bool
	bps         [maxBreakpoints]breakpoint
	served      int
	desynced    bool
	outOfStep   bool // desync in force: every host packet is taken for a duplicate until a RESET
	muteDone    bool
	muteUntil   time.Time
	printN      int
	nextPrint   time.Time
	evilLoaded  bool
	loadPending bool // ModuleLoads: simdrv.sys has not reported its load since boot
	ports       ports

	// Buffers reused from one reply to the next: a reply's data, its
	// payload and the packet on the wire (the line copies what it keeps).
	readBuf [kdproto.MaxTransfer]byte
	repBuf  []byte
	rawBuf  []byte
	ctlBuf  [kdproto.HeaderSize]byte // a control packet being sent
	hdrBuf  [kdproto.HeaderSize]byte // the header of the packet being received
}

// New returns a freshly booted machine. Zero Config fields get defaults.
func New(cfg Config) *Machine {
	cfg = cfg.withDefaults()
	m := &Machine{cfg: cfg, frng: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6661756c7473))}
	m.boot()
	return m
}

// boot puts the machine in its power-on state: a new memory image, the
// boot ids (0x80800800 / 0x80800000), and either running or stopped at the
// initial breakpoint.
func (m *Machine) boot() {
	m.im = buildImage(m.cfg)
	if m.syms == nil {
		m.syms = maps.Clone(m.im.syms)
	}
	m.curID = kdproto.InitialPacketID | kdproto.SyncPacketID
	m.remoteID = kdproto.InitialPacketID
	m.haveHostID = false
	m.hostPresent = true
	m.controlC = false
	m.stop = nil
	m.contextSent = false
	m.bps = [maxBreakpoints]breakpoint{}
	m.printN = 0
	m.nextPrint = time.Time{}
	m.evilLoaded = false
	m.loadPending = m.cfg.ModuleLoads
	m.ports = newPorts()
	if m.cfg.Stopped {
		m.callBreak(0, 1, "nt!DbgBreakPointWithStatus")
	}
}

// Symbols returns a copy of the symbol table: "module!Name" to address.
// Module bases are "module!__ImageBase".
func (m *Machine) Symbols() map[string]uint64 { return maps.Clone(m.syms) }

// Symbol returns the address of one symbol, or 0.
func (m *Machine) Symbol(name string) uint64 { return m.syms[name] }

// KernBase returns the base address of nt.
func (m *Machine) KernBase() uint64 { return m.syms["nt!__ImageBase"] }

// Serve runs the target against one host connection until the connection
// closes, ctx ends, Close is called or the host reboots the target. It
// returns nil when the host went away, ErrRebooted after a reboot and the
// context's error when ctx ended. conn is closed on return. Only one Serve
// may run at a time.
func (m *Machine) Serve(ctx context.Context, conn io.ReadWriteCloser) error {
	m.ctlMu.Lock()
	if m.closed {
		m.ctlMu.Unlock()
		conn.Close()
		return ErrClosed
	}
	if m.serving {
		m.ctlMu.Unlock()
		return errors.New("sim: machine is already serving a host")
	}
	ctx, cancel := context.WithCancel(ctx)
	m.serving, m.cancel = true, cancel
	m.ctlMu.Unlock()
	defer func() {
		cancel()
		m.ctlMu.Lock()
		m.serving, m.cancel = false, nil
		m.ctlMu.Unlock()
	}()

	l := newLink(ctx, conn, m)
	stopClose := context.AfterFunc(ctx, func() { conn.Close() })
	defer stopClose()
	m.emit(Event{Kind: EventConnect})
	err := m.loop(l)
	l.flush()
	conn.Close()
	cancel()
	<-l.rx.done
	if l.tx != nil {
		<-l.tx.done
	}
	// Close cancels ctx, which closes conn: the loop may then see the link
	// go down before it sees ctx end. Either way it was Close.
	m.ctlMu.Lock()
	closed := m.closed
	m.ctlMu.Unlock()
	switch {
	case errors.Is(err, errReboot):
		m.emit(Event{Kind: EventDisconnect, Detail: "reboot"})
		m.boot()
		m.emit(Event{Kind: EventReboot})
		return ErrRebooted
	case errors.Is(err, errLinkDown) && !closed:
		m.emit(Event{Kind: EventDisconnect, Detail: "host closed the connection"})
		return nil
	}
	m.emit(Event{Kind: EventDisconnect, Detail: err.Error()})
	if closed {
		return ErrClosed
	}
	return err
}

// Close stops the current Serve, if any, and makes later ones fail.
func (m *Machine) Close() error {
	m.ctlMu.Lock()
	defer m.ctlMu.Unlock()
	m.closed = true
	if m.cancel != nil {
		m.cancel()
	}
	return nil
}

func (m *Machine) loop(l *link) error {
	for {
		var err error
		if m.stop != nil {
			err = m.stopped(l)
		} else {
			err = m.running(l)
		}
		if err != nil {
			return err
		}
	}
}
