package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/render"
	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/kdproto"
	"github.com/gokd/kd/transport"
)

// Exit statuses of Run.
const (
	ExitOK         = 0 // every command succeeded
	ExitCommand    = 1 // a command failed (in a script or -c)
	ExitUsage      = 2 // bad command line (used by cmd/kd)
	ExitConnection = 3 // the connection was lost or a wait timed out
)

// DefaultWaitTimeout bounds how long a scripted command waits for the
// target to stop.
const DefaultWaitTimeout = 30 * time.Second

// DefaultResets is the number of RESET packets sent before a resync is
// given up when the connection string has no resets= option.
const DefaultResets = target.DefaultResets

// Config configures a Console.
type Config struct {
	Spec              transport.Spec // where the target is (-k)
	BreakIn           bool           // -b: break in at once, and after reboots
	BreakOnModuleLoad bool           // -d: break at the first module load after a reboot
	Verbose           bool           // -v
	Quiet             bool           // KDQUIET: no break-in box
	JSON              bool           // --json: one JSON object per line on Stdout
	Commands          []string       // -c and -cf lines, run first
	SymbolPath        string         // -y (kept for later)
	LogOpen           string         // -logo FILE
	LogAppend         string         // -loga FILE
	Trace             io.Writer      // --trace: packet trace sink, nil = off
	WaitTimeout       time.Duration  // --wait-timeout; 0 = DefaultWaitTimeout
	Engine            kdproto.Options
	Version           string // kd's version, for CTRL+W

	Stdout, Stderr io.Writer
	// Input supplies command lines and keys; see NewScriptInput and NewTerminalInput.
	Input Input
	// Dial opens the transport; nil means transport.Open. cmd/kd wires
	// the embedded simulator (-k sim) here.
	Dial func(ctx context.Context, s transport.Spec, o transport.Options) (transport.Conn, error)
	// Symbols are "module!name" addresses known without the target's help.
	Symbols map[string]uint64
	// SymbolSearch finds PDBs along the symbol path (nil: none).
	SymbolSearch target.SymbolSearch
	// Now returns the time; nil means time.Now.
	Now func() time.Time
	// NoSignals leaves SIGINT alone (tests).
	NoSignals bool
}

// Console is one kd session. Create it with New and start it with Run.
type Console struct {
	cfg  Config
	out  *Output
	r    renderer
	t    *target.Target
	env  *commands.Env
	cmds *commands.Commands
	in   Input
	mail mailbox

	// Owned by the runner goroutine.
	pending   []queued // command lines waiting to run
	lastCmd   string   // for ENTER repeat
	reading   bool     // a ReadLine is outstanding
	inputEOF  bool
	waitTimer *time.Timer
	waitArmed bool
	announced bool   // "ready" said for the current stop (JSON)
	dbgPrompt string // the DbgPrompt's last line, the prompt of its answer

	mu        sync.Mutex
	cmdCancel context.CancelFunc
	handled   int               // script lines the runner has taken in
	queuedN   int               // len(pending), for the script reader
	running   *commands.Command // the command running now
	changed   chan struct{}     // closed (and replaced) when the three above change

	readers      sync.WaitGroup // ReadLine goroutines
	verbose      atomic.Bool
	traceConsole atomic.Bool
	status       atomic.Int32
	done         chan struct{}
	doneOnce     sync.Once
	rootCancel   context.CancelFunc
}

