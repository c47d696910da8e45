// Command kd is a KD-style console kernel debugger for Windows targets: it
// talks the KDCOM serial protocol over a serial port, a VM's serial pipe
// or socket, or the built-in simulator. Run kd -h for the options.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chzyer/readline"
	"github.com/spf13/pflag"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/console"
	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/internal/symsrv"
	"github.com/gokd/kd/transport"
)

// Version is set with -ldflags "-X main.Version=..."; debug.ReadBuildInfo
// is used when it is empty.
var Version string

// flags holds kd's command line.
type flags struct {
	connect      string
	kEnv         bool
	breakIn      bool
	moduleLoad   bool
	verbose      bool
	commands     string
	scriptFile   string
	logOpen      string
	logAppend    string
	symbolPath   string
	version      bool
	help         bool
	trace        string
	json         bool
	waitTimeout  time.Duration
	ackTimeout   time.Duration
	replyTimeout time.Duration
	decode       string
}

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	var f flags
	fs := pflag.NewFlagSet("kd", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVarP(&f.connect, "connect", "k", "", "")
	fs.BoolVar(&f.kEnv, "k-env", false, "")
	fs.BoolVarP(&f.breakIn, "break", "b", false, "")
	fs.BoolVarP(&f.moduleLoad, "module-load-break", "d", false, "")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "")
	fs.StringVarP(&f.commands, "commands", "c", "", "")
	fs.StringVar(&f.scriptFile, "cf", "", "")
	fs.StringVar(&f.logOpen, "logo", "", "")
	fs.StringVar(&f.logAppend, "loga", "", "")
	fs.StringVarP(&f.symbolPath, "symbol-path", "y", "", "")
	fs.BoolVar(&f.version, "version", false, "")
	fs.BoolVarP(&f.help, "help", "h", false, "")
	fs.StringVar(&f.trace, "trace", "", "")
	fs.BoolVar(&f.json, "json", false, "")
	fs.Lookup("trace").NoOptDefVal = "-"
	fs.DurationVar(&f.waitTimeout, "wait-timeout", console.DefaultWaitTimeout, "")
	fs.DurationVar(&f.ackTimeout, "ack-timeout", 0, "")
	fs.DurationVar(&f.replyTimeout, "reply-timeout", 0, "")
	fs.StringVar(&f.decode, "decode", "", "")
	for _, h := range []string{"k-env", "ack-timeout", "reply-timeout"} {
		_ = fs.MarkHidden(h)
	}
	if err := fs.Parse(kdArgs(args)); err != nil {
		return usageError(err.Error())
	}
	switch {
	case f.help:
		fmt.Print(usage)
		return console.ExitOK
	case f.version:
		fmt.Printf("kd version %s\n", version())
		return console.ExitOK
	case fs.NArg() > 0:
		return usageError("unexpected argument " + fs.Arg(0))
	case f.decode != "":
		return runDecode(f.decode, f.connect, os.Stdout, os.Stderr)
	}

	var spec transport.Spec
	var err error
	switch {
	case f.connect != "":
		spec, err = transport.Parse(f.connect)
	case f.kEnv:
		spec, err = transport.FromEnv(os.Getenv)
	default:
		return usageError("no target: give -k CONNECT (for example -k sim or -k com:pipe,port=/tmp/kd.sock)")
	}
	if err != nil {
		return usageError(strings.TrimPrefix(err.Error(), "transport: "))
	}

	cfg := console.Config{
		Spec: spec, BreakIn: f.breakIn, BreakOnModuleLoad: f.moduleLoad, Verbose: f.verbose,
		LogOpen: f.logOpen, LogAppend: f.logAppend,
		WaitTimeout: f.waitTimeout, Version: version(), Quiet: os.Getenv("KDQUIET") != "", JSON: f.json,
	}
	if spec.Kind == transport.KindSim {
		d := sim.NewDialer(sim.Config{Stopped: true, PrintEvery: 5 * time.Second})
		cfg.Dial = d.Dial
		// The simulator's own PDBs, written to the cache when first needed.
		cfg.SymbolSearch = sim.EmbeddedSymbols{Dir: sim.DefaultSymbolsDir()}
	}
	symPath, err := symsrv.FromEnv(os.Getenv)
	if err != nil {
		return usageError("_NT_SYMBOL_PATH: " + err.Error())
	}
	if f.symbolPath != "" {
		if symPath, err = symsrv.Parse(f.symbolPath); err != nil {
			return usageError("-y: " + err.Error())
		}
	}
	if len(symPath) > 0 {
		cfg.SymbolSearch = &commands.SymPath{Path: symPath, Client: &symsrv.Client{}}
		cfg.SymbolPath = symPath.String()
	}
	cfg.Engine.AckTimeout, cfg.Engine.ReplyTimeout = f.ackTimeout, f.replyTimeout
	if f.scriptFile != "" {
		b, err := os.ReadFile(f.scriptFile)
		if err != nil {
			return usageError("-cf: " + err.Error())
		}
		cfg.Commands = append(cfg.Commands, strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")...)
	}
	if f.commands != "" {
		cfg.Commands = append(cfg.Commands, f.commands)
	}
	switch f.trace {
	case "":
	case "-":
		cfg.Trace = os.Stderr
	default:
		tf, err := os.Create(f.trace)
		if err != nil {
			return usageError("--trace: " + err.Error())
		}
		defer tf.Close()
		cfg.Trace = tf
	}
	if readline.IsTerminal(readline.GetStdin()) && !f.json {
		cfg.Input = console.NewTerminalInput(console.TerminalConfig{
			Src:         readline.NewCancelableStdin(readline.Stdin),
			Stdout:      os.Stdout,
			Stderr:      os.Stderr,
			HistoryFile: historyFile(),
			MakeRaw:     makeRaw,
		})
	} else {
		cfg.Input = console.NewScriptInput(os.Stdin)
	}
	return console.New(cfg).Run(context.Background())
}

// makeRaw puts the terminal in raw mode for the whole session.
func makeRaw() (func() error, error) {
	fd := readline.GetStdin()
	st, err := readline.MakeRaw(fd)
	if err != nil {
		return nil, err
	}
	return func() error { return readline.Restore(fd, st) }, nil
}

func historyFile() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".kd_history")
}

func usageError(msg string) int {
	fmt.Fprintf(os.Stderr, "kd: error: %s\n", msg)
	fmt.Fprintf(os.Stderr, "kd: hint: run kd -h for the options and examples\n")
	return console.ExitUsage
}

func version() string {
	if Version != "" {
		return Version
	}
	return buildVersion()
}
