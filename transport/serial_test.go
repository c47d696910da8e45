package transport

import (
	"bufio"
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.bug.st/serial"
)

var socatPTY = regexp.MustCompile(`PTY is (\S+)`)

// socatPair starts `socat -d -d pty,raw,echo=0 pty,raw,echo=0` and returns
// the two pseudo-terminals it joins. Without socat the test is skipped, or
// fails when KD_REQUIRE_SOCAT=1 (as in CI).
func socatPair(t *testing.T) (string, string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("no pseudo-terminals on windows")
	}
	path, err := exec.LookPath("socat")
	if err != nil {
		if os.Getenv("KD_REQUIRE_SOCAT") == "1" {
			t.Fatalf("socat is required (KD_REQUIRE_SOCAT=1) but not found: %v", err)
		}
		t.Skipf("socat not installed (%v); the serial tests need it", err)
	}
	cmd := exec.Command(path, "-d", "-d", "pty,raw,echo=0", "pty,raw,echo=0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	found := make(chan []string, 1)
	go func() {
		var ptys []string
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := socatPTY.FindStringSubmatch(sc.Text()); m != nil {
				ptys = append(ptys, m[1])
			}
			if strings.Contains(sc.Text(), "starting data transfer loop") {
				found <- ptys
				io.Copy(io.Discard, stderr) // keep socat from blocking on its log
				return
			}
		}
		found <- nil
	}()
	select {
	case ptys := <-found:
		if len(ptys) != 2 {
			t.Fatalf("socat reported pseudo-terminals %q; want two", ptys)
		}
		return ptys[0], ptys[1]
	case <-time.After(watchdog):
		t.Fatal("socat did not start")
		return "", ""
	}
}

func openSerialT(t *testing.T, spec string) Conn {
	t.Helper()
	c, err := Open(context.Background(), mustParse(t, spec), Options{})
	if err != nil {
		t.Fatalf("Open(%s): %v", spec, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestSerialPTY(t *testing.T) {
	a, b := socatPair(t)
	rec := newRecorder()
	host, err := Open(context.Background(), mustParse(t, "com:port="+a+",baud=115200"), Options{Events: rec.record})
	if err != nil {
		t.Fatal(err)
	}
	if host.Name() != a {
		t.Errorf("Name() = %q; want %q", host.Name(), a)
	}
	if e := rec.wait(t, EventOpened); e.Name != a {
		t.Errorf("opened event = %v", e)
	}
	target := openSerialT(t, "com:port="+b)

	// Every byte value crosses unchanged (KD needs an 8-bit clean line).
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	transfer(t, host, target, all)
	transfer(t, target, host, all)

	bs, ok := host.(BaudSetter)
	if !ok {
		t.Fatal("serial Conn is not a BaudSetter")
	}
	if bs.Baud() != 115200 {
		t.Errorf("Baud() = %d; want 115200", bs.Baud())
	}
	if err := bs.SetBaud(57600); err != nil {
		t.Fatalf("SetBaud(57600): %v", err)
	}
	if bs.Baud() != 57600 {
		t.Errorf("Baud() after SetBaud = %d; want 57600", bs.Baud())
	}
	err = bs.SetBaud(1200)
	var pe *ParseError
	if !errors.As(err, &pe) || err.Error() != "transport: baud=1200: "+baudMsg {
		t.Errorf("SetBaud(1200) = %v; want a baud ParseError", err)
	}
	testConnBasics(t, host, target, false)
	if err := bs.SetBaud(9600); !errors.Is(err, net.ErrClosed) {
		t.Errorf("SetBaud after Close = %v; want net.ErrClosed", err)
	}
}

func TestSerialDefaultBaud(t *testing.T) {
	a, _ := socatPair(t)
	c := openSerialT(t, "com:port="+a)
	if got := c.(BaudSetter).Baud(); got != DefaultBaud {
		t.Errorf("Baud() = %d; want %d", got, DefaultBaud)
	}
}

func TestSerialBadBaud(t *testing.T) {
	_, err := Open(context.Background(), Spec{Kind: KindSerial, Port: "/dev/null", Baud: 1200, Resets: -1}, Options{})
	if err == nil || err.Error() != "transport: baud=1200: "+baudMsg {
		t.Fatalf("Open with baud 1200 = %v; want the baud error", err)
	}
}

func TestSerialOpenErrors(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("unix device paths")
	}
	_, err := Open(context.Background(), mustParse(t, "com:port=/dev/kd-no-such-tty"), Options{})
	if err == nil || err.Error() != "transport: no such serial port /dev/kd-no-such-tty" || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing) = %v", err)
	}
	_, err = Open(context.Background(), mustParse(t, "com:port=/dev/null"), Options{})
	if err == nil || err.Error() != "transport: /dev/null is not a serial port" {
		t.Errorf("Open(/dev/null) = %v", err)
	}
}

func TestSerialErrorMapping(t *testing.T) {
	tests := []struct {
		err  error
		want string
		is   error
	}{
		{&os.PathError{Op: "open", Path: "/dev/ttyS0", Err: syscall.EACCES},
			"transport: permission denied opening /dev/ttyS0: " + serialPermissionHint, fs.ErrPermission},
		{&serial.PortError{}, "transport: port busy: /dev/ttyS0 is open in another program", nil}, // the zero code is PortBusy
		{syscall.ENOENT, "transport: no such serial port /dev/ttyS0", fs.ErrNotExist},
		{syscall.EIO, "transport: open /dev/ttyS0: input/output error", syscall.EIO},
	}
	for _, tt := range tests {
		err := serialOpenError("/dev/ttyS0", tt.err)
		if err.Error() != tt.want {
			t.Errorf("serialOpenError(%v) = %q; want %q", tt.err, err, tt.want)
		}
		if tt.is != nil && !errors.Is(err, tt.is) {
			t.Errorf("serialOpenError(%v) is not %v", tt.err, tt.is)
		}
		if !errors.Is(err, tt.err) {
			t.Errorf("serialOpenError(%v) lost its cause", tt.err)
		}
	}
	if runtime.GOOS == "linux" && serialPermissionHint != "add yourself to the dialout group" {
		t.Errorf("linux permission hint = %q", serialPermissionHint)
	}
}

func TestSerialDevice(t *testing.T) {
	dev, name, err := serialDevice("com1")
	switch runtime.GOOS {
	case "linux":
		if err != nil || dev != "/dev/ttyS0" || name != "/dev/ttyS0" {
			t.Errorf("serialDevice(com1) = %q, %q, %v", dev, name, err)
		}
		if dev, _, _ := serialDevice(`\\.\COM12`); dev != "/dev/ttyS11" {
			t.Errorf(`serialDevice(\\.\COM12) = %q; want /dev/ttyS11`, dev)
		}
	case "windows":
		if err != nil || dev != `\\.\COM1` || name != `\\.\com1` {
			t.Errorf("serialDevice(com1) = %q, %q, %v", dev, name, err)
		}
	default:
		if err == nil {
			t.Errorf("serialDevice(com1) on %s = %q; want an error", runtime.GOOS, dev)
		}
	}
	if dev, name, err := serialDevice("/dev/ttyUSB0"); err != nil || dev != "/dev/ttyUSB0" || name != dev {
		t.Errorf("serialDevice(/dev/ttyUSB0) = %q, %q, %v", dev, name, err)
	}
}
