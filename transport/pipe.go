package transport

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"
)

// isNamedPipePath reports whether p is a Windows named-pipe path:
// \\.\pipe\NAME or \\HOST\pipe\NAME.
func isNamedPipePath(p string) bool {
	if !strings.HasPrefix(p, `\\`) {
		return false
	}
	host, rest, ok := strings.Cut(p[2:], `\`)
	if !ok || host == "" {
		return false
	}
	kind, name, ok := strings.Cut(rest, `\`)
	return ok && strings.EqualFold(kind, "pipe") && name != ""
}

// openPipe opens com:pipe. Named-pipe paths go to the platform's
// openNamedPipe; everything else is a Unix-domain socket.
func openPipe(ctx context.Context, s Spec, o Options, ev *emitter) (Conn, error) {
	if s.Port == "" {
		return nil, parseErr("port", "missing pipe path")
	}
	if isNamedPipePath(s.Port) {
		return openNamedPipe(ctx, s, o, ev)
	}
	if s.Server {
		return listenAndAccept(ctx, s.Port, s, o, ev, func() (net.Listener, error) {
			return listenUnix(s.Port)
		})
	}
	var d net.Dialer
	dial := func(ctx context.Context) (net.Conn, error) {
		return d.DialContext(ctx, "unix", s.Port)
	}
	return dialConn(ctx, s.Port, dial, s, o, ev)
}

// openTCP opens com:ipport=N,port=HOST.
func openTCP(ctx context.Context, s Spec, o Options, ev *emitter) (Conn, error) {
	host := strings.TrimSuffix(strings.TrimPrefix(s.Port, "["), "]")
	addr := net.JoinHostPort(host, strconv.Itoa(s.TCPPort))
	if s.Server {
		return listenAndAccept(ctx, addr, s, o, ev, func() (net.Listener, error) {
			var lc net.ListenConfig
			return lc.Listen(context.Background(), "tcp", addr)
		})
	}
	var d net.Dialer
	dial := func(ctx context.Context) (net.Conn, error) {
		return d.DialContext(ctx, "tcp", addr)
	}
	return dialConn(ctx, addr, dial, s, o, ev)
}

// dialConn connects as a client. With reconnect a missing pipe or socket
// (nothing there, or nobody listening) is waited for until ctx ends.
func dialConn(ctx context.Context, name string, dial dialFunc, s Spec, o Options, ev *emitter) (Conn, error) {
	waited := false
	for {
		c, err := dial(ctx)
		if err == nil {
			return newStreamConn(c, name, dial, s.Reconnect, o.pollInterval(), ev), nil
		}
		if ctx.Err() != nil {
			return nil, &OpError{Op: "open", Name: name, Err: ctx.Err()}
		}
		if !s.Reconnect || !isAbsent(err) {
			return nil, openError(name, err)
		}
		if !waited {
			waited = true
			ev.emit(Event{Kind: EventWaitingForPipe, Name: name})
		}
		if waitFor(nil, ctx.Done(), nil, noDeadline, o.pollInterval()) == errDone {
			return nil, &OpError{Op: "open", Name: name, Err: ctx.Err()}
		}
	}
}

// listenAndAccept runs server mode: listen on name, report
// EventListening, accept one peer (bounded by ctx). With reconnect the
// listener stays open and a new peer is accepted when the first goes away;
// without it the listener is closed after the first peer.
func listenAndAccept(ctx context.Context, name string, s Spec, o Options, ev *emitter, listen func() (net.Listener, error)) (Conn, error) {
	l, err := listen()
	if err != nil {
		return nil, openError(name, err)
	}
	if a := l.Addr(); a != nil && a.Network() == "tcp" {
		name = a.String()
	}
	ev.emit(Event{Kind: EventListening, Name: name})
	stop := context.AfterFunc(ctx, func() { l.Close() })
	c, err := l.Accept()
	if !stop() || err != nil {
		l.Close()
		if c != nil {
			c.Close()
		}
		if ctx.Err() != nil {
			return nil, &OpError{Op: "accept", Name: name, Err: ctx.Err()}
		}
		return nil, &OpError{Op: "accept", Name: name, Err: err}
	}
	ev.emit(Event{Kind: EventAccepted, Name: name})
	if !s.Reconnect {
		l.Close()
		return newStreamConn(c, name, nil, false, 0, ev), nil
	}
	accept := func(ctx context.Context) (net.Conn, error) {
		c, err := l.Accept()
		if err == nil {
			ev.emit(Event{Kind: EventAccepted, Name: name})
		}
		return c, err
	}
	sc := newStreamConn(c, name, accept, true, o.pollInterval(), ev)
	sc.onClose = l.Close
	return sc, nil
}

// openError explains a failure to open a pipe or socket.
func openError(name string, err error) error {
	var msg string
	switch {
	case errors.Is(err, fs.ErrPermission):
		msg = "permission denied"
	case isAbsent(err) && notAnEndpoint(name):
		msg = "it is a regular file, not a socket or a pipe (check port=: it names the VM's serial socket or pipe)"
	case isAbsent(err):
		msg = "nothing is listening there (is the VM running? add reconnect to wait for it)"
	default:
		return &OpError{Op: "open", Name: name, Err: err}
	}
	return &OpError{Op: "open", Name: name, Err: &wrapErr{msg: msg, causes: []error{err}}}
}

// notAnEndpoint reports whether name is an existing file that is neither
// a socket nor a pipe (nothing could ever listen there).
func notAnEndpoint(name string) bool {
	if isNamedPipePath(name) {
		return false
	}
	fi, err := os.Stat(name)
	return err == nil && fi.Mode().IsRegular()
}

// listenUnix listens on a Unix socket path, removing a stale socket file
// left by a process that died (one nobody accepts on).
func listenUnix(path string) (net.Listener, error) {
	l, err := net.Listen("unix", path)
	if err == nil {
		return l, nil
	}
	fi, serr := os.Lstat(path)
	if serr != nil || fi.Mode().Type() != fs.ModeSocket {
		return nil, err
	}
	if c, derr := net.Dial("unix", path); derr == nil {
		c.Close()
		return nil, err // somebody is serving it
	}
	if rerr := os.Remove(path); rerr != nil {
		return nil, err
	}
	return net.Listen("unix", path)
}
