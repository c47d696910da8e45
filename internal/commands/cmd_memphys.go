package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/gokd/kd/kdproto"
)

// physForm is one physical display extension.
type physForm struct{ size, deflt int }

var physForms = map[string]physForm{
	"!db": {1, 128}, "!dw": {2, 64}, "!dc": {4, 32}, "!dd": {4, 32}, "!dq": {8, 16}, "!dp": {8, 16},
}

func init() {
	var cmds []*Command
	for _, p := range []struct{ name, what, ex string }{
		{"!db", "bytes with an ASCII column", "!db 1000 L20"},
		{"!dw", "16-bit values", "!dw 1000 L8"},
		{"!dc", "32-bit values with an ASCII column", "!dc [uc] 1000"},
		{"!dd", "32-bit values", "!dd 1000 L8"},
		{"!dq", "64-bit values", "!dq 1000 L4"},
		{"!dp", "pointer-sized (64-bit) values", "!dp 1000 L4"},
	} {
		name := p.name
		cmds = append(cmds, &Command{
			Names: []string{name}, Group: groupData, Repeat: true, Example: p.ex,
			Help: "Display physical memory as " + p.what + ".\n\n\t" + name + " [[c]|[uc]|[wc]] [-m] [PhysicalAddress] [L Count]\n\n" +
				"Lines start with # and the physical address, as KD's. 128 bytes by default; without an address the display continues " +
				"after the previous physical display (at 0 the first time). [c], [uc] and [wc] read cached, uncached or write-combined " +
				"memory; -m (one unit at a time) is accepted and changes nothing: kd reads physical memory in maximal requests.",
			Run: func(ctx context.Context, e *Env, args string) (Result, error) {
				return cmdPhysDisplay(ctx, e, name, args)
			},
		})
	}
	for _, p := range []struct {
		name string
		size int
	}{{"!eb", 1}, {"!ed", 4}} {
		name, size := p.name, p.size
		cmds = append(cmds, &Command{
			Names: []string{name}, Group: groupData,
			Example: name + " 1000 " + strings.Repeat("ab", size),
			Help: fmt.Sprintf("Write %d-byte values to physical memory.\n\n\t%s [[c]|[uc]|[wc]] PhysicalAddress Value [Value...]\n\n"+
				"Values are hex expressions separated by blanks or commas; nothing is printed on success.", size, name),
			Run: func(ctx context.Context, e *Env, args string) (Result, error) {
				return cmdPhysEnter(ctx, e, name, size, args)
			},
		})
	}
	for _, c := range cmds {
		c.Run = hinted(c)
	}
	addCommands(cmds...)
}

// cachingFlag takes a leading [c], [uc] or [wc] from fields.
func cachingFlag(fields []string) (uint32, []string, error) {
	if len(fields) == 0 || !strings.HasPrefix(fields[0], "[") {
		return kdproto.CacheDefault, fields, nil
	}
	switch strings.ToLower(fields[0]) {
	case "[c]":
		return kdproto.CacheCached, fields[1:], nil
	case "[uc]":
		return kdproto.CacheUncached, fields[1:], nil
	case "[wc]":
		return kdproto.CacheWriteCombined, fields[1:], nil
	}
	return 0, nil, fmt.Errorf("unknown caching flag %s ([c], [uc] or [wc])", fields[0])
}

// physAddr evaluates a physical address, with or without KD's # prefix.
func physAddr(ctx context.Context, e *Env, s string) (uint64, error) {
	return e.eval(ctx, strings.TrimPrefix(s, "#"))
}

// physOption takes a d* command's leading /p, /p[c], /p[uc] or /p[wc]
// (physical addresses, with a caching mode); ok is false without one.
func physOption(line, args string) (mode uint32, rest string, ok bool, err error) {
	args = strings.TrimSpace(args)
	if !strings.HasPrefix(args, "/") {
		return 0, args, false, nil
	}
	opt, rest, _ := strings.Cut(args, " ")
	switch strings.ToLower(opt) {
	case "/p":
		return kdproto.CacheDefault, rest, true, nil
	case "/p[c]":
		return kdproto.CacheCached, rest, true, nil
	case "/p[uc]":
		return kdproto.CacheUncached, rest, true, nil
	case "/p[wc]":
		return kdproto.CacheWriteCombined, rest, true, nil
	}
	return 0, "", false, syntaxErr(line, "unknown option %s (kd knows /p, /p[c], /p[uc] and /p[wc]; /c is not supported)", opt)
}

// physicalDisplay is a d* /p display: the range is physical, and the
// display continues where the previous physical display ended.
func physicalDisplay(ctx context.Context, e *Env, form, line, args string, mode uint32, size, deflt int) (Result, error) {
	args = strings.TrimPrefix(strings.TrimSpace(args), "#")
	r, err := parseRange(args, exprTarget{ctx, e})
	if err != nil {
		return nil, syntaxErr(line, "%v", err)
	}
	addr := e.dump.phys
	if r.haveAddr {
		addr = r.addr
	}
	n, err := r.length(size, addr)
	if err != nil {
		return nil, rangeErr(line, args, err)
	}
	if n == 0 {
		n = uint64(deflt * size)
	}
	if n > maxDump {
		return nil, rangeErr(line, args, fmt.Errorf("a display of 0x%x bytes is more than kd shows at once (0x%x)", n, maxDump))
	}
	data, ok, err := e.T.ReadPhysical(ctx, addr, int(n), mode)
	if err != nil {
		return nil, err
	}
	e.dump.phys = addr + n
	return MemoryView{Form: form, Physical: true, Addr: addr, Data: data, OK: ok}, nil
}

func cmdPhysDisplay(ctx context.Context, e *Env, name, args string) (Result, error) {
	if err := e.T.CheckStopped(); err != nil {
		return nil, err
	}
	f := physForms[name]
	line := strings.TrimSpace(name + " " + args)
	fields, err := splitFields(args)
	if err != nil {
		return nil, syntaxErr(line, "%v", err)
	}
	mode, fields, err := cachingFlag(fields)
	if err != nil {
		return nil, syntaxErr(line, "%v", err)
	}
	if len(fields) > 0 && strings.EqualFold(fields[0], "-m") {
		fields = fields[1:]
	}
	return physicalDisplay(ctx, e, name, line, strings.Join(fields, " "), mode, f.size, f.deflt)
}

func cmdPhysEnter(ctx context.Context, e *Env, name string, size int, args string) (Result, error) {
	if err := e.T.CheckStopped(); err != nil {
		return nil, err
	}
	line := strings.TrimSpace(name + " " + args)
	fields, err := splitFields(args)
	if err != nil {
		return nil, syntaxErr(line, "%v", err)
	}
	mode, fields, err := cachingFlag(fields)
	if err != nil {
		return nil, syntaxErr(line, "%v", err)
	}
	if len(fields) < 2 {
		return nil, syntaxErr(line, "a physical address and at least one value are expected")
	}
	addr, err := physAddr(ctx, e, fields[0])
	if err != nil {
		return nil, syntaxErr(line, "%v", err)
	}
	data, err := valueBytes(fields[1:], size, func(s string) (uint64, error) { return e.eval(ctx, s) })
	if err != nil {
		return nil, syntaxErr(line, "%v", err)
	}
	return nil, e.T.WritePhysical(ctx, addr, data, mode)
}
