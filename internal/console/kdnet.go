package console

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	"github.com/gokd/kd/kdproto"
	"github.com/gokd/kd/kdproto/kdnet"
	"github.com/gokd/kd/transport"
)

// This file opens KDNET (kd -k net:port=N,key=K[,target=HOST]). The link
// lives in kdproto/kdnet; here are only KD's lines and hints around it.

// openLink is the target's Config.Link: the KDNET link for -k net:...,
// nothing (Dial) for the other transports.
func (c *Console) openLink(ctx context.Context, s transport.Spec) (kdproto.Link, error) {
	if s.Kind != transport.KindNet {
		return nil, nil
	}
	return c.openKDNET(ctx, s)
}

// openKDNET binds the KDNET port and returns the link, printing KD's
// "Using NET for debugging" and "Opened WinSock 2.0". The key is never
// printed: errors from kdnet name the part of the key that is wrong.
func (c *Console) openKDNET(ctx context.Context, s transport.Spec) (kdproto.Link, error) {
	key, err := kdnet.ParseKey(s.Key)
	if err != nil {
		return nil, err
	}
	var target netip.Addr
	if s.Target != "" {
		if target, err = resolveTarget(ctx, s.Target); err != nil {
			return nil, err
		}
		c.out.Warnf("target=%s: kd cannot send the packet with which KD asks a target to connect (its format is not public); it waits for the target's own offers (bcdedit /dbgsettings net hostip:THIS-MACHINE) and accepts only datagrams from %v", s.Target, target)
	}
	c.r.Message("Using NET for debugging")
	l, err := kdnet.Listen(kdnet.LinkConfig{Port: s.NetPort, Key: key, Target: target,
		Status: c.kdnetStatus, Trace: c.traceLine})
	if err != nil {
		return nil, err
	}
	c.r.Message("Opened WinSock 2.0")
	return l, nil
}

// resolveTarget turns target= into one IPv4 address.
func resolveTarget(ctx context.Context, host string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		if !a.Unmap().Is4() {
			return netip.Addr{}, errors.New("target=" + host + ": KDNET over IPv6 is not supported")
		}
		return a.Unmap(), nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip4", host)
	if err != nil || len(addrs) == 0 {
		return netip.Addr{}, fmt.Errorf("target=%s: cannot resolve the name to an IPv4 address", host)
	}
	return addrs[0].Unmap(), nil
}

// kdnetStatus prints the link's progress KD's way. It runs on the link's
// reader goroutine.
func (c *Console) kdnetStatus(e kdnet.StatusEvent) {
	switch e.Kind {
	case kdnet.StatusConnected, kdnet.StatusRekeyed:
		c.r.Message(fmt.Sprintf("Connected to target %v on port %d on local IP %v.", e.Peer.Addr(), e.Port, e.Local))
	case kdnet.StatusQuiet:
		c.out.Hint(fmt.Sprintf("nothing arrived on UDP port %d in %v: allow inbound UDP on port %d in this machine's firewall, and check the target's bcdedit /dbgsettings net hostip (this machine) and port", e.Port, e.Wait, e.Port))
	}
}

// kdnetOpenHints explains a failure to open KDNET.
func kdnetOpenHints(s transport.Spec, err error) []string {
	switch {
	case errors.Is(err, kdnet.ErrKey):
		return []string{"the key is the one bcdedit /dbgsettings net printed: four dot-separated base-36 numbers"}
	case errors.Is(err, syscall.EADDRINUSE):
		return []string{"another program (another kd or WinDbg) uses UDP port " + strconv.Itoa(s.NetPort) + ": close it or use another port on both sides"}
	case errors.Is(err, syscall.EACCES):
		return []string{"the system refused UDP port " + strconv.Itoa(s.NetPort)}
	}
	return nil
}

// specText is the connection string for messages, with a KDNET key hidden.
func specText(s transport.Spec) string {
	if s.Kind == transport.KindNet {
		t := "net:port=" + strconv.Itoa(s.NetPort) + ",key=(hidden)"
		if s.Target != "" {
			t += ",target=" + s.Target
		}
		return t
	}
	return s.String()
}
