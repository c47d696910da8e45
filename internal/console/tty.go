package console

import (
	"errors"
	"io"
	"sync"
	"unicode/utf8"

	"github.com/chzyer/readline"
)

// puaBase is where raw control bytes are moved in the private-use area so
// that readline's escape decoder cannot confuse them with arrow keys.
const puaBase = 0xE000

// TerminalConfig configures a TerminalInput.
type TerminalConfig struct {
	// Src gives the raw bytes of the keyboard; it is read by one
	// goroutine for the whole session.
	Src io.Reader
	// Stdout and Stderr are the terminal's output.
	Stdout, Stderr io.Writer
	// HistoryFile keeps the command history; "" keeps none.
	HistoryFile string
	// MakeRaw puts the terminal in raw mode for the whole session and
	// returns how to restore it; nil leaves the terminal alone (tests).
	MakeRaw func() (restore func() error, err error)
	// Width reports the terminal width; nil asks the terminal.
	Width func() int
	// NoWidthWatch disables the SIGWINCH watcher (tests).
	NoWidthWatch bool
}

// TerminalInput is the interactive input: readline at the prompt (history,
// arrow keys, line editing) and, while no prompt is shown (a command runs,
// the target runs, kd waits for it), a key reader of its own, so that
// every control key works at any time.
//
// One goroutine (the pump) reads the keyboard. At the prompt it feeds the
// bytes to readline, one line at a time, with kd's control bytes moved to
// the private-use area (U+E000+byte): readline's filter drops them and
// records the key, which acts when ENTER ends the line. Away from the
// prompt it reads the keys itself: CTRL+C acts at once, the other control
// keys at the next ENTER, and anything else is kept and typed into the
// next prompt. The terminal stays in raw mode for the whole session (so
// CTRL+C and CTRL+R arrive as bytes, not as a signal and a reprint), and
// is restored by Close.
type TerminalInput struct {
	cfg     TerminalConfig
	c       *Console
	rl      *readline.Instance
	restore func() error

	mu        sync.Mutex
	cond      *sync.Cond
	prompting bool   // a ReadLine is in progress: keys go to readline
	released  bool   // readline drew its prompt: the feeder may hand it bytes
	lineDone  bool   // the feeder handed over this ReadLine's ENTER
	pending   []byte // bytes for readline
	typeahead []byte // typed away from the prompt
	keyByte   byte   // a control byte typed away from the prompt, awaiting ENTER
	lastCR    bool   // the previous byte was CR (CR LF is one ENTER)
	rlKey     Key    // a control key seen by readline's filter on this line
	eof       bool   // the keyboard is gone
	closed    bool
	closeOnce sync.Once
}

// NewTerminalInput returns an interactive input over cfg.Src.
func NewTerminalInput(cfg TerminalConfig) *TerminalInput {
	t := &TerminalInput{cfg: cfg}
	t.cond = sync.NewCond(&t.mu)
	return t
}

// Interactive implements Input.
func (t *TerminalInput) Interactive() bool { return true }

// Start implements Input: raw mode, readline, the pump.
func (t *TerminalInput) Start(c *Console) error {
	t.c = c
	if t.cfg.MakeRaw != nil {
		restore, err := t.cfg.MakeRaw()
		if err != nil {
			return err
		}
		t.restore = restore
	}
	noop := func() error { return nil }
	rc := &readline.Config{
		Stdin:               feeder{t},
		Stdout:              promptWriter{t, t.cfg.Stdout},
		Stderr:              t.cfg.Stderr,
		HistoryFile:         t.cfg.HistoryFile,
		HistoryLimit:        1000,
		FuncFilterInputRune: t.filter,
		FuncIsTerminal:      func() bool { return true },
		FuncMakeRaw:         noop, // raw for the whole session: see Start
		FuncExitRaw:         noop,
		InterruptPrompt:     "^C",
	}
	if t.cfg.HistoryFile == "" {
		rc.HistoryLimit = -1
	}
	if t.cfg.Width != nil {
		rc.FuncGetWidth = t.cfg.Width
	}
	if t.cfg.NoWidthWatch {
		rc.FuncOnWidthChanged = func(func()) {}
	}
	rl, err := readline.NewEx(rc)
	if err != nil {
		t.restoreTerminal()
		return err
	}
	t.rl = rl
	go t.pump()
	return nil
}

