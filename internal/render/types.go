package render

import (
	"fmt"
	"strings"

	"github.com/gokd/kd/internal/commands"
)

// TypeText is dt's listing: "   +0x008 CurrentThread    : Ptr64 _KTHREAD",
// with " 0x..." values after the type text when dt had an address, and
// nested members indented three more columns under -r.
func TypeText(v commands.TypeDisplay) string {
	var b strings.Builder
	width := 0
	for _, f := range v.Fields {
		width = max(width, len(f.Name)+3*f.Depth)
	}
	for _, f := range v.Fields {
		ind := strings.Repeat("   ", f.Depth)
		name := fmt.Sprintf("%-*s", width-3*f.Depth, f.Name)
		if v.HasAdr {
			val := f.Text
			if f.HasValue {
				val = f.Value
			}
			fmt.Fprintf(&b, "%s   +0x%03x %s : %s\n", ind, f.Offset, name, val)
		} else {
			fmt.Fprintf(&b, "%s   +0x%03x %s : %s\n", ind, f.Offset, name, f.Text)
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func typeJSON(v commands.TypeDisplay) map[string]any {
	fields := make([]any, 0, len(v.Fields))
	for _, f := range v.Fields {
		o := map[string]any{"offset": Hex(f.Offset), "name": f.Name, "type": f.Text, "depth": f.Depth}
		if f.HasValue {
			o["value"] = f.Value
		}
		fields = append(fields, o)
	}
	o := map[string]any{"module": v.Module, "name": v.Name, "size": Hex(v.Size), "fields": fields}
	if v.HasAdr {
		o["address"] = Hex(v.Addr)
	}
	return o
}
