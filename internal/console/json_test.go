package console

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gokd/kd/internal/sim"
	"github.com/gokd/kd/transport"
)

// jsonLines decodes kd's --json output: one object per line, each with
// v = 1 and a type.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var o map[string]any
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			t.Fatalf("not a JSON object: %q: %v", sc.Text(), err)
		}
		if o["v"] != float64(1) {
			t.Errorf("object without v=1: %s", sc.Text())
		}
		if _, ok := o["type"].(string); !ok {
			t.Errorf("object without a type: %s", sc.Text())
		}
		objs = append(objs, o)
	}
	return objs
}

// kinds counts the objects by type, and results by kind ("result:memory").
func kinds(objs []map[string]any) map[string]int {
	n := map[string]int{}
	for _, o := range objs {
		typ := o["type"].(string)
		n[typ]++
		if typ == "result" {
			if k, ok := o["kind"].(string); ok {
				n["result:"+k]++
			} else if o["ok"] == false {
				n["result:error"]++
			} else {
				n["result:none"]++
			}
		}
	}
	return n
}

func find(objs []map[string]any, typ, key, val string) map[string]any {
	for _, o := range objs {
		if o["type"] == typ && (key == "" || o[key] == val) {
			return o
		}
	}
	return nil
}

// TestJSONSession decodes every event and result kind a session makes:
// connection, stops, registers, memory, disassembly, breakpoints,
// evaluation, version, help, logs, errors with hints, a resync, a
// running target's DbgPrint and a break-in.
func TestJSONSession(t *testing.T) {
	log := filepath.Join(t.TempDir(), "kd.log")
	ts := startScript(t, func(c *testConfig) {
		c.JSON = true
		c.Sim.PrintEvery = 20 * time.Millisecond
	})
	ts.send("r\nr rip, rsp\ndb @rsp L20\nu @rip L2\nbp nt!DbgBreakPointWithStatus+1\nbp nt!DbgBreakPointWithStatus+1\nbl\nbc 0\nbc 7\n" +
		"? 0n10+1\nvertarget\nversion\nhelp db\n.echo marker\n.logopen " + log + "\n.logclose\nbogus\n\x12\n")
	ts.out.waitFor(t, `"type":"resync"`, 1)
	ts.send("g\n")
	ts.out.waitFor(t, `"type":"print"`, 1)
	ts.send("\x03\nr rip\nq\n")
	if st := ts.wait(); st != ExitCommand {
		t.Fatalf("exit status %d, want %d (bogus and bc 7 failed); stderr:\n%s", st, ExitCommand, ts.errs)
	}
	if e := ts.errs.String(); e != "" {
		t.Errorf("--json wrote to stderr: %q", e)
	}
	objs := jsonLines(t, ts.out.String())
	n := kinds(objs)
	for _, want := range []string{"opened", "waiting", "connected", "stopped", "running", "print", "resync_started", "resync",
		"where", "ready", "result", "exit", "result:registers", "result:register_values", "result:memory", "result:disassembly",
		"result:breakpoint_set", "result:breakpoint_redefined", "result:breakpoints", "result:evaluation", "result:vertarget",
		"result:version", "result:help", "result:echo", "result:log_opened", "result:log_closed", "result:quit", "result:error", "result:none"} {
		if n[want] == 0 {
			t.Errorf("no %q object; counts %v", want, n)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", ts.out)
		return
	}

	conn := find(objs, "connected", "", "")
	tgt := conn["target"].(map[string]any)
	if tgt["build"] != float64(19041) || tgt["machine"] != "x64" || tgt["ptr64"] != true || tgt["processors"] != float64(2) {
		t.Errorf("connected: %v", conn)
	}
	stop := find(objs, "stopped", "", "")
	if stop["reason"] != "exception" || stop["symbol"] != "nt!DbgBreakPointWithStatus" || stop["code"] != "0x80000003" {
		t.Errorf("first stop: %v", stop)
	}
	res := map[string]map[string]any{}
	for _, o := range objs {
		if o["type"] == "result" {
			res[o["command"].(string)] = o
		}
	}
	regs := res["r"]["data"].(map[string]any)["registers"].(map[string]any)
	if regs["rip"] != stop["pc"] || !strings.HasPrefix(regs["rsp"].(string), "0xfffff8") {
		t.Errorf("r: rip %v rsp %v; stop pc %v", regs["rip"], regs["rsp"], stop["pc"])
	}
	mem := res["db @rsp L20"]["data"].(map[string]any)
	if mem["address"] != regs["rsp"] || mem["length"] != float64(0x20) || len(mem["bytes"].(string)) != 0x40 {
		t.Errorf("db: %v", mem)
	}
	dis := res["u @rip L2"]["data"].(map[string]any)["instructions"].([]any)
	if len(dis) != 2 || dis[0].(map[string]any)["text"] != "int     3" {
		t.Errorf("u: %v", dis)
	}
	if o := res["bc 7"]; o["ok"] != false || !strings.Contains(o["error"].(string), "breakpoint 7 does not exist") || o["hint"] == nil {
		t.Errorf("bc 7: %v", o)
	}
	if o := res["bogus"]; o["ok"] != false || o["error"] != "unknown command" {
		t.Errorf("bogus: %v", o)
	}
	if o := res["? 0n10+1"]["data"].(map[string]any); o["value"] != "0xb" || o["decimal"] != float64(11) {
		t.Errorf("?: %v", o)
	}
	if o := find(objs, "resync", "", ""); o["ok"] != true || o["resets"].(float64) < 1 {
		t.Errorf("resync: %v", o)
	}
	if o := find(objs, "print", "", ""); !strings.Contains(o["text"].(string), "kdsim") && o["text"] == "" {
		t.Errorf("print: %v", o)
	}
	if o := find(objs, "stopped", "reason", "break_in"); o == nil {
		t.Errorf("no break_in stop")
	}
	if o := find(objs, "exit", "", ""); o["status"] != float64(1) {
		t.Errorf("exit: %v", o)
	}
}

// TestJSONHostileText: target text reaches the JSON stream escaped, never
// raw: no control byte and only valid UTF-8 on the line.
func TestJSONHostileText(t *testing.T) {
	ts := startScript(t, func(c *testConfig) {
		c.JSON = true
		c.Sim.Stopped = false
		c.Sim.PrintEvery = 20 * time.Millisecond
		c.Sim.Evil = true
	})
	ts.out.waitFor(t, `"type":"print"`, 5)
	ts.send("\x03\nq\n")
	ts.wait()
	out := ts.out.String()
	for i := 0; i < len(out); i++ {
		if c := out[i]; c < 0x20 && c != '\n' || c == 0x7f {
			t.Fatalf("raw control byte %#x at %d in the JSON stream", c, i)
		}
	}
	jsonLines(t, out)
}

// TestJSONOverUnixSocket runs --json against kdsim on a Unix socket, as a
// CI job against a VM pipe would.
func TestJSONOverUnixSocket(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix sockets")
	}
	dir, err := os.MkdirTemp("", "kd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "kd.sock") // short: socket paths are limited
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := sim.New(sim.Config{Stopped: true, Seed: 3})
	served := make(chan error, 1)
	go func() { served <- sim.ServeListener(ctx, m, ln) }()
	defer func() {
		cancel()
		<-served
	}()
	spec, err := transport.Parse("com:pipe,port=" + sock + ",resets=0")
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	out, errs := newScreen(), newScreen()
	c := New(Config{Spec: spec, JSON: true, Input: NewScriptInput(pr), Stdout: out, Stderr: errs, NoSignals: true})
	status := make(chan int, 1)
	go func() { status <- c.Run(context.Background()) }()
	_, _ = io.WriteString(pw, "r rip\nq\n")
	select {
	case st := <-status:
		if st != ExitOK {
			t.Fatalf("status %d; output:\n%s", st, out)
		}
	case <-time.After(waitLimit):
		_ = pw.Close()
		t.Fatalf("kd --json did not finish; output:\n%s", out)
	}
	objs := jsonLines(t, out.String())
	r := find(objs, "result", "command", "r rip")
	if r == nil || r["ok"] != true || !strings.HasPrefix(r["data"].(map[string]any)["registers"].(map[string]any)["rip"].(string), "0xfffff8") {
		t.Errorf("r rip: %v\n%s", r, out)
	}
}