// New returns a console for cfg.
func New(cfg Config) *Console {
	if cfg.Stdout == nil {
		cfg.Stdout = os.Stdout
	}
	if cfg.Stderr == nil {
		cfg.Stderr = os.Stderr
	}
	if cfg.WaitTimeout <= 0 {
		cfg.WaitTimeout = DefaultWaitTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Console{
		cfg:     cfg,
		out:     NewOutput(cfg.Stdout, cfg.Stderr),
		cmds:    commands.Default(),
		in:      cfg.Input,
		done:    make(chan struct{}),
		changed: make(chan struct{}),
	}
	c.mail.init()
	c.verbose.Store(cfg.Verbose)
	interactive := c.in != nil && c.in.Interactive()
	if cfg.JSON {
		c.r = &jsonRenderer{render.NewJSON(cfg.Stdout)}
	} else {
		c.r = &textRenderer{out: c.out, text: &render.Text{Out: c.out, Verbose: c.verbose.Load, Quiet: cfg.Quiet,
			SymbolPath: cfg.SymbolPath, Interactive: interactive}}
	}
	c.t = target.New(target.Config{
		Spec: cfg.Spec, BreakIn: cfg.BreakIn, BreakOnModuleLoad: cfg.BreakOnModuleLoad,
		Engine: cfg.Engine, Dial: cfg.Dial, Link: c.openLink, Now: cfg.Now, Symbols: cfg.Symbols, Sink: c.onEvent,
	})
	if cfg.SymbolSearch != nil {
		c.t.SetSymbolSearch(cfg.SymbolSearch)
	}
	c.env = commands.NewEnv(c.t, host{c}, c.cmds)
	for _, l := range cfg.Commands {
		for _, part := range commands.Split(l) {
			c.pending = append(c.pending, queued{line: part, echo: true})
		}
	}
	c.queuedN = len(c.pending)
	return c
}

// fail records an exit status; a higher status wins.
func (c *Console) fail(code int) {
	for {
		old := c.status.Load()
		if int32(code) <= old || c.status.CompareAndSwap(old, int32(code)) {
			return
		}
	}
}

// finish ends Run with the status collected so far.
func (c *Console) finish() {
	c.doneOnce.Do(func() {
		close(c.done)
		c.mail.post(nil)
	})
}

func (c *Console) finished() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// detach quits at once without touching the target (CTRL+B, end of input).
func (c *Console) detach() {
	c.mu.Lock()
	cancel := c.cmdCancel
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	c.finish()
	if c.rootCancel != nil {
		c.rootCancel()
	}
}

// Run runs the session until q, CTRL+B, the end of scripted input, or a
// lost connection, and returns the exit status. Every goroutine it started
// has ended when it returns.
func (c *Console) Run(ctx context.Context) int {
	ctx, cancel := context.WithCancel(ctx)
	c.rootCancel = cancel
	defer cancel()
	defer c.out.CloseLog()

	if c.cfg.LogOpen != "" {
		c.startLog(c.cfg.LogOpen, false)
	} else if c.cfg.LogAppend != "" {
		c.startLog(c.cfg.LogAppend, true)
	}
	if c.in != nil {
		if err := c.in.Start(c); err != nil {
			c.r.Error("cannot read the terminal: " + err.Error())
			return ExitConnection
		}
		defer c.readers.Wait()
		defer c.in.Close()
	}
	if !c.cfg.NoSignals {
		sigs := make(chan os.Signal, 4)
		notifySignals(sigs)
		var sigDone sync.WaitGroup
		sigDone.Add(1)
		defer func() {
			signal.Stop(sigs)
			cancel()
			sigDone.Wait()
		}()
		go func() {
			defer sigDone.Done()
			for {
				select {
				case s := <-sigs:
					if s == os.Interrupt {
						c.Interrupt()
						continue
					}
					c.fail(ExitConnection)
					c.detach()
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	c.updateTrace()
	if err := c.t.Open(ctx); err != nil {
		c.r.Error("cannot open "+specText(c.cfg.Spec)+": "+render.ErrText(err), openHints(c.cfg.Spec, err)...)
		c.fail(ExitConnection)
		return c.exit()
	}
	defer c.t.Close()

	for !c.finished() {
		c.step(ctx)
		if c.finished() {
			break
		}
		var timeout <-chan time.Time
		if c.waitTimer != nil && c.waitArmed {
			timeout = c.waitTimer.C
		}
		select {
		case in := <-c.t.Incoming():
			c.t.Handle(ctx, in)
		case <-c.mail.signal:
			for _, n := range c.mail.take() {
				if n != nil {
					c.handle(ctx, n)
				}
			}
		case <-timeout:
			c.waitArmed = false
			c.waitTimedOut()
		case <-ctx.Done():
			c.finish()
		}
	}
	return c.exit()
}

// exit returns the final status, saying it in JSON mode.
func (c *Console) exit() int {
	st := int(c.status.Load())
	c.r.Exit(st)
	return st
}

// onEvent is the target's sink: it renders the event and notes what it
// means for the session. It runs on any goroutine.
func (c *Console) onEvent(ev target.Event) {
	switch e := ev.(type) {
	case target.Prompt:
		_, tail := target.SplitPrompt(e.Text)
		c.dbgPrompt = sanitize(tail)
	case target.LinkLost:
		c.r.Event(ev)
		c.fail(ExitConnection)
		c.finish()
		return
	case target.Failure:
		if c.finished() {
			return // kd is leaving: what it was doing was cut off, not failed
		}
		c.fail(ExitCommand)
	case target.Stopped:
		c.announced = false
		c.r.Event(ev)
		c.queueAction(e)
		return
	case target.Running:
		c.announced = false
	}
	c.r.Event(ev)
}

// step runs the pending lines that can run now and asks for input when
// there is nothing left to do.
func (c *Console) step(ctx context.Context) {
	for !c.finished() {
		if c.t.PendingPrompt() {
			if len(c.pending) > 0 {
				line := c.pending[0].line
				c.pending = c.pending[1:]
				c.sync(0, nil)
				c.answerPrompt(ctx, line)
				continue
			}
		} else if len(c.pending) > 0 {
			q := c.pending[0]
			cmd, _ := c.cmds.Lookup(q.line)
			if !c.t.Ready() && !(cmd.Anytime && c.t.LinkDead()) {
				c.armWait()
				break
			}
			c.disarmWait()
			c.pending = c.pending[1:]
			c.sync(0, cmd)
			c.execLine(ctx, q, cmd)
			c.sync(0, nil)
			continue
		}
		if len(c.pending) == 0 && c.t.Ready() && !c.announced && !c.t.PendingPrompt() {
			c.announced = true
			c.r.Ready(c.prompt())
		}
		if !c.reading && !c.inputEOF && c.in != nil && c.wantInput() {
			c.reading = true
			prompt := c.prompt()
			if c.t.PendingPrompt() {
				prompt = c.dbgPrompt
			}
			c.readers.Add(1)
			go func() {
				defer c.readers.Done()
				line, err := c.in.ReadLine(prompt)
				c.mail.post(lineNote{line: line, err: err, prompt: prompt})
			}()
		}
		break
	}
}

// wantInput: a script is read ahead (its control-key lines act at once);
// a terminal gets a prompt only when kd is ready for a command.
func (c *Console) wantInput() bool {
	if c.t.PendingPrompt() {
		return true
	}
	if !c.in.Interactive() {
		return len(c.pending) == 0
	}
	return len(c.pending) == 0 && c.t.Ready()
}

func (c *Console) armWait() {
	if c.in == nil || c.in.Interactive() || c.waitArmed {
		return
	}
	if c.waitTimer == nil {
		c.waitTimer = time.NewTimer(c.cfg.WaitTimeout)
	} else {
		c.waitTimer.Reset(c.cfg.WaitTimeout)
	}
	c.waitArmed = true
}

func (c *Console) disarmWait() {
	if c.waitArmed {
		c.waitTimer.Stop()
		c.waitArmed = false
	}
}

func (c *Console) waitTimedOut() {
	if len(c.pending) == 0 || c.t.Ready() {
		return
	}
	what := "stop"
	if c.t.Resyncing() {
		what = "answer the resync"
	}
	c.r.Error("timed out after "+c.cfg.WaitTimeout.String()+" waiting for the target to "+what+" before running '"+c.pending[0].line+"'",
		"a running target only takes commands once it stops: put a CTRL+C line (byte 0x03) before the command, or raise --wait-timeout")
	c.fail(ExitConnection)
	c.finish()
}

// prompt returns KD's prompt for the current processor.
func (c *Console) prompt() string {
	cpu, n := c.t.Processor()
	if n <= 1 {
		return "kd> "
	}
	return fmt.Sprintf("%d: kd> ", cpu)
}

// handle processes one message posted to the runner.
func (c *Console) handle(ctx context.Context, n any) {
	switch n := n.(type) {
	case lineNote:
		c.reading = false
		switch {
		case errors.Is(n.err, ErrKeyLine):
			// A control key took the line; it has acted already.
		case errors.Is(n.err, ErrLineTooLong):
			c.r.Error(fmt.Sprintf("a script line is longer than %d characters; it was skipped", MaxCommandLen), "KD commands are at most 4096 characters: split the line with ; into shorter ones")
			c.fail(ExitCommand)
		case errors.Is(n.err, io.EOF):
			c.inputEOF = true
			// End of input: detach like CTRL+B.
			c.detach()
		case n.err != nil:
			c.r.Error("reading input: " + n.err.Error())
			c.inputEOF = true
			c.detach()
		default:
			if c.in.Interactive() {
				c.out.LogInput(n.prompt, n.line)
			}
			if c.t.PendingPrompt() {
				c.sync(1, nil)
				c.answerPrompt(ctx, n.line)
				return
			}
			parts := commands.Split(n.line)
			if len(parts) == 0 && c.in.Interactive() && c.lastCmd != "" {
				parts = []string{c.lastCmd}
			}
			for _, p := range parts {
				// The terminal showed what was typed; a script's lines
				// are echoed after the prompt when they run.
				c.pending = append(c.pending, queued{line: p, echo: !c.in.Interactive()})
			}
			c.sync(1, nil)
		}
	case func():
		n()
	}
}

// execLine runs one command.
func (c *Console) execLine(ctx context.Context, q queued, cmd *commands.Command) {
	line := q.line
	if q.echo {
		c.r.Echo(c.prompt(), line)
	}
	c.announced = false
	cctx, cancel := context.WithCancel(ctx)
	c.mu.Lock()
	c.cmdCancel = cancel
	c.mu.Unlock()
	_, args := c.cmds.Lookup(line)
	res, err := cmd.Run(cctx, c.env, args)
	c.mu.Lock()
	c.cmdCancel = nil
	c.mu.Unlock()
	cancel()
	if cmd.Repeat {
		c.lastCmd = cmd.Names[0]
	} else {
		c.lastCmd = ""
	}
	c.r.Result(line, res, err)
	if err != nil {
		// A person at the terminal sees the error and goes on; a script
		// or -c command that failed makes the exit status 1.
		if q.echo || c.in == nil || !c.in.Interactive() {
			c.fail(ExitCommand)
		}
	}
}

// answerPrompt sends the user's line as the answer to a DbgPrompt.
func (c *Console) answerPrompt(ctx context.Context, line string) {
	if c.in != nil && !c.in.Interactive() {
		c.r.Answer(line)
	}
	if err := c.t.AnswerPrompt(ctx, line); err != nil {
		c.r.Result("(answer to the target's prompt)", nil, err)
		c.fail(ExitCommand)
	}
}
