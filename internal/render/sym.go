package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/target"
)

// symResult renders the symbol and stack results in KD's text; it reports
// whether res was one of them.
func (r *Text) symResult(res commands.Result) bool {
	o := r.Out
	switch v := res.(type) {
	case commands.ModuleList:
		var b strings.Builder
		b.WriteString("start             end                 module name\n")
		for _, m := range v.Modules {
			b.WriteString(ModuleLine(m))
			b.WriteByte('\n')
			if v.Verbose {
				moduleDetails(&b, m)
			}
		}
		o.Printf("%s", strings.TrimSuffix(b.String(), "\n"))
	case commands.SymbolList:
		var b strings.Builder
		for _, y := range v.Symbols {
			fmt.Fprintf(&b, "%s %s %s\n", Addr(y.Addr), y.FullName(), SymbolDetail(y))
		}
		if b.Len() > 0 {
			o.Printf("%s", strings.TrimSuffix(b.String(), "\n"))
		}
	case commands.NearSymbols:
		n := v.Near
		var left, right string
		if n.HaveBelow {
			left = fmt.Sprintf("(%s)   %s", Addr(n.Below.Addr), withOffset(n.Below, n.Addr))
		}
		if n.HaveAbove {
			right = fmt.Sprintf("(%s)   %s", Addr(n.Above.Addr), n.Above.FullName())
		}
		switch {
		case left != "" && right != "":
			o.Printf("%s   |  %s", left, right)
		case left != "":
			o.Printf("%s", left)
		case right != "":
			o.Printf("|  %s", right)
		default:
			return true // KD prints nothing near no symbol
		}
		if len(n.Exact) > 0 {
			o.Printf("Exact matches:")
			for _, y := range n.Exact {
				o.Printf("    %s %s", y.FullName(), SymbolDetail(y))
			}
		}
	case commands.StackTrace:
		o.Printf("%s", StackText(v))
	case commands.TypeDisplay:
		if t := TypeText(v); t != "" {
			o.Printf("%s", t)
		}
	case commands.Reloaded:
		o.Printf("Loading Kernel Symbols")
		if v.Forced {
			for _, m := range v.Modules {
				o.Printf("%s", ModuleLine(m))
			}
		}
	case commands.SymbolPathInfo:
		if v.Path == "" {
			o.Printf("Symbol search path is: <empty>")
		} else {
			o.Printf("Symbol search path is: %s", v.Path)
			o.Printf("Expanded Symbol search path is: %s", v.Expanded)
		}
	case commands.SymbolNoise:
		if v.Noisy {
			o.Printf("noisy mode - symbol prompts on")
		} else {
			o.Printf("quiet mode - symbol prompts off")
		}
	case commands.TypeList:
		for _, n := range v.Names {
			o.Printf("          %s!%s", v.Module, n)
		}
	default:
		return false
	}
	return true
}

// ModuleLine is one lm row.
func ModuleLine(m target.ModuleInfo) string {
	tail := ""
	switch m.State {
	case target.SymPDB, target.SymPrivatePDB:
		tail = m.PDBPath
	case target.SymExport:
		tail = m.File
	}
	return strings.TrimRight(fmt.Sprintf("%s %s   %-10s %-22s %s", Addr(m.Base), Addr(m.Base+uint64(m.Size)), m.Name, m.State, tail), " ")
}

func moduleDetails(b *strings.Builder, m target.ModuleInfo) {
	if m.PDBPath != "" {
		fmt.Fprintf(b, "    Loaded symbol image file: %s\n", m.File)
		fmt.Fprintf(b, "    Symbol file: %s\n", m.PDBPath)
	}
	if m.Path != "" {
		fmt.Fprintf(b, "    Image path: %s\n", m.Path)
	}
	fmt.Fprintf(b, "    Image name: %s\n", m.File)
	if m.HaveImage {
		fmt.Fprintf(b, "    Timestamp:        %s (%08X)\n", time.Unix(int64(m.Timestamp), 0).UTC().Format("Mon Jan 2 15:04:05 2006"), m.Timestamp)
		fmt.Fprintf(b, "    CheckSum:         %08X\n", m.CheckSum)
		fmt.Fprintf(b, "    ImageSize:        %08X\n", m.ImageSize)
	}
	if m.PDBName != "" {
		fmt.Fprintf(b, "    PDB:              %s (key %s)\n", m.PDBName, m.PDBKey)
	}
	if m.Why != "" && m.State != target.SymDeferred {
		fmt.Fprintf(b, "    No PDB loaded:    %s\n", m.Why)
	}
}

