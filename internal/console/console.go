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

	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/kdproto"
	"github.com/gokd/kd/transport"
)

// Exit statuses of Run.
const (
	ExitOK         = 0 // every command succeeded
	ExitCommand    = 1 // a command failed
	ExitUsage      = 2 // bad command line (used by cmd/kd)
	ExitConnection = 3 // the connection was lost or a wait timed out
)

// DefaultWaitTimeout bounds how long a scripted command waits for the
// target to stop.
const DefaultWaitTimeout = 30 * time.Second

// DefaultResets is the number of RESET packets sent before a resync is
// given up when the connection string has no resets= option.
const DefaultResets = 10

// Config configures a Console.
type Config struct {
	Spec              transport.Spec // where the target is (-k)
	BreakIn           bool           // -b: break in at once, and after reboots
	BreakOnModuleLoad bool           // -d: break at the first module load after a reboot
	Verbose           bool           // -v
	Quiet             bool           // KDQUIET: no break-in box
	Commands          []string       // -c and -cf lines, run first
	SymbolPath        string         // -y (kept for later)
	LogOpen           string         // -logo FILE
	LogAppend         string         // -loga FILE
	Trace             io.Writer      // --trace: packet trace sink, nil = off
	WaitTimeout       time.Duration  // --wait-timeout; 0 = DefaultWaitTimeout
	Engine            kdproto.Options
	Sim               sim.Config // the embedded simulator for -k sim
	Version           string     // kd's version, for CTRL+W

	Stdout, Stderr io.Writer
	// Input supplies command lines and keys; see NewScriptInput and NewTerminalInput.
	Input Input
	// Open opens a transport; nil means transport.Open.
	Open func(ctx context.Context, s transport.Spec, o transport.Options) (transport.Conn, error)
	// Now returns the time; nil means time.Now.
	Now func() time.Time
	// NoSignals leaves SIGINT alone (tests).
	NoSignals bool
}

