//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// ServeDevice serves m on a serial device such as /dev/ttyS0, the way a
// Windows target's kdcom drives its COM port: the line is put in raw mode
// (no echo, no line discipline, no flow control) at 8N1 and opt.Baud, and
// the UART, not kdsim, clocks the bytes, so m's Config.Baud should be 0.
//
// A serial line never hangs up: between hosts the machine keeps running on
// it. When the host reboots the target, ServeDevice reboots m in-process
// and goes on serving, unless opt.ExitOnReboot is set: then it waits until
// the UART has sent the last byte (the ACK of the reboot request) and
// returns ErrRebooted, so that the caller can reboot the computer it runs
// on (the init of kdsim's VM guest does).
func ServeDevice(ctx context.Context, m *Machine, path string, opt DeviceOptions) error {
	speed, ok := termiosSpeed(opt.Baud)
	if !ok {
		return fmt.Errorf("sim: unsupported baud rate %d: want one of %v", opt.Baud, DeviceBauds)
	}
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := makeSerialRaw(int(f.Fd()), speed); err != nil {
		return fmt.Errorf("sim: %s is not a serial port: %w", path, err)
	}
	port := newSharedPort(f)
	defer close(port.stop)
	stop := context.AfterFunc(ctx, func() { f.Close() })
	defer stop()
	if opt.Settle > 0 {
		if err := port.settle(ctx, opt.Settle); err != nil {
			return err
		}
	}
	if opt.Ready != nil {
		opt.Ready()
	}
	for ctx.Err() == nil {
		err := m.Serve(ctx, port.session())
		switch {
		case errors.Is(err, ErrRebooted):
			if opt.ExitOnReboot {
				drain(int(f.Fd()))
				return err
			}
		case err != nil:
			return err
		}
		if port.dead() {
			return io.ErrUnexpectedEOF
		}
	}
	return ctx.Err()
}

// settle throws away what arrives until the line has been quiet for d
// (at most maxSettle): the backlog a hypervisor delivers when the guest
// first opens its UART.
func (p *sharedPort) settle(ctx context.Context, d time.Duration) error {
	quiet := time.NewTimer(d)
	defer quiet.Stop()
	limit := time.NewTimer(maxSettle)
	defer limit.Stop()
	for {
		select {
		case <-p.ch:
			quiet.Reset(d)
		case <-quiet.C:
			return nil
		case <-limit.C:
			return nil
		case <-p.done:
			return io.ErrUnexpectedEOF
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// maxSettle bounds DeviceOptions.Settle's wait on a line that never goes
// quiet.
const maxSettle = 10 * time.Second

// makeSerialRaw is makeRaw for a real UART: also 8N1 at speed, the modem
// lines ignored (CLOCAL), the receiver on, no hardware or software flow
// control, and whatever the line received before now thrown away.
func makeSerialRaw(fd int, speed uint32) error {
	if err := makeRaw(fd); err != nil {
		return err
	}
	t, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IXOFF | unix.IXANY | unix.INPCK
	t.Cflag &^= unix.CSTOPB | unix.CRTSCTS | unix.HUPCL
	t.Cflag |= unix.CLOCAL | unix.CREAD
	setSpeed(t, speed)
	if err := unix.IoctlSetTermios(fd, ioctlSetTermios, t); err != nil {
		return err
	}
	// Until now the line discipline echoed what arrived: drop that too.
	return flushBoth(fd)
}
