package console

import (
	"sync"

	"github.com/gokd/kd/internal/commands"
)

// sync records the runner's progress for the script reader: lines taken
// in (took), what is queued and which command runs.
func (c *Console) sync(took int, running *commands.Command) {
	c.mu.Lock()
	c.handled += took
	c.queuedN = len(c.pending)
	c.running = running
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// settled reports whether a script's key line that follows the taken-th
// command line may act now, and returns a channel closed at the next
// change. Every command line before it must have started. A key that
// acts on the command in progress (CTRL+C, CTRL+F, CTRL+R: cancel it,
// break in, resynchronise under it) then acts at once, unless it came
// behind the command in one read (it is meant for after it) or that
// command resumes the target (it returns at once; the key is meant for
// the running target); the other keys wait until the command finished.
func (c *Console) settled(taken int, k Key, behind bool) (bool, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ok := c.handled >= taken && c.queuedN == 0
	if r := c.running; r != nil {
		ok = ok && !behind && (k == KeyCtrlC || k == KeyCtrlF || k == KeyCtrlR) && !r.Resumes
	}
	return ok, c.changed
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

// queued is a command line waiting to run; echo says whether to print it
// after the prompt when it runs (script lines and -c commands: nobody saw
// them typed).
type queued struct {
	line string
	echo bool
}

// lineNote is a line (or the end of input) from the Input.
type lineNote struct {
	line   string
	prompt string
	err    error
}