// Console is one kd session. Create it with New and start it with Run.
type Console struct {
	cfg  Config
	spec transport.Spec
	out  *Output
	cmds *Commands
	in   Input
	mail mailbox

	// Owned by the runner goroutine.
	pending    []queued // command lines waiting to run
	lastCmd    string   // for ENTER repeat
	reading    bool     // a ReadLine is outstanding
	inputEOF   bool
	waitTimer  *time.Timer
	waitArmed  bool
	gen        int // session generation
	simMachine *sim.Machine
	simServing chan struct{} // closed when the simulator's last Serve returned
	// symbolTable maps "module!name" to an address: names kd knows
	// without reading the target (the embedded simulator's table).
	symbolTable map[string]uint64
	dbgPrompt   *kdproto.Event // a DbgPrompt waiting for its answer
	// dbgPromptText is the DbgPrompt's last line, the prompt of its answer.
	dbgPromptText string
	lastDump      dumpState

	// Shared, guarded by mu.
	mu         sync.Mutex
	sess       *session
	cmdCancel  context.CancelFunc
	resyncing  bool
	breakState int

	verbose      atomic.Bool
	traceConsole atomic.Bool
	status       atomic.Int32
	done         chan struct{}
	doneOnce     sync.Once
	rootCancel   context.CancelFunc
	rootCtx      context.Context
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
	if cfg.Open == nil {
		cfg.Open = transport.Open
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Console{
		cfg:  cfg,
		spec: cfg.Spec,
		out:  NewOutput(cfg.Stdout, cfg.Stderr),
		cmds: defaultCommands(),
		in:   cfg.Input,
		done: make(chan struct{}),
	}
	c.mail.init()
	c.verbose.Store(cfg.Verbose)
	switch {
	case cfg.BreakIn:
		c.breakState = breakOnReboot
	case cfg.BreakOnModuleLoad:
		c.breakState = breakOnModuleLoad
	}
	for _, l := range cfg.Commands {
		for _, part := range splitCommands(l) {
			c.pending = append(c.pending, queued{line: part, echo: true})
		}
	}
	return c
}

// session returns the current session, or nil.
func (c *Console) session() *session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
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
// lost connection, and returns the exit status.
func (c *Console) Run(ctx context.Context) int {
	ctx, cancel := context.WithCancel(ctx)
	c.rootCancel, c.rootCtx = cancel, ctx
	defer cancel()

	if c.cfg.LogOpen != "" {
		c.openLog(c.cfg.LogOpen, false)
	} else if c.cfg.LogAppend != "" {
		c.openLog(c.cfg.LogAppend, true)
	}
	defer c.out.CloseLog()
	if c.in != nil {
		if err := c.in.Start(c); err != nil {
			c.out.Errorf("cannot read the terminal: " + err.Error())
			return ExitConnection
		}
		defer c.in.Close()
	}
	if !c.cfg.NoSignals {
		sigs := make(chan os.Signal, 4)
		notifySignals(sigs)
		defer signal.Stop(sigs)
		go func() {
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

	if err := c.open(c.cfg.BreakIn, c.cfg.BreakOnModuleLoad, true); err != nil {
		c.out.Errorf("cannot open "+c.spec.String()+": "+errText(err), openHints(c.spec, err)...)
		c.fail(ExitConnection)
		return int(c.status.Load())
	}
	defer c.closeSession()

	for !c.finished() {
		c.step(ctx)
		if c.finished() {
			break
		}
		var timeout <-chan time.Time
		if c.waitTimer != nil && c.waitArmed {
			timeout = c.waitTimer.C
		}
		var events <-chan kdproto.Event
		s := c.session()
		if s != nil && !s.eventsDone {
			events = s.eng.Events()
		}
		select {
		case ev, ok := <-events:
			if !ok {
				s.eventsDone = true
				continue
			}
			c.onEvent(ctx, s, ev)
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
	return int(c.status.Load())
}

// step runs the pending lines that can run now and asks for input when
// there is nothing left to do.
func (c *Console) step(ctx context.Context) {
	for !c.finished() {
		if c.dbgPrompt != nil {
			if len(c.pending) > 0 {
				line := c.pending[0].line
				c.pending = c.pending[1:]
				c.answerPrompt(ctx, line)
				continue
			}
		} else if len(c.pending) > 0 {
			q := c.pending[0]
			cmd, _ := c.cmds.Lookup(q.line)
			if !c.ready() && !(cmd.Anytime && c.linkDead()) {
				c.armWait()
				break
			}
			c.disarmWait()
			c.pending = c.pending[1:]
			c.execLine(ctx, q, cmd)
			continue
		}
		if !c.reading && !c.inputEOF && c.in != nil && c.wantInput() {
			c.reading = true
			prompt := c.prompt()
			if c.dbgPrompt != nil {
				prompt = c.dbgPromptText
			}
			go func() {
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
	if c.dbgPrompt != nil {
		return true
	}
	if !c.in.Interactive() {
		return len(c.pending) == 0
	}
	return len(c.pending) == 0 && c.ready()
}

// linkDead reports whether there is no working link to the target.
func (c *Console) linkDead() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess == nil || c.sess.dead
}

// ready reports whether a command can run now: KD reads commands only
// while the target is stopped (and kd is not resynchronising).
func (c *Console) ready() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sess
	return s != nil && s.stopped && s.haveVersion && !c.resyncing && !s.dead
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
	if len(c.pending) == 0 || c.ready() {
		return
	}
	what := "stop"
	c.mu.Lock()
	if c.resyncing {
		what = "answer the resync"
	}
	c.mu.Unlock()
	c.out.Errorf("timed out after "+c.cfg.WaitTimeout.String()+" waiting for the target to "+what+" before running '"+c.pending[0].line+"'",
		"a running target only takes commands once it stops: put a CTRL+C line (byte 0x03) before the command, or raise --wait-timeout")
	c.fail(ExitConnection)
	c.finish()
}

// prompt returns KD's prompt for the current processor.
func (c *Console) prompt() string {
	s := c.session()
	if s == nil || s.nprocs <= 1 {
		return "kd> "
	}
	return itoa(int(s.cpu)) + ": kd> "
}

// lineNote is a line (or the end of input) from the Input.
type lineNote struct {
	line   string
	prompt string
	err    error
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
			c.out.Errorf(fmt.Sprintf("a script line is longer than %d characters; it was skipped", MaxCommandLen), "KD commands are at most 4096 characters: split the line with ; into shorter ones")
			c.fail(ExitCommand)
		case errors.Is(n.err, io.EOF):
			c.inputEOF = true
			// End of input: detach like CTRL+B.
			c.detach()
		case n.err != nil:
			c.out.Errorf("reading input: " + n.err.Error())
			c.inputEOF = true
			c.detach()
		default:
			if c.in.Interactive() {
				c.out.LogInput(n.prompt, n.line)
			}
			if c.dbgPrompt != nil {
				c.answerPrompt(ctx, n.line)
				return
			}
			parts := splitCommands(n.line)
			if len(parts) == 0 && c.in.Interactive() && c.lastCmd != "" {
				parts = []string{c.lastCmd}
			}
			for _, p := range parts {
				// The terminal showed what was typed; a script's lines
				// are echoed after the prompt when they run.
				c.pending = append(c.pending, queued{line: p, echo: !c.in.Interactive()})
			}
		}
	case resyncNote:
		c.onResyncDone(ctx, n)
	case connectNote:
		c.onConnectDone(ctx, n)
	case func():
		n()
	}
}

// queued is a command line waiting to run; echo says whether to print it
// after the prompt when it runs (script lines and -c commands: nobody saw
// them typed).
type queued struct {
	line string
	echo bool
}

// execLine runs one command.
func (c *Console) execLine(ctx context.Context, q queued, cmd *Command) {
	line := q.line
	if q.echo {
		c.out.Printf("%s%s", c.prompt(), line)
	}
	cctx, cancel := context.WithCancel(ctx)
	c.mu.Lock()
	c.cmdCancel = cancel
	c.mu.Unlock()
	_, args := c.cmds.Lookup(line)
	err := cmd.Run(cctx, c, args)
	c.mu.Lock()
	c.cmdCancel = nil
	c.mu.Unlock()
	cancel()
	if cmd.Repeat {
		c.lastCmd = cmd.Names[0]
	} else {
		c.lastCmd = ""
	}
	if err != nil {
		c.reportError(line, err)
	}
}

// itoa is strconv.Itoa without the import noise.
func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// mailbox is an unbounded queue to the runner: posting never blocks.
type mailbox struct {
	mu     sync.Mutex
	items  []any
	signal chan struct{}
}

func (m *mailbox) init() { m.signal = make(chan struct{}, 1) }

func (m *mailbox) post(n any) {
	m.mu.Lock()
	m.items = append(m.items, n)
	m.mu.Unlock()
	select {
	case m.signal <- struct{}{}:
	default:
	}
}

func (m *mailbox) take() []any {
	m.mu.Lock()
	defer m.mu.Unlock()
	items := m.items
	m.items = nil
	return items
}
