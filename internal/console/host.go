package console

import (
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/kdproto"
	"github.com/gokd/kd/transport"
)

// host gives commands the console's services.
type host struct{ c *Console }

func (h host) OpenLog(path string, appending bool) (string, error) {
	return h.c.out.OpenLog(path, appending)
}
func (h host) CloseLog() (string, error) { return h.c.out.CloseLog() }
func (h host) LogPath() string           { return h.c.out.LogPath() }
func (h host) Quit()                     { h.c.finish() }
func (h host) KdVersion() string         { return h.c.kdVersion() }

var _ commands.Host = host{}

func (c *Console) kdVersion() string {
	v := c.cfg.Version
	if v == "" {
		v = "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
	}
	return v
}

// startLog opens the -logo/-loga log file; failing to is a failure of
// the session (exit status 1), not a reason to stop it.
func (c *Console) startLog(path string, appending bool) {
	closed, err := c.out.OpenLog(path, appending)
	if err != nil {
		c.r.Error("cannot open log file '"+path+"': "+err.Error(), "check the path; the session goes on without a log")
		c.fail(ExitCommand)
		return
	}
	c.r.Result("", commands.LogOpened{Path: path, Closed: closed}, nil)
}

// Interrupt is CTRL+C (and CTRL+F ENTER, and SIGINT): break into a running
// target (or one kd is still waiting for, or during a resync); cancel the
// command in progress when the target is stopped.
func (c *Console) Interrupt() {
	if c.t.Interrupt() {
		return
	}
	c.mu.Lock()
	cancel := c.cmdCancel
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// updateTrace installs or removes the target's packet trace hook.
func (c *Console) updateTrace() {
	if !c.traceConsole.Load() && c.cfg.Trace == nil {
		c.t.SetTrace(nil)
		return
	}
	c.t.SetTrace(c.trace)
}

// trace prints one packet trace line to the console (CTRL+D) and to the
// --trace sink.
func (c *Console) trace(r kdproto.TraceRecord) { c.traceLine(r.String()) }

// traceLine writes one line to the packet trace, when it is on.
func (c *Console) traceLine(line string) {
	if c.traceConsole.Load() {
		c.out.Printf("%s", line)
	}
	if w := c.cfg.Trace; w != nil {
		if w == c.cfg.Stderr || w == os.Stderr {
			c.out.Stderr(line + "\n")
		} else {
			_, _ = io.WriteString(w, line+"\n")
		}
	}
}

// openHints suggests what to check when a transport does not open, unless
// the transport's message gives advice already.
func openHints(s transport.Spec, err error) []string {
	if s.Kind == transport.KindNet {
		return kdnetOpenHints(s, err)
	}
	msg := err.Error()
	if strings.Contains(msg, "reconnect") || strings.Contains(msg, "not supported") {
		return nil
	}
	switch s.Kind {
	case transport.KindPipe:
		return []string{"is the VM's serial port a pipe or socket at " + s.Port + "? start the VM (or kdsim) first, or add ,reconnect to wait for it"}
	case transport.KindSerial:
		return []string{"check the port name and that no other program holds it"}
	case transport.KindTCP:
		return []string{"is the VM's serial port served on " + s.Port + "?"}
	}
	return nil
}
