package commands

import (
	"context"
	"testing"

	"github.com/gokd/kd/internal/target"
)

// FuzzSymbolCommands: the argument parsers of lm, x, ln, k, dt, .reload
// and !sym never panic on any text (the target is not connected, so each
// either refuses the syntax or reports that it needs a stopped target).
func FuzzSymbolCommands(f *testing.F) {
	for _, s := range []string{"k", "kbn 5", "k = @rsp @rip 2", "k =", "kp 0", "kv ffff", "lm v m s*", "lmv m nt", "lm m",
		"x nt!Ke*", "x nt", "ln nt!Foo+3", "ln", "dt -r2 nt!_KPRCB CurrentThread u.RspBase ffffc000`00000000",
		"dt nt!_K*", "dt -rx", "dt", ".reload /f nt", ".reload /x", "!sym noisy", "!sym"} {
		f.Add(s)
	}
	table := Default()
	env := NewEnv(target.New(target.Config{}), nil, table)
	f.Fuzz(func(t *testing.T, line string) {
		cmd, args := table.Lookup(line)
		if cmd.Group != groupSym {
			return
		}
		_, _ = cmd.Run(context.Background(), env, args)
	})
}
