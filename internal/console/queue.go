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

// settled reports whether a script's key line may act now, and returns
// a channel closed at the next change. taken is how many command lines
// the runner had taken from the script when the key was read, ahead how
// many the script reader still holds before it.
//
// A key that came in one read with the command lines before it (a script
// written in one go: "g" then CTRL+C) is meant for after them: it waits
// until they have all finished. A key that came on its own acts at once,
// as issue 13 asks ("act on key lines when they arrive"), with two
// exceptions that keep it from overtaking what was sent before it: while
// a command that resumes the target runs (it returns at once; the key is
// meant for the running target), and while commands before it are about
// to start (the target is ready for them). It never waits for commands
// that wait for the target to stop: the key may be what stops it.
func (c *Console) settled(taken, ahead int, behind bool) (bool, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	before := ahead > 0 || c.handled < taken || c.queuedN > 0
	var ok bool
	switch {
	case behind:
		ok = !before && c.running == nil
	case c.running != nil:
		ok = !c.running.Resumes
	case before:
		ok = !c.t.Ready()
	default:
		ok = true
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
