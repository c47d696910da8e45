package console

import (
	"context"
	"strings"
)

var metaCommands = []*Command{
	{
		Names: []string{"help", ".help"}, Group: groupSession, Anytime: true,
		Help: "List the commands and control keys, or describe one command.\n\n\thelp [Command]\n\t.help [Command]",
		Run:  cmdHelp,
	},
	{
		Names: []string{"?"}, Group: groupSession, Anytime: true,
		Help: "Evaluate an expression, or list the commands when given none.\n\n\t? Expression\n\t?\n\n" +
			"Prints `Evaluate expression: DECIMAL = HEX`. Numbers are hex unless written 0n (decimal).",
		Run: cmdEvaluate,
	},
	{
		Names: []string{"vertarget"}, Group: groupTarget,
		Help: "Show the target's Windows version, kernel base and module list address.\n\n\tvertarget",
		Run:  cmdVertarget,
	},
	{
		Names: []string{"version"}, Group: groupSession, Anytime: true,
		Help: "Show kd's version (and the target's, when known).\n\n\tversion",
		Run:  cmdVersion,
	},
	{
		Names: []string{".echo"}, Group: groupSession, Anytime: true,
		Help: "Print a string (scripts use it as a marker).\n\n\t.echo String\n\t.echo \"String\"",
		Run: func(_ context.Context, c *Console, args string) error {
			c.out.Printf("%s", strings.Trim(strings.TrimSpace(args), `"`))
			return nil
		},
	},
	{
		Names: []string{".logopen"}, Group: groupSession, Anytime: true,
		Help: "Start a new log file of everything typed and printed (truncating it).\n\n\t.logopen File\n\n" +
			"An open log is closed first. The log is written line by line.",
		Run: func(_ context.Context, c *Console, args string) error { return cmdLogOpen(c, args, false) },
	},
	{
		Names: []string{".logappend"}, Group: groupSession, Anytime: true,
		Help: "Append to a log file (creating it).\n\n\t.logappend File",
		Run:  func(_ context.Context, c *Console, args string) error { return cmdLogOpen(c, args, true) },
	},
	{
		Names: []string{".logclose"}, Group: groupSession, Anytime: true,
		Help: "Close the log file.\n\n\t.logclose",
		Run:  cmdLogClose,
	},
}

// defaultCommands is kd's command table.
func defaultCommands() *Commands {
	var all []*Command
	for _, g := range [][]*Command{execCommands, regCommands, memCommands, bpCommands, metaCommands} {
		all = append(all, g...)
	}
	return NewCommands(all)
}

func cmdHelp(_ context.Context, c *Console, args string) error {
	args = strings.TrimSpace(args)
	if args == "" {
		c.cmds.WriteHelp(c.out)
		return nil
	}
	cmd := c.cmds.Find(args)
	if cmd == nil {
		cmd, _ = c.cmds.Lookup(args)
		if cmd.Group == "" {
			return syntaxErr("help "+args, "no command %q; type help for the list", args)
		}
	}
	WriteCommandHelp(c.out, cmd)
	return nil
}

func cmdEvaluate(ctx context.Context, c *Console, args string) error {
	if strings.TrimSpace(args) == "" {
		c.cmds.WriteHelp(c.out)
		return nil
	}
	s := c.session()
	if s == nil || !s.stopped {
		// Numbers only: registers and symbols need a stopped target.
		s = nil
	}
	var e exprEnv = noTargetEnv{}
	if s != nil {
		e = env{c, s, ctx}
	}
	v, err := evalExpr(args, e)
	if err != nil {
		return syntaxErr("? "+args, "%v", err)
	}
	c.out.Printf("Evaluate expression: %d = %s", int64(v), fmtAddr(v))
	return nil
}

// noTargetEnv evaluates expressions without a target.
type noTargetEnv struct{}

func (noTargetEnv) register(string) (uint64, bool, error) { return 0, false, errNotConnected }
func (noTargetEnv) symbol(string) (uint64, error)         { return 0, errNotConnected }

func cmdVertarget(_ context.Context, c *Console, args string) error {
	if err := noArgs("vertarget", args); err != nil {
		return err
	}
	s := c.session()
	if s == nil || !s.haveVersion {
		return errNotConnected
	}
	c.printTargetSummary(s)
	return nil
}

func cmdVersion(_ context.Context, c *Console, args string) error {
	if err := noArgs("version", args); err != nil {
		return err
	}
	if s := c.session(); s != nil && s.haveVersion {
		c.printTargetSummary(s)
		c.out.Printf("")
	}
	c.printVersion()
	return nil
}

// openLog opens a log file and says so the way KD does.
func (c *Console) openLog(path string, appending bool) error {
	closed, err := c.out.OpenLog(path, appending)
	if err != nil {
		c.out.Errorf("cannot open log file '" + path + "': " + err.Error())
		return err
	}
	if closed != "" {
		c.out.Printf("Closing open log file %s", closed)
	}
	c.out.Printf("Opened log file '%s'", path)
	return nil
}

func cmdLogOpen(c *Console, args string, appending bool) error {
	path := strings.Trim(strings.TrimSpace(args), `"`)
	if path == "" {
		path = "Dbgeng.log"
	}
	if err := c.openLog(path, appending); err != nil {
		return errLogged
	}
	return nil
}

func cmdLogClose(_ context.Context, c *Console, args string) error {
	if err := noArgs(".logclose", args); err != nil {
		return err
	}
	p := c.out.LogPath()
	if p == "" {
		c.out.Printf("No log file open")
		return nil
	}
	c.out.Printf("Closing open log file %s", p)
	_, err := c.out.CloseLog()
	return err
}
