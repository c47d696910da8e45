package transport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// This file holds what the 1394 backend knows about the target: the
// config-ROM keys, the config block and the two mailboxes, as described by
// the public Singularity RDK target (spec kdnet-1394.md §A.2). Everything
// the target stores in its memory is little-endian.

// fwNode is a remote node on the 1394 bus as of one bus generation.
type fwNode struct {
	ID   int      // a stable number for messages: N of /dev/fwN
	Name string   // device name, e.g. /dev/fw1
	ROM  []uint32 // config ROM quadlets as numbers (bus order already undone)
	Gen  uint32   // bus generation the node was seen in
	Err  error    // set when the node could not be examined (e.g. permission)
}

// fwBus is the "remote physical memory" the mailbox logic runs on: a view
// of the bus and read/write transactions at 48-bit addresses of one node,
// tagged with the node's generation. Implementations: the firewire-cdev
// bus on Linux and an in-memory fake in tests. Methods are called with one
// transaction at a time.
type fwBus interface {
	// Nodes looks at the bus afresh and returns every node except the
	// local one.
	Nodes() ([]fwNode, error)
	// ReadQuadlet reads the little-endian 32-bit word at addr.
	ReadQuadlet(n fwNode, addr uint64) (uint32, error)
	// ReadBlock fills buf with target memory starting at addr.
	ReadBlock(n fwNode, addr uint64, buf []byte) error
	// WriteQuadlet stores v little-endian at addr.
	WriteQuadlet(n fwNode, addr uint64, v uint32) error
	// WriteBlock stores data at addr.
	WriteBlock(n fwNode, addr uint64, data []byte) error
	// BusReset returns a channel that is closed at the next bus reset.
	BusReset() <-chan struct{}
	// Close releases the bus.
	Close() error
}

// busError is a failed 1394 transaction, by its IEEE 1394 response code
// (the rcode values of linux/firewire-constants.h).
type busError uint32

// The response codes the backend tells apart.
const (
	errConflict   busError = 0x04
	errData       busError = 0x05
	errType       busError = 0x06
	errAddress    busError = 0x07
	errSend       busError = 0x10
	errCancelled  busError = 0x11
	errBusy       busError = 0x12
	errGeneration busError = 0x13
	errNoAck      busError = 0x14
)

func (e busError) Error() string {
	switch e {
	case errConflict:
		return "conflict error"
	case errData:
		return "data error"
	case errType:
		return "type error"
	case errAddress:
		return "address error"
	case errSend:
		return "send error"
	case errCancelled:
		return "transaction cancelled"
	case errBusy:
		return "node busy"
	case errGeneration:
		return "stale bus generation"
	case errNoAck:
		return "no acknowledge"
	}
	return "rcode 0x" + strconv.FormatUint(uint64(e), 16)
}

// lostError wraps a failure to find the target again after a bus reset;
// it is transient until the target timeout runs out.
type lostError struct{ err error }

func (e *lostError) Error() string { return "target lost after bus reset: " + e.err.Error() }
func (e *lostError) Unwrap() error { return e.err }

// isTransient reports whether a bus failure may go away by itself: bus
// resets, the window after one in which the target's physical DMA is off,
// lost responses.
func isTransient(err error) bool {
	var be busError
	var le *lostError
	return errors.As(err, &be) || errors.As(err, &le) || errors.Is(err, os.ErrDeadlineExceeded)
}

// The KD 1394 layout.
const (
	romKeyVendor   = 0x1C   // immediate entry: value 0x0050F2 (Microsoft)
	romKeyKind     = 0x1D   // immediate entry: value 2
	romKeyAddress  = 0x1E   // immediate entry: 24-bit address of the config block
	romVendorMS    = 0x50F2 //
	romKindKD      = 2      //
	configTag      = 0xBABABABA
	configSize     = 32
	statusPending  = 0x103 // TransferStatus: a packet is waiting (STATUS_PENDING)
	statusFree     = 0
	mailboxSize    = 4096
	sendHeaderSize = 24                           // status, KD header, length
	recvHeaderSize = 8                            // status, length
	sendPayloadMax = mailboxSize - sendHeaderSize // payload bytes target→host
	recvPacketMax  = mailboxSize - recvHeaderSize // header+payload bytes host→target
)

