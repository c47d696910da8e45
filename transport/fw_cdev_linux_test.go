//go:build linux && (amd64 || arm64 || riscv64 || loong64 || s390x || 386)

package transport

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"unsafe"
)

// TestCdevABI pins the firewire-cdev layouts and ioctl numbers to the
// values of linux/firewire-cdev.h (checked with a C compiler on x86-64).
func TestCdevABI(t *testing.T) {
	if runtime.GOARCH == "386" {
		t.Skip("the 32-bit x86 layout is 4 bytes shorter")
	}
	if got := unsafe.Sizeof(fwCdevGetInfo{}); got != 40 {
		t.Errorf("sizeof(fw_cdev_get_info) = %d; want 40", got)
	}
	if got := unsafe.Sizeof(fwCdevSendRequest{}); got != 40 {
		t.Errorf("sizeof(fw_cdev_send_request) = %d; want 40", got)
	}
	if got := unsafe.Offsetof(fwCdevSendRequest{}.Generation); got != 32 {
		t.Errorf("offsetof(generation) = %d; want 32", got)
	}
	if iocGetInfo != 0xC0282300 {
		t.Errorf("FW_CDEV_IOC_GET_INFO = %#x; want 0xc0282300", iocGetInfo)
	}
	if iocSendRequest != 0x40282301 {
		t.Errorf("FW_CDEV_IOC_SEND_REQUEST = %#x; want 0x40282301", iocSendRequest)
	}
}

func TestCdevNoDevices(t *testing.T) {
	dir := t.TempDir()
	// Names that only look like FireWire devices are ignored.
	for _, n := range []string{"fwx", "fw1a", "firewire"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, err := newConn1394(newCdevBus(dir), Spec{Kind: Kind1394, Channel: 20}, Options{}, nil)
	want := "transport: no FireWire devices (" + filepath.Join(dir, "fw*") +
		"): is a 1394 controller present and the firewire-ohci driver loaded?"
	if err == nil || err.Error() != want {
		t.Fatalf("open with no devices = %v; want %q", err, want)
	}
}

func TestCdevNotADevice(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fw1"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// A regular file fails GET_INFO; the node is reported, not fatal.
	b := newCdevBus(dir)
	nodes, err := b.Nodes()
	if err != nil || len(nodes) != 1 || nodes[0].Err == nil {
		t.Fatalf("Nodes() = %+v, %v; want one node with an error", nodes, err)
	}
	var oe *OpError
	if !errors.As(nodes[0].Err, &oe) || oe.Op != "get info" {
		t.Errorf("node error = %v; want a get info *OpError", nodes[0].Err)
	}
	b.Close()
}

func TestOpen1394WithoutHardware(t *testing.T) {
	if _, err := os.Stat("/dev/fw0"); err == nil {
		t.Skip("this host has FireWire devices")
	}
	_, err := Open(context.Background(), mustParse(t, "1394:channel=20"), Options{})
	if err == nil {
		t.Fatal("Open(1394) succeeded without hardware")
	}
}
