package commands

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/gokd/kd/internal/target"
)

// viewForm is one display form beyond db/dd/dq.
type viewForm struct {
	size  int // bytes per element
	deflt int // elements shown by default
	// str: da/du stop at the first NUL; sym: the value's symbol; ptr: the
	// value at the pointer.
	str, sym, ptr bool
}

var viewForms = map[string]viewForm{
	"dw":  {size: 2, deflt: 64},
	"dW":  {size: 2, deflt: 64},
	"dc":  {size: 4, deflt: 32},
	"df":  {size: 4, deflt: 16},
	"dD":  {size: 8, deflt: 15},
	"dyb": {size: 1, deflt: 32},
	"da":  {size: 1, deflt: 128, str: true},
	"du":  {size: 2, deflt: 128, str: true},
	"dds": {size: 4, deflt: 32, sym: true},
	"dps": {size: 8, deflt: 16, sym: true},
	"dqs": {size: 8, deflt: 16, sym: true},
	"ddp": {size: 4, deflt: 32, ptr: true},
	"dpp": {size: 8, deflt: 16, ptr: true},
	"dqp": {size: 8, deflt: 16, ptr: true},
}

// maxString bounds what da and du read when no length is given past the
// default, and what they show at all: a string longer than this is cut.
const maxString = 64 << 10

// viewHelp is each form's help: summary, syntax, prose, example.
var viewHelp = []struct{ name, summary, prose, example string }{
	{"dw", "Display memory as 16-bit values.", "64 words by default, 8 to a line.", "dw nt L10"},
	{"dW", "Display memory as 16-bit values with an ASCII column.", "64 words by default, 8 to a line. The W is upper case (dw has no ASCII column).", "dW nt L10"},
	{"dc", "Display memory as 32-bit values with an ASCII column.", "32 values by default, 4 to a line.", "dc nt+4e L8"},
	{"df", "Display memory as single-precision floats.", "16 numbers by default, 4 to a line, printed with 8 significant digits and a 3-digit exponent as KD's samples show; 0 shows as 0, infinities and NaNs as 1.#INF and 1.#QNAN. The spacing between numbers follows the samples, which may be trimmed.", "df @rsp L8"},
	{"dD", "Display memory as double-precision floats.", "15 numbers by default, 3 to a line, with 12 significant digits. The D is upper case (dd shows 32-bit values).", "dD @rsp L6"},
	{"dyb", "Display memory as bits and bytes.", "32 bytes by default, 4 to a line: each byte in binary (bit 7 first, under a 76543210 header) and then in hex. KD's exact dyb layout is not in its documentation; this is kd's closest equivalent.", "dyb nt L8"},
	{"da", "Display an ASCII string.", "Up to 48 characters a line, up to the first NUL or the end of the range (128 characters without a length, at most 0n65536). Characters outside printable ASCII show as a period.", "da nt+4e"},
	{"du", "Display a UTF-16 string.", "Up to 48 characters a line, up to the first NUL or the end of the range (128 characters without a length, at most 0n65536). Control and formatting characters show as a period.", "du poi(poi(nt!PsLoadedModuleList)+50)"},
	{"dds", "Display 32-bit values with their symbols.", "One value a line, 32 by default, each followed by module!symbol+offset when it points into a module.", "dds @rsp L8"},
	{"dps", "Display pointers with their symbols.", "One pointer-sized (64-bit) value a line, 16 by default, each followed by module!symbol+offset when it points into a module.", "dps @rsp"},
	{"dqs", "Display 64-bit values with their symbols.", "One value a line, 16 by default, each followed by module!symbol+offset when it points into a module.", "dqs nt!KiProcessorBlock L2"},
	{"ddp", "Display 32-bit values and the 32-bit values they point at.", "One value a line, 32 by default; ???????? where the pointer cannot be read through.", "ddp @rsp L4"},
	{"dpp", "Display pointers and the pointer-sized values they point at.", "One pointer a line, 16 by default; on x64 this is dqp.", "dpp nt!PsLoadedModuleList L2"},
	{"dqp", "Display 64-bit values and the 64-bit values they point at.", "One value a line, 16 by default; ????????`???????? where the pointer cannot be read through.", "dqp nt!PsLoadedModuleList L2"},
}