// restoreTerminal leaves raw mode (once).
func (t *TerminalInput) restoreTerminal() {
	if t.restore != nil {
		_ = t.restore()
		t.restore = nil
	}
}

// Close implements Input: readline stops, the terminal is restored.
func (t *TerminalInput) Close() error {
	t.closeOnce.Do(func() {
		t.mu.Lock()
		t.closed = true
		t.cond.Broadcast()
		t.mu.Unlock()
		if c, ok := t.cfg.Src.(io.Closer); ok {
			_ = c.Close()
		}
		if t.rl != nil {
			_ = t.rl.Close()
		}
		if t.c != nil {
			t.c.out.SetWriters(t.cfg.Stdout, t.cfg.Stderr, false)
		}
		t.restoreTerminal()
	})
	return nil
}

// filter is readline's FuncFilterInputRune: kd's control keys (moved to
// the private-use area by feeder) are dropped and recorded; CTRL+C acts at
// once. Line-ending runes are never mapped.
func (t *TerminalInput) filter(r rune) (rune, bool) {
	if r < puaBase || r >= puaBase+0x20 {
		return r, true
	}
	b := byte(r - puaBase)
	switch {
	case b == byte(KeyCtrlC):
		t.c.Key(KeyCtrlC)
	case IsKeyByte(b):
		t.mu.Lock()
		t.rlKey = Key(b)
		t.mu.Unlock()
	}
	return r, false
}

// owned reports whether the feeder moves byte b out of readline's way.
func owned(b byte) bool { return IsKeyByte(b) || b == 0x1A /* CTRL+Z: no suspending in raw mode */ }

// feeder is readline's Stdin: the bytes of the current prompt, one line at
// a time, so that bytes after ENTER stay with kd.
type feeder struct{ t *TerminalInput }

func (f feeder) Read(p []byte) (int, error) {
	t := f.t
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(t.pending) == 0 || !t.prompting || !t.released || t.lineDone {
		if t.closed || t.eof && len(t.pending) == 0 {
			return 0, io.EOF
		}
		t.cond.Wait()
	}
	out := 0
	for len(t.pending) > 0 {
		b := t.pending[0]
		if !owned(b) {
			if len(p) < out+1 {
				break
			}
			p[out] = b
			out++
		} else {
			r := rune(puaBase + int(b))
			if len(p) < out+utf8.RuneLen(r) {
				break
			}
			out += utf8.EncodeRune(p[out:], r)
		}
		t.pending = t.pending[1:]
		if b == '\r' || b == '\n' {
			// One line per ReadLine: readline may read on after ENTER
			// (a dropped key leaves it a spare wake-up), and the next
			// line must wait for the next prompt.
			t.lineDone = true
			if b == '\r' && len(t.pending) > 0 && t.pending[0] == '\n' {
				t.pending = t.pending[1:] // CR LF is one ENTER
			}
			break
		}
	}
	return out, nil
}

// Close keeps readline from closing the keyboard: TerminalInput.Close does.
func (f feeder) Close() error {
	f.t.mu.Lock()
	f.t.closed = true
	f.t.cond.Broadcast()
	f.t.mu.Unlock()
	return nil
}

// promptWriter is readline's Stdout. Its first write of a ReadLine is the
// prompt, drawn once readline waits for the line: only then does the
// feeder hand over the bytes typed ahead, so that readline never finishes
// a line before it is asked for one (its line buffer is not guarded
// against that).
type promptWriter struct {
	t *TerminalInput
	w io.Writer
}

