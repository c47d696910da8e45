package console

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/gokd/kd/transport"
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

// keyInfo documents one control key.
type keyInfo struct {
	Key     Key
	Syntax  string
	Summary string
}

// keyTable lists the control keys in the order the docs show them.
var keyTable = []keyInfo{
	{KeyCtrlA, "CTRL+A ENTER", "cycle the host's serial baud rate 19200, 38400, 57600, 115200 (serial ports only)"},
	{KeyCtrlB, "CTRL+B ENTER", "quit kd at once without touching the target (it stays as it is)"},
	{KeyCtrlC, "CTRL+C", "break into a running target; cancel the command in progress when it is stopped"},
	{KeyCtrlD, "CTRL+D ENTER", "toggle the packet trace on the console"},
	{KeyCtrlF, "CTRL+F ENTER", "break in, as CTRL+C"},
	{KeyCtrlK, "CTRL+K ENTER", "cycle the break state after a reboot: none, initial breakpoint (-b), first module load (-d)"},
	{KeyCtrlP, "CTRL+P ENTER", "not supported (obsolete debug-the-debugger key)"},
	{KeyCtrlR, "CTRL+R ENTER", "resynchronise with the target (RESET packets); a running target answers when it next talks or after CTRL+C"},
	{KeyCtrlV, "CTRL+V ENTER", "toggle verbose output"},
	{KeyCtrlW, "CTRL+W ENTER", "show kd's version"},
	{KeyCtrlBackslash, `CTRL+\ ENTER`, "not supported (debug-the-debugger key)"},
}

// IsKeyByte reports whether b is the byte of a control key kd handles.
func IsKeyByte(b byte) bool {
	for _, k := range keyTable {
		if byte(k.Key) == b {
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

// Post-reboot break states, cycled by CTRL+K.
const (
	breakNone = iota
	breakOnReboot
	breakOnModuleLoad
)

var breakStateText = [...]string{
	breakNone:         "Will not request initial breakpoint or break on first symbol load at next boot.",
	breakOnReboot:     "Will request initial breakpoint at next boot.",
	breakOnModuleLoad: "Will breakin on first symbol load at next boot.",
}

// Key acts on a control key at once. It is safe from any goroutine and
// never blocks on the target.
func (c *Console) Key(k Key) {
	switch k {
	case KeyCtrlC, KeyCtrlF:
		c.Interrupt()
	case KeyCtrlR:
		c.startResync()
	case KeyCtrlB:
		c.detach()
	case KeyCtrlD:
		on := !c.traceConsole.Load()
		c.traceConsole.Store(on)
		c.updateTrace()
		if on {
			c.out.Printf("Packet trace ON (CTRL+D ENTER turns it off).")
		} else {
			c.out.Printf("Packet trace OFF.")
		}
	case KeyCtrlK:
		c.mu.Lock()
		c.breakState = (c.breakState + 1) % 3
		st := c.breakState
		c.mu.Unlock()
		c.out.Printf("%s", breakStateText[st])
	case KeyCtrlV:
		on := !c.verbose.Load()
		c.verbose.Store(on)
		if on {
			c.out.Printf("Verbose mode ON.")
		} else {
			c.out.Printf("Verbose mode OFF.")
		}
	case KeyCtrlW:
		c.printVersion()
	case KeyCtrlA:
		c.cycleBaud()
	case KeyCtrlP:
		c.out.Printf("CTRL+P is not supported: it is obsolete (KD replaced it with CTRL+\\), and kd does not debug itself.")
	case KeyCtrlBackslash:
		c.out.Printf("CTRL+\\ is not supported: kd cannot start a debugger on itself (use dlv attach %d).", os.Getpid())
	default:
		c.out.Printf("%s is not a KD control key.", k)
	}
}

// printVersion prints kd's version block (CTRL+W ENTER).
func (c *Console) printVersion() {
	v := c.cfg.Version
	if v == "" {
		v = "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
	}
	c.out.Printf("kd version %s (%s %s/%s)", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	c.out.Printf("KD-style kernel debugger console; protocol: KDCOM serial packets")
}

// baudCycle is CTRL+A's cycle of line speeds.
var baudCycle = []int{19200, 38400, 57600, 115200}

func nextBaud(cur int) int {
	for i, b := range baudCycle {
		if b == cur {
			return baudCycle[(i+1)%len(baudCycle)]
		}
	}
	return baudCycle[0]
}

// cycleBaud steps a serial port's line speed (CTRL+A ENTER).
func (c *Console) cycleBaud() {
	s := c.session()
	if s == nil {
		c.out.Printf("Baud rate cannot be changed: not connected.")
		return
	}
	bs, ok := s.conn.(transport.BaudSetter)
	if !ok {
		c.out.Printf("Baud rate cannot be changed: %s is a %s connection, not a serial port.", s.conn.Name(), c.spec.Kind)
		return
	}
	next := nextBaud(bs.Baud())
	if err := bs.SetBaud(next); err != nil {
		c.out.Errorf("cannot set the baud rate to "+fmt.Sprint(next)+": "+err.Error(), "the target's rate is fixed until it reboots; CTRL+A only brings the host in line with it")
		return
	}
	c.out.Printf("Baud rate %d.", next)
}