func init() {
	var cmds []*Command
	for _, h := range viewHelp {
		form := h.name
		syntax := "\t" + form + " [Address [L Count]]\n\t" + form + " Address EndAddress\n"
		prose := h.prose + " Without an address the display continues after the previous one."
		if f := viewForms[form]; !f.str && !f.sym && !f.ptr {
			syntax += physSyntax(form)
			prose += physProse
		}
		cmds = append(cmds, &Command{
			Names: []string{form}, Group: groupData, Repeat: true, Example: h.example,
			Help: h.summary + "\n\n" + syntax + "\n" + prose,
			Run:  func(ctx context.Context, e *Env, args string) (Result, error) { return cmdView(ctx, e, form, args) },
		})
	}
	cmds = append(cmds, &Command{
		Names: []string{"dp"}, Group: groupData, Repeat: true, Example: "dp nt!PsLoadedModuleList L2",
		Help: "Display memory as pointer-sized values.\n\n\tdp [Address [L Count]]\n\tdp Address EndAddress\n" + physSyntax("dp") + "\n" +
			"On an x64 target a pointer is 64 bits: dp shows what dq shows, 16 values by default." + physProse,
		Run: func(ctx context.Context, e *Env, args string) (Result, error) { return cmdDump(ctx, e, "dp", args) },
	})
	for _, c := range cmds {
		c.Run = hinted(c)
	}
	addCommands(cmds...)
}

// physSyntax is the /p syntax line of a display form.
func physSyntax(form string) string {
	return "\t" + form + " /p[[c]|[uc]|[wc]] [PhysicalAddress [L Count]]\n"
}

// physProse explains /p in a display form's help.
const physProse = " With /p the range is physical memory (read cached, uncached or write-combined with [c], [uc], [wc]); " +
	"lines start with # and the physical address, and a /p display without an address continues after the previous physical one."

// displayForm runs the display command form (d repeats the last one).
func displayForm(ctx context.Context, e *Env, form, args string) (Result, error) {
	if _, ok := viewForms[form]; ok {
		return cmdView(ctx, e, form, args)
	}
	return cmdDump(ctx, e, form, args)
}

// displayRange resolves a display's range: its start (after the previous
// display when no address is given) and its length in bytes.
func displayRange(ctx context.Context, e *Env, line, args string, size, deflt int) (uint64, int, error) {
	r, err := parseRange(args, exprTarget{ctx, e})
	if err != nil {
		return 0, 0, syntaxErr(line, "%v", err)
	}
	addr := r.addr
	if !r.haveAddr {
		if addr, err = e.startAddress(ctx, e.dump.have, e.dump.next); err != nil {
			return 0, 0, err
		}
	}
	n, err := r.length(size, addr)
	if err != nil {
		return 0, 0, rangeErr(line, args, err)
	}
	if n == 0 {
		n = uint64(deflt * size)
	}
	if n > maxDump {
		return 0, 0, rangeErr(line, args, fmt.Errorf("a display of 0x%x bytes is more than kd shows at once (0x%x)", n, maxDump))
	}
	return addr, int(n), nil
}

// rangeErr is KD's range error with the hint to use L? or .writemem.
func rangeErr(line, args string, err error) error {
	hints := []string{"L? Count allows ranges over 256 MiB for f, s, c and m; .writemem FILE " + strings.TrimSpace(args) + " copies any range to a file"}
	return &Error{Msg: fmt.Sprintf("range too long in '%s': %v", line, err), Hints: hints}
}

