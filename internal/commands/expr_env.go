package commands

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gokd/kd/internal/target"
)

// numUserRegs is the number of user pseudo-registers, $t0 to $t19.
const numUserRegs = 20

// exprState is what the evaluator keeps between commands of a session.
type exprState struct {
	radix   int // the default number base (n); 0 means 16
	user    [numUserRegs]uint64
	lastExp uint64 // $exp: the last value ? evaluated
}

// exprTarget evaluates expressions against the session's target and
// state. Commands get one with exprTarget{ctx, e} (or use e.eval).
type exprTarget struct {
	ctx context.Context
	e   *Env
}

func (x exprTarget) radix() int { return x.e.radix() }

func (x exprTarget) register(name string) (uint64, bool, error) {
	name = strings.ToLower(name)
	if strings.HasPrefix(name, "$") {
		return x.pseudo(name)
	}
	if !target.IsRegister(name) {
		return 0, false, nil
	}
	v, err := x.e.T.ReadRegister(x.ctx, name)
	if err != nil {
		return 0, true, err
	}
	return v.Value, true, nil
}

// symbol resolves module!name or a module name; a name without a module
// (or written !name) is looked up in every loaded module, as KD does, and
// must be found in exactly one place.
func (x exprTarget) symbol(name string) (uint64, error) {
	bare := strings.TrimPrefix(name, "!")
	if strings.Contains(bare, "!") {
		return x.e.T.Resolve(x.ctx, name)
	}
	v, err := x.e.T.Resolve(x.ctx, bare)
	if err == nil || strings.ContainsAny(bare, "*?") || x.ctx.Err() != nil {
		return v, err
	}
	found, ferr := x.e.T.FindSymbols(x.ctx, "*", bare)
	if ferr != nil || len(found) == 0 {
		return 0, err
	}
	for _, y := range found[1:] {
		if y.Addr != found[0].Addr {
			return 0, fmt.Errorf("ambiguous symbol error at '%s': %d symbols have that name; write module!%s", bare, len(found), bare)
		}
	}
	return found[0].Addr, nil
}

func (x exprTarget) memory(addr uint64, size int, phys bool) (uint64, error) {
	if phys {
		return 0, errors.New("the physical-memory operators ($pby, $pwo, $pdwo, $pqwo, $ppoi) are not supported by kd's evaluator; use by/wo/dwo/qwo/poi on a virtual address")
	}
	if addr > ^uint64(0)-uint64(size-1) {
		return 0, fmt.Errorf("memory access error at %s: %d bytes there would wrap past the top of the address space", kdAddr(addr), size)
	}
	b, ok, err := x.e.T.ReadMemory(x.ctx, addr, size)
	if err != nil {
		return 0, err
	}
	for i := range size {
		if i >= len(b) || !ok[i] {
			return 0, fmt.Errorf("memory access error at %s", kdAddr(addr+uint64(i)))
		}
	}
	var buf [8]byte
	copy(buf[:], b[:size])
	return binary.LittleEndian.Uint64(buf[:]), nil
}

// unsupportedPseudo are KD pseudo-registers kd knows but cannot give.
var unsupportedPseudo = map[string]string{
	"$ea": "no effective address is kept", "$ea2": "no effective address is kept",
	"$exentry": "kd debugs a kernel, not a process", "$peb": "kd debugs a kernel, not a process",
	"$teb": "kd debugs a kernel, not a process", "$tpid": "no process id is read", "$tid": "no thread id is read",
	"$callret": "no .call is made", "$scopeip": "kd has no local scope", "$p": "the last d* value is not kept",
	"$dbgtime": "use .time", "$mod": "no current module is kept",
}

