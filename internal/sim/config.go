package sim

import (
	"encoding/json"
	"io"
	"sync"
	"time"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultBuild       = 19041
	DefaultProcs       = 2
	DefaultByteTimeout = 50 * time.Millisecond
	DefaultRetries     = 20
	DefaultTick        = 10 * time.Millisecond
	// MaxProcs is the most processors a simulated machine can have.
	MaxProcs = 64
)

// Config describes a simulated machine, its serial line and the faults
// injected on it. The zero value is a running two-processor Windows 10
// (build 19041) machine on a clean, unpaced line.
type Config struct {
	Seed    int64  // drives the memory image (KernBase, pool, GUIDs) and the fault draws
	Build   uint16 // NtBuildNumber reported by GetVersion; 0 means DefaultBuild
	Procs   int    // number of processors; 0 means DefaultProcs
	Stopped bool   // boot stopped at the initial breakpoint instead of running

	// ModuleLoads: after each boot the driver simdrv.sys reports its load
	// (a LoadSymbols state change) at the first clock tick, as a boot
	// driver does; the target stays stopped until the host continues.
	ModuleLoads bool

	PrintEvery time.Duration // period of the numbered DbgPrint lines while running; 0 = none
	Baud       int           // pace the line as an N-baud 8N1 UART (10 bit times a byte); 0 = unpaced

	Noise   float64 // probability that one byte of an outgoing packet is corrupted
	Drop    float64 // probability that an outgoing packet is not sent
	Dup     float64 // probability that an outgoing packet is sent twice
	Garbage float64 // probability that junk bytes precede an outgoing packet

	DesyncAfter int           // after this many served requests the expected id falls out of step until a RESET (0 = never)
	MuteAfter   int           // after this many served requests the target goes deaf and dumb ...
	MuteFor     time.Duration // ... for this long (once)
	Evil        bool          // hostile but well-checksummed packets
	// StickySyncBit keeps the 0x800 sync bit on every packet the target
	// sends until a RESET: after an ACK it clears bit 3 instead, as
	// VirtualKD's host-side emulation does (spec kdcom-protocol.md §3.2).
	StickySyncBit bool
	// NoSearchFill answers SearchMemory and FillMemory with
	// STATUS_NOT_IMPLEMENTED, as a target without those APIs.
	NoSearchFill bool

	ByteTimeout time.Duration // per-byte receive timeout; 0 means DefaultByteTimeout
	Retries     int           // sends before a DbgPrint is abandoned; 0 means DefaultRetries
	Tick        time.Duration // clock tick of a running target (one break-in poll); 0 means DefaultTick

	Trace  io.Writer   // one line per packet, "->" host to target, "<-" target to host; nil = off
	Events func(Event) // called for every event, on the machine's goroutine; nil = off
}

func (c Config) withDefaults() Config {
	if c.Build == 0 {
		c.Build = DefaultBuild
	}
	if c.Procs <= 0 {
		c.Procs = DefaultProcs
	}
	if c.Procs > MaxProcs {
		c.Procs = MaxProcs
	}
	if c.ByteTimeout <= 0 {
		c.ByteTimeout = DefaultByteTimeout
	}
	if c.Retries <= 0 {
		c.Retries = DefaultRetries
	}
	if c.Tick <= 0 {
		c.Tick = DefaultTick
	}
	return c
}

// Event kinds.
const (
	EventConnect    = "connect"    // a host connection is being served
	EventDisconnect = "disconnect" // the connection ended (Detail: why)
	EventPacket     = "packet"     // a packet went in or out (Dir, Type, ID, API)
	EventReset      = "reset"      // a RESET from the host reset both ids
	EventResend     = "resend"     // a RESEND went in or out
	EventAPI        = "api"        // a manipulate request was served (API, Status; Addr and Bytes for memory reads and writes)
	EventPrint      = "print"      // a DbgPrint was acked, abandoned or skipped (Status, Detail: the text)
	EventPrompt     = "prompt"     // a DbgPrompt was answered (Detail: the answer)
	EventState      = "state"      // a state change was reported (Type: Exception/LoadSymbols, Status: code)
	EventBreakIn    = "breakin"    // a break-in byte stopped the running target
	EventRun        = "run"        // the target resumed (Detail: go or step)
	EventReboot     = "reboot"     // the machine rebooted
	EventFault      = "fault"      // an injected fault (Detail: noise, drop, dup, garbage, desync, mute, unmute)
)

// Event is one thing the simulated target did or saw. EventWriter writes it
// as one JSON object per line.
type Event struct {
	Time   time.Time `json:"time"`
	Kind   string    `json:"kind"`
	Dir    string    `json:"dir,omitempty"`  // "in" (host to target) or "out"
	Type   string    `json:"type,omitempty"` // packet type or state-change kind
	ID     uint32    `json:"id,omitempty"`   // packet id
	API    string    `json:"api,omitempty"`
	Status string    `json:"status,omitempty"`
	Addr   uint64    `json:"addr,omitempty"`  // memory APIs: the request's address
	Bytes  uint32    `json:"bytes,omitempty"` // memory APIs: the bytes read or written
	Detail string    `json:"detail,omitempty"`
}

// EventWriter returns an Events callback that writes each event to w as a
// JSON object on its own line. Writes are serialised by a mutex.
func EventWriter(w io.Writer) func(Event) {
	var mu sync.Mutex
	return func(e Event) {
		b, err := json.Marshal(e)
		if err != nil {
			return
		}
		b = append(b, '\n')
		mu.Lock()
		defer mu.Unlock()
		_, _ = w.Write(b)
	}
}
