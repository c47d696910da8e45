package commands

import (
	"context"
	"strings"
)

// maxDump bounds one memory display: a display is formatted whole, so it
// is kept to what a screen can show; .writemem moves more.
const maxDump = 16 << 20

// dumpFormat is one d* display form.
type dumpFormat struct {
	name    string
	size    int // bytes per element
	perLine int
	deflt   int // elements shown by default
}

var dumpFormats = map[string]dumpFormat{
	"db": {"db", 1, 16, 128},
	"dd": {"dd", 4, 4, 32},
	"dq": {"dq", 8, 2, 16},
	"dp": {"dp", 8, 2, 16}, // x64: pointers are 64 bits
}

// dumpState remembers the last display so that d and ENTER continue it.
type dumpState struct {
	form  string
	next  uint64
	have  bool
	u     uint64 // where u continues
	haveU bool
	// phys is where !db, !dd and !dq continue (0 at first).
	phys uint64
	// enter is the element size of the last eb/ew/ed/eq, which e uses
	// (0: bytes).
	enter int
}

var memCommands = []*Command{
	{
		Names: []string{"db"}, Group: groupData, Repeat: true,
		Example: "db nt!KiSystemStartup L20",
		Help: "Display memory as bytes with an ASCII column.\n\n\tdb [Address [L Count]]\n\tdb Address EndAddress\n" + physSyntax("db") + "\n" +
			"128 bytes by default; without an address the display continues after the previous one. " +
			"Unreadable bytes show as ??." + physProse,
		Run: func(ctx context.Context, e *Env, args string) (Result, error) { return cmdDump(ctx, e, "db", args) },
	},
	{
		Names: []string{"dd"}, Group: groupData, Repeat: true,
		Example: "dd @rsp",
		Help:    "Display memory as 32-bit values.\n\n\tdd [Address [L Count]]\n" + physSyntax("dd") + "\n32 values by default." + physProse,
		Run:     func(ctx context.Context, e *Env, args string) (Result, error) { return cmdDump(ctx, e, "dd", args) },
	},
	{
		Names: []string{"dq"}, Group: groupData, Repeat: true,
		Example: "dq nt L8",
		Help:    "Display memory as 64-bit values.\n\n\tdq [Address [L Count]]\n" + physSyntax("dq") + "\n16 values by default." + physProse,
		Run:     func(ctx context.Context, e *Env, args string) (Result, error) { return cmdDump(ctx, e, "dq", args) },
	},
	{
		Names: []string{"d"}, Group: groupData, Repeat: true,
		Example: "d",
		Help:    "Display memory in the last d* form (db at first).\n\n\td [Address [L Count]]",
		Run: func(ctx context.Context, e *Env, args string) (Result, error) {
			form := e.dump.form
			if form == "" {
				form = "db"
			}
			return displayForm(ctx, e, form, args)
		},
	},
	{
		Names: []string{"eb"}, Group: groupData,
		Example: "eb ffffd000`00000000 90 90 cc",
		Help:    "Enter bytes into memory.\n\n\teb Address Value [Value...]\n\nValues are expressions (hex by default) or 'c' characters, separated by blanks or commas; nothing is printed on success.",
		Run:     func(ctx context.Context, e *Env, args string) (Result, error) { return cmdEnter(ctx, e, "eb", 1, args) },
	},
	{
		Names: []string{"ed"}, Group: groupData,
		Example: "ed ffffd000`00000000 0n100",
		Help:    "Enter 32-bit values into memory.\n\n\ted Address Value [Value...]\n\nA 'quoted' value gives up to 4 characters, the first the most significant: ed Tag ' cbA' stores \"Abc \", as KD's.",
		Run:     func(ctx context.Context, e *Env, args string) (Result, error) { return cmdEnter(ctx, e, "ed", 4, args) },
	},
	{
		Names: []string{"eq"}, Group: groupData,
		Example: "eq ffffd000`00000000 fffff800`12345678",
		Help:    "Enter 64-bit values into memory.\n\n\teq Address Value [Value...]",
		Run:     func(ctx context.Context, e *Env, args string) (Result, error) { return cmdEnter(ctx, e, "eq", 8, args) },
	},
	{
		Names: []string{"u"}, Group: groupData, Repeat: true,
		Example: "u nt!KiSystemStartup",
		Help:    "Disassemble.\n\n\tu [Address [L Count]]\n\tu Address EndAddress\n\n8 instructions by default, from the current instruction or after the previous u.",
		Run:     cmdUnassemble,
	},
}

// startAddress is where a display without an address starts: after the
// previous one, else at the current instruction.
func (e *Env) startAddress(ctx context.Context, have bool, next uint64) (uint64, error) {
	if have {
		return next, nil
	}
	regs, err := e.T.Registers(ctx)
	if err != nil {
		return 0, err
	}
	return regs.PC(), nil
}

func cmdDump(ctx context.Context, e *Env, form, args string) (Result, error) {
	if err := e.T.CheckStopped(); err != nil {
		return nil, err
	}
	f := dumpFormats[form]
	line := strings.TrimSpace(form + " " + args)
	if mode, rest, ok, err := physOption(line, args); err != nil {
		return nil, err
	} else if ok {
		return physicalDisplay(ctx, e, form, line, rest, mode, f.size, f.deflt)
	}
	addr, n, err := displayRange(ctx, e, line, args, f.size, f.deflt)
	if err != nil {
		return nil, err
	}
	data, ok, err := e.T.ReadMemory(ctx, addr, n)
	if err != nil {
		return nil, err
	}
	e.dump.form, e.dump.next, e.dump.have = form, addr+uint64(n), true
	return MemoryDump{Form: form, Size: f.size, PerLine: f.perLine, Addr: addr, Data: data, OK: ok}, nil
}

func cmdUnassemble(ctx context.Context, e *Env, args string) (Result, error) {
	if err := e.T.CheckStopped(); err != nil {
		return nil, err
	}
	r, err := parseRange(args, exprTarget{ctx, e})
	if err != nil {
		return nil, syntaxErr(strings.TrimSpace("u "+args), "%v", err)
	}
	addr := r.addr
	if !r.haveAddr {
		if addr, err = e.startAddress(ctx, e.dump.haveU, e.dump.u); err != nil {
			return nil, err
		}
	}
	count := 8
	var end uint64
	switch {
	case r.count > 4096:
		return nil, syntaxErr("u "+args, "at most 4096 instructions")
	case r.count > 0:
		count = int(r.count)
	case r.haveEnd:
		if r.end < addr || r.end-addr > 4096*15 {
			return nil, syntaxErr("u "+args, "the range must run forwards and span at most 4096 instructions")
		}
		count, end = 4096, r.end
	}
	lines, err := e.T.Disassemble(ctx, addr, count, end)
	if len(lines) > 0 {
		last := lines[len(lines)-1].Inst
		e.dump.u, e.dump.haveU = last.Addr+uint64(last.Len), true
	}
	if err != nil {
		return nil, err
	}
	return Disassembly{Lines: lines}, nil
}

// cmdEnter writes values of size bytes each (eb, ed, eq): expressions,
// or 'c' characters (ed ' cbA' stores "Abc ").
func cmdEnter(ctx context.Context, e *Env, name string, size int, args string) (Result, error) {
	return cmdEnterValues(ctx, e, name, size, args)
}

// fits reports whether v is a size-byte value, unsigned or negative.
func fits(v uint64, size int) bool {
	if size >= 8 || v>>(8*size) == 0 {
		return true
	}
	return int64(v) < 0 && int64(v) >= -(1<<(8*size-1))
}