// pseudo returns a pseudo-register (name in lower case, with $).
func (x exprTarget) pseudo(name string) (uint64, bool, error) {
	ctx, t := x.ctx, x.e.T
	switch name {
	case "$ip":
		return x.reg("rip")
	case "$csp":
		return x.reg("rsp")
	case "$retreg", "$retreg64":
		return x.reg("rax")
	case "$ptrsize":
		return 8, true, nil
	case "$pagesize":
		return 0x1000, true, nil
	case "$exp":
		return x.e.x.lastExp, true, nil
	case "$ra":
		st, err := t.Stack(ctx, target.StackFrom{}, 2, false)
		if err != nil {
			return 0, true, err
		}
		if len(st.Frames) == 0 || st.Frames[0].RetAddr == 0 {
			return 0, true, errors.New("$ra: the stack walk found no return address for the current frame")
		}
		return st.Frames[0].RetAddr, true, nil
	case "$pcr":
		v, err := t.ControlPointer(ctx, target.ControlKPCR)
		return v, true, err
	case "$prcb":
		v, err := t.ControlPointer(ctx, target.ControlKPRCB)
		return v, true, err
	case "$thread":
		v, err := t.ControlPointer(ctx, target.ControlKThread)
		return v, true, err
	case "$proc":
		v, err := x.process()
		return v, true, err
	}
	if i, ok := userReg(name); ok {
		return x.e.x.user[i], true, nil
	}
	if rest, ok := strings.CutPrefix(name, "$bp"); ok {
		id, err := strconv.Atoi(rest)
		if err != nil || id < 0 {
			return 0, false, nil
		}
		for _, b := range t.Breakpoints() {
			if b.ID == id {
				return b.Addr, true, nil
			}
		}
		return 0, true, fmt.Errorf("%s: there is no breakpoint %d", name, id)
	}
	if why, ok := unsupportedPseudo[name]; ok {
		return 0, true, fmt.Errorf("pseudo-register %s is not supported by kd: %s", name, why)
	}
	return 0, false, nil
}

func (x exprTarget) reg(name string) (uint64, bool, error) {
	v, err := x.e.T.ReadRegister(x.ctx, name)
	if err != nil {
		return 0, true, err
	}
	return v.Value, true, nil
}

// process returns $proc: the current thread's process, read through the
// _KTHREAD layout of nt's PDB (ApcState.Process, else Process).
func (x exprTarget) process() (uint64, error) {
	ctx, t := x.ctx, x.e.T
	thread, err := t.ControlPointer(ctx, target.ControlKThread)
	if err != nil {
		return 0, err
	}
	for _, path := range []string{"ApcState.Process", "Process"} {
		l, err := t.DescribeType(ctx, "nt", "_KTHREAD", 1, 0, false, []string{path})
		if err != nil {
			continue
		}
		off, depth := uint64(0), 0
		for _, f := range l.Fields {
			if f.Depth == depth {
				off += f.Offset
				depth++
			}
		}
		if depth != strings.Count(path, ".")+1 {
			continue
		}
		v, err := x.memory(thread+off, 8, false)
		if err != nil {
			return 0, fmt.Errorf("$proc: %w", err)
		}
		return v, nil
	}
	return 0, errors.New("$proc: nt's symbols have no _KTHREAD.ApcState.Process or _KTHREAD.Process field to find the current process by")
}

// userReg returns i for $ti, 0 <= i < 20.
func userReg(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, "$t")
	if !ok || rest == "" || len(rest) > 2 || rest[0] == '+' || rest[0] == '-' {
		return 0, false
	}
	i, err := strconv.Atoi(rest)
	if err != nil || i < 0 || i >= numUserRegs || strconv.Itoa(i) != rest {
		return 0, false
	}
	return i, true
}

// radix returns the default number base.
func (e *Env) radix() int {
	if e.x.radix == 0 {
		return 16
	}
	return e.x.radix
}

// setPseudo sets a user pseudo-register ($t0-$t19, name with or without
// @); r @$t0=expr uses it. Other pseudo-registers are read-only.
func (e *Env) setPseudo(name string, v uint64) error {
	n := strings.ToLower(strings.TrimPrefix(name, "@"))
	if i, ok := userReg(n); ok {
		e.x.user[i] = v
		return nil
	}
	return fmt.Errorf("pseudo-register %s cannot be set: only $t0 to $t19 can", n)
}

// isPseudo reports whether name (with or without @) is a pseudo-register
// name, so that r can route it to setPseudo.
func isPseudo(name string) bool { return strings.HasPrefix(strings.TrimPrefix(name, "@"), "$") }

// eval evaluates an expression against the target.
func (e *Env) eval(ctx context.Context, s string) (uint64, error) {
	return evalExpr(s, exprTarget{ctx, e})
}

// Eval evaluates an expression against the target (for the console's
// own use, e.g. fuzzing and tests).
func (e *Env) Eval(ctx context.Context, s string) (uint64, error) { return e.eval(ctx, s) }

// kdAddr formats an address as KD does: fffff803`78806e40.
func kdAddr(v uint64) string { return fmt.Sprintf("%08x`%08x", v>>32, uint32(v)) }
