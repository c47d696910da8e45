// Command kdsim simulates a Windows 10 x64 kernel behind a KDCOM serial
// debug port, for kd's CI smoke tests, demos and fault experiments. The
// simulator itself is package internal/sim; see docs/kdsim.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/internal/sim/simpty"
	"github.com/gokd/kd/kdproto/kdnet"
)

const usage = `Usage: kdsim (--listen ADDR | --pty | --connect ADDR | --device PATH |
             --kdnet HOST:PORT --key KEY) [flags]

kdsim plays a Windows 10 x64 kernel on a KD serial link, the way a VM's COM
port does. It serves one debugger at a time; between debuggers the machine
keeps its state.

Link:
  --listen ADDR        serve on unix:PATH or tcp:127.0.0.1:PORT (loopback only)
  --allow-remote       allow --listen on a non-loopback TCP address
  --pty                create a pseudo-terminal and serve on it (prints its path)
  --connect ADDR       dial a debugger that listens on unix:PATH or tcp:HOST:PORT
  --device PATH        serve on a serial port (e.g. /dev/ttyS0): raw mode, 8N1 at --baud
  --baud N             pace bytes like an N-baud 8N1 UART, byte by byte (default
                       unpaced); with --device, the line speed (default 115200;
                       the UART paces)
  --exit-on-reboot     with --device: when the host reboots the target, exit with
                       status 4 instead of rebooting in-process (for a VM's init)
  --settle D           with --device: first throw away what arrives until the line
                       has been quiet for D (a hypervisor's backlog; default 0)
  --kdnet HOST:PORT    be a KDNET target: offer to the debugger at HOST:PORT over UDP
                       (bcdedit /dbgsettings net hostip:HOST port:PORT) until it answers
  --key KEY            the KDNET key (four dot-separated base-36 numbers)
  --bind ADDR:PORT     the target's UDP address (default: HOST's address, any port)
  --kdnet-version N    KDNET protocol byte, 2 (Windows 8.1) or 4 (Windows 10) (default 4)
  --offer-every D      offer period, also the idle time before an idle offer (default 3s)

Machine:
  --seed N             seed for the memory image and the fault draws (default 1)
  --build N            Windows build number reported by GetVersion (default 19041)
  --procs N            number of processors (default 2)
  --stopped            boot stopped at the initial breakpoint (default: running)
  --print-every D      send a numbered DbgPrint every D while running (e.g. 2s)
  --module-loads       after each boot, report the load of simdrv.sys (for kd -d)
  --symbols-dir        write the modules' PDBs (a symbol store) and print its directory
  --byte-timeout D     per-byte receive timeout of the target (default 50ms)
  --retries N          sends before a DbgPrint is abandoned (default 20)
  --tick D             clock tick: one break-in poll per tick (default 10ms)

Faults (probabilities 0..1, drawn from --seed):
  --noise P            corrupt one byte of an outgoing packet (KDNET: of the datagram)
  --drop P             do not send an outgoing packet (KDNET: datagram)
  --dup P              send an outgoing packet twice (KDNET: datagram)
  --garbage P          send junk bytes before an outgoing packet
  --desync-after N     after N requests the expected packet id flips until a RESET
  --mute-after N       after N requests stop answering for --mute-for
  --mute-for D         how long the target stays mute (default 5s)
  --evil               hostile but well-checksummed packets

Observing:
  --trace              print every packet to stderr ("->" host to target, "<-" back)
  --events FILE        write one JSON object per event to FILE
  -h, --help           show this help

Examples:
  kdsim --listen unix:/tmp/kd.sock
  kd -k com:pipe,port=/tmp/kd.sock

  kdsim --listen tcp:127.0.0.1:9000 --stopped --print-every 2s --trace
  kdsim --pty --baud 115200 --noise 0.01 --events /tmp/kdsim.jsonl
  kdsim --device /dev/ttyS0 --baud 115200 --print-every 1s   (in a VM guest)

  kdsim --kdnet 127.0.0.1:50000 --key 1.2.3.4 --stopped
  kd -k net:port=50000,key=1.2.3.4
`

