package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"testing/synctest"
	"time"
)

func TestCRC1212(t *testing.T) {
	// Reference: CRC-16 polynomial 0x1021, initial 0, over big-endian
	// bytes, computed bit by bit (CRC-16/XMODEM; check value 0x31C3).
	xmodem := func(b []byte) uint16 {
		var crc uint16
		for _, c := range b {
			crc ^= uint16(c) << 8
			for range 8 {
				if crc&0x8000 != 0 {
					crc = crc<<1 ^ 0x1021
				} else {
					crc <<= 1
				}
			}
		}
		return crc
	}
	if got := xmodem([]byte("123456789")); got != 0x31C3 {
		t.Fatalf("reference CRC = %#x; want 0x31c3", got)
	}
	q := []uint32{0x31333934, 0xE0FF8112, 0x0000A002, 0xDEADBEEF}
	var be []byte
	for _, v := range q {
		be = append(be, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	if got, want := crc1212(q), xmodem(be); got != want {
		t.Errorf("crc1212 = %#x; want %#x", got, want)
	}
}

func TestKDROMAddress(t *testing.T) {
	good := kdROM(0x1003E0)
	if addr, ok := kdROMAddress(good); !ok || addr != 0x1003E0 {
		t.Errorf("kdROMAddress(KD ROM) = %#x, %v; want 0x1003e0", addr, ok)
	}
	swapped := append([]uint32(nil), good...)
	swapped[8], swapped[9] = swapped[9], swapped[8] // 0x1D before 0x1C
	wrongVendor := append([]uint32(nil), good...)
	wrongVendor[8] = 0x1C001234
	wrongKind := append([]uint32(nil), good...)
	wrongKind[9] = 0x1D000003
	short := append([]uint32(nil), good...)
	short[5] = 3 << 16 // root directory ends before the keys
	for name, rom := range map[string][]uint32{
		"plain": plainROM(), "empty": nil, "swapped": swapped, "vendor": wrongVendor,
		"kind": wrongKind, "short directory": short, "truncated": good[:9], "header only": {0x04040000},
	} {
		if addr, ok := kdROMAddress(rom); ok {
			t.Errorf("kdROMAddress(%s) = %#x; want no match", name, addr)
		}
	}
}

func TestFramer(t *testing.T) {
	data := kdPacket(false, 2, 0x80800000, []byte("payload"))
	ctrl := kdPacket(true, 4, 0x80800000, nil)
	empty := kdPacket(false, 3, 1, nil)
	var stream []byte
	stream = append(stream, 0x00, 0x30, 0x30, 0x41) // noise and a broken leader
	stream = append(stream, onWire(data)...)
	stream = append(stream, 0x69, 0x69, kdBreakin) // a broken control leader, then a break-in
	stream = append(stream, ctrl...)
	stream = append(stream, onWire(empty)...)
	want := [][]byte{data, {kdBreakin}, ctrl, empty}
	for _, step := range []int{1, 3, 7, len(stream)} {
		var f framer
		var got [][]byte
		for i := 0; i < len(stream); {
			end := min(i+step, len(stream))
			chunk := stream[i:end]
			for len(chunk) > 0 {
				n, pkt, err := f.push(chunk)
				if err != nil {
					t.Fatal(err)
				}
				chunk = chunk[n:]
				if pkt != nil {
					got = append(got, pkt)
				}
			}
			i = end
		}
		if len(got) != len(want) {
			t.Fatalf("step %d: %d packets %x; want %d", step, len(got), got, len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("step %d: packet %d = %x; want %x", step, i, got[i], want[i])
			}
		}
		if !f.idle() {
			t.Errorf("step %d: framer not idle at the end", step)
		}
	}
	var f framer
	huge := kdPacket(false, 2, 1, make([]byte, recvPacketMax))
	if _, _, err := f.push(huge); err == nil {
		t.Error("a packet larger than the mailbox was accepted")
	}
}

// fwHarness is a conn1394 on a fake bus with a polling fake target.
type fwHarness struct {
	bus    *fakeBus
	node   *fakeNode
	target *fakeTarget
	conn   *conn1394
	rec    *recorder
}

var fwTestOptions = Options{MailboxPoll: time.Millisecond, PollInterval: 5 * time.Millisecond, TargetTimeout: time.Second}

// newFWHarness must run inside a synctest bubble.
func newFWHarness(t *testing.T, channel int, extra ...*fakeNode) *fwHarness {
	t.Helper()
	node := newKDNode(3, 20)
	bus := newFakeBus(append(extra, node)...)
	h := &fwHarness{bus: bus, node: node, target: newFakeTarget(bus, node), rec: newRecorder()}
	o := fwTestOptions
	o.Events = h.rec.record
	c, err := newConn1394(bus, Spec{Kind: Kind1394, Channel: channel, Resets: -1}, o, newEmitter(o.Events))
	if err != nil {
		t.Fatalf("newConn1394: %v", err)
	}
	h.conn = c
	ctx, cancel := context.WithCancel(context.Background())
	go h.target.run(ctx)
	t.Cleanup(func() {
		c.Close()
		cancel()
	})
	return h
}

// sendToTarget writes p as the host's engine would and checks the target
// got exactly pkt.
func (h *fwHarness) sendToTarget(t *testing.T, wire, pkt []byte) {
	t.Helper()
	mustWrite(t, h.conn, wire)
	select {
	case got := <-h.target.got:
		if !bytes.Equal(got, pkt) {
			t.Fatalf("target got %x; want %x", got, pkt)
		}
	case <-time.After(time.Minute):
		t.Fatalf("target never got %x", pkt)
	}
}

// recvFromTarget has the target send pkt and checks Read presents it as a
// serial line would.
func (h *fwHarness) recvFromTarget(t *testing.T, pkt []byte) {
	t.Helper()
	h.target.toHost <- pkt
	readFull(t, h.conn, onWire(pkt))
}

func TestFwDiscovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		camera := &fakeNode{id: 1, rom: plainROM()}
		h := newFWHarness(t, 20, camera)
		if got, want := h.conn.Name(), "1394 channel 20 (fake3)"; got != want {
			t.Errorf("Name() = %q; want %q", got, want)
		}
		if h.conn.sendBox != fakeSendBox || h.conn.recvBox != fakeRecvBox {
			t.Errorf("mailboxes %#x, %#x; want %#x, %#x", h.conn.sendBox, h.conn.recvBox, fakeSendBox, fakeRecvBox)
		}
	})
}

