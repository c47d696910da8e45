package transport

import (
	"context"
	"encoding/binary"
	"sync"
	"time"
)

// An in-memory 1394 bus with a KD target that behaves like the Singularity
// target of spec kdnet-1394.md §A.2: it publishes the ROM keys and a config
// block, polls its own mailboxes, and re-enables physical DMA (which a bus
// reset turns off) only while it polls.

const (
	fakeBase    = 0x00100000 // start of the target's reserved area
	fakeCfg     = fakeBase + 0x3E0
	fakeSendBox = fakeBase + 0x400
	fakeRecvBox = fakeBase + 0x1400
	fakeSize    = 0x3000
)

// fakeNode is a remote node: a ROM and a window of memory.
type fakeNode struct {
	id  int
	rom []uint32
	mem []byte // memory at fakeBase
	err error  // reported as fwNode.Err
}

// fakeBus implements fwBus.
type fakeBus struct {
	mu      sync.Mutex
	gen     uint32
	resetCh chan struct{}
	nodes   []*fakeNode
	dmaOff  bool // after a bus reset, until the target polls
	closed  bool
	// fault, when set, runs (with mu held) before each transaction; a
	// non-nil result fails the transaction. It may call resetLocked.
	fault func(op string, addr uint64) error
	ops   int
}

func newFakeBus(nodes ...*fakeNode) *fakeBus {
	return &fakeBus{gen: 1, resetCh: make(chan struct{}), nodes: nodes}
}

// crc1212 is the IEEE 1212 config-ROM CRC-16, processed a nibble at a time.
func crc1212(q []uint32) uint16 {
	var crc uint32
	for _, d := range q {
		for shift := 28; shift >= 0; shift -= 4 {
			sum := ((crc >> 12) ^ (d >> uint(shift))) & 0xF
			crc = (crc << 4) ^ (sum << 12) ^ (sum << 5) ^ sum
		}
		crc &= 0xFFFF
	}
	return uint16(crc)
}

// kdROM builds a config ROM with the KD keys pointing at cfg.
func kdROM(cfg uint32) []uint32 {
	rom := []uint32{0, 0x31333934, 0x0000A002, 0x00112233, 0x44556677,
		0, 0x0C0083C0, 0x030050F2, 0x1C0050F2, 0x1D000002, 0x1E000000 | cfg&0xFFFFFF}
	rom[0] = 4<<24 | 4<<16 | uint32(crc1212(rom[1:5]))
	rom[5] = 5<<16 | uint32(crc1212(rom[6:11]))
	return rom
}

// plainROM is a node without the KD keys (say, a camera).
func plainROM() []uint32 {
	rom := []uint32{0, 0x31333934, 0x0000A002, 0x0A0B0C0D, 0x0E0F1011, 0, 0x0C0083C0, 0x03001122}
	rom[0] = 4<<24 | 4<<16 | uint32(crc1212(rom[1:5]))
	rom[5] = 2<<16 | uint32(crc1212(rom[6:8]))
	return rom
}

// newKDNode returns a target node configured for channel.
func newKDNode(id, channel int) *fakeNode {
	n := &fakeNode{id: id, rom: kdROM(fakeCfg), mem: make([]byte, fakeSize)}
	cfg := n.mem[fakeCfg-fakeBase:]
	le := binary.LittleEndian
	le.PutUint32(cfg[0:], configTag)
	le.PutUint16(cfg[4:], 1)
	le.PutUint16(cfg[6:], 0)
	le.PutUint32(cfg[8:], uint32(channel))
	le.PutUint64(cfg[16:], fakeSendBox)
	le.PutUint64(cfg[24:], fakeRecvBox)
	return n
}

func (b *fakeBus) resetLocked() {
	b.gen++
	b.dmaOff = true
	close(b.resetCh)
	b.resetCh = make(chan struct{})
}

// reset simulates a bus reset.
func (b *fakeBus) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.resetLocked()
}

func (b *fakeBus) Nodes() ([]fwNode, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []fwNode
	for _, n := range b.nodes {
		out = append(out, fwNode{ID: n.id, Name: "fake" + itoa(n.id), ROM: append([]uint32(nil), n.rom...), Gen: b.gen, Err: n.err})
	}
	return out, nil
}