func cmdView(ctx context.Context, e *Env, form, args string) (Result, error) {
	if err := e.T.CheckStopped(); err != nil {
		return nil, err
	}
	f := viewForms[form]
	line := strings.TrimSpace(form + " " + args)
	if mode, rest, ok, err := physOption(line, args); err != nil {
		return nil, err
	} else if ok {
		if f.str || f.sym || f.ptr {
			return nil, syntaxErr(line, "/p works with db dw dW dd dc dq dp df dD dyb")
		}
		return physicalDisplay(ctx, e, form, line, rest, mode, f.size, f.deflt)
	}
	addr, n, err := displayRange(ctx, e, line, args, f.size, f.deflt)
	if err != nil {
		return nil, err
	}
	if f.str {
		n = min(n, maxString*f.size)
	}
	data, ok, err := e.T.ReadMemory(ctx, addr, n)
	if err != nil {
		return nil, err
	}
	v := MemoryView{Form: form, Addr: addr, Data: data, OK: ok}
	next := addr + uint64(n)
	switch {
	case f.str:
		v.Data, v.OK = cutString(data, ok, f.size)
		next = addr + uint64(len(v.Data))
		if len(v.Data) < len(data) {
			next += uint64(f.size) // past the NUL
		}
	case f.sym:
		for i := 0; i+f.size <= len(data); i += f.size {
			name := ""
			if allTrue(ok[i : i+f.size]) {
				if val := Element(data[i:], f.size); val != 0 {
					name = e.T.Symbolize(ctx, val)
				}
			}
			v.Symbols = append(v.Symbols, name)
		}
	case f.ptr:
		if err := prefetchPointees(ctx, e, data, ok, f.size); err != nil {
			return nil, err
		}
		for i := 0; i+f.size <= len(data); i += f.size {
			var p Pointee
			if allTrue(ok[i : i+f.size]) {
				b, pok, err := e.T.ReadMemory(ctx, Element(data[i:], f.size), f.size)
				if err != nil {
					return nil, err
				}
				if allTrue(pok) {
					p = Pointee{Value: Element(b, f.size), OK: true}
				}
			}
			v.Pointees = append(v.Pointees, p)
		}
	}
	e.dump.form, e.dump.next, e.dump.have = form, next, true
	return v, nil
}

// pointeeGap is the widest gap between two pointers' targets that one
// read covers: a request costs about this many bytes of packet headers
// and acknowledgements on the wire, so reading the gap is cheaper than a
// second request. (The cache never widens a read on its own.)
const pointeeGap = 128

// prefetchPointees reads the pointers' targets in as few requests as
// pays: targets sorted by address, close ones (pointeeGap) read together,
// so that ddp/dqp over a table of pointers into one structure cost one
// request rather than one per line.
func prefetchPointees(ctx context.Context, e *Env, data []byte, ok []bool, size int) error {
	var ps []uint64
	for i := 0; i+size <= len(data); i += size {
		if p := Element(data[i:], size); allTrue(ok[i:i+size]) && p+uint64(size) > p {
			ps = append(ps, p)
		}
	}
	slices.Sort(ps)
	for i := 0; i < len(ps); {
		lo, hi := ps[i], ps[i]+uint64(size)
		j := i + 1
		for ; j < len(ps) && ps[j] <= hi+pointeeGap && ps[j]+uint64(size) > ps[j] && ps[j]+uint64(size)-lo <= target.MemoryChunk; j++ {
			hi = max(hi, ps[j]+uint64(size))
		}
		if j-i > 1 {
			if _, _, err := e.T.ReadMemory(ctx, lo, int(hi-lo)); err != nil {
				return err
			}
		}
		i = j
	}
	return nil
}

// cutString ends a da/du string at its first NUL (not included) or its
// first unreadable element.
func cutString(data []byte, ok []bool, size int) ([]byte, []bool) {
	for i := 0; i+size <= len(data); i += size {
		if !allTrue(ok[i : i+size]) {
			if i == 0 {
				return data[:size], ok[:size] // shown as unreadable
			}
			return data[:i], ok[:i]
		}
		if Element(data[i:], size) == 0 {
			return data[:i], ok[:i]
		}
	}
	n := len(data) - len(data)%size
	return data[:n], ok[:n]
}

// element reads a little-endian value of size bytes.
func Element(b []byte, size int) uint64 {
	switch size {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(b))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b))
	}
	return binary.LittleEndian.Uint64(b)
}

func allTrue(b []bool) bool {
	for _, v := range b {
		if !v {
			return false
		}
	}
	return true
}
