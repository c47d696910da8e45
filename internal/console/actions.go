package console

import (
	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/target"
)

// queueAction runs a breakpoint's command string (bp ADDR "cmds") when it
// is hit: its commands go before every line still waiting, unechoed, as
// KD runs them. Stopped is emitted by the target core on the runner
// (while it handles an engine event), so the queue is the runner's own.
func (c *Console) queueAction(e target.Stopped) {
	if e.Action == "" || e.BreakIn {
		return
	}
	parts := commands.Split(e.Action)
	q := make([]queued, 0, len(parts)+len(c.pending))
	for _, p := range parts {
		q = append(q, queued{line: p})
	}
	c.pending = append(q, c.pending...)
	c.sync(0, c.running)
}
