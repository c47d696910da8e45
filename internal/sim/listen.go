package sim

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"time"
)

// ParseAddr splits "unix:PATH" or "tcp:HOST:PORT" into a network and an
// address for package net.
func ParseAddr(s string) (network, addr string, err error) {
	network, addr, ok := strings.Cut(s, ":")
	if !ok || addr == "" || (network != "unix" && network != "tcp") {
		return "", "", fmt.Errorf("sim: bad address %q: want unix:PATH or tcp:HOST:PORT", s)
	}
	return network, addr, nil
}

// IsLoopback reports whether s is a Unix socket or a TCP address on a
// loopback interface (127.0.0.0/8, ::1 or localhost).
func IsLoopback(s string) bool {
	network, addr, err := ParseAddr(s)
	if err != nil {
		return false
	}
	if network == "unix" {
		return true
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Listen opens a listener for "unix:PATH" or "tcp:HOST:PORT". A stale
// Unix socket file left at PATH by an earlier run is removed first (any
// other kind of file is left alone and the listen fails).
func Listen(s string) (net.Listener, error) {
	network, addr, err := ParseAddr(s)
	if err != nil {
		return nil, err
	}
	if network == "unix" {
		if fi, err := os.Lstat(addr); err == nil && fi.Mode().Type() == fs.ModeSocket {
			os.Remove(addr)
		}
	}
	return net.Listen(network, addr)
}

// ServeListener accepts one host at a time on ln and serves it with m,
// until ctx ends or m is closed. A second host waits in the listen backlog
// until the first one leaves, like a VM's serial port. ln is closed on
// return.
func ServeListener(ctx context.Context, m *Machine, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	defer ln.Close()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		if err := m.Serve(ctx, conn); err != nil && !errors.Is(err, ErrRebooted) {
			return err
		}
	}
}

// ListenAndServe listens on listen ("unix:PATH" or "tcp:HOST:PORT") and
// serves one host at a time, forever (until ctx ends or m is closed). It
// does not check that a TCP address is a loopback one; see IsLoopback.
func ListenAndServe(ctx context.Context, m *Machine, listen string) error {
	ln, err := Listen(listen)
	if err != nil {
		return err
	}
	return ServeListener(ctx, m, ln)
}

// Connect dials addr ("unix:PATH" or "tcp:HOST:PORT"), for a debugger that
// is the server, and serves it; when the connection drops it dials again.
// Failed dials are retried every 250 ms until ctx ends.
func Connect(ctx context.Context, m *Machine, addr string) error {
	network, a, err := ParseAddr(addr)
	if err != nil {
		return err
	}
	var d net.Dialer
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		conn, err := d.DialContext(ctx, network, a)
		if err != nil {
			t.Reset(retryDial)
			continue
		}
		if err := m.Serve(ctx, conn); err != nil && !errors.Is(err, ErrRebooted) {
			return err
		}
		t.Reset(0)
	}
}

// retryDial is how often Connect dials a debugger that is not listening.
const retryDial = 250 * time.Millisecond
