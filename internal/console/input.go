package console

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
)

// Input is where command lines and control keys come from.
type Input interface {
	// Start begins reading. Control keys are passed to c.Key at once,
	// from the input's own goroutine, whatever the runner is doing.
	Start(c *Console) error
	// ReadLine returns the next command line. A terminal shows prompt
	// first. It returns ErrKeyLine when a control key took the line
	// (CTRL+R ENTER at the prompt) and io.EOF at the end of input.
	ReadLine(prompt string) (string, error)
	// Interactive reports whether a person types at a terminal: the
	// terminal echoes lines itself and a prompt is shown only when kd is
	// ready for a command.
	Interactive() bool
	// Close stops reading and restores the terminal.
	Close() error
}

// ErrKeyLine is returned by ReadLine when a control key followed by ENTER
// took the line.
var ErrKeyLine = errors.New("console: the line was a control key")

// MaxCommandLen is the longest command line kd accepts, as KD does.
const MaxCommandLen = 4096

// ErrLineTooLong is returned by ReadLine for a script line longer than
// MaxCommandLen; the line is skipped and reading goes on.
var ErrLineTooLong = errors.New("console: line longer than 4096 characters")

// ScriptInput reads commands from a non-terminal stdin, one per line. It
// reads the script continuously in a goroutine of its own: a line holding
// just a control byte (optionally followed by CR) is that key followed by
// ENTER and acts the moment it is read, even while a command runs or the
// target runs; other lines are queued for the runner, which runs them in
// order once the target stops.
type ScriptInput struct {
	r   *bufio.Reader
	src io.Reader
	c   *Console

	mu     sync.Mutex
	cond   *sync.Cond
	lines  []scriptLine
	taken  int // command lines ReadLine returned
	closed bool
	done   chan struct{} // closed when the reader goroutine ends
	// waiters are woken when ReadLine takes a line or the input closes.
	waiters []chan struct{}
}

// wakeLocked wakes waitTurn; the caller holds mu.
func (s *ScriptInput) wakeLocked() {
	for _, w := range s.waiters {
		close(w)
	}
	s.waiters = nil
}

// scriptLine is a queued command line or the reader's end (err).
type scriptLine struct {
	line string
	err  error
}

// maxQueuedLines bounds the read-ahead: past it the reader waits for the
// runner, so a huge script is not held in memory.
const maxQueuedLines = 4096

// NewScriptInput reads commands from r. When r is an io.Closer, Close
// closes it to stop the reader.
func NewScriptInput(r io.Reader) *ScriptInput {
	s := &ScriptInput{r: bufio.NewReaderSize(r, 64*1024), src: r, done: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// Start implements Input: the reader goroutine starts.
func (s *ScriptInput) Start(c *Console) error {
	s.c = c
	go s.read()
	return nil
}

// Interactive implements Input.
func (s *ScriptInput) Interactive() bool { return false }

// Close implements Input: the reader stops (its source is closed when it
// can be) and a pending ReadLine returns io.EOF.
func (s *ScriptInput) Close() error {
	s.mu.Lock()
	already := s.closed
	s.closed = true
	s.cond.Broadcast()
	s.wakeLocked()
	s.mu.Unlock()
	if already {
		return nil
	}
	if cl, ok := s.src.(io.Closer); ok {
		_ = cl.Close()
	}
	if _, file := s.src.(*os.File); s.c != nil && !file {
		// An embedder's reader (a pipe, a socket) ends when closed: wait
		// for the reader so that nothing outlives Run. A process's stdin
		// may sit in a read that closing does not end; that goroutine
		// ends with the process, and q must not wait for more input.
		<-s.done
	}
	return nil
}

// read reads the script until its end, acting on key lines when their
// turn comes (see waitTurn).
func (s *ScriptInput) read() {
	defer close(s.done)
	behind := false // this line came in one read with the line before it
	for {
		line, err := s.readLine()
		next := s.r.Buffered() > 0
		if errors.Is(err, ErrLineTooLong) {
			if !s.queue(scriptLine{err: err}) {
				return
			}
			behind = next
			continue
		}
		text := strings.TrimSuffix(line, "\n")
		if k, ok := KeyLine(text); ok {
			if s.waitTurn(behind) {
				s.c.Key(k)
			}
		} else if text = strings.TrimSuffix(text, "\r"); strings.TrimSpace(text) != "" {
			// Blank lines in a script do nothing (no ENTER repeat).
			if !s.queue(scriptLine{line: text}) {
				return
			}
		}
		behind = next
		if err != nil {
			if !errors.Is(err, io.EOF) && s.isClosed() {
				err = io.EOF
			}
			s.queue(scriptLine{err: err})
			return
		}
	}
}

// waitTurn waits until a key line may act (see Console.settled): a key
// that came in one read with the command lines before it acts after them,
// in script order; a key that came on its own acts at once (CTRL+R under
// a stalled read, CTRL+C to cancel a long db), unless it would overtake
// commands sent before it. It reports false when the input was closed
// meanwhile.
func (s *ScriptInput) waitTurn(behind bool) bool {
	for {
		s.mu.Lock()
		ahead, taken, closed := len(s.lines), s.taken, s.closed
		wake := make(chan struct{})
		s.waiters = append(s.waiters, wake)
		s.mu.Unlock()
		if closed {
			return false
		}
		ok, changed := s.c.settled(taken, ahead, behind)
		if ok {
			return true
		}
		select {
		case <-changed:
		case <-wake:
		case <-s.c.done:
			return false
		}
	}
}

func (s *ScriptInput) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// queue appends l for ReadLine, waiting while the queue is full. It
// reports false once the input is closed.
func (s *ScriptInput) queue(l scriptLine) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.lines) >= maxQueuedLines && !s.closed {
		s.cond.Wait()
	}
	if s.closed {
		return false
	}
	s.lines = append(s.lines, l)
	s.cond.Broadcast()
	return true
}

// KeyLine reports whether line (without its newline) stands for a control
// key followed by ENTER: just the control byte, optionally with a CR.
func KeyLine(line string) (Key, bool) {
	line = strings.TrimSuffix(line, "\r")
	if len(line) == 1 && IsKeyByte(line[0]) {
		return Key(line[0]), true
	}
	return 0, false
}

// ReadLine implements Input: the next queued command line.
func (s *ScriptInput) ReadLine(string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.lines) == 0 {
		if s.closed {
			return "", io.EOF
		}
		s.cond.Wait()
	}
	l := s.lines[0]
	if l.err == nil || errors.Is(l.err, ErrLineTooLong) {
		s.lines = s.lines[1:]
		s.cond.Broadcast()
	}
	if l.err == nil {
		s.taken++
	}
	s.wakeLocked()
	return l.line, l.err
}

// readLine reads one line, newline included, holding at most
// MaxCommandLen+2 bytes of it: a longer line is read to its end and
// dropped with ErrLineTooLong.
func (s *ScriptInput) readLine() (string, error) {
	var line []byte
	long := false
	for {
		chunk, err := s.r.ReadSlice('\n')
		if !long {
			line = append(line, chunk...)
			if len(line) > MaxCommandLen+2 {
				long, line = true, nil
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if long {
			return "", ErrLineTooLong
		}
		return string(line), err
	}
}
