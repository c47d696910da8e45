//go:build linux && (amd64 || arm64 || riscv64 || loong64 || s390x || 386)

package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The firewire-cdev ABI (linux/firewire-cdev.h). The structs mirror the C
// layout; on the architectures this file builds for, Go and C agree on
// field offsets and padding. Events are decoded from bytes instead.

// fwCdevGetInfo is struct fw_cdev_get_info.
type fwCdevGetInfo struct {
	Version         uint32
	ROMLength       uint32
	ROM             uint64
	BusReset        uint64
	BusResetClosure uint64
	Card            uint32
}

// fwCdevSendRequest is struct fw_cdev_send_request.
type fwCdevSendRequest struct {
	Tcode      uint32
	Length     uint32
	Offset     uint64
	Closure    uint64
	Data       uint64
	Generation uint32
}

const (
	cdevABIVersion  = 4 // ≤ 5 keeps the classic response event
	cdevEventReset  = 0x00
	cdevEventResp   = 0x01
	cdevResetSize   = 40 // struct fw_cdev_event_bus_reset, padded
	cdevRespHeader  = 20 // closure, type, rcode, length
	tcodeWriteQuad  = 0x0
	tcodeWriteBlock = 0x1
	tcodeReadQuad   = 0x4
	tcodeReadBlock  = 0x5
	cdevROMBytes    = 1024
	cdevRespTimeout = 2 * time.Second
)

// ioctl request numbers: _IOWR('#', 0x00, get_info), _IOW('#', 0x01, send_request).
var (
	iocGetInfo     = ioc(3, 0x00, unsafe.Sizeof(fwCdevGetInfo{}))
	iocSendRequest = ioc(1, 0x01, unsafe.Sizeof(fwCdevSendRequest{}))
)

// ioc builds an ioctl number in the asm-generic encoding: direction (1
// write, 2 read, 3 both) in bits 30-31, size in 16-29, type '#', number.
func ioc(dir, nr, size uintptr) uintptr {
	return dir<<30 | size<<16 | '#'<<8 | nr
}

var fwDevName = regexp.MustCompile(`^fw([0-9]+)$`)

// cdevDev is one open /dev/fwN.
type cdevDev struct {
	f   *os.File
	gen uint32
}

// cdevBus is fwBus over firewire-cdev: each remote node has its own
// character device, requests are ioctls and responses and bus resets are
// events read from the device.
type cdevBus struct {
	dir string // "/dev"

	mu      sync.Mutex
	devs    map[int]*cdevDev
	closure uint64
	resetCh chan struct{}
	// Buffers the kernel reads or writes through addresses inside ioctl
	// structs. They live in the heap-allocated bus so that they cannot be
	// on a goroutine stack that moves during the ioctl.
	evbuf []byte
	wbuf  []byte
	rom   []byte
	reset []byte
}

func newCdevBus(dir string) *cdevBus {
	return &cdevBus{dir: dir, devs: map[int]*cdevDev{}, resetCh: make(chan struct{}),
		evbuf: make([]byte, cdevRespHeader+mailboxSize+64),
		wbuf:  make([]byte, mailboxSize),
		rom:   make([]byte, cdevROMBytes),
		reset: make([]byte, cdevResetSize),
	}
}

// open1394 opens the 1394 backend on the host's FireWire controller.
func open1394(_ context.Context, s Spec, o Options, ev *emitter) (Conn, error) {
	return newConn1394(newCdevBus("/dev"), s, o, ev)
}

// Nodes implements fwBus: it reopens every /dev/fwN and returns the remote
// ones with their config ROMs.
func (b *cdevBus) Nodes() ([]fwNode, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closeAll()
	paths, _ := filepath.Glob(filepath.Join(b.dir, "fw*"))
	type dev struct {
		n    int
		path string
	}
	var found []dev
	for _, p := range paths {
		if m := fwDevName.FindStringSubmatch(filepath.Base(p)); m != nil {
			n, _ := strconv.Atoi(m[1])
			found = append(found, dev{n, p})
		}
	}
	if len(found) == 0 {
		return nil, errors.New("transport: no FireWire devices (" + filepath.Join(b.dir, "fw*") +
			"): is a 1394 controller present and the firewire-ohci driver loaded?")
	}
	sort.Slice(found, func(i, j int) bool { return found[i].n < found[j].n })
	var nodes []fwNode
	for _, d := range found {
		node, local, err := b.openNode(d.n, d.path)
		if err != nil {
			nodes = append(nodes, fwNode{ID: d.n, Name: d.path, Err: err})
			continue
		}
		if !local {
			nodes = append(nodes, node)
		}
	}
	return nodes, nil
}