// exitRebooted is kdsim's exit status when --exit-on-reboot ends it.
const exitRebooted = 4

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is kdsim without the process: it returns the exit status (0 after
// ctx ends, 1 on a runtime error, 2 on a usage error, 4 after a reboot
// under --exit-on-reboot).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var (
		cfg                 sim.Config
		listen, connect     string
		device, events      string
		pty, trace, remote  bool
		exitOnReboot        bool
		settle              time.Duration
		build               uint16
		seed                int64
		desync, mute, procs int
		kdnetAddr, keyStr   string
		bind                string
		kdnetVersion        uint8
		offerEvery          time.Duration
	)
	fs := pflag.NewFlagSet("kdsim", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&listen, "listen", "", "")
	fs.BoolVar(&remote, "allow-remote", false, "")
	fs.BoolVar(&pty, "pty", false, "")
	fs.StringVar(&connect, "connect", "", "")
	fs.StringVar(&device, "device", "", "")
	fs.BoolVar(&exitOnReboot, "exit-on-reboot", false, "")
	fs.DurationVar(&settle, "settle", 0, "")
	fs.IntVar(&cfg.Baud, "baud", 0, "")
	fs.Int64Var(&seed, "seed", 1, "")
	fs.Uint16Var(&build, "build", sim.DefaultBuild, "")
	fs.IntVar(&procs, "procs", sim.DefaultProcs, "")
	fs.BoolVar(&cfg.Stopped, "stopped", false, "")
	fs.DurationVar(&cfg.PrintEvery, "print-every", 0, "")
	fs.BoolVar(&cfg.ModuleLoads, "module-loads", false, "")
	fs.DurationVar(&cfg.ByteTimeout, "byte-timeout", sim.DefaultByteTimeout, "")
	fs.IntVar(&cfg.Retries, "retries", sim.DefaultRetries, "")
	fs.DurationVar(&cfg.Tick, "tick", sim.DefaultTick, "")
	fs.Float64Var(&cfg.Noise, "noise", 0, "")
	fs.Float64Var(&cfg.Drop, "drop", 0, "")
	fs.Float64Var(&cfg.Dup, "dup", 0, "")
	fs.Float64Var(&cfg.Garbage, "garbage", 0, "")
	fs.IntVar(&desync, "desync-after", 0, "")
	fs.IntVar(&mute, "mute-after", 0, "")
	fs.DurationVar(&cfg.MuteFor, "mute-for", 5*time.Second, "")
	fs.BoolVar(&cfg.Evil, "evil", false, "")
	fs.BoolVar(&trace, "trace", false, "")
	fs.StringVar(&events, "events", "", "")
	fs.StringVar(&kdnetAddr, "kdnet", "", "")
	fs.StringVar(&keyStr, "key", "", "")
	fs.StringVar(&bind, "bind", "", "")
	var symbolsDir bool
	fs.BoolVar(&symbolsDir, "symbols-dir", false, "")
	fs.Uint8Var(&kdnetVersion, "kdnet-version", sim.DefaultKDNETVersion, "")
	fs.DurationVar(&offerEvery, "offer-every", sim.DefaultOfferEvery, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return 0
		}
		return usageError(stderr, err.Error())
	}
	if symbolsDir {
		dir, err := sim.WriteSymbolStore(sim.DefaultSymbolsDir())
		if err != nil {
			fmt.Fprintf(stderr, "kdsim: error: writing the PDBs: %v\n", err)
			return 1
		}
		fmt.Fprintln(stdout, dir)
		return 0
	}
	modes := 0
	for _, on := range []bool{listen != "", pty, connect != "", kdnetAddr != "", device != ""} {
		if on {
			modes++
		}
	}
	switch {
	case fs.NArg() > 0:
		return usageError(stderr, fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	case modes != 1:
		return usageError(stderr, "give exactly one of --listen, --pty, --connect, --device or --kdnet")
	case (exitOnReboot || settle != 0) && device == "":
		return usageError(stderr, "--exit-on-reboot and --settle need --device")
	case settle < 0:
		return usageError(stderr, "--settle must not be negative")
	case listen != "" && !remote && !sim.IsLoopback(listen):
		return usageError(stderr, fmt.Sprintf("%s is not a loopback address (use --allow-remote to serve it anyway)", listen))
	case procs < 1 || procs > sim.MaxProcs:
		return usageError(stderr, fmt.Sprintf("--procs must be between 1 and %d", sim.MaxProcs))
	}
	for name, p := range map[string]float64{"noise": cfg.Noise, "drop": cfg.Drop, "dup": cfg.Dup, "garbage": cfg.Garbage} {
		if p < 0 || p > 1 {
			return usageError(stderr, fmt.Sprintf("--%s must be a probability between 0 and 1", name))
		}
	}
	var kn *kdnetOptions
	if kdnetAddr != "" || keyStr != "" {
		c, msg := kdnetConfig(kdnetAddr, keyStr, bind, kdnetVersion, offerEvery)
		if msg != "" {
			return usageError(stderr, msg)
		}
		// Faults apply to whole datagrams, in the KDNET bridge.
		c.Noise, c.Drop, c.Dup, c.Seed = cfg.Noise, cfg.Drop, cfg.Dup, seed
		cfg.Noise, cfg.Drop, cfg.Dup = 0, 0, 0
		kn = c
	}
	cfg.Seed, cfg.Build, cfg.Procs, cfg.DesyncAfter, cfg.MuteAfter = seed, build, procs, desync, mute
	lineBaud := 0
	if device != "" {
		// The UART clocks the bytes: the line speed is set, nothing is paced.
		lineBaud, cfg.Baud = cfg.Baud, 0
		if lineBaud == 0 {
			lineBaud = 115200
		}
		if !slices.Contains(sim.DeviceBauds, lineBaud) {
			return usageError(stderr, fmt.Sprintf("--baud with --device must be one of %v", sim.DeviceBauds))
		}
	}
	if trace {
		cfg.Trace = stderr
	}
	if events != "" {
		f, err := os.Create(events)
		if err != nil {
			fmt.Fprintf(stderr, "kdsim: error: %v\n", err)
			return 1
		}
		defer f.Close()
		cfg.Events = sim.EventWriter(f)
	}
	if kn != nil {
		kn.Events = cfg.Events
		if trace {
			kn.Trace = stderr
		}
	}
	m := sim.New(cfg)
	defer m.Close()

	var err error
	switch {
	case listen != "":
		ln, lerr := sim.Listen(listen)
		if lerr != nil {
			fmt.Fprintf(stderr, "kdsim: error: %v\n", lerr)
			return 1
		}
		fmt.Fprintf(stdout, "kdsim: listening on %s:%s\n", ln.Addr().Network(), ln.Addr())
		err = sim.ServeListener(ctx, m, ln)
	case kn != nil:
		conn, lerr := net.ListenUDP("udp", kn.Bind)
		if lerr != nil {
			fmt.Fprintf(stderr, "kdsim: error: %v\nkdsim: hint: choose another --bind address or port\n", lerr)
			return 1
		}
		kn.Conn = conn
		fmt.Fprintf(stdout, "kdsim: KDNET target on udp:%s, offering to %s every %v\n", conn.LocalAddr(), kn.Host, kn.OfferEvery)
		err = sim.ServeKDNET(ctx, m, kn.KDNETConfig)
	case device != "":
		err = sim.ServeDevice(ctx, m, device, sim.DeviceOptions{Baud: lineBaud, ExitOnReboot: exitOnReboot, Settle: settle,
			Ready: func() { fmt.Fprintf(stdout, "kdsim: serial port %s at %d baud\n", device, lineBaud) }})
		if errors.Is(err, sim.ErrRebooted) {
			fmt.Fprintln(stdout, "kdsim: the host rebooted the target")
			return exitRebooted
		}
	case pty:
		err = simpty.Serve(ctx, m, func(path string) { fmt.Fprintf(stdout, "kdsim: serial port %s\n", path) })
	default:
		fmt.Fprintf(stdout, "kdsim: connecting to %s\n", connect)
		err = sim.Connect(ctx, m, connect)
	}
	if err != nil && ctx.Err() == nil {
		fmt.Fprintf(stderr, "kdsim: error: %v\n", err)
		return 1
	}
	return 0
}

