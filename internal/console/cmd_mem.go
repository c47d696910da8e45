package console

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/gokd/kd/kdproto"
)

// maxDump bounds one memory display.
const maxDump = 1 << 20

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
}

// dumpState remembers the last display so that d and ENTER continue it.
type dumpState struct {
	form  string
	next  uint64
	have  bool
	u     uint64 // where u continues
	haveU bool
}

var memCommands = []*Command{
	{
		Names: []string{"db"}, Group: groupData, Repeat: true,
		Help: "Display memory as bytes with an ASCII column.\n\n\tdb [Address [L Count]]\n\tdb Address EndAddress\n\n" +
			"128 bytes by default; without an address the display continues after the previous one. " +
			"Unreadable bytes show as ??.",
		Run: func(ctx context.Context, c *Console, args string) error { return cmdDump(ctx, c, "db", args) },
	},
	{
		Names: []string{"dd"}, Group: groupData, Repeat: true,
		Help: "Display memory as 32-bit values.\n\n\tdd [Address [L Count]]\n\n32 values by default.",
		Run:  func(ctx context.Context, c *Console, args string) error { return cmdDump(ctx, c, "dd", args) },
	},
	{
		Names: []string{"dq"}, Group: groupData, Repeat: true,
		Help: "Display memory as 64-bit values.\n\n\tdq [Address [L Count]]\n\n16 values by default.",
		Run:  func(ctx context.Context, c *Console, args string) error { return cmdDump(ctx, c, "dq", args) },
	},
	{
		Names: []string{"d"}, Group: groupData, Repeat: true,
		Help: "Display memory in the last d* form (db at first).\n\n\td [Address [L Count]]",
		Run: func(ctx context.Context, c *Console, args string) error {
			form := c.lastDump.form
			if form == "" {
				form = "db"
			}
			return cmdDump(ctx, c, form, args)
		},
	},
	{
		Names: []string{"eb"}, Group: groupData,
		Help: "Enter bytes into memory.\n\n\teb Address Value [Value...]\n\nValues are expressions (hex by default); nothing is printed on success.",
		Run:  func(ctx context.Context, c *Console, args string) error { return cmdEnter(ctx, c, "eb", 1, args) },
	},
	{
		Names: []string{"ed"}, Group: groupData,
		Help: "Enter 32-bit values into memory.\n\n\ted Address Value [Value...]",
		Run:  func(ctx context.Context, c *Console, args string) error { return cmdEnter(ctx, c, "ed", 4, args) },
	},
	{
		Names: []string{"eq"}, Group: groupData,
		Help: "Enter 64-bit values into memory.\n\n\teq Address Value [Value...]",
		Run:  func(ctx context.Context, c *Console, args string) error { return cmdEnter(ctx, c, "eq", 8, args) },
	},
	{
		Names: []string{"u"}, Group: groupData, Repeat: true,
		Help: "Disassemble.\n\n\tu [Address [L Count]]\n\n8 instructions by default, from the current instruction or after the previous u.",
		Run:  cmdUnassemble,
	},
}

// readRange reads n bytes at addr. ok[i] says whether byte i could be
// read; an unreadable page does not hide the pages after it. Errors of the
// link (rather than of the memory) are returned.
func (c *Console) readRange(ctx context.Context, s *session, addr uint64, n int) ([]byte, []bool, error) {
	data := make([]byte, n)
	ok := make([]bool, n)
	for off := 0; off < n; {
		b, err := s.eng.ReadVirtual(ctx, s.cpu, addr+uint64(off), n-off)
		copy(data[off:], b)
		for i := range b {
			ok[off+i] = true
		}
		off += len(b)
		if err == nil {
			break
		}
		var st kdproto.Status
		if !errors.As(err, &st) {
			return nil, nil, err
		}
		// Skip to the next page.
		at := addr + uint64(off)
		next := (at | 0xFFF) + 1
		if next <= at {
			break
		}
		off += int(min(next-at, uint64(n-off)))
	}
	return data, ok, nil
}

func cmdDump(ctx context.Context, c *Console, form, args string) error {
	s, err := c.needStopped()
	if err != nil {
		return err
	}
	f := dumpFormats[form]
	r, err := parseRange(args, env{c, s, ctx})
	if err != nil {
		return syntaxErr(strings.TrimSpace(form+" "+args), "%v", err)
	}
	addr := r.addr
	if !r.haveAddr {
		switch {
		case c.lastDump.have:
			addr = c.lastDump.next
		default:
			cx, err := c.contextRegs(ctx, s)
			if err != nil {
				return err
			}
			addr = cx.MustGet("rip")
		}
	}
	count := uint64(f.deflt)
	switch {
	case r.count > 0:
		count = r.count
	case r.haveEnd:
		count = (r.end - addr + uint64(f.size)) / uint64(f.size)
	}
	if count*uint64(f.size) > maxDump || count > maxDump {
		return syntaxErr(strings.TrimSpace(form+" "+args), "range too large (at most %d bytes)", maxDump)
	}
	n := int(count) * f.size
	lineBytes := f.perLine * f.size
	for off := 0; off < n; off += lineBytes {
		if err := ctx.Err(); err != nil {
			return err
		}
		ln := min(lineBytes, n-off)
		at := addr + uint64(off)
		data, ok, err := c.readRange(ctx, s, at, ln)
		if err != nil {
			return err
		}
		c.out.Printf("%s", dumpLine(f, at, data, ok))
	}
	c.lastDump.form, c.lastDump.next, c.lastDump.have = form, addr+uint64(n), true
	return nil
}

