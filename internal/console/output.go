package console

import (
	"fmt"
	"github.com/gokd/kd/internal/safetext"
	"io"
	"os"
	"strings"
	"sync"
)

// Output is the one place user-visible text goes through. It is safe for
// concurrent use, and copies everything printed (and every command read)
// to the open log file.
//
// Target text (DbgPrint) is printed as it arrives, sanitised and with long
// lines broken. While a prompt is up only whole lines of it are printed,
// through readline, so the edit line is redrawn rather than torn; a
// console message that follows a partial target line starts on a line of
// its own.
type Output struct {
	mu         sync.Mutex
	out        io.Writer // stdout, or readline's redrawing Stdout at the prompt
	err        io.Writer // stderr, likewise
	prompting  bool      // a prompt is up: hold partial target lines
	log        *os.File
	logPath    string
	held       string // partial target line held while prompting
	targetOpen bool   // the screen's last line is target text without its newline
	boundCol   int    // length of the current target line, for boundLines
}

// NewOutput returns an Output writing to out and err.
func NewOutput(out, err io.Writer) *Output {
	return &Output{out: out, err: err}
}

// SetWriters replaces the sinks; prompting says whether they redraw a
// prompt (readline's writers) or not.
func (o *Output) SetWriters(out, err io.Writer, prompting bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.prompting && !prompting && o.held != "" {
		h := o.held
		o.held = ""
		o.emit(out, h, true)
	}
	o.out, o.err, o.prompting = out, err, prompting
}

// emit writes s to w and to the log; target says whether s is target
// text. The caller holds mu.
func (o *Output) emit(w io.Writer, s string, target bool) {
	if s == "" {
		return
	}
	_, _ = io.WriteString(w, s)
	if o.log != nil {
		_, _ = io.WriteString(o.log, s)
	}
	o.targetOpen = target && !strings.HasSuffix(s, "\n")
}

// line writes console text (ending in a newline) on a line of its own.
// The caller holds mu.
func (o *Output) line(w io.Writer, s string) {
	if o.held != "" {
		s = o.held + "\n" + s
		o.held = ""
		o.boundCol = 0
	} else if o.targetOpen {
		s = "\n" + s
		o.boundCol = 0
	}
	o.emit(w, s, false)
}

// Printf prints console text; a newline is added when missing.
func (o *Output) Printf(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.line(o.out, s)
}

// Write implements io.Writer for command output.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.line(o.out, string(p))
	return len(p), nil
}

// Continue prints s on the current line, after target text (the answer
// to a DbgPrompt in a script).
func (o *Output) Continue(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.boundCol = 0
	o.emit(o.out, s, false)
}

// Target prints text that came from the target (DbgPrint, DbgPrompt),
// sanitised.
func (o *Output) Target(b []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := safetext.BoundLines(safetext.Sanitize(b), &o.boundCol)
	if !o.prompting {
		o.emit(o.out, s, true)
		return
	}
	s = o.held + s
	i := strings.LastIndexByte(s, '\n')
	o.held = s[i+1:]
	o.emit(o.out, s[:i+1], true)
}

// FlushTarget ends a partial line of target text, if any.
func (o *Output) FlushTarget() {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case o.held != "":
		h := o.held
		o.held = ""
		o.emit(o.out, h+"\n", true)
	case o.targetOpen:
		o.emit(o.out, "\n", true)
	}
	o.boundCol = 0
}

// Errorf prints "kd: error: MSG" and one "kd: hint: HINT" line per hint to
// the error stream.
func (o *Output) Errorf(msg string, hints ...string) {
	var sb strings.Builder
	sb.WriteString("kd: error: " + msg + "\n")
	for _, h := range hints {
		sb.WriteString("kd: hint: " + h + "\n")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.line(o.err, sb.String())
}

// Hint prints "kd: hint: HINT" lines to the error stream.
func (o *Output) Hint(hints ...string) {
	var sb strings.Builder
	for _, h := range hints {
		sb.WriteString("kd: hint: " + h + "\n")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.line(o.err, sb.String())
}

// Warnf prints "kd: warning: MSG" to the error stream.
func (o *Output) Warnf(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.line(o.err, "kd: warning: "+fmt.Sprintf(format, args...)+"\n")
}

// Stderr writes raw lines (the packet trace) to the error stream.
func (o *Output) Stderr(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.line(o.err, s)
}

// LogInput records a command line in the log file only: the terminal has
// already echoed it.
func (o *Output) LogInput(prompt, line string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.log != nil {
		_, _ = io.WriteString(o.log, prompt+line+"\n")
	}
}

// OpenLog starts logging to path, truncating it unless appending. An open
// log is closed first. It returns the path of the log it closed, if any.
func (o *Output) OpenLog(path string, appending bool) (closed string, err error) {
	flags := os.O_CREATE | os.O_WRONLY
	if appending {
		flags |= os.O_APPEND
	} else {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return "", err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.log != nil {
		closed = o.logPath
		_ = o.log.Close()
	}
	o.log, o.logPath = f, path
	return closed, nil
}

// CloseLog stops logging and returns the path of the closed log ("" when
// none was open).
func (o *Output) CloseLog() (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.log == nil {
		return "", nil
	}
	err := o.log.Close()
	p := o.logPath
	o.log, o.logPath = nil, ""
	return p, err
}

// LogPath returns the open log's path, or "".
func (o *Output) LogPath() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.logPath
}

// ClearScreen clears the terminal (.cls): the screen only, not the log.
func (o *Output) ClearScreen() {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, _ = io.WriteString(o.out, "\x1b[H\x1b[2J")
	o.targetOpen, o.boundCol = false, 0
}
