package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// Command groups, in the order help lists them.
const (
	groupExec    = "Execution"
	groupData    = "Registers and memory"
	groupBreak   = "Breakpoints"
	groupTarget  = "Target and connection"
	groupSession = "Session"
)

var groupOrder = []string{groupExec, groupData, groupBreak, groupSym, groupTarget, groupSession}

// Command is one entry of the command table.
type Command struct {
	// Names are the spellings; the first is canonical.
	Names []string
	Group string
	// Help is the summary line, a blank line, one tab-indented syntax line
	// per form, and optional prose.
	Help string
	// Run executes the command. args is the text after the name. It
	// returns what the command found (nil when it has nothing to show).
	Run func(ctx context.Context, e *Env, args string) (Result, error)
	// Example is one or more command lines (newline-separated) a user
	// would type, shown by help CMD and in docs/commands.md.
	Example string
	// Repeat: an empty line repeats this command (continuing where it stopped).
	Repeat bool
	// Resumes: the command lets the target run (or reboot, or
	// reconnect); a script's control key after it acts once it returned.
	Resumes bool
	// Anytime: the command does not need the target; it still waits for
	// a stop like every command (KD reads no commands while the target
	// runs), but also runs when the link is gone.
	Anytime bool
}

// Summary returns the first line of the help text.
func (c *Command) Summary() string {
	s, _, _ := strings.Cut(c.Help, "\n")
	return s
}

// Syntax returns the syntax lines of the help text.
func (c *Command) Syntax() []string {
	var out []string
	for _, l := range strings.Split(c.Help, "\n") {
		if strings.HasPrefix(l, "\t") {
			out = append(out, strings.TrimPrefix(l, "\t"))
		}
	}
	return out
}