// dumpLine formats one line of a d* display.
func dumpLine(f dumpFormat, at uint64, data []byte, ok []bool) string {
	var b strings.Builder
	b.WriteString(fmtAddr(at) + " ")
	switch f.size {
	case 1:
		for i := 0; i < f.perLine; i++ {
			sep := byte(' ')
			if i == 8 && i < len(data) {
				sep = '-'
			}
			b.WriteByte(sep)
			switch {
			case i >= len(data):
				b.WriteString("  ")
			case !ok[i]:
				b.WriteString("??")
			default:
				fmt.Fprintf(&b, "%02x", data[i])
			}
		}
		b.WriteString("  ")
		for i := range data {
			switch {
			case !ok[i]:
				b.WriteByte('?')
			case data[i] >= 0x20 && data[i] < 0x7f:
				b.WriteByte(data[i])
			default:
				b.WriteByte('.')
			}
		}
	default:
		for i := 0; i+f.size <= len(data); i += f.size {
			b.WriteByte(' ')
			all := true
			for _, o := range ok[i : i+f.size] {
				all = all && o
			}
			switch {
			case f.size == 4 && all:
				fmt.Fprintf(&b, "%08x", binary.LittleEndian.Uint32(data[i:]))
			case f.size == 4:
				b.WriteString("????????")
			case all:
				b.WriteString(fmtAddr(binary.LittleEndian.Uint64(data[i:])))
			default:
				b.WriteString("????????`????????")
			}
		}
	}
	return b.String()
}

func cmdUnassemble(ctx context.Context, c *Console, args string) error {
	s, err := c.needStopped()
	if err != nil {
		return err
	}
	r, err := parseRange(args, env{c, s, ctx})
	if err != nil {
		return syntaxErr(strings.TrimSpace("u "+args), "%v", err)
	}
	addr := r.addr
	if !r.haveAddr {
		if c.lastDump.haveU {
			addr = c.lastDump.u
		} else {
			cx, err := c.contextRegs(ctx, s)
			if err != nil {
				return err
			}
			addr = cx.MustGet("rip")
		}
	}
	count := 8
	if r.count > 0 {
		if r.count > 4096 {
			return syntaxErr("u "+args, "at most 4096 instructions")
		}
		count = int(r.count)
	}
	for i := 0; i < count; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.haveEnd && addr > r.end {
			break
		}
		code, ok, err := c.readRange(ctx, s, addr, 16)
		if err != nil {
			return err
		}
		valid := 0
		for valid < len(ok) && ok[valid] {
			valid++
		}
		if sym := c.symbolize(ctx, s, addr); i == 0 && sym != "" || sym != "" && !strings.Contains(sym, "+") {
			c.out.Printf("%s:", sym)
		}
		if valid == 0 {
			c.out.Printf("%s ??              ???", fmtAddr(addr))
			addr++
			continue
		}
		line, n := c.disasmLine(ctx, s, addr, code[:valid])
		c.out.Printf("%s", line)
		addr += uint64(n)
	}
	c.lastDump.u, c.lastDump.haveU = addr, true
	return nil
}

// cmdEnter writes values of size bytes each (eb, ed, eq).
func cmdEnter(ctx context.Context, c *Console, name string, size int, args string) error {
	s, err := c.needStopped()
	if err != nil {
		return err
	}
	line := strings.TrimSpace(name + " " + args)
	fields := strings.Fields(args)
	if len(fields) < 2 {
		return syntaxErr(line, "an address and at least one value are expected")
	}
	e := env{c, s, ctx}
	addr, err := evalExpr(fields[0], e)
	if err != nil {
		return syntaxErr(line, "%v", err)
	}
	var data []byte
	for _, f := range fields[1:] {
		v, err := evalExpr(f, e)
		if err != nil {
			return syntaxErr(line, "%v", err)
		}
		if !fits(v, size) {
			return syntaxErr(line, "%s does not fit in %d bytes", f, size)
		}
		data = binary.LittleEndian.AppendUint64(data, v)[:len(data)+size]
	}
	if _, err := s.eng.WriteVirtual(ctx, s.cpu, addr, data); err != nil {
		var me *kdproto.MemoryError
		if errors.As(err, &me) && me.Done < len(data) {
			var st kdproto.Status
			if errors.As(err, &st) {
				return fmt.Errorf("memory access error at '%s'", fmtAddr(addr+uint64(me.Done)))
			}
		}
		return err
	}
	return nil
}

// fits reports whether v is a size-byte value, unsigned or negative.
func fits(v uint64, size int) bool {
	if size >= 8 || v>>(8*size) == 0 {
		return true
	}
	return int64(v) < 0 && int64(v) >= -(1<<(8*size-1))
}