func (p promptWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	t := p.t
	t.mu.Lock()
	if t.prompting && !t.released {
		t.released = true
		t.cond.Broadcast()
	}
	t.mu.Unlock()
	return n, err
}

// pump reads the keyboard for the whole session.
func (t *TerminalInput) pump() {
	buf := make([]byte, 4096)
	for {
		n, err := t.cfg.Src.Read(buf)
		if n > 0 {
			t.route(buf[:n])
		}
		if err != nil {
			t.mu.Lock()
			t.eof = true
			t.cond.Broadcast()
			t.mu.Unlock()
			if !errors.Is(err, io.EOF) || !t.isClosed() {
				// The keyboard went away (hang-up): leave like CTRL+B.
				if !t.isClosed() {
					t.c.detach()
				}
			}
			return
		}
	}
}

func (t *TerminalInput) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

// route hands bytes to readline at the prompt, or reads the keys in them.
func (t *TerminalInput) route(b []byte) {
	t.mu.Lock()
	if t.prompting {
		t.pending = append(t.pending, b...)
		t.cond.Broadcast()
		t.mu.Unlock()
		return
	}
	keys := t.keysLocked(b)
	t.mu.Unlock()
	for _, k := range keys {
		t.c.Key(k)
	}
}

// keysLocked reads keys away from the prompt: CTRL+C at once, other
// control keys when ENTER follows, everything else is type-ahead.
func (t *TerminalInput) keysLocked(b []byte) []Key {
	var keys []Key
	for _, c := range b {
		cr := t.lastCR
		t.lastCR = c == '\r'
		switch {
		case c == byte(KeyCtrlC):
			keys = append(keys, KeyCtrlC)
		case c == 0x1A:
			// CTRL+Z: ignored.
		case IsKeyByte(c):
			t.keyByte = c
		case c == '\n' && cr:
			// The LF of a CR LF pair.
		case c == '\r' || c == '\n':
			if t.keyByte != 0 {
				keys = append(keys, Key(t.keyByte))
				t.keyByte = 0
				continue
			}
			t.typeahead = append(t.typeahead, '\r')
		case c == 0x7F || c == 0x08:
			if n := len(t.typeahead); n > 0 && t.typeahead[n-1] != '\r' {
				t.typeahead = t.typeahead[:n-1]
			}
		default:
			t.typeahead = append(t.typeahead, c)
		}
	}
	return keys
}

// ReadLine implements Input: readline with prompt.
func (t *TerminalInput) ReadLine(prompt string) (string, error) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return "", io.EOF
	}
	t.prompting = true
	pre := t.typeahead
	if t.keyByte != 0 {
		pre = append(pre, t.keyByte)
		t.keyByte = 0
	}
	t.pending = append(pre, t.pending...)
	t.typeahead = nil
	t.rlKey = 0
	t.cond.Broadcast()
	t.mu.Unlock()

	// While the prompt is up, output goes through readline, which redraws
	// the edit line around it; otherwise straight to the terminal.
	t.rl.SetPrompt(prompt)
	t.c.out.SetWriters(t.rl.Stdout(), t.rl.Stderr(), true)
	line, err := t.rl.Readline()
	t.c.out.SetWriters(t.cfg.Stdout, t.cfg.Stderr, false)

	t.mu.Lock()
	t.prompting, t.released, t.lineDone = false, false, false
	left := t.pending
	t.pending = nil
	key := t.rlKey
	t.rlKey = 0
	eof := t.eof || t.closed
	keys := t.keysLocked(left)
	t.mu.Unlock()
	for _, k := range keys {
		t.c.Key(k)
	}

	switch {
	case err == nil && key != 0:
		t.c.Key(key)
		return "", ErrKeyLine
	case err == nil:
		return line, nil
	case errors.Is(err, io.EOF) && eof:
		return "", io.EOF
	default:
		// CTRL+C or Delete on an empty line: just prompt again.
		return "", ErrKeyLine
	}
}
