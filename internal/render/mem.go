package render

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/safetext"
)

// The memory group's renderers: the display forms beyond db/dd/dq, the
// physical displays, s, c, !pte and !vtop.

func init() { addRenderers(memText, memJSON) }

func memText(r *Text, res commands.Result) bool {
	var b strings.Builder
	switch v := res.(type) {
	case commands.MemoryView:
		viewText(&b, v)
	case commands.SearchResult:
		for _, h := range v.Hits {
			b.WriteString(formLine(v.Form, false, h.Addr, h.Data, h.OK))
			b.WriteByte('\n')
		}
		if v.Truncated {
			fmt.Fprintf(&b, "Search stopped after %d matches; narrow the range to see the rest.\n", len(v.Hits))
		}
	case commands.CompareResult:
		for _, d := range v.Diffs {
			fmt.Fprintf(&b, "%s  %s - %s  %s\n", Addr(d.Addr1), byteText(d.Val1, d.OK1), Addr(d.Addr2), byteText(d.Val2, d.OK2))
		}
		if v.Truncated {
			fmt.Fprintf(&b, "Compare stopped after %d differences, at %x bytes of the range.\n", len(v.Diffs), v.Compared)
		}
	case commands.PteResult:
		pteText(&b, v)
	case commands.VtopResult:
		vtopText(&b, v)
	default:
		return false
	}
	if b.Len() > 0 {
		r.Out.Printf("%s", strings.TrimSuffix(b.String(), "\n"))
	}
	return true
}

func byteText(v byte, ok bool) string {
	if !ok {
		return "??"
	}
	return fmt.Sprintf("%02x", v)
}

// lineAddr is a line's address: KD's two halves, or # and the physical
// address.
func lineAddr(phys bool, a uint64) string {
	if phys {
		return fmt.Sprintf("#%8x", a)
	}
	return Addr(a)
}

// layout is how a form lays out a line: elements of size bytes, perLine
// of them, with an ASCII column or not.
type layout struct {
	size, perLine int
	ascii         bool
}

var layouts = map[string]layout{
	"db": {1, 16, true}, "!db": {1, 16, true},
	"dw": {2, 8, false}, "!dw": {2, 8, false}, "dW": {2, 8, true},
	"dc": {4, 4, true}, "!dc": {4, 4, true}, "dd": {4, 4, false}, "!dd": {4, 4, false},
	"dq": {8, 2, false}, "!dq": {8, 2, false}, "dp": {8, 2, false}, "!dp": {8, 2, false},
	"df": {4, 4, false}, "dD": {8, 3, false}, "dyb": {1, 4, false},
	"dds": {4, 1, false}, "dps": {8, 1, false}, "dqs": {8, 1, false},
	"ddp": {4, 1, false}, "dpp": {8, 1, false}, "dqp": {8, 1, false},
}

func viewText(b *strings.Builder, v commands.MemoryView) {
	if v.Form == "da" || v.Form == "du" {
		stringText(b, v)
		return
	}
	l := layouts[v.Form]
	if v.Form == "dyb" {
		pad := strings.Repeat(" ", len(lineAddr(v.Physical, v.Addr))+2)
		b.WriteString(pad + strings.TrimSuffix(strings.Repeat("76543210 ", l.perLine), " ") + "\n")
		b.WriteString(pad + strings.TrimSuffix(strings.Repeat("-------- ", l.perLine), " ") + "\n")
	}
	lineBytes := l.size * l.perLine
	for off, i := 0, 0; off < len(v.Data); off, i = off+lineBytes, i+1 {
		end := min(off+lineBytes, len(v.Data))
		b.WriteString(formLine(v.Form, v.Physical, v.Addr+uint64(off), v.Data[off:end], v.OK[off:end]))
		switch {
		case i < len(v.Symbols) && v.Symbols[i] != "":
			b.WriteString(" " + safetext.Sanitize([]byte(v.Symbols[i])))
		case i < len(v.Pointees):
			b.WriteString(" " + valueText(l.size, v.Pointees[i].Value, v.Pointees[i].OK))
		}
		b.WriteByte('\n')
	}
}

