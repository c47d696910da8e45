package render

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/target"
)

func trues(n int) []bool {
	ok := make([]bool, n)
	for i := range ok {
		ok[i] = true
	}
	return ok
}

func renderText(res commands.Result) string {
	var s screen
	r := &Text{Out: &s, Verbose: func() bool { return false }}
	r.Result(res)
	return s.b.String()
}

// TestMemoryText pins the layouts of the memory group's results.
func TestMemoryText(t *testing.T) {
	f := make([]byte, 16)
	binary.LittleEndian.PutUint32(f, math.Float32bits(1.5))
	binary.LittleEndian.PutUint32(f[4:], math.Float32bits(float32(math.Inf(-1))))
	binary.LittleEndian.PutUint32(f[8:], math.Float32bits(float32(math.NaN())))
	binary.LittleEndian.PutUint32(f[12:], math.Float32bits(-3.25e-20))
	long := bytes.Repeat([]byte("0123456789"), 6)
	walk := target.PageWalk{VA: 0xfffff80010a00000, DirBase: 0xc30000, Valid: true, Phys: 0x80000000, PageSize: 2 << 20,
		Entries: []target.PageEntry{{Level: 0, Addr: 0xc30f80, Value: 0xc32063, Read: true}, {Level: 1, Addr: 0xc32000, Value: 0xc33063, Read: true},
			{Level: 2, Addr: 0xc33428, Value: 0x80000000800001E3, Read: true}}}
	for _, tc := range []struct {
		res  commands.Result
		want string
	}{
		{commands.MemoryView{Form: "dw", Addr: 0x1000, Data: []byte{1, 2, 3, 4}, OK: []bool{true, true, false, true}},
			"00000000`00001000  0201 ????\n"},
		{commands.MemoryView{Form: "dc", Addr: 0x1000, Data: []byte("Hi!\x00abcd"), OK: trues(8)},
			"00000000`00001000  00216948 64636261                    Hi!.abcd\n"},
		{commands.MemoryView{Form: "df", Addr: 0x1000, Data: f, OK: trues(16)},
			"00000000`00001000  1.5000000e+000 -1.#INF 1.#QNAN -3.2500001e-020\n"},
		{commands.MemoryView{Form: "da", Addr: 0x1000, Data: append([]byte("a\x1b[2Jb"), long...), OK: trues(66)},
			"00000000`00001000  \"a.[2Jb012345678901234567890123456789012345678901\"\n00000000`00001030  \"234567890123456789\"\n"},
		{commands.MemoryView{Form: "du", Addr: 0x1000, Data: []byte{'h', 0, 0x2e, 0x20, 0x3a, 0x26}, OK: trues(6)},
			"00000000`00001000  \"h.☺\"\n"},
		{commands.MemoryView{Form: "du", Addr: 0x1000}, "00000000`00001000  \"\"\n"},
		{commands.MemoryView{Form: "dps", Addr: 0x1000, Data: make([]byte, 16), OK: trues(16), Symbols: []string{"nt!Foo+0x4", "\x1b[31m"}},
			"00000000`00001000  00000000`00000000 nt!Foo+0x4\n00000000`00001008  00000000`00000000 \\x1b[31m\n"},
		{commands.MemoryView{Form: "ddp", Addr: 0x1000, Data: make([]byte, 8), OK: trues(8), Pointees: []commands.Pointee{{Value: 5, OK: true}, {}}},
			"00000000`00001000  00000000 00000005\n00000000`00001004  00000000 ????????\n"},
		{commands.MemoryView{Form: "!dd", Physical: true, Addr: 0x1000, Data: make([]byte, 4), OK: trues(4)},
			"#    1000  00000000\n"},
		{commands.SearchResult{Form: "dq", Hits: []commands.SearchHit{{Addr: 8, Data: make([]byte, 16), OK: trues(16)}}},
			"00000000`00000008  00000000`00000000 00000000`00000000\n"},
		{commands.CompareResult{Diffs: []commands.CompareDiff{{Addr1: 1, Addr2: 2, Val1: 0xab, OK1: true}}},
			"00000000`00000001  ab - 00000000`00000002  ??\n"},
		{commands.PteResult{Walk: walk, SelfMap: true, EntryVA: [4]uint64{0xFFFFF6FB7DBEDF80, 0xFFFFF6FB7DBF0000, 0xFFFFF6FB7E000428, 0xFFFFF6FC00085000}},
			strings.Repeat(" ", 43) + "VA fffff80010a00000\n" +
				"PXE at FFFFF6FB7DBEDF80    PPE at FFFFF6FB7DBF0000    PDE at FFFFF6FB7E000428    PTE at FFFFF6FC00085000\n" +
				"contains 0000000000C32063  contains 0000000000C33063  contains 80000000800001E3\n" +
				"pfn c32       ---DA--KWEV  pfn c33       ---DA--KWEV  pfn 80000     -GLDA--KW-V  LARGE PAGE pfn 80000\n"},
	} {
		if got := renderText(tc.res); got != tc.want {
			t.Errorf("%s:\ngot  %q\nwant %q", tc.res.ResultName(), got, tc.want)
		}
	}
	// Entries and flags from public !pte samples.
	for _, tc := range []struct {
		e     uint64
		level int
		want  string
	}{
		{0x8000000002F6A963, 3, "-G-DA--KW-V"},
		{0x0000000000199063, 0, "---DA--KWEV"},
		{0x0A0000001A907867, 1, "---DA--UWEV"},
		{0xC1000000A76CC867, 3, "---DA--UW-V"},
		{0x32C000065207B025, 3, "----A--UREV"},
		{0x00000000002009E3, 2, "-GLDA--KWEV"},
	} {
		if got := PteFlags(tc.e, tc.level); got != tc.want {
			t.Errorf("PteFlags(%#x, %d) = %s, want %s", tc.e, tc.level, got, tc.want)
		}
	}
}

