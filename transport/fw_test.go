package transport

import (
	"bytes"
	"context"
	"errors"
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

// sendToTarget writes pkt as kdproto's mailbox link would and checks the
// target got exactly pkt.
func (h *fwHarness) sendToTarget(t *testing.T, pkt []byte) {
	t.Helper()
	if err := h.conn.WritePacket(pkt); err != nil {
		t.Fatalf("WritePacket(%x): %v", pkt, err)
	}
	select {
	case got := <-h.target.got:
		if !bytes.Equal(got, pkt) {
			t.Fatalf("target got %x; want %x", got, pkt)
		}
	case <-time.After(time.Minute):
		t.Fatalf("target never got %x", pkt)
	}
}

// recvFromTarget has the target send pkt and checks ReadPacket returns
// exactly its bytes.
func (h *fwHarness) recvFromTarget(t *testing.T, pkt []byte) {
	t.Helper()
	h.target.toHost <- pkt
	buf := make([]byte, FWMessageMax)
	n, err := h.conn.ReadPacket(buf)
	if err != nil {
		t.Fatalf("ReadPacket: %v", err)
	}
	if !bytes.Equal(buf[:n], pkt) {
		t.Fatalf("ReadPacket = %x; want %x", buf[:n], pkt)
	}
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
		// Host → target: data (several blocks), control, break-in. The
		// bytes are opaque here: no KD header is checked.
		data := kdPacket(false, 2, 0x80800000, bytes.Repeat([]byte("manipulate"), 150))
		h.sendToTarget(t, data)
		ctrl := kdPacket(true, 4, 0x80800000, nil)
		h.sendToTarget(t, ctrl)
		if err := h.conn.BreakIn(); err != nil {
			t.Fatal(err)
		}
		if got := <-h.target.got; !bytes.Equal(got, []byte{fwBreakin}) {
			t.Fatalf("target got %x; want the break-in", got)
		}
		h.sendToTarget(t, []byte("not a KD packet"))

		// Target → host: data (several blocks), control, empty data.
		h.recvFromTarget(t, kdPacket(false, 7, 0x80800000, bytes.Repeat([]byte{0xAA, 0x30, 0x69}, 1000)))
		h.recvFromTarget(t, kdPacket(true, 4, 0x80800000, nil))
		h.recvFromTarget(t, kdPacket(false, 7, 0x80800001, nil))
		bad := kdPacket(false, 7, 1, []byte("xyz"))
		bad[6] = 99 // ByteCount disagrees with the mailbox length: kdproto's business
		h.recvFromTarget(t, bad)

		// The byte-stream side of Conn refuses clearly.
		if _, err := h.conn.Read(make([]byte, 1)); !errors.Is(err, ErrPacketConn) {
			t.Errorf("Read = %v; want ErrPacketConn", err)
		}
		if _, err := h.conn.Write([]byte{1}); !errors.Is(err, ErrPacketConn) {
			t.Errorf("Write = %v; want ErrPacketConn", err)
		}
	})
}

func TestFwMessageTooLong(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newFWHarness(t, 20)
		// The mailbox's length field claims more than the mailbox holds.
		h.target.toHost <- kdPacket(false, 7, 1, make([]byte, sendPayloadMax+1))
		good := kdPacket(false, 7, 2, []byte("ok"))
		h.recvFromTarget(t, good)
		// A buffer too small for the message drops it too.
		h.target.toHost <- kdPacket(false, 7, 3, []byte("too long for the buffer"))
		h.target.toHost <- good
		buf := make([]byte, fwHeaderSize+4)
		n, err := h.conn.ReadPacket(buf)
		if err != nil || !bytes.Equal(buf[:n], good) {
			t.Fatalf("ReadPacket = %x, %v; want %x", buf[:n], err, good)
		}
		if h.conn.dropped != 2 {
			t.Errorf("dropped = %d; want 2", h.conn.dropped)
		}
	})
}

func TestFwOversizedWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newFWHarness(t, 20)
		err := h.conn.WritePacket(kdPacket(false, 2, 1, make([]byte, recvPacketMax)))
		var oe *OpError
		if !errors.As(err, &oe) {
			t.Fatalf("WritePacket(huge) = %v; want an *OpError", err)
		}
		ctrl := kdPacket(true, 4, 1, nil)
		h.sendToTarget(t, ctrl)
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
		h.sendToTarget(t, down)
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
		_, err := h.conn.ReadPacket(make([]byte, FWMessageMax))
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
		if err := h.conn.BreakIn(); err != nil { // the mailbox is free: this one lands
			t.Fatal(err)
		}
		// A break-in while one is already waiting does not block.
		if err := h.conn.BreakIn(); err != nil {
			t.Fatal(err)
		}
		// A write deadline shorter than the target timeout wins.
		pkt := kdPacket(true, 4, 1, nil)
		h.conn.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		if err := h.conn.WritePacket(pkt); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("WritePacket with deadline = %v; want os.ErrDeadlineExceeded", err)
		}
		h.conn.SetWriteDeadline(time.Time{})
		start := time.Now()
		if err := h.conn.WritePacket(pkt); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("WritePacket to a target that stopped polling = %v; want a timeout", err)
		}
		if d := time.Since(start); d < fwTestOptions.TargetTimeout {
			t.Errorf("gave up after %v; want %v", d, fwTestOptions.TargetTimeout)
		}
		// The target comes back, takes the one break-in, then new packets.
		h.target.setPolling(true)
		if got := <-h.target.got; !bytes.Equal(got, []byte{fwBreakin}) {
			t.Fatalf("target got %x; want the break-in", got)
		}
		h.sendToTarget(t, pkt)
		select {
		case extra := <-h.target.got:
			t.Fatalf("target got an extra packet %x", extra)
		default:
		}
	})
}

func TestFwWritePacketWaitsForDelivery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newFWHarness(t, 20)
		h.target.setPolling(false)
		pkt := kdPacket(false, 2, 1, []byte("manipulate"))
		done := make(chan error, 1)
		go func() { done <- h.conn.WritePacket(pkt) }()
		time.Sleep(100 * time.Millisecond) // fake time: the target is not polling
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("WritePacket returned %v before the target took the packet", err)
		default:
		}
		h.target.setPolling(true)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got := <-h.target.got; !bytes.Equal(got, pkt) {
			t.Fatalf("target got %x; want %x", got, pkt)
		}
	})
}

// readPacketAsync runs ReadPacket in a goroutine.
func readPacketAsync(c *conn1394) <-chan result {
	ch := make(chan result, 1)
	go func() {
		buf := make([]byte, FWMessageMax)
		n, err := c.ReadPacket(buf)
		ch <- result{b: buf[:n], err: err}
	}()
	return ch
}

func TestFwDeadlinesAndClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newFWHarness(t, 20)
		c := h.conn
		buf := make([]byte, FWMessageMax)
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, err := c.ReadPacket(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("ReadPacket with deadline = %v; want os.ErrDeadlineExceeded", err)
		}
		c.SetReadDeadline(time.Time{})
		pending := readPacketAsync(c)
		synctest.Wait()
		c.SetReadDeadline(time.Now())
		if r := <-pending; !errors.Is(r.err, os.ErrDeadlineExceeded) {
			t.Fatalf("ReadPacket woken by deadline = %v; want os.ErrDeadlineExceeded", r.err)
		}
		c.SetReadDeadline(time.Time{})
		c.SetWriteDeadline(time.Now().Add(-time.Second))
		if err := c.BreakIn(); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("BreakIn past deadline = %v; want os.ErrDeadlineExceeded", err)
		}
		pending = readPacketAsync(c)
		synctest.Wait()
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if r := <-pending; !errors.Is(r.err, net.ErrClosed) {
			t.Fatalf("ReadPacket during Close = %v; want net.ErrClosed", r.err)
		}
		if err := c.WritePacket([]byte{1}); !errors.Is(err, net.ErrClosed) {
			t.Errorf("WritePacket after Close = %v; want net.ErrClosed", err)
		}
		if err := c.Close(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("second Close = %v; want net.ErrClosed", err)
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
