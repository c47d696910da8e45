package render

import (
	"fmt"
	"strings"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/target"
)

// StackText is k's listing in KD's columns.
func StackText(v commands.StackTrace) string {
	var b strings.Builder
	if v.Context {
		b.WriteString("  *** Stack trace for last set context - .thread/.cxr resets it\n")
	}
	if v.Numbers {
		b.WriteString(" # ")
	}
	b.WriteString("Child-SP          RetAddr           ")
	if v.Args {
		b.WriteString(": Args to Child                                                           : ")
	}
	b.WriteString("Call Site\n")
	for _, f := range v.Frames {
		if v.Numbers {
			fmt.Fprintf(&b, "%02x ", f.Num)
		}
		fmt.Fprintf(&b, "%s %s ", Addr(f.ChildSP), Addr(f.RetAddr))
		if v.Args {
			if f.HaveArgs {
				fmt.Fprintf(&b, ": %s %s %s %s : ", Addr(f.Args[0]), Addr(f.Args[1]), Addr(f.Args[2]), Addr(f.Args[3]))
			} else {
				b.WriteString(": ????????`???????? ????????`???????? ????????`???????? ????????`???????? : ")
			}
		}
		b.WriteString(callSite(f, v.Params))
		if f.Guess {
			b.WriteString(" (guess: followed the RBP chain)")
		} else if v.Verbose && f.Num > 0 {
			fmt.Fprintf(&b, " (%s)", f.How)
		}
		b.WriteByte('\n')
	}
	if v.Stopped != "" {
		fmt.Fprintf(&b, "(the walk stopped: %s)\n", v.Stopped)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// callSite is the frame's symbol; with kp the parameters follow the
// function name, typed from the PDB with the values of the home space.
func callSite(f target.StackFrame, params bool) string {
	if !params {
		return f.CallSite
	}
	name, off, hasOff := strings.Cut(f.CallSite, "+")
	if !strings.Contains(name, "!") {
		return f.CallSite
	}
	var ps string
	if f.Params == nil {
		ps = "(<no parameter info>)"
	} else {
		parts := make([]string, len(f.Params))
		for i, p := range f.Params {
			if i < 4 && f.HaveArgs {
				parts[i] = fmt.Sprintf("%s = 0x%x", p, f.Args[i])
			} else {
				parts[i] = p
			}
		}
		ps = "(" + strings.Join(parts, ", ") + ")"
	}
	if hasOff {
		return name + ps + "+" + off
	}
	return name + ps
}

func stackJSON(v commands.StackTrace) map[string]any {
	frames := make([]any, 0, len(v.Frames))
	for _, f := range v.Frames {
		o := map[string]any{"number": f.Num, "child_sp": Hex(f.ChildSP), "ret_addr": Hex(f.RetAddr), "ip": Hex(f.IP),
			"call_site": f.CallSite, "how": f.How, "guess": f.Guess}
		if f.HaveArgs {
			o["args"] = []Hex{Hex(f.Args[0]), Hex(f.Args[1]), Hex(f.Args[2]), Hex(f.Args[3])}
		}
		if f.Params != nil {
			o["params"] = f.Params
		}
		frames = append(frames, o)
	}
	o := map[string]any{"frames": frames}
	if v.Context {
		o["context"] = "thread"
	}
	if v.Stopped != "" {
		o["stopped"] = v.Stopped
	}
	return o
}