// kdnetOptions is the KDNET configuration from the command line.
type kdnetOptions struct {
	sim.KDNETConfig
	Bind *net.UDPAddr
}

// kdnetConfig checks the KDNET flags. The key never appears in a message.
func kdnetConfig(addr, key, bind string, version uint8, every time.Duration) (*kdnetOptions, string) {
	switch {
	case addr == "":
		return nil, "--key needs --kdnet HOST:PORT"
	case key == "":
		return nil, "--kdnet needs --key KEY (the key given to bcdedit /dbgsettings net)"
	case version != 2 && version != 4:
		return nil, "--kdnet-version must be 2 or 4"
	case every <= 0:
		return nil, "--offer-every must be positive"
	}
	host, err := netip.ParseAddrPort(addr)
	if err != nil || !host.Addr().Unmap().Is4() || host.Port() == 0 {
		return nil, fmt.Sprintf("--kdnet %q: want an IPv4 address and a port, e.g. 127.0.0.1:50000 (KDNET over IPv6 is not supported)", addr)
	}
	k, err := kdnet.ParseKey(key)
	if err != nil {
		return nil, "--key: " + strings.TrimPrefix(err.Error(), "kdnet: ")
	}
	c := &kdnetOptions{KDNETConfig: sim.KDNETConfig{Host: host, Key: k, Version: version, OfferEvery: every},
		Bind: &net.UDPAddr{IP: host.Addr().AsSlice()}}
	if bind != "" {
		b, err := netip.ParseAddrPort(bind)
		if err != nil || !b.Addr().Unmap().Is4() {
			return nil, fmt.Sprintf("--bind %q: want an IPv4 address and a port (0 for any)", bind)
		}
		c.Bind = net.UDPAddrFromAddrPort(b)
	}
	return c, ""
}

func usageError(stderr io.Writer, msg string) int {
	fmt.Fprintf(stderr, "kdsim: error: %s\nkdsim: hint: run kdsim -h for usage\n", msg)
	return 2
}