// TestMemoryJSON decodes every memory result's JSON.
func TestMemoryJSON(t *testing.T) {
	walk := target.PageWalk{VA: 0x1000, DirBase: 0x2000, Entries: []target.PageEntry{{Level: 0, Addr: 0x2000, Value: 0, Read: true}}}
	for _, res := range []commands.Result{
		commands.MemoryView{Form: "du", Addr: 0x1000, Data: []byte{'h', 0, 'i', 0}, OK: []bool{true, true, true, false}},
		commands.MemoryView{Form: "dqs", Addr: 0x1000, Data: make([]byte, 8), OK: trues(8), Symbols: []string{"nt!X\x07"}},
		commands.MemoryView{Form: "dqp", Addr: 0x1000, Data: make([]byte, 8), OK: trues(8), Pointees: []commands.Pointee{{Value: 0x10, OK: true}}},
		commands.SearchResult{Form: "db", Pattern: []byte{1}, Hits: []commands.SearchHit{{Addr: 0x1000, Data: []byte{1}, OK: trues(1)}}, ViaTarget: true},
		commands.CompareResult{Diffs: []commands.CompareDiff{{Addr1: 1, Addr2: 2, Val1: 3, OK1: true}}, Compared: 0x10},
		commands.PteResult{Walk: walk},
		commands.VtopResult{Walk: walk},
	} {
		var b bytes.Buffer
		NewJSON(&b).Result("cmd", res, nil)
		var o struct {
			Kind string         `json:"kind"`
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal(b.Bytes(), &o); err != nil || o.Kind != res.ResultName() || o.Data == nil {
			t.Fatalf("%s: %v %q", res.ResultName(), err, b.String())
		}
		switch v := res.(type) {
		case commands.MemoryView:
			if o.Data["address"] != "0x1000" || o.Data["form"] != v.Form {
				t.Errorf("%s: %v", v.Form, o.Data)
			}
			if v.Form == "du" && (o.Data["string"] != "hi" || o.Data["unreadable_from"].([]any)[0] != "0x1003") {
				t.Errorf("du: %v", o.Data)
			}
			if v.Form == "dqs" && o.Data["symbols"].([]any)[0] != `nt!X\x07` {
				t.Errorf("dqs: %v", o.Data)
			}
			if v.Form == "dqp" && o.Data["pointees"].([]any)[0] != "0x10" {
				t.Errorf("dqp: %v", o.Data)
			}
		case commands.SearchResult:
			if o.Data["hits"].([]any)[0].(map[string]any)["address"] != "0x1000" || o.Data["via_target"] != true {
				t.Errorf("search: %v", o.Data)
			}
		case commands.CompareResult:
			d := o.Data["differences"].([]any)[0].(map[string]any)
			if d["address1"] != "0x1" || d["value1"] != float64(3) || d["value2"] != nil {
				t.Errorf("compare: %v", o.Data)
			}
		case commands.PteResult, commands.VtopResult:
			e := o.Data["entries"].([]any)[0].(map[string]any)
			if o.Data["valid"] != false || e["level"] != "PXE" || e["valid"] != false {
				t.Errorf("%s: %v", res.ResultName(), o.Data)
			}
		}
	}
}