// openNode opens one device and reads its ROM and bus-reset state. Local
// nodes are closed again and reported with local set.
func (b *cdevBus) openNode(id int, path string) (n fwNode, local bool, err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return n, false, fwPermissionError(path)
		}
		return n, false, &OpError{Op: "open", Name: path, Err: err}
	}
	rom, reset := b.rom, b.reset
	clear(rom)
	clear(reset)
	info := fwCdevGetInfo{
		Version:   cdevABIVersion,
		ROMLength: cdevROMBytes,
		ROM:       uint64(uintptr(unsafe.Pointer(&rom[0]))),
		BusReset:  uint64(uintptr(unsafe.Pointer(&reset[0]))),
	}
	err = ioctl(f, iocGetInfo, unsafe.Pointer(&info))
	runtime.KeepAlive(rom)
	runtime.KeepAlive(reset)
	if err != nil {
		f.Close()
		return n, false, &OpError{Op: "get info", Name: path, Err: err}
	}
	ne := binary.NativeEndian
	nodeID, localID, gen := ne.Uint32(reset[12:]), ne.Uint32(reset[16:]), ne.Uint32(reset[32:])
	if nodeID == localID {
		f.Close()
		return n, true, nil
	}
	// The kernel hands the ROM over in CPU order.
	q := make([]uint32, min(int(info.ROMLength), cdevROMBytes)/4)
	for i := range q {
		q[i] = ne.Uint32(rom[4*i:])
	}
	b.devs[id] = &cdevDev{f: f, gen: gen}
	return fwNode{ID: id, Name: path, ROM: q, Gen: gen}, false, nil
}

func ioctl(f *os.File, req uintptr, arg unsafe.Pointer) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno unix.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = unix.Syscall(unix.SYS_IOCTL, fd, req, uintptr(arg))
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}

// request runs one transaction and waits for its response event.
func (b *cdevBus) request(n fwNode, tcode uint32, addr uint64, data []byte, length int) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d := b.devs[n.ID]
	if d == nil || d.gen != n.Gen {
		return nil, errGeneration
	}
	if len(data) > len(b.wbuf) || length > mailboxSize {
		return nil, errType
	}
	b.closure++
	req := fwCdevSendRequest{Tcode: tcode, Length: uint32(length), Offset: addr, Closure: b.closure, Generation: n.Gen}
	if len(data) > 0 {
		copy(b.wbuf, data)
		req.Data = uint64(uintptr(unsafe.Pointer(&b.wbuf[0])))
	}
	err := ioctl(d.f, iocSendRequest, unsafe.Pointer(&req))
	if err != nil {
		return nil, &OpError{Op: "send request", Name: n.Name, Err: err}
	}
	// Without poller support the read below simply blocks until the
	// kernel's own transaction timeout produces a response.
	if err := d.f.SetReadDeadline(time.Now().Add(cdevRespTimeout)); err != nil && !errors.Is(err, os.ErrNoDeadline) {
		return nil, err
	}
	ne := binary.NativeEndian
	for {
		m, err := d.f.Read(b.evbuf)
		if err != nil {
			return nil, err
		}
		if m < 12 {
			continue
		}
		switch ne.Uint32(b.evbuf[8:]) {
		case cdevEventReset:
			if m >= 36 {
				d.gen = ne.Uint32(b.evbuf[32:])
			}
			close(b.resetCh)
			b.resetCh = make(chan struct{})
		case cdevEventResp:
			if m < cdevRespHeader || ne.Uint64(b.evbuf) != req.Closure {
				continue
			}
			if rcode := ne.Uint32(b.evbuf[12:]); rcode != 0 {
				return nil, busError(rcode)
			}
			size := min(int(ne.Uint32(b.evbuf[16:])), m-cdevRespHeader)
			return b.evbuf[cdevRespHeader : cdevRespHeader+size], nil
		}
	}
}

// ReadQuadlet implements fwBus.
func (b *cdevBus) ReadQuadlet(n fwNode, addr uint64) (uint32, error) {
	p, err := b.request(n, tcodeReadQuad, addr, nil, 4)
	if err != nil {
		return 0, err
	}
	if len(p) < 4 {
		return 0, errData
	}
	return binary.LittleEndian.Uint32(p), nil
}

// ReadBlock implements fwBus.
func (b *cdevBus) ReadBlock(n fwNode, addr uint64, buf []byte) error {
	p, err := b.request(n, tcodeReadBlock, addr, nil, len(buf))
	if err != nil {
		return err
	}
	if len(p) < len(buf) {
		return errData
	}
	copy(buf, p)
	return nil
}

// WriteQuadlet implements fwBus.
func (b *cdevBus) WriteQuadlet(n fwNode, addr uint64, v uint32) error {
	q := binary.LittleEndian.AppendUint32(nil, v)
	_, err := b.request(n, tcodeWriteQuad, addr, q, 4)
	return err
}

// WriteBlock implements fwBus.
func (b *cdevBus) WriteBlock(n fwNode, addr uint64, data []byte) error {
	_, err := b.request(n, tcodeWriteBlock, addr, data, len(data))
	return err
}

// BusReset implements fwBus.
func (b *cdevBus) BusReset() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.resetCh
}

// Close implements fwBus.
func (b *cdevBus) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closeAll()
	return nil
}

func (b *cdevBus) closeAll() {
	for id, d := range b.devs {
		d.f.Close()
		delete(b.devs, id)
	}
}