func TestFwDiscoveryErrors(t *testing.T) {
	badTag := newKDNode(4, 20)
	copy(badTag.mem[fakeCfg-fakeBase:], []byte{1, 2, 3, 4})
	badVersion := newKDNode(5, 20)
	badVersion.mem[fakeCfg-fakeBase+4] = 2
	badBoxes := newKDNode(6, 20)
	clear(badBoxes.mem[fakeCfg-fakeBase+16 : fakeCfg-fakeBase+24])
	farConfig := newKDNode(8, 20)
	farConfig.rom = kdROM(0xFFFFF0) // the config block is not in the target's memory
	denied := &fakeNode{id: 1, err: fwPermissionError("/dev/fw1")}
	tests := []struct {
		name  string
		nodes []*fakeNode
		want  string
	}{
		{"no nodes", nil, "transport: no node on the bus publishes the KD 1394 ROM keys"},
		{"no KD node", []*fakeNode{{id: 1, rom: plainROM()}}, "transport: no node on the bus publishes the KD 1394 ROM keys"},
		{"wrong channel", []*fakeNode{newKDNode(7, 7)}, "transport: config block on node 7 has channel 7, wanted 20"},
		{"wrong tag", []*fakeNode{badTag}, "transport: config block on node 4 has tag 0x04030201, wanted 0xbabababa"},
		{"wrong version", []*fakeNode{badVersion}, "transport: config block on node 5 has version 2.0, wanted 1.x"},
		{"bad mailboxes", []*fakeNode{badBoxes}, "transport: config block on node 6 has unusable mailbox addresses 0x0 and 0x101400"},
		{"address error", []*fakeNode{farConfig}, "transport: node 8: reading the KD config block at 0xfffff0: address error"},
		{"permission", []*fakeNode{denied}, "transport: permission denied opening /dev/fw1: run as root or add a udev rule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus := newFakeBus(tt.nodes...)
			_, err := newConn1394(bus, Spec{Kind: Kind1394, Channel: 20}, fwTestOptions, nil)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("newConn1394 = %v; want %q", err, tt.want)
			}
			if !bus.closed {
				t.Error("bus not closed after a failed open")
			}
		})
	}
	// A matching node wins over mismatching ones.
	bus := newFakeBus(newKDNode(7, 7), newKDNode(9, 20))
	c, err := newConn1394(bus, Spec{Kind: Kind1394, Channel: 20}, fwTestOptions, nil)
	if err != nil || c.node.ID != 9 {
		t.Fatalf("newConn1394 with two targets = %v; want node 9", err)
	}
	c.Close()
	if !errors.Is(fwPermissionError("/dev/fw1"), os.ErrPermission) {
		t.Error("permission error does not match os.ErrPermission")
	}
}

