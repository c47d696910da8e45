package console

import (
	"bufio"
	"errors"
	"io"
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

// ScriptInput reads commands from a non-terminal stdin, one per line. A
// line holding just a control byte (optionally followed by CR) is that
// key followed by ENTER and acts at once, even while the target runs;
// other lines are handed to the runner, which runs them in order once the
// target stops. The reader reads ahead only up to the next command line.
type ScriptInput struct {
	r    *bufio.Reader
	c    *Console
	mu   sync.Mutex
	done bool
}

// NewScriptInput reads commands from r.
func NewScriptInput(r io.Reader) *ScriptInput {
	return &ScriptInput{r: bufio.NewReaderSize(r, 64*1024)}
}

// Start implements Input.
func (s *ScriptInput) Start(c *Console) error {
	s.c = c
	return nil
}

// Interactive implements Input.
func (s *ScriptInput) Interactive() bool { return false }

// Close implements Input.
func (s *ScriptInput) Close() error {
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
	return nil
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

// ReadLine implements Input.
func (s *ScriptInput) ReadLine(string) (string, error) {
	for {
		line, err := s.readLine()
		if errors.Is(err, ErrLineTooLong) {
			return "", err
		}
		if line == "" && err != nil {
			return "", err
		}
		line = strings.TrimSuffix(line, "\n")
		if k, ok := KeyLine(line); ok {
			s.c.Key(k)
			continue
		}
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			// Blank lines in a script do nothing (no ENTER repeat).
			if err != nil {
				return "", err
			}
			continue
		}
		return line, nil
	}
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