// formLine is one line of a display form: address, two spaces, the
// elements, and the ASCII column where the form has one.
func formLine(form string, phys bool, at uint64, data []byte, ok []bool) string {
	l := layouts[form]
	if l.size == 1 && l.ascii {
		// db's layout, with its hyphen and padded ASCII column.
		line := DumpLine(1, l.perLine, at, data, ok)
		return lineAddr(phys, at) + line[len(Addr(at)):]
	}
	var b strings.Builder
	b.WriteString(lineAddr(phys, at) + " ")
	for i := 0; i < l.perLine; i++ {
		o := i * l.size
		if o+l.size > len(data) {
			break
		}
		b.WriteByte(' ')
		good := allOK(ok[o : o+l.size])
		switch form {
		case "df", "dD":
			b.WriteString(floatText(l.size, data[o:], good))
		case "dyb":
			if good {
				fmt.Fprintf(&b, "%08b", data[o])
			} else {
				b.WriteString("????????")
			}
		default:
			b.WriteString(valueText(l.size, commands.Element(data[o:], l.size), good))
		}
	}
	if form == "dyb" {
		b.WriteString(" ")
		for i := range data {
			b.WriteString(" " + byteText(data[i], ok[i]))
		}
	}
	if l.ascii {
		// Pad a short line so that the ASCII column stays in place.
		missing := l.perLine - len(data)/l.size
		b.WriteString(strings.Repeat(" ", missing*(2*l.size+1)+2))
		for i := range data {
			b.WriteByte(asciiChar(data[i], ok[i]))
		}
	}
	return b.String()
}

func asciiChar(c byte, ok bool) byte {
	switch {
	case !ok:
		return '?'
	case c >= 0x20 && c < 0x7f:
		return c
	}
	return '.'
}

func allOK(ok []bool) bool {
	for _, v := range ok {
		if !v {
			return false
		}
	}
	return true
}

// valueText is one hex element; 8-byte values as KD's two halves.
func valueText(size int, v uint64, ok bool) string {
	switch {
	case size == 8 && ok:
		return Addr(v)
	case size == 8:
		return "????????`????????"
	case !ok:
		return strings.Repeat("?", 2*size)
	}
	return fmt.Sprintf("%0*x", 2*size, v)
}

// floatText formats a float as KD does: 8 (df) or 12 (dD) significant
// digits with a 3-digit exponent, 0 as 0, and MSVC's 1.#INF / 1.#QNAN.
func floatText(size int, b []byte, ok bool) string {
	if !ok {
		return strings.Repeat("?", 2*size)
	}
	var f float64
	prec := 11
	if size == 4 {
		f, prec = float64(math.Float32frombits(binary.LittleEndian.Uint32(b))), 7
	} else {
		f = math.Float64frombits(binary.LittleEndian.Uint64(b))
	}
	sign := ""
	if math.Signbit(f) {
		sign = "-"
	}
	switch {
	case math.IsInf(f, 0):
		return sign + "1.#INF"
	case math.IsNaN(f):
		return sign + "1.#QNAN"
	case f == 0:
		return sign + "0"
	}
	s := strconv.FormatFloat(f, 'e', prec, 64)
	mant, exp, _ := strings.Cut(s, "e")
	return fmt.Sprintf("%se%c%03s", mant, exp[0], exp[1:])
}

// maxStringLine is how many characters da and du show on a line.
const maxStringLine = 48

// stringText renders da/du: the string in lines of 48 characters, each
// quoted after its address; characters outside printable ASCII (da) or
// printable Unicode (du) show as a period, never as raw bytes.
func stringText(b *strings.Builder, v commands.MemoryView) {
	size := 1
	if v.Form == "du" {
		size = 2
	}
	if len(v.Data) >= size && !allOK(v.OK[:size]) {
		fmt.Fprintf(b, "%s  %s\n", lineAddr(v.Physical, v.Addr), strings.Repeat("?", maxStringLine))
		return
	}
	chars := stringChars(v.Data, size)
	if len(chars) == 0 {
		fmt.Fprintf(b, "%s  \"\"\n", lineAddr(v.Physical, v.Addr))
		return
	}
	for i := 0; i < len(chars); i += maxStringLine {
		end := min(i+maxStringLine, len(chars))
		fmt.Fprintf(b, "%s  \"%s\"\n", lineAddr(v.Physical, v.Addr+uint64(i*size)), string(chars[i:end]))
	}
}