func TestFwPackets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newFWHarness(t, 20)
		// Host → target: data, control, break-in, and a packet split across writes.
		data := kdPacket(false, 2, 0x80800000, bytes.Repeat([]byte("manipulate"), 150)) // spans several blocks
		h.sendToTarget(t, onWire(data), data)
		ctrl := kdPacket(true, 4, 0x80800000, nil)
		h.sendToTarget(t, ctrl, ctrl)
		h.sendToTarget(t, []byte{kdBreakin}, []byte{kdBreakin})
		small := kdPacket(false, 2, 0x80800001, []byte("split"))
		wire := onWire(small)
		mustWrite(t, h.conn, wire[:5])
		h.sendToTarget(t, wire[5:], small)

		// Target → host: data (several blocks), control, empty data.
		h.recvFromTarget(t, kdPacket(false, 7, 0x80800000, bytes.Repeat([]byte{0xAA, 0x30, 0x69}, 1000)))
		h.recvFromTarget(t, kdPacket(true, 4, 0x80800000, nil))
		h.recvFromTarget(t, kdPacket(false, 7, 0x80800001, nil))

		// Small reads get the packet piece by piece.
		pkt := kdPacket(false, 7, 2, []byte("abc"))
		h.target.toHost <- pkt
		var got []byte
		for len(got) < len(onWire(pkt)) {
			b := make([]byte, 2)
			n, err := h.conn.Read(b)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, b[:n]...)
		}
		if !bytes.Equal(got, onWire(pkt)) {
			t.Fatalf("read %x; want %x", got, onWire(pkt))
		}
	})
}

func TestFwMalformedTargetPacket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newFWHarness(t, 20)
		bad := kdPacket(false, 7, 1, []byte("xyz"))
		bad[6] = 99 // ByteCount disagrees with the mailbox length
		h.target.toHost <- bad
		good := kdPacket(false, 7, 2, []byte("ok"))
		h.recvFromTarget(t, good)
		if h.conn.dropped != 1 {
			t.Errorf("dropped = %d; want 1", h.conn.dropped)
		}
	})
}

func TestFwOversizedWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newFWHarness(t, 20)
		_, err := h.conn.Write(onWire(kdPacket(false, 2, 1, make([]byte, recvPacketMax))))
		var oe *OpError
		if !errors.As(err, &oe) {
			t.Fatalf("Write(huge) = %v; want an *OpError", err)
		}
		ctrl := kdPacket(true, 4, 1, nil)
		h.sendToTarget(t, ctrl, ctrl) // the framer recovered
	})
}

func TestFwBusResetMidTransfer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newFWHarness(t, 20)
		// Target → host: the reset hits while the payload is being read.
		resets := 0
		h.bus.mu.Lock()
		h.bus.fault = func(op string, addr uint64) error {
			if op == "rb" && addr == fakeSendBox+sendHeaderSize && resets == 0 {
				resets++
				h.bus.resetLocked()
				return errGeneration
			}
			if op == "wb" && addr == fakeRecvBox+4 && resets == 1 {
				resets++
				h.bus.resetLocked()
				return errGeneration
			}
			return nil
		}
		h.bus.mu.Unlock()
		up := kdPacket(false, 7, 1, []byte("state change"))
		h.recvFromTarget(t, up)
		if e := h.rec.wait(t, EventBusReset); e.Attempt != 1 {
			t.Errorf("bus reset event %v; want attempt 1", e)
		}
		// Host → target: the reset hits while the packet is being written.
		down := kdPacket(false, 2, 1, []byte("manipulate"))
		h.sendToTarget(t, onWire(down), down)
		if e := h.rec.wait(t, EventBusReset); e.Attempt != 2 {
			t.Errorf("bus reset event %v; want attempt 2", e)
		}
		if resets != 2 {
			t.Errorf("%d resets injected; want 2", resets)
		}
		// A reset noticed only through the notification works too.
		h.bus.reset()
		h.recvFromTarget(t, kdPacket(true, 4, 1, nil))
		h.rec.wait(t, EventBusReset)
		select {
		case extra := <-h.target.got:
			t.Fatalf("target got a duplicate packet %x", extra)
		default:
		}
	})
}

func TestFwAddressErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newFWHarness(t, 20)
		// A few address errors (DMA not yet re-enabled) are ridden out.
		failures := 3
		h.bus.mu.Lock()
		h.bus.fault = func(op string, addr uint64) error {
			if op == "rq" && addr == fakeSendBox && failures > 0 {
				failures--
				return errAddress
			}
			return nil
		}
		h.bus.mu.Unlock()
		h.recvFromTarget(t, kdPacket(false, 7, 1, []byte("x")))

		// Address errors that last longer than the target timeout fail Read.
		h.bus.mu.Lock()
		h.bus.fault = func(op string, addr uint64) error { return errAddress }
		h.bus.mu.Unlock()
		start := time.Now()
		_, err := h.conn.Read(make([]byte, 1))
		if !errors.Is(err, errAddress) {
			t.Fatalf("Read with persistent address errors = %v; want an address error", err)
		}
		if d := time.Since(start); d < fwTestOptions.TargetTimeout {
			t.Errorf("gave up after %v; want at least %v", d, fwTestOptions.TargetTimeout)
		}
	})
}

func TestFwTargetStopsPolling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newFWHarness(t, 20)
		h.target.setPolling(false)
		mustWrite(t, h.conn, []byte{kdBreakin}) // the mailbox is free: this one lands
		// A break-in while one is already waiting does not block.
		mustWrite(t, h.conn, []byte{kdBreakin})
		// A write deadline shorter than the target timeout wins.
		pkt := kdPacket(true, 4, 1, nil)
		h.conn.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := h.conn.Write(pkt); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Write with deadline = %v; want os.ErrDeadlineExceeded", err)
		}
		h.conn.SetWriteDeadline(time.Time{})
		start := time.Now()
		n, err := h.conn.Write(pkt)
		if n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Write to a target that stopped polling = %d, %v; want a timeout", n, err)
		}
		if d := time.Since(start); d < fwTestOptions.TargetTimeout {
			t.Errorf("gave up after %v; want %v", d, fwTestOptions.TargetTimeout)
		}
		// The target comes back, takes the one break-in, then new packets.
		h.target.setPolling(true)
		if got := <-h.target.got; !bytes.Equal(got, []byte{kdBreakin}) {
			t.Fatalf("target got %x; want the break-in", got)
		}
		h.sendToTarget(t, pkt, pkt)
		select {
		case extra := <-h.target.got:
			t.Fatalf("target got an extra packet %x", extra)
		default:
		}
	})
}

func TestFwDeadlinesAndClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newFWHarness(t, 20)
		c := h.conn
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Read with deadline = %v; want os.ErrDeadlineExceeded", err)
		}
		c.SetReadDeadline(time.Time{})
		pending := readAsync(c, 1)
		synctest.Wait()
		c.SetReadDeadline(time.Now())
		if r := <-pending; !errors.Is(r.err, os.ErrDeadlineExceeded) {
			t.Fatalf("Read woken by deadline = %v; want os.ErrDeadlineExceeded", r.err)
		}
		c.SetReadDeadline(time.Time{})
		c.SetWriteDeadline(time.Now().Add(-time.Second))
		if _, err := c.Write([]byte{kdBreakin}); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Write past deadline = %v; want os.ErrDeadlineExceeded", err)
		}
		pending = readAsync(c, 1)
		synctest.Wait()
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if r := <-pending; !errors.Is(r.err, net.ErrClosed) {
			t.Fatalf("Read during Close = %v; want net.ErrClosed", r.err)
		}
		if _, err := c.Write([]byte{kdBreakin}); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Write after Close = %v; want net.ErrClosed", err)
		}
		if err := c.Close(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("second Close = %v; want net.ErrClosed", err)
		}
		if n, err := c.Read(nil); n != 0 || err != nil && err != io.EOF {
			t.Errorf("Read(nil) = %d, %v", n, err)
		}
	})
}

func TestFwResetDuringDiscovery(t *testing.T) {
	node := newKDNode(3, 20)
	bus := newFakeBus(node)
	first := true
	bus.fault = func(op string, addr uint64) error {
		if first && addr == fakeCfg {
			first = false
			bus.resetLocked()
			bus.dmaOff = false
			return errGeneration
		}
		return nil
	}
	c, err := newConn1394(bus, Spec{Kind: Kind1394, Channel: 20}, fwTestOptions, nil)
	if err != nil {
		t.Fatalf("newConn1394 with a reset during discovery: %v", err)
	}
	c.Close()
}
