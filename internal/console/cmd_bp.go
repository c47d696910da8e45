package console

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// maxBreakpoints is the kernel's limit of software breakpoints.
const maxBreakpoints = 32

// breakpoint is one software breakpoint kd planted.
type breakpoint struct {
	id      int
	addr    uint64
	handle  uint32
	written bool // planted in the target right now
}

var bpCommands = []*Command{
	{
		Names: []string{"bp"}, Group: groupBreak,
		Help: "Set a software breakpoint.\n\n\tbp Address\n\n" +
			"When it is hit kd prints `Breakpoint N hit` and the location. Breakpoints are forgotten when the target reboots.",
		Run: cmdBreakpoint,
	},
	{
		Names: []string{"bl"}, Group: groupBreak,
		Help: "List the breakpoints.\n\n\tbl",
		Run:  cmdBreakpointList,
	},
	{
		Names: []string{"bc"}, Group: groupBreak,
		Help: "Clear breakpoints.\n\n\tbc ID [ID...]\n\tbc *",
		Run:  cmdBreakpointClear,
	},
}

// breakpointAt returns the breakpoint at addr, or nil.
func (s *session) breakpointAt(addr uint64) *breakpoint {
	for _, b := range s.bps {
		if b.addr == addr {
			return b
		}
	}
	return nil
}

func cmdBreakpoint(ctx context.Context, c *Console, args string) error {
	s, err := c.needStopped()
	if err != nil {
		return err
	}
	if strings.TrimSpace(args) == "" {
		return syntaxErr("bp", "an address is expected")
	}
	addr, err := evalExpr(args, env{c, s, ctx})
	if err != nil {
		return syntaxErr("bp "+args, "%v", err)
	}
	if b := s.breakpointAt(addr); b != nil {
		c.out.Printf("breakpoint %d redefined", b.id)
		return nil
	}
	if len(s.bps) >= maxBreakpoints {
		return fmt.Errorf("the kernel allows only %d software breakpoints", maxBreakpoints)
	}
	h, err := s.eng.WriteBreakPoint(ctx, s.cpu, addr)
	if err != nil {
		return err
	}
	id := 0
	for s.breakpointByID(id) != nil {
		id++
	}
	s.bps = append(s.bps, &breakpoint{id: id, addr: addr, handle: h, written: true})
	return nil
}

func (s *session) breakpointByID(id int) *breakpoint {
	for _, b := range s.bps {
		if b.id == id {
			return b
		}
	}
	return nil
}

func cmdBreakpointList(ctx context.Context, c *Console, args string) error {
	if err := noArgs("bl", args); err != nil {
		return err
	}
	s, err := c.needStopped()
	if err != nil {
		return err
	}
	for _, b := range s.bps {
		c.out.Printf("%2d e %s     0001 (0001) %s", b.id, fmtAddr(b.addr), c.symbolize(ctx, s, b.addr))
	}
	return nil
}

func cmdBreakpointClear(ctx context.Context, c *Console, args string) error {
	s, err := c.needStopped()
	if err != nil {
		return err
	}
	fields := strings.FieldsFunc(args, func(r rune) bool { return r == ' ' || r == ',' })
	if len(fields) == 0 {
		return syntaxErr("bc", "breakpoint IDs or * are expected")
	}
	var clear []*breakpoint
	for _, f := range fields {
		if f == "*" {
			clear = append(clear[:0], s.bps...)
			break
		}
		id, err := strconv.ParseUint(f, 16, 16)
		if err != nil {
			return syntaxErr("bc "+args, "bad breakpoint ID %q", f)
		}
		if b := s.breakpointByID(int(id)); b != nil {
			clear = append(clear, b)
		}
	}
	for _, b := range clear {
		if b.written {
			if err := s.eng.RestoreBreakPoint(ctx, s.cpu, b.handle); err != nil {
				return err
			}
		}
		for i, x := range s.bps {
			if x == b {
				s.bps = append(s.bps[:i], s.bps[i+1:]...)
				break
			}
		}
		if s.reinsert == b {
			s.reinsert = nil
		}
	}
	return nil
}
