package render

import (
	"fmt"
	"strings"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/safetext"
)

func init() { addRenderers(bpText, bpJSON) }

// BreakpointLine formats one bl line as KD does:
// " 0 e fffff800`11201010     0001 (0001) hal!HalProcessorIdle", with
// "w 4" after the address of a ba breakpoint, "eu" and the symbol in
// parentheses for a deferred one, and the command string in quotes.
func BreakpointLine(b commands.BreakpointInfo) string {
	var s strings.Builder
	state := "e"
	if !b.Enabled {
		state = "d"
	}
	if b.Deferred {
		state += "u"
	}
	fmt.Fprintf(&s, "%2d %-2s", b.ID, state)
	switch {
	case b.Deferred:
		s.WriteString("                 ") // no address yet
	default:
		s.WriteString(Addr(b.Addr))
	}
	if b.Hardware {
		fmt.Fprintf(&s, " %c %d", b.Access, b.Size)
	} else {
		s.WriteString("    ")
	}
	fmt.Fprintf(&s, " %04x (%04x)", b.Passes, b.InitialPasses)
	switch {
	case b.Deferred:
		fmt.Fprintf(&s, " (%s)", safetext.Sanitize([]byte(b.Expr)))
	case b.Symbol != "":
		s.WriteString(" " + b.Symbol)
	}
	if b.Action != "" {
		fmt.Fprintf(&s, " %q", safetext.Sanitize([]byte(b.Action)))
	}
	return s.String()
}

func bpText(r *Text, res commands.Result) bool {
	o := r.Out
	switch v := res.(type) {
	case commands.BreakpointList:
		for _, b := range v.Breakpoints {
			o.Printf("%s", BreakpointLine(b))
		}
	case commands.BreakpointRedefined:
		o.Printf("breakpoint %d redefined", v.ID)
	case commands.BreakpointSet:
		if v.Deferred {
			o.Printf("Bp expression '%s' could not be resolved, adding deferred bp", safetext.Sanitize([]byte(v.Expr)))
		}
	case commands.BreakpointMatches:
		for _, m := range v.Set {
			o.Printf("%3d: %s @!\"%s\"", m.ID, Addr(m.Addr), m.Name)
		}
	default:
		return false
	}
	return true
}

func bpJSON(res commands.Result) (any, bool) {
	switch v := res.(type) {
	case commands.BreakpointList:
		list := make([]any, 0, len(v.Breakpoints))
		for _, b := range v.Breakpoints {
			m := map[string]any{"id": b.ID, "enabled": b.Enabled, "deferred": b.Deferred, "hits": b.Hits,
				"passes": b.Passes, "initial_passes": b.InitialPasses, "one_shot": b.OneShot,
				"kind": "software"}
			if !b.Deferred {
				m["address"] = Hex(b.Addr)
				m["symbol"] = b.Symbol
			}
			if b.Expr != "" {
				m["expression"] = safetext.Sanitize([]byte(b.Expr))
			}
			if b.Action != "" {
				m["action"] = safetext.Sanitize([]byte(b.Action))
			}
			if b.Hardware {
				m["kind"] = "hardware"
				m["access"] = string(b.Access)
				m["size"] = b.Size
			}
			list = append(list, m)
		}
		return map[string]any{"breakpoints": list}, true
	case commands.BreakpointRedefined:
		return map[string]any{"id": v.ID}, true
	case commands.BreakpointSet:
		m := map[string]any{"id": v.ID, "deferred": v.Deferred}
		if v.Deferred {
			m["expression"] = safetext.Sanitize([]byte(v.Expr))
		} else {
			m["address"] = Hex(v.Addr)
		}
		return m, true
	case commands.BreakpointMatches:
		list := make([]any, 0, len(v.Set))
		for _, b := range v.Set {
			list = append(list, map[string]any{"id": b.ID, "address": Hex(b.Addr), "symbol": b.Name})
		}
		return map[string]any{"breakpoints": list}, true
	}
	return nil, false
}