// access finds the memory a transaction touches, with mu held.
func (b *fakeBus) access(op string, n fwNode, addr uint64, size int) ([]byte, error) {
	b.ops++
	if b.closed {
		return nil, errCancelled
	}
	if n.Gen != b.gen {
		return nil, errGeneration
	}
	if b.fault != nil {
		if err := b.fault(op, addr); err != nil {
			return nil, err
		}
	}
	if b.dmaOff {
		return nil, errAddress
	}
	for _, fn := range b.nodes {
		if fn.id == n.ID && fn.mem != nil && addr >= fakeBase && addr+uint64(size) <= fakeBase+uint64(len(fn.mem)) {
			return fn.mem[addr-fakeBase : addr-fakeBase+uint64(size)], nil
		}
	}
	return nil, errAddress
}

func (b *fakeBus) ReadQuadlet(n fwNode, addr uint64) (uint32, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m, err := b.access("rq", n, addr, 4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(m), nil
}

func (b *fakeBus) ReadBlock(n fwNode, addr uint64, buf []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	m, err := b.access("rb", n, addr, len(buf))
	if err == nil {
		copy(buf, m)
	}
	return err
}

func (b *fakeBus) WriteQuadlet(n fwNode, addr uint64, v uint32) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	m, err := b.access("wq", n, addr, 4)
	if err == nil {
		binary.LittleEndian.PutUint32(m, v)
	}
	return err
}

func (b *fakeBus) WriteBlock(n fwNode, addr uint64, data []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	m, err := b.access("wb", n, addr, len(data))
	if err == nil {
		copy(m, data)
	}
	return err
}

func (b *fakeBus) BusReset() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.resetCh
}

func (b *fakeBus) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}

// fakeTarget is the target CPU's side of the mailboxes.
type fakeTarget struct {
	bus     *fakeBus
	node    *fakeNode
	period  time.Duration
	toHost  chan []byte // packets (header+payload) the target sends
	got     chan []byte // packets the target received from the host
	mu      sync.Mutex
	polling bool
	queue   [][]byte
}

func newFakeTarget(b *fakeBus, n *fakeNode) *fakeTarget {
	return &fakeTarget{bus: b, node: n, period: time.Millisecond, toHost: make(chan []byte, 16),
		got: make(chan []byte, 64), polling: true}
}

// setPolling starts or stops the target's polling (a target that hangs).
func (ft *fakeTarget) setPolling(on bool) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.polling = on
}

// run polls until ctx ends.
func (ft *fakeTarget) run(ctx context.Context) {
	tick := time.NewTicker(ft.period)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-ft.toHost:
			ft.mu.Lock()
			ft.queue = append(ft.queue, p)
			ft.mu.Unlock()
		case <-tick.C:
			ft.step()
		}
	}
}

func (ft *fakeTarget) step() {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if !ft.polling {
		return
	}
	b := ft.bus
	b.mu.Lock()
	defer b.mu.Unlock()
	b.dmaOff = false // the target re-opens its physical-request filters
	le := binary.LittleEndian
	mem := ft.node.mem
	recv := mem[fakeRecvBox-fakeBase:]
	if le.Uint32(recv) == statusPending {
		n := int(le.Uint32(recv[4:]))
		ft.got <- append([]byte(nil), recv[8:8+n]...)
		le.PutUint32(recv, statusFree)
	}
	send := mem[fakeSendBox-fakeBase:]
	if len(ft.queue) > 0 && le.Uint32(send) == statusFree {
		p := ft.queue[0]
		ft.queue = ft.queue[1:]
		copy(send[4:20], p[:16])
		le.PutUint32(send[20:], uint32(len(p)-16))
		copy(send[24:], p[16:])
		le.PutUint32(send, statusPending)
	}
}

// kdPacket builds a KD packet (header and payload, no trailing byte).
func kdPacket(control bool, typ uint16, id uint32, payload []byte) []byte {
	p := make([]byte, 16, 16+len(payload))
	lead := uint32(0x30303030)
	if control {
		lead = 0x69696969
	}
	le := binary.LittleEndian
	le.PutUint32(p[0:], lead)
	le.PutUint16(p[4:], typ)
	le.PutUint16(p[6:], uint16(len(payload)))
	le.PutUint32(p[8:], id)
	var sum uint32
	for _, c := range payload {
		sum += uint32(c)
	}
	le.PutUint32(p[12:], sum)
	return append(p, payload...)
}
