package render

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/gokd/kd/internal/commands"
	"github.com/gokd/kd/internal/target"
	"github.com/gokd/kd/kdproto"
)

func sampleBreakpoints() commands.BreakpointList {
	return commands.BreakpointList{Breakpoints: []commands.BreakpointInfo{
		{Breakpoint: target.Breakpoint{ID: 0, Addr: 0xfffff80011201010, Enabled: true, Hits: 2, Passes: 1, InitialPasses: 3, Action: "r rip; .echo \"x\""}, Symbol: "hal!HalProcessorIdle"},
		{Breakpoint: target.Breakpoint{ID: 1, Addr: 0xfffff80011a03000, Enabled: false, Passes: 1, InitialPasses: 1, Hardware: true, Access: 'w', Size: 4}, Symbol: "simdrv!SimDrvTickCount"},
		{Breakpoint: target.Breakpoint{ID: 12, Enabled: true, Deferred: true, Expr: "nosuch!Foo\x1b[2J", Passes: 1, InitialPasses: 1}},
	}}
}

// TestBreakpointText checks bl's lines column by column.
func TestBreakpointText(t *testing.T) {
	want := []string{
		" 0 e fffff800`11201010     0001 (0003) hal!HalProcessorIdle \"r rip; .echo \\\"x\\\"\"",
		" 1 d fffff800`11a03000 w 4 0001 (0001) simdrv!SimDrvTickCount",
		"12 eu                      0001 (0001) (nosuch!Foo\\x1b[2J)",
	}
	for i, b := range sampleBreakpoints().Breakpoints {
		if got := BreakpointLine(b); got != want[i] {
			t.Errorf("line %d:\n got %q\nwant %q", i, got, want[i])
		}
	}
}

// TestBreakpointJSON decodes the breakpoint results and stop fields.
func TestBreakpointJSON(t *testing.T) {
	var b bytes.Buffer
	j := NewJSON(&b)
	j.Result("bl", sampleBreakpoints(), nil)
	j.Result("bm", commands.BreakpointMatches{Set: []commands.BreakpointMatch{{ID: 3, Addr: 0xfffff80011201000, Name: "hal!HalInitSystem"}}}, nil)
	j.Result("bu", commands.BreakpointSet{ID: 4, Deferred: true, Expr: "nosuch!Foo"}, nil)
	j.Event(target.Stopped{Kind: target.StopException, Code: kdproto.StatusSingleStep, Breakpoint: 1, Action: "k", PC: 0x10})
	j.Event(target.Stopped{Kind: target.StopException, Code: kdproto.StatusBreakpoint, Breakpoint: -1, Reached: true, PC: 0x20})
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(b.Bytes()), []byte("\n")) {
		var o map[string]any
		if err := json.Unmarshal(line, &o); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		out = append(out, o)
	}
	bl := out[0]["data"].(map[string]any)["breakpoints"].([]any)
	hw := bl[1].(map[string]any)
	if hw["kind"] != "hardware" || hw["access"] != "w" || hw["size"] != float64(4) || hw["address"] != "0xfffff80011a03000" || hw["enabled"] != false {
		t.Errorf("hardware breakpoint %v", hw)
	}
	sw := bl[0].(map[string]any)
	if sw["passes"] != float64(1) || sw["initial_passes"] != float64(3) || sw["hits"] != float64(2) || sw["action"] != "r rip; .echo \"x\"" {
		t.Errorf("software breakpoint %v", sw)
	}
	df := bl[2].(map[string]any)
	if df["deferred"] != true || df["address"] != nil || df["expression"] != "nosuch!Foo\\x1b[2J" {
		t.Errorf("deferred breakpoint %v (the expression must be sanitised)", df)
	}
	bm := out[1]["data"].(map[string]any)["breakpoints"].([]any)[0].(map[string]any)
	if bm["id"] != float64(3) || bm["symbol"] != "hal!HalInitSystem" || bm["address"] != "0xfffff80011201000" {
		t.Errorf("bm %v", bm)
	}
	if d := out[2]["data"].(map[string]any); d["deferred"] != true || d["expression"] != "nosuch!Foo" {
		t.Errorf("bu %v", d)
	}
	if out[3]["reason"] != "breakpoint" || out[3]["breakpoint"] != float64(1) || out[3]["action"] != "k" {
		t.Errorf("hardware hit %v", out[3])
	}
	if out[4]["reason"] != "reached" {
		t.Errorf("g ADDR stop %v", out[4])
	}
}
