//go:build linux

package sim

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// The terminal side of a pseudo-terminal stands in for /dev/ttyS0: it takes
// the same termios calls, and the host talks on the master side.
func openLine(t *testing.T) (master, tty *os.File) {
	t.Helper()
	master, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close(); tty.Close() })
	return master, tty
}

func TestServeDevice(t *testing.T) {
	for _, tc := range []struct {
		name         string
		exitOnReboot bool
	}{
		{"reboots in-process", false},
		{"exits on reboot", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			master, tty := openLine(t)
			connects := make(chan struct{}, 4)
			// A long byte timeout: nothing is sent again while the test is
			// slow to answer.
			m := New(Config{ByteTimeout: time.Minute, Events: func(e Event) {
				if e.Kind == EventConnect {
					connects <- struct{}{}
				}
			}})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ready := make(chan struct{})
			done := make(chan error, 1)
			go func() {
				done <- ServeDevice(ctx, m, tty.Name(), DeviceOptions{Baud: 115200, ExitOnReboot: tc.exitOnReboot,
					Ready: func() { close(ready) }})
			}()
			select {
			case <-ready:
			case err := <-done:
				t.Fatalf("ServeDevice = %v before it was ready", err)
			}
			p := newProbe(t, master)
			p.breakIn()
			p.request(apiGetVersion, 0, nil, nil)
			p.send(apiReboot, 0, nil, nil)
			if tc.exitOnReboot {
				if err := <-done; !errors.Is(err, ErrRebooted) {
					t.Fatalf("ServeDevice = %v; want ErrRebooted", err)
				}
				return
			}
			// The same line, a fresh boot: the first packet carries the sync
			// bit. (Bytes sent while the machine reboots are lost, as on a
			// real line, so the break-in waits for the new boot's Serve.)
			<-connects
			<-connects
			p.id = idInitial
			p.write([]byte{0x62})
			p.stateChange(idInitial | idSync)
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("ServeDevice = %v; want context.Canceled", err)
			}
		})
	}
}

func TestServeDeviceRefuses(t *testing.T) {
	_, tty := openLine(t)
	for _, tc := range []struct {
		name, path string
		baud       int
		want       string
	}{
		{"not a tty", os.DevNull, 115200, "is not a serial port"},
		{"missing", filepath.Join(t.TempDir(), "ttyS9"), 115200, "no such file"},
		{"odd baud", tty.Name(), 12345, "unsupported baud rate 12345"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ServeDevice(context.Background(), New(Config{}), tc.path, DeviceOptions{Baud: tc.baud,
				Ready: func() { t.Error("Ready called") }})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ServeDevice = %v; want an error with %q", err, tc.want)
			}
		})
	}
}

// TestSettleDropsBacklog: what is queued on the line when it is opened is
// thrown away; what comes after the quiet spell is served.
func TestSettleDropsBacklog(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	stale := bytes.Repeat([]byte("iiii\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), 300) // 300 RESETs, 4800 bytes
	if _, err := w.Write(stale); err != nil {
		t.Fatal(err)
	}
	port := newSharedPort(r)
	defer close(port.stop)
	if err := port.settle(context.Background(), time.Second); err != nil {
		t.Fatalf("settle = %v", err)
	}
	w.Write([]byte("fresh"))
	b := make([]byte, 16)
	n, err := port.session().Read(b)
	if err != nil || string(b[:n]) != "fresh" {
		t.Errorf("after settle read %q, %v; want \"fresh\"", b[:n], err)
	}
	w.Close()
	if err := port.settle(context.Background(), time.Second); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("settle on a closed line = %v; want io.ErrUnexpectedEOF", err)
	}
}