// errNoKDNode is returned when no node publishes the ROM keys.
var errNoKDNode = errors.New("transport: no node on the bus publishes the KD 1394 ROM keys")

// fwPermissionError is the error for a /dev/fw* device we may not open.
func fwPermissionError(path string) error {
	return &wrapErr{msg: "transport: permission denied opening " + path + ": run as root or add a udev rule",
		causes: []error{os.ErrPermission}}
}

// kdROMAddress looks in a config ROM's root directory for the KD keys, in
// order: 0x1C = 0x50F2, then 0x1D = 2, then 0x1E = the config-block address.
func kdROMAddress(rom []uint32) (uint64, bool) {
	if len(rom) == 0 {
		return 0, false
	}
	root := 1 + int(rom[0]>>24) // after the bus-information block
	if root >= len(rom) {
		return 0, false
	}
	end := min(root+int(rom[root]>>16), len(rom)-1)
	state := 0
	for i := root + 1; i <= end; i++ {
		key, val := rom[i]>>24, rom[i]&0xFFFFFF
		switch {
		case state == 0 && key == romKeyVendor && val == romVendorMS:
			state = 1
		case state == 1 && key == romKeyKind && val == romKindKD:
			state = 2
		case state == 2 && key == romKeyAddress:
			return uint64(val), true
		}
	}
	return 0, false
}

// configBlock is the target's 32-byte description of the mailboxes.
type configBlock struct {
	Tag          uint32
	Major, Minor uint16
	ID           uint32 // the channel the target was configured with
	BusPresent   uint32
	SendAddr     uint64 // target→host mailbox
	RecvAddr     uint64 // host→target mailbox
}

func parseConfigBlock(b []byte) configBlock {
	le := binary.LittleEndian
	return configBlock{
		Tag:        le.Uint32(b[0:]),
		Major:      le.Uint16(b[4:]),
		Minor:      le.Uint16(b[6:]),
		ID:         le.Uint32(b[8:]),
		BusPresent: le.Uint32(b[12:]),
		SendAddr:   le.Uint64(b[16:]),
		RecvAddr:   le.Uint64(b[24:]),
	}
}

// check explains why cb cannot be used for channel on node id, or nil.
func (cb configBlock) check(id, channel int) error {
	const maxAddr = 1<<48 - mailboxSize
	switch {
	case cb.Tag != configTag:
		return fmt.Errorf("transport: config block on node %d has tag %#08x, wanted %#08x", id, cb.Tag, uint32(configTag))
	case cb.Major != 1:
		return fmt.Errorf("transport: config block on node %d has version %d.%d, wanted 1.x", id, cb.Major, cb.Minor)
	case int(cb.ID) != channel:
		return fmt.Errorf("transport: config block on node %d has channel %d, wanted %d", id, cb.ID, channel)
	case cb.SendAddr == 0 || cb.SendAddr > maxAddr || cb.RecvAddr == 0 || cb.RecvAddr > maxAddr:
		return fmt.Errorf("transport: config block on node %d has unusable mailbox addresses %#x and %#x", id, cb.SendAddr, cb.RecvAddr)
	}
	return nil
}

// The 1394 message layout, as far as the mailboxes need it. The KD packet
// inside is kdproto's business, which this package must not import.
const (
	fwHeaderSize = 16   // the send mailbox's header field: a KD packet header
	fwBreakin    = 0x62 // the one-byte break-in message
)

// FWMessageMax is the largest message ReadPacket returns on 1394: the
// 16-byte header field and the largest payload the send mailbox holds.
const FWMessageMax = fwHeaderSize + sendPayloadMax