// stringChars decodes da/du data to display characters, one per element.
func stringChars(data []byte, size int) []rune {
	var out []rune
	for i := 0; i+size <= len(data); i += size {
		c := rune(data[i])
		if size == 2 {
			c = rune(binary.LittleEndian.Uint16(data[i:]))
		}
		switch {
		case size == 1 && (c < 0x20 || c >= 0x7f):
			c = '.'
		case size == 2 && (utf16.IsSurrogate(c) || !unicode.IsPrint(c)):
			c = '.'
		}
		out = append(out, c)
	}
	return out
}

// StringText returns a da/du string's characters as the display shows
// them (for JSON and tests).
func StringText(v commands.MemoryView) string {
	size := 1
	if v.Form == "du" {
		size = 2
	}
	return string(stringChars(v.Data, size))
}

func memJSON(res commands.Result) (any, bool) {
	switch v := res.(type) {
	case commands.MemoryView:
		m := map[string]any{"form": v.Form, "address": Hex(v.Addr), "physical": v.Physical, "length": len(v.Data)}
		m["bytes"], m["unreadable_from"] = bytesJSON(v.Addr, v.Data, v.OK)
		if v.Form == "da" || v.Form == "du" {
			m["string"] = StringText(v)
		}
		if v.Symbols != nil {
			syms := make([]string, len(v.Symbols))
			for i, s := range v.Symbols {
				syms[i] = safetext.Sanitize([]byte(s))
			}
			m["symbols"] = syms
		}
		if v.Pointees != nil {
			ps := make([]any, len(v.Pointees))
			for i, p := range v.Pointees {
				if p.OK {
					ps[i] = Hex(p.Value)
				}
			}
			m["pointees"] = ps
		}
		return m, true
	case commands.SearchResult:
		hits := make([]any, len(v.Hits))
		for i, h := range v.Hits {
			data, bad := bytesJSON(h.Addr, h.Data, h.OK)
			hits[i] = map[string]any{"address": Hex(h.Addr), "bytes": data, "unreadable_from": bad}
		}
		return map[string]any{"form": v.Form, "pattern": hex.EncodeToString(v.Pattern), "hits": hits,
			"truncated": v.Truncated, "via_target": v.ViaTarget}, true
	case commands.CompareResult:
		diffs := make([]any, len(v.Diffs))
		for i, d := range v.Diffs {
			x := map[string]any{"address1": Hex(d.Addr1), "address2": Hex(d.Addr2)}
			if d.OK1 {
				x["value1"] = d.Val1
			}
			if d.OK2 {
				x["value2"] = d.Val2
			}
			diffs[i] = x
		}
		return map[string]any{"differences": diffs, "compared": v.Compared, "truncated": v.Truncated}, true
	case commands.PteResult:
		m := walkJSON(v.Walk)
		if v.FromPTE != 0 {
			m["pte_address"] = Hex(v.FromPTE)
		}
		if v.SelfMap {
			vas := make([]Hex, len(v.Walk.Entries))
			for i := range vas {
				vas[i] = Hex(v.EntryVA[i])
			}
			m["entry_virtual_addresses"] = vas
		}
		return m, true
	case commands.VtopResult:
		return walkJSON(v.Walk), true
	}
	return nil, false
}

// bytesJSON returns data in hex (unreadable bytes as 00) and the address
// where each unreadable run starts.
func bytesJSON(at uint64, data []byte, ok []bool) (string, []Hex) {
	d := make([]byte, len(data))
	bad := []Hex{}
	for i := range data {
		if ok[i] {
			d[i] = data[i]
		} else if i == 0 || ok[i-1] {
			bad = append(bad, Hex(at+uint64(i)))
		}
	}
	return hex.EncodeToString(d), bad
}