// SymbolDetail is what x and ln print after a name: the parameter types
// of a function, the type of data, or the name itself for publics and
// exports (as newer debuggers do without type information).
func SymbolDetail(y target.Sym) string {
	switch {
	case y.Kind == "function" && y.Type != "":
		if i := strings.IndexByte(y.Type, '('); i >= 0 {
			if y.Type[i:] == "()" {
				return "(void)"
			}
			return y.Type[i:]
		}
		return "(" + y.Type + ")"
	case y.Kind == "data" && y.Type != "":
		return "= <" + y.Type + ">"
	case y.Kind == "export":
		return "(<no parameter info>)"
	}
	return "(" + y.Name + ")"
}

func withOffset(y target.Sym, addr uint64) string {
	if addr == y.Addr {
		return y.FullName()
	}
	return fmt.Sprintf("%s+0x%x", y.FullName(), addr-y.Addr)
}

func symJSON(y target.Sym) map[string]any {
	m := map[string]any{"address": Hex(y.Addr), "module": y.Module, "name": y.Name, "kind": y.Kind}
	if y.Size > 0 {
		m["size"] = y.Size
	}
	if y.Type != "" {
		m["type"] = y.Type
	}
	return m
}

// symResultData is the JSON data of the symbol and stack results (nil
// when res is none of them).
func symResultData(res commands.Result) map[string]any {
	switch v := res.(type) {
	case commands.ModuleList:
		list := make([]any, 0, len(v.Modules))
		for _, m := range v.Modules {
			o := map[string]any{"name": m.Name, "file": m.File, "start": Hex(m.Base), "end": Hex(m.Base + uint64(m.Size)), "symbols": m.State.Name()}
			if m.PDBPath != "" {
				o["pdb_path"] = m.PDBPath
			}
			if v.Verbose {
				o["image_path"] = m.Path
				if m.HaveImage {
					o["timestamp"] = Hex(m.Timestamp)
					o["checksum"] = Hex(m.CheckSum)
					o["image_size"] = Hex(m.ImageSize)
				}
				if m.PDBName != "" {
					o["pdb_name"], o["pdb_key"] = m.PDBName, m.PDBKey
				}
				if m.Why != "" {
					o["no_pdb_reason"] = m.Why
				}
			}
			list = append(list, o)
		}
		return map[string]any{"modules": list}
	case commands.SymbolList:
		list := make([]any, 0, len(v.Symbols))
		for _, y := range v.Symbols {
			list = append(list, symJSON(y))
		}
		return map[string]any{"symbols": list}
	case commands.NearSymbols:
		o := map[string]any{"address": Hex(v.Addr)}
		if v.Module != "" {
			o["module"] = v.Module
		}
		if v.HaveBelow {
			o["below"] = symJSON(v.Below)
		}
		if v.HaveAbove {
			o["above"] = symJSON(v.Above)
		}
		exact := make([]any, 0, len(v.Exact))
		for _, y := range v.Exact {
			exact = append(exact, symJSON(y))
		}
		o["exact"] = exact
		return o
	case commands.StackTrace:
		return stackJSON(v)
	case commands.TypeDisplay:
		return typeJSON(v)
	case commands.TypeList:
		return map[string]any{"module": v.Module, "names": v.Names}
	case commands.Reloaded:
		list := make([]any, 0, len(v.Modules))
		for _, m := range v.Modules {
			list = append(list, map[string]any{"name": m.Name, "symbols": m.State.Name(), "pdb_path": m.PDBPath})
		}
		return map[string]any{"forced": v.Forced, "modules": list}
	case commands.SymbolNoise:
		return map[string]any{"noisy": v.Noisy}
	case commands.SymbolPathInfo:
		return map[string]any{"path": v.Path, "expanded": v.Expanded}
	}
	return nil
}
