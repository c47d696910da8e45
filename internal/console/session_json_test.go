package console

import (
	"testing"
)

// TestJSONSessionCommands decodes the results of the expression and
// session commands under --json and checks their values.
func TestJSONSessionCommands(t *testing.T) {
	ts := startScript(t, func(c *testConfig) { c.JSON = true })
	ts.send("? 0n10+1\nn\nn 10\n.formats 0n10\n.time\n.lastevent\n.effmach\n.logfile\n.cls\n$$ comment\nq\n")
	if st := ts.wait(); st != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", st, ts.errs)
	}
	res := map[string]map[string]any{}
	for _, o := range jsonLines(t, ts.out.String()) {
		if o["type"] == "result" {
			res[o["command"].(string)] = o
		}
	}
	data := func(cmd string) map[string]any {
		t.Helper()
		o := res[cmd]
		if o == nil {
			t.Fatalf("no result for %q; output:\n%s", cmd, ts.out)
		}
		d, _ := o["data"].(map[string]any)
		return d
	}
	checks := []struct {
		cmd, kind, key string
		want           any
	}{
		{"? 0n10+1", "evaluation", "value", "0xb"},
		{"n", "radix", "base", float64(16)},
		{"n 10", "radix", "set", true},
		{".formats 0n10", "formats", "hex", "0xa"},
		{".formats 0n10", "formats", "octal", "0000000000000000000012"},
		{".formats 0n10", "formats", "binary", "0000000000000000000000000000000000000000000000000000000000001010"},
		{".formats 0n10", "formats", "time", "Thu Jan 01 00:00:10 1970 (UTC)"},
		{".lastevent", "last_event", "event", "Break instruction exception - code 80000003 (first chance)"},
		{".lastevent", "last_event", "code", "80000003"},
		{".effmach", "effective_machine", "machine", "x64"},
		{".logfile", "log_status", "open", false},
	}
	for _, c := range checks {
		if k := res[c.cmd]["kind"]; k != c.kind {
			t.Errorf("%s: kind %v; want %s", c.cmd, k, c.kind)
		}
		if got := data(c.cmd)[c.key]; got != c.want {
			t.Errorf("%s: %s = %#v; want %#v", c.cmd, c.key, got, c.want)
		}
	}
	if _, ok := data(".time")["session_time"].(string); !ok {
		t.Errorf(".time: %v", data(".time"))
	}
	if res[".cls"]["kind"] != "clear_screen" {
		t.Errorf(".cls: %v", res[".cls"])
	}
}