// Prose returns the help text after the syntax lines.
func (c *Command) Prose() string {
	lines := strings.Split(c.Help, "\n")
	var out []string
	for i, l := range lines {
		if i == 0 || strings.HasPrefix(l, "\t") {
			continue
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// Commands is the command table, sorted by canonical name.
type Commands struct {
	list  []*Command
	names []string // every spelling, for the tokenizer
	by    map[string]*Command
}

// NewCommands builds a table from cmds.
func NewCommands(cmds []*Command) *Commands {
	t := &Commands{list: slices.Clone(cmds), by: make(map[string]*Command)}
	slices.SortFunc(t.list, func(a, b *Command) int { return strings.Compare(a.Names[0], b.Names[0]) })
	for _, c := range t.list {
		for _, n := range c.Names {
			if _, dup := t.by[n]; dup {
				panic("commands: duplicate command name " + n)
			}
			t.by[n] = c
			t.names = append(t.names, n)
		}
	}
	return t
}

// List returns the commands sorted by canonical name.
func (t *Commands) List() []*Command { return t.list }

// Names returns every spelling, for the tokenizer.
func (t *Commands) Names() []string { return t.names }

// ErrUnknownCommand is returned for a name the table does not know.
var ErrUnknownCommand = errors.New("unknown command")

// SyntaxError is a command line kd cannot parse; KD shows it with a caret
// ("^ Syntax error in '...'").
type SyntaxError struct {
	Line string
	Msg  string
	// Kind is KD's word before "error": "Syntax" when empty, "Bad
	// register" for a name that is not a register.
	Kind string
}

// KindText returns KD's name of the error: "Syntax" or e.Kind.
func (e *SyntaxError) KindText() string {
	if e.Kind == "" {
		return "Syntax"
	}
	return e.Kind
}

func (e *SyntaxError) Error() string {
	k := strings.ToLower(e.KindText())
	if e.Msg != "" {
		return fmt.Sprintf("%s error in '%s': %s", k, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s error in '%s'", k, e.Line)
}

func syntaxErr(line, format string, args ...any) error {
	return &SyntaxError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// Error is a failure whose message stands as it is, without the command
// line in front.
type Error struct {
	Msg   string
	Hints []string
	Err   error // the cause, when there is one (errors.As finds it)
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Lookup splits a command and finds its entry. It never returns nil: an
// unknown name gives a command whose Run returns errUnknownCommand.
func (t *Commands) Lookup(line string) (*Command, string) {
	name, args, ok := tokenize(line, t.names)
	if ok {
		if c := t.by[name]; c != nil {
			return c, args
		}
	}
	return &Command{Names: []string{name}, Run: func(context.Context, *Env, string) (Result, error) {
		return nil, fmt.Errorf("%w %q", ErrUnknownCommand, name)
	}}, args
}

// Find returns the command with the given spelling, or nil.
func (t *Commands) Find(name string) *Command {
	if c := t.by[name]; c != nil { // dD, dW as written
		return c
	}
	return t.by[strings.ToLower(name)]
}

// WriteHelp prints the grouped summary table.
func (t *Commands) WriteHelp(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, g := range groupOrder {
		fmt.Fprintf(tw, "%s:\n", g)
		for _, c := range t.list {
			if c.Group != g {
				continue
			}
			fmt.Fprintf(tw, "  %s\t%s\n", strings.Join(c.Names, ", "), c.Summary())
		}
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "Control keys (type the key, then ENTER; CTRL+C alone):")
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, k := range Keys {
		fmt.Fprintf(tw, "  %s\t%s\n", k.Syntax, k.Summary)
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "Type help COMMAND for details.")
}

// WriteCommandHelp prints the full help of one command.
func WriteCommandHelp(w io.Writer, c *Command) {
	fmt.Fprintf(w, "%s - %s\n", strings.Join(c.Names, ", "), c.Summary())
	for _, s := range c.Syntax() {
		fmt.Fprintf(w, "    %s\n", s)
	}
	if p := c.Prose(); p != "" {
		fmt.Fprintf(w, "%s\n", p)
	}
	if c.Repeat {
		fmt.Fprintf(w, "ENTER on an empty line repeats it, continuing where it stopped.\n")
	}
	if c.Example != "" {
		fmt.Fprintf(w, "Example:\n")
		for _, l := range strings.Split(c.Example, "\n") {
			fmt.Fprintf(w, "    kd> %s\n", l)
		}
	}
}

// WriteMarkdown writes docs/commands.md.
func (t *Commands) WriteMarkdown(w io.Writer) {
	fmt.Fprintln(w, "# kd commands")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "<!-- Generated from the command table in internal/commands; do not edit.")
	fmt.Fprintln(w, "     Regenerate with: go test ./internal/commands -run TestCommandsDoc -update -->")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Arguments are MASM expressions (see [expressions.md](expressions.md)): numbers are")
	fmt.Fprintln(w, "hexadecimal unless written `0n` (decimal), `0t` (octal), `0y` (binary) or `0x`, or the")
	fmt.Fprintln(w, "default radix was changed with `n`; registers may be written with or without `@`;")
	fmt.Fprintln(w, "several commands may share a line separated by `;`, and `$$` starts a comment.")
	for _, g := range groupOrder {
		fmt.Fprintf(w, "\n## %s\n", g)
		for _, c := range t.list {
			if c.Group != g {
				continue
			}
			blocks := []string{"### `" + strings.Join(c.Names, "`, `") + "`", c.Summary()}
			if syn := c.Syntax(); len(syn) > 0 {
				blocks = append(blocks, "```\n"+strings.Join(syn, "\n")+"\n```")
			}
			if p := c.Prose(); p != "" {
				blocks = append(blocks, p)
			}
			if c.Example != "" {
				blocks = append(blocks, "Example:\n\n```\nkd> "+strings.ReplaceAll(c.Example, "\n", "\nkd> ")+"\n```")
			}
			var notes []string
			if c.Repeat {
				notes = append(notes, "ENTER on an empty line repeats it")
			}
			if c.Anytime {
				notes = append(notes, "does not need the target")
			}
			if len(notes) > 0 {
				n := strings.Join(notes, "; ")
				blocks = append(blocks, "_"+strings.ToUpper(n[:1])+n[1:]+"._")
			}
			fmt.Fprintf(w, "\n%s\n", strings.Join(blocks, "\n\n"))
		}
	}
	fmt.Fprintln(w, "\n## Control keys")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "They work at the prompt and while the target runs. In a script piped to stdin,")
	fmt.Fprintln(w, "a line holding just the control byte stands for the key followed by ENTER.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| Key | Byte | What it does |")
	fmt.Fprintln(w, "| --- | --- | --- |")
	for _, k := range Keys {
		fmt.Fprintf(w, "| `%s` | `0x%02x` | %s |\n", k.Syntax, k.Byte, k.Summary)
	}
}
