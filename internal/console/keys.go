package console

import (
	"errors"
	"fmt"
	"os"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/target"
)

// Key is a KD control key, named by its byte.
type Key byte

// The control keys of KD (spec §1). All but CTRL+C are typed as the chord
// followed by ENTER.
const (
	KeyCtrlA         Key = 0x01 // cycle the serial baud rate
	KeyCtrlB         Key = 0x02 // quit at once
	KeyCtrlC         Key = 0x03 // break in / cancel
	KeyCtrlD         Key = 0x04 // toggle the packet trace
	KeyCtrlF         Key = 0x06 // break in, as CTRL+C
	KeyCtrlK         Key = 0x0B // cycle the post-reboot break state
	KeyCtrlP         Key = 0x10 // debug the debugger (obsolete; refused)
	KeyCtrlR         Key = 0x12 // resynchronise
	KeyCtrlV         Key = 0x16 // toggle verbose output
	KeyCtrlW         Key = 0x17 // show kd's version
	KeyCtrlBackslash Key = 0x1C // debug the debugger (refused)
)

// IsKeyByte reports whether b is the byte of a control key kd handles.
func IsKeyByte(b byte) bool {
	for _, k := range commands.Keys {
		if k.Byte == b {
			return true
		}
	}
	return false
}

// String returns the key's KD name, e.g. "CTRL+R".
func (k Key) String() string {
	if k == KeyCtrlBackslash {
		return `CTRL+\`
	}
	if k >= 1 && k <= 26 {
		return fmt.Sprintf("CTRL+%c", 'A'+byte(k)-1)
	}
	return fmt.Sprintf("Key(0x%02x)", byte(k))
}

var breakStateText = [...]string{
	target.BreakNone:         "Will not request initial breakpoint or break on first symbol load at next boot.",
	target.BreakOnReboot:     "Will request initial breakpoint at next boot.",
	target.BreakOnModuleLoad: "Will breakin on first symbol load at next boot.",
}

// Key acts on a control key at once. It is safe from any goroutine and
// never blocks on the target.
func (c *Console) Key(k Key) {
	switch k {
	case KeyCtrlC, KeyCtrlF:
		c.Interrupt()
	case KeyCtrlR:
		if err := c.t.Resync(); err != nil {
			if errors.Is(err, target.ErrResyncInProgress) {
				c.r.Message("Resync already in progress.")
			} else {
				c.r.Message("Resync failed: " + err.Error())
			}
		}
	case KeyCtrlB:
		c.detach()
	case KeyCtrlD:
		on := !c.traceConsole.Load()
		c.traceConsole.Store(on)
		c.updateTrace()
		if on {
			c.r.Message("Packet trace ON (CTRL+D ENTER turns it off).")
		} else {
			c.r.Message("Packet trace OFF.")
		}
	case KeyCtrlK:
		c.r.Message(breakStateText[c.t.CycleBreakState()])
	case KeyCtrlV:
		on := !c.verbose.Load()
		c.verbose.Store(on)
		if on {
			c.r.Message("Verbose mode ON.")
		} else {
			c.r.Message("Verbose mode OFF.")
		}
	case KeyCtrlW:
		c.r.Result("", commands.VersionInfo{Kd: c.kdVersion()}, nil)
	case KeyCtrlA:
		c.cycleBaud()
	case KeyCtrlP:
		c.r.Message("CTRL+P is not supported: it is obsolete (KD replaced it with CTRL+\\), and kd does not debug itself.")
	case KeyCtrlBackslash:
		c.r.Message(fmt.Sprintf("CTRL+\\ is not supported: kd cannot start a debugger on itself (use dlv attach %d).", os.Getpid()))
	default:
		c.r.Message(fmt.Sprintf("%s is not a KD control key.", k))
	}
}

// cycleBaud steps a serial port's line speed (CTRL+A ENTER).
func (c *Console) cycleBaud() {
	next, err := c.t.CycleBaud()
	var ns *target.NotSerialError
	switch {
	case errors.As(err, &ns):
		c.r.Message("Baud rate cannot be changed: " + ns.Error() + ".")
	case err != nil && next == 0:
		c.r.Message("Baud rate cannot be changed: " + err.Error() + ".")
	case err != nil:
		c.r.Error("cannot set the baud rate to "+fmt.Sprint(next)+": "+err.Error(), "the target's rate is fixed until it reboots; CTRL+A only brings the host in line with it")
	default:
		c.r.Message(fmt.Sprintf("Baud rate %d.", next))
	}
}
